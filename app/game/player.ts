/**
 * One online player: the persistent state (mirrored to the PlayerStateSink) plus what only lives
 * while they are connected (connection, login token, movement budget, cooldown, respawn timer).
 */
import type { Connection } from '../net/connection.js'
import type { MoveBudget } from './rules.js'
import type { Cell } from './view-grid.js'
import type { PlayerRecord, PlayerState } from './stores.js'

export class Player {
  readonly id: number
  readonly username: string
  readonly connection: Connection
  readonly token: string
  zone: number
  x: number
  y: number
  hp: number
  level: number
  experience: number
  /** As loaded at login; the database owns gold (see PlayerState), the game never writes it back. */
  gold: number
  readonly budget: MoveBudget
  lastAttackAtMs = Number.NEGATIVE_INFINITY
  respawnTimer: NodeJS.Timeout | null = null
  /** Changed since the sink last saw it. */
  dirty = false
  /** Where the zone stream has this player (its zone's grid cell, updated at ticks); null outside a zone. */
  cell: Cell | null = null
  /** Moved since its zone's last tick (queued for the next ZONE_UPDATE). */
  streamed = false

  constructor(record: PlayerRecord, connection: Connection, token: string, budget: MoveBudget) {
    this.id = record.id
    this.username = record.username
    this.connection = connection
    this.token = token
    this.zone = record.position.zone
    this.x = record.position.x
    this.y = record.position.y
    this.hp = record.hp
    this.level = record.level
    this.experience = record.experience
    this.gold = record.gold
    this.budget = budget
  }

  get alive(): boolean {
    return this.hp > 0
  }

  state(): PlayerState {
    return { id: this.id, level: this.level, experience: this.experience, position: { zone: this.zone, x: this.x, y: this.y }, hp: this.hp }
  }

  /** Send a frame to this player (header player_id = theirs). */
  send(type: number, seq: number, payload: Uint8Array): boolean {
    return this.connection.send(type, seq, this.id, payload)
  }

  cancelRespawn(): void {
    if (this.respawnTimer !== null) clearTimeout(this.respawnTimer)
    this.respawnTimer = null
  }
}
