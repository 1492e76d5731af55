/**
 * The peer's side of the zone-replication workload: one Colyseus 0.16 room whose state is a schema
 * map of players, written the way the Colyseus documentation writes a movement room. A "move"
 * message sets the mover's position; Colyseus encodes the changed fields once per patch interval
 * (`patchRate`, 50 ms by default) and sends the same patch to every client of the room.
 *
 * Per player the state carries what our PLAYER_MOVED carries: the player's identity (the map key,
 * the client's sessionId), zone, x and y as float32.
 */
import { Room, type Client } from '@colyseus/core'
import { defineTypes, MapSchema, Schema } from '@colyseus/schema'

export class PlayerState extends Schema {
  declare x: number
  declare y: number
  declare zone: number
}
defineTypes(PlayerState, { x: 'float32', y: 'float32', zone: 'uint16' })

export class ZoneState extends Schema {
  declare players: MapSchema<PlayerState>
}
defineTypes(ZoneState, { players: { map: PlayerState } })

export interface ZoneRoomOptions {
  /** Patch interval in ms (Colyseus's `patchRate`). */
  readonly patchRateMs: number
  /** Side of the square zone in world units; moves outside it are ignored, as ours rejects them. */
  readonly zoneSide: number
}

/**
 * Spawn position of a new player: the zone centre plus 0.3, a value the workload never sends
 * (workload.ts encodes move numbers in multiples of 1/32), so observers ignore it.
 */
const SPAWN_OFFSET = 0.3

export class ZoneRoom extends Room<ZoneState> {
  private zoneSide = 0

  override onCreate(options: ZoneRoomOptions): void {
    this.zoneSide = options.zoneSide
    this.state = new ZoneState()
    this.state.players = new MapSchema<PlayerState>()
    this.patchRate = options.patchRateMs
    this.autoDispose = false
    this.onMessage('move', (client: Client, message: unknown) => {
      const player = this.state.players.get(client.sessionId)
      const { x, y } = (message ?? {}) as { x?: unknown; y?: unknown }
      if (player === undefined || typeof x !== 'number' || typeof y !== 'number') return
      if (!(x >= 0 && x < this.zoneSide && y >= 0 && y < this.zoneSide)) return
      player.x = x
      player.y = y
    })
  }

  override onJoin(client: Client): void {
    const player = new PlayerState()
    player.x = this.zoneSide / 2 + SPAWN_OFFSET
    player.y = this.zoneSide / 2 + SPAWN_OFFSET
    player.zone = 0
    this.state.players.set(client.sessionId, player)
  }

  override onLeave(client: Client): void {
    this.state.players.delete(client.sessionId)
  }
}
