/**
 * The in-memory world: who is online, which zone each player is in, each zone's chat history, and
 * broadcasts to a zone through the players' send buffers. Entering a zone (login, walking across a
 * border, respawn elsewhere) sends the newcomer the zone's players and chat history and tells the
 * zone about the newcomer; leaving tells the zone.
 */
import {
  ChatFlags,
  encodeChatMessage,
  encodePlayerJoined,
  encodePlayerLeft,
  LeaveReason,
  type ChatMessage,
} from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'
import { ChatHistory } from './chat-history.js'
import type { Player } from './player.js'
import type { GameRules } from './rules.js'
import type { SharedGameState } from './shared-state.js'

export class Zone {
  readonly players = new Set<Player>()
  readonly chat: ChatHistory

  constructor(readonly id: number, historySize: number) {
    this.chat = new ChatHistory(historySize)
  }
}

export class World {
  readonly zones: readonly Zone[]
  private readonly online = new Map<number, Player>()

  /** With `shared`, a newcomer gets the zone's chat history of the whole cluster (asynchronously). */
  constructor(readonly rules: GameRules, private readonly maxChatTextBytes: number, private readonly shared?: SharedGameState) {
    this.zones = Array.from({ length: rules.zoneCount }, (_, id) => new Zone(id, rules.chatHistory))
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
    if (this.shared) this.sendSharedHistory(player, zone)
    else this.sendHistory(player, zone.chat.messages())
  }

  private sendHistory(player: Player, messages: readonly ChatMessage[]): void {
    for (const message of messages) {
      player.send(FrameType.CHAT_MESSAGE, 0, encodeChatMessage({ ...message, flags: message.flags | ChatFlags.HISTORY }, this.maxChatTextBytes))
    }
  }

  /** The cluster's history of the zone; sent once it arrives if the player is still there. */
  private sendSharedHistory(player: Player, zone: Zone): void {
    this.shared!.recentChat(zone.id, this.rules.chatHistory).then(
      (messages) => {
        if (player.zone === zone.id && zone.players.has(player)) this.sendHistory(player, messages)
      },
      () => {
        if (player.zone === zone.id && zone.players.has(player)) this.sendHistory(player, zone.chat.messages())
      },
    )
  }

  private leave(player: Player, reason: number): void {
    const zone = this.zone(player.zone)
    if (!zone.players.delete(player)) return
    this.broadcast(player.zone, FrameType.PLAYER_LEFT, encodePlayerLeft({ playerId: player.id, zone: player.zone, reason }))
  }
}
