/**
 * The `players` row ↔ `PlayerRecord` mapping, in one place. bigint columns (experience, gold)
 * arrive as strings from postgres.js and become numbers (safe below 2^53).
 */
import type { PlayerRecord } from '../game/stores.js'

export interface PlayerRow {
  id: number
  username: string
  email: string | null
  password_hash: string
  level: number
  experience: string | number
  gold: string | number
  zone: number
  pos_x: number
  pos_y: number
  hp: number
  created_at: Date
  last_login: Date | null
  version: number
}

export function toPlayerRecord(row: PlayerRow): PlayerRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    passwordHash: row.password_hash,
    level: row.level,
    experience: Number(row.experience),
    gold: Number(row.gold),
    position: { zone: row.zone, x: row.pos_x, y: row.pos_y },
    hp: row.hp,
    createdAt: row.created_at,
    lastLogin: row.last_login,
    version: row.version,
  }
}
