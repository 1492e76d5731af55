/**
 * The in-memory world: who is online, which zone each player is in, and broadcasts to a zone
 * through the players' send buffers. Entering a zone (login, walking across a border, respawn
 * elsewhere) sends the newcomer the zone's players and then its chat history (read from the
 * shared state: the whole cluster's, or this server's when standalone) and tells the zone about the
 * newcomer; leaving tells the zone.
 */
import {
  ChatFlags,
  encodeChatMessage,
  encodePlayerJoined,
  encodePlayerLeft,
  LeaveReason,
} from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'
import type { Player } from './player.js'
import type { GameRules } from './rules.js'
import type { SharedGameState } from './shared-state.js'

export class Zone {
  readonly players = new Set<Player>()

  constructor(readonly id: number) {}
}

export class World {
  readonly zones: readonly Zone[]
  private readonly online = new Map<number, Player>()

  constructor(readonly rules: GameRules, private readonly maxChatTextBytes: number, private readonly shared: SharedGameState) {
    this.zones = Array.from({ length: rules.zoneCount }, (_, id) => new Zone(id))
  }

  get size(): number {
    return this.online.size
  }

  get(playerId: number): Player | undefined {
    return this.online.get(playerId)
  }

  players(): IterableIterator<Player> {
    return this.online.values()
  }

  zone(id: number): Zone {
    return this.zones[id]!
  }

  /** Put a logged-in player into the world and their zone. The caller replaced any older entity first. */
  add(player: Player): void {
    this.online.set(player.id, player)
    this.enter(player, player.zone)
  }

  /** Take a player out of the world (logout, disconnect, replaced). Returns false if not present. */
  remove(player: Player): boolean {
    if (this.online.get(player.id) !== player) return false
    this.online.delete(player.id)
    player.cancelRespawn()
    this.leave(player, LeaveReason.DISCONNECTED)
    return true
  }

  /** Move a player to another zone (their position is already updated). */
  changeZone(player: Player, zone: number): void {
    this.leave(player, LeaveReason.ZONE_CHANGE)
    player.zone = zone
    this.enter(player, zone)
  }

  /** Send one frame to every player in a zone; `seqFor` gives the header seq per recipient (default 0). */
  broadcast(zoneId: number, type: number, payload: Uint8Array, except?: Player, seqFor?: (p: Player) => number): number {
    let sent = 0
    for (const p of this.zone(zoneId).players) {
      if (p === except) continue
      if (p.send(type, seqFor ? seqFor(p) : 0, payload)) sent++
    }
    return sent
  }

  private enter(player: Player, zoneId: number): void {
    const zone = this.zone(zoneId)
    const joined = encodePlayerJoined({ playerId: player.id, zone: zoneId, x: player.x, y: player.y, hp: player.hp, username: player.username })
    for (const other of zone.players) {
      other.send(FrameType.PLAYER_JOINED, 0, joined)
      player.send(FrameType.PLAYER_JOINED, 0, encodePlayerJoined({ playerId: other.id, zone: zoneId, x: other.x, y: other.y, hp: other.hp, username: other.username }))
    }
    zone.players.add(player)
    this.sendHistory(player, zone)
  }

  /** The zone's chat history (asynchronous read); sent once it arrives if the player is still there. */
  private sendHistory(player: Player, zone: Zone): void {
    this.shared.recentChat(zone.id, this.rules.chatHistory).then(
      (messages) => {
        if (player.zone !== zone.id || !zone.players.has(player)) return
        for (const message of messages) {
          player.send(FrameType.CHAT_MESSAGE, 0, encodeChatMessage({ ...message, flags: message.flags | ChatFlags.HISTORY }, this.maxChatTextBytes))
        }
      },
      () => {}, // never rejects (SharedGameState contract); a broken implementation costs the history, not the server
    )
  }

  private leave(player: Player, reason: number): void {
    const zone = this.zone(player.zone)
    if (!zone.players.delete(player)) return
    this.broadcast(player.zone, FrameType.PLAYER_LEFT, encodePlayerLeft({ playerId: player.id, zone: player.zone, reason }))
  }
}
