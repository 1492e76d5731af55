/** PlayerRecord ⇄ the JSON string cached in Redis, validated on the way back. */
import type { PlayerRecord } from '../game/stores.js'

export function encodePlayer(record: PlayerRecord): string {
  return JSON.stringify({
    id: record.id,
    username: record.username,
    email: record.email,
    passwordHash: record.passwordHash,
    level: record.level,
    experience: record.experience,
    gold: record.gold,
    position: { zone: record.position.zone, x: record.position.x, y: record.position.y },
    hp: record.hp,
    createdAt: record.createdAt.getTime(),
    lastLogin: record.lastLogin === null ? null : record.lastLogin.getTime(),
    version: record.version,
  })
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** The record, or undefined when the cached text is not a well-formed player (treated as a miss). */
export function decodePlayer(text: string): PlayerRecord | undefined {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (typeof raw !== 'object' || raw === null) return undefined
  const position = raw.position as Record<string, unknown> | null | undefined
  if (
    !isNumber(raw.id) ||
    typeof raw.username !== 'string' ||
    !(raw.email === null || typeof raw.email === 'string') ||
    typeof raw.passwordHash !== 'string' ||
    !isNumber(raw.level) ||
    !isNumber(raw.experience) ||
    !isNumber(raw.gold) ||
    typeof position !== 'object' ||
    position === null ||
    !isNumber(position.zone) ||
    !isNumber(position.x) ||
    !isNumber(position.y) ||
    !isNumber(raw.hp) ||
    !isNumber(raw.createdAt) ||
    !(raw.lastLogin === null || isNumber(raw.lastLogin)) ||
    !isNumber(raw.version)
  ) {
    return undefined
  }
  return {
    id: raw.id,
    username: raw.username,
    email: raw.email,
    passwordHash: raw.passwordHash,
    level: raw.level,
    experience: raw.experience,
    gold: raw.gold,
    position: { zone: position.zone, x: position.x, y: position.y },
    hp: raw.hp,
    createdAt: new Date(raw.createdAt),
    lastLogin: raw.lastLogin === null ? null : new Date(raw.lastLogin),
    version: raw.version,
  }
}
