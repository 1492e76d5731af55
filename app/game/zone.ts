/**
 * One zone: who is in it, who sees whom (a ViewGrid of cells), and the zone stream.
 *
 * Presence is sent at once and per recipient, so every client's picture of who it sees is exact
 * (docs/PROTOCOL.md §4.7): entering the zone (login, walking across a border) sends the newcomer a
 * PLAYER_JOINED per player in view and tells those players about the newcomer; leaving tells the
 * players who saw the leaver; a player whose cell changes gets and causes PLAYER_JOINED /
 * PLAYER_LEFT (reason OUT_OF_VIEW) for exactly the pairs whose visibility changed.
 *
 * Everything else that the players in view must learn — moves, chat, attacks — is gathered and
 * sent once per zone tick (ZoneStream): per cell, the frames are encoded once and the same bytes
 * are queued to every session that sees the cell. A tick first moves the movers to their new cells
 * (presence frames), then sends the cells' frames, so nobody receives an entry for a player it does
 * not see.
 */
import {
  encodePlayerJoined,
  encodePlayerLeft,
  encodePlayerRespawned,
  LeaveReason,
} from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'
import type { Player } from './player.js'
import type { Cell, ViewGrid } from './view-grid.js'
import type { ZoneStream } from './zone-stream.js'
import type { TickPacer } from './tick-pacer.js'

/** A stream frame waiting for the tick, with the cell it belongs to if its player has left since. */
interface StreamEvent {
  readonly player: Player
  readonly cell: Cell
  readonly frame: Buffer
}

export class Zone {
  readonly players = new Set<Player>()
  /** Bytes of stream frames the last tick encoded (each queued to every session that sees its cell). */
  lastTickBytes = 0
  private movers: Player[] = []
  private events: StreamEvent[] = []
  private readonly dirty: Cell[] = []
  /** Tick scratch: the cells whose players see a changed cell. */
  private readonly viewing: Cell[] = []
  private tickNumber = 0

  constructor(
    readonly id: number,
    private readonly zoneSize: number,
    private readonly grid: ViewGrid,
    private readonly stream: ZoneStream,
    private readonly pacer: TickPacer,
  ) {}

  /** A player arrives (its zone and position are set): presence both ways for everyone in view. */
  enter(player: Player): void {
    const cell = this.cellOf(player)
    const joined = joinedPayload(player)
    for (const around of cell.neighbours) {
      for (const other of around.players) {
        other.send(FrameType.PLAYER_JOINED, 0, joined)
        player.send(FrameType.PLAYER_JOINED, 0, joinedPayload(other))
      }
    }
    cell.players.add(player)
    player.cell = cell
    this.players.add(player)
  }

  /** A player leaves the zone: those who saw it get PLAYER_LEFT. False when it was not here. */
  leave(player: Player, reason: number): boolean {
    if (!this.players.delete(player)) return false
    const cell = player.cell!
    cell.players.delete(player)
    player.cell = null
    player.streamed = false // a move not yet sent is dropped: nobody sees this player here any more
    const left = encodePlayerLeft({ playerId: player.id, zone: this.id, reason })
    for (const around of cell.neighbours) for (const other of around.players) other.send(FrameType.PLAYER_LEFT, 0, left)
    return true
  }

  /** A player of this zone moved: its new position goes out with the next tick. */
  moved(player: Player): void {
    if (!player.streamed) {
      player.streamed = true
      this.movers.push(player)
    }
    this.pacer.request()
  }

  /** A frame for everyone who sees `player` (CHAT_MESSAGE, ATTACK_RESULT), sent with the next tick. */
  broadcast(player: Player, type: number, payload: Uint8Array): void {
    this.events.push({ player, cell: player.cell!, frame: this.stream.frame(type, payload) })
    this.pacer.request()
  }

  /** A player came back to life at its (already set) spawn point: presence where that changes view, then PLAYER_RESPAWNED at once. */
  respawned(player: Player): void {
    const cell = this.cellOf(player)
    if (cell !== player.cell) this.relocate(player, cell)
    const payload = encodePlayerRespawned({ playerId: player.id, zone: this.id, x: player.x, y: player.y, hp: player.hp })
    for (const around of cell.neighbours) for (const other of around.players) other.send(FrameType.PLAYER_RESPAWNED, 0, payload)
  }

  /** Send what gathered since the last tick; returns how many sessions it wrote to. */
  tick(): number {
    this.tickNumber++
    const moved = this.movers
    this.movers = []
    for (let i = 0; i < moved.length; i++) {
      const player = moved[i]!
      if (!player.streamed || !this.players.has(player)) continue // left the zone since it moved (perhaps moving in another one now)
      player.streamed = false
      const cell = this.cellOf(player)
      if (cell !== player.cell) this.relocate(player, cell)
      this.markDirty(cell)
      cell.movers.push(player)
    }
    const events = this.events
    this.events = []
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!
      const cell = event.player.cell !== null && this.players.has(event.player) ? event.player.cell : event.cell
      this.markDirty(cell)
      cell.events.push(event.frame)
    }
    // Encode each changed cell once; then give every cell that sees changed cells one buffer for
    // all its players: the changed cells' bytes as they are (one cell) or joined once per viewing
    // cell (several), so a player gets one piece per tick, not one per cell around it.
    let bytes = 0
    const tick = this.tickNumber
    const viewing = this.viewing
    for (let i = 0; i < this.dirty.length; i++) {
      const cell = this.dirty[i]!
      cell.encoded = this.stream.encode(this.id, this.zoneSize, cell.events, cell.movers)
      cell.soleMover = cell.events.length === 0 && cell.movers.length === 1 ? cell.movers[0]! : null
      bytes += cell.encoded.bytes.length
      cell.events.length = 0
      cell.movers.length = 0
      for (const around of cell.neighbours) {
        if (around.viewedAt === tick || around.players.size === 0) continue
        around.viewedAt = tick
        viewing.push(around)
      }
    }
    let recipients = 0
    for (let i = 0; i < viewing.length; i++) {
      const cell = viewing[i]!
      if (onlyOwnMove(cell)) continue
      const frames = this.stream.join(cell.neighbours)
      for (const viewer of cell.players) viewer.connection.sendShared(frames)
      recipients += cell.players.size
    }
    for (let i = 0; i < this.dirty.length; i++) {
      this.dirty[i]!.encoded = null
      this.dirty[i]!.dirty = false
    }
    this.dirty.length = 0
    viewing.length = 0
    this.lastTickBytes = bytes
    return recipients
  }

  private markDirty(cell: Cell): void {
    if (cell.dirty) return
    cell.dirty = true
    this.dirty.push(cell)
  }

  private cellOf(player: Player): Cell {
    return this.grid.cellAt(player.x - this.id * this.zoneSize, player.y)
  }

  /**
   * Move a player to another cell of this zone. A viewer in cell c saw it iff c sees `from`, and
   * sees it afterwards iff c sees `to`: exactly the players of the cells around one and not the
   * other change, both ways.
   */
  private relocate(player: Player, to: Cell): void {
    const from = player.cell!
    let left: Buffer | null = null
    for (const around of from.neighbours) {
      if (around.sees(to)) continue
      for (const other of around.players) {
        if (other === player) continue
        left ??= encodePlayerLeft({ playerId: player.id, zone: this.id, reason: LeaveReason.OUT_OF_VIEW })
        other.send(FrameType.PLAYER_LEFT, 0, left)
        player.send(FrameType.PLAYER_LEFT, 0, encodePlayerLeft({ playerId: other.id, zone: this.id, reason: LeaveReason.OUT_OF_VIEW }))
      }
    }
    let joined: Buffer | null = null
    for (const around of to.neighbours) {
      if (around.sees(from)) continue
      for (const other of around.players) {
        joined ??= joinedPayload(player)
        other.send(FrameType.PLAYER_JOINED, 0, joined)
        player.send(FrameType.PLAYER_JOINED, 0, joinedPayload(other))
      }
    }
    from.players.delete(player)
    to.players.add(player)
    player.cell = to
  }
}

/**
 * A player alone in view whose tick carries nothing but its own move: it already had the reply, so
 * the tick is not sent (a lone player's every move would otherwise cost a second frame and write).
 */
function onlyOwnMove(cell: Cell): boolean {
  if (cell.players.size !== 1) return false
  const [player] = cell.players
  for (const around of cell.neighbours) if (around.encoded !== null && around.soleMover !== player) return false
  return true
}

function joinedPayload(player: Player): Buffer {
  return encodePlayerJoined({ playerId: player.id, zone: player.zone, x: player.x, y: player.y, hp: player.hp, username: player.username })
}
