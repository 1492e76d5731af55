/**
 * The in-memory world: who is online and the zones (zone.ts: presence, view and the zone stream).
 * Entering a zone (login, walking across a border, respawn elsewhere) sends the newcomer the players
 * it sees and then the zone's chat history (read from the shared state: the whole cluster's, or
 * this server's when standalone); leaving tells those who saw the leaver.
 */
import type { Logger } from '../logger.js'
import type { GameMetrics } from './metrics.js'
import { ChatFlags, encodeChatMessage, LeaveReason } from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'
import { positionBitsFor } from '../protocol/zone-update.js'
import type { Player } from './player.js'
import type { GameRules } from './rules.js'
import type { SharedGameState } from './shared-state.js'
import { TickPacer, type TickPacerOptions } from './tick-pacer.js'
import { ViewGrid } from './view-grid.js'
import { Zone } from './zone.js'
import { ZoneStream, type ZoneStreamOptions } from './zone-stream.js'

export interface WorldOptions {
  readonly rules: GameRules
  readonly maxChatTextBytes: number
  readonly shared: SharedGameState
  /** VIEW_RADIUS (0: the whole zone). */
  readonly viewRadius: number
  readonly ticks: TickPacerOptions
  readonly stream: Omit<ZoneStreamOptions, 'positionBits'>
  readonly logger: Logger
  readonly metrics: GameMetrics
}

export class World {
  readonly zones: readonly Zone[]
  /** ZONE_UPDATE positions are in steps of 2^-positionBits (LOGIN_OK tells clients). */
  readonly positionBits: number
  private readonly online = new Map<number, Player>()
  private readonly pacers: TickPacer[] = []

  constructor(private readonly options: WorldOptions) {
    const { rules } = options
    this.positionBits = positionBitsFor(rules.zoneSize)
    const stream = new ZoneStream({ ...options.stream, positionBits: this.positionBits })
    this.zones = Array.from({ length: rules.zoneCount }, (_, id) => {
      let zone: Zone | null = null
      const pacer = new TickPacer(
        options.ticks,
        () => zone!.tick(),
        (err) => options.logger.error({ err, zone: id }, 'zone tick failed'),
        (recipients, nextIntervalMs) => options.metrics.zoneTicked(id, recipients, zone!.lastTickBytes, nextIntervalMs / 1000),
      )
      this.pacers.push(pacer)
      zone = new Zone(id, rules.zoneSize, new ViewGrid(rules.zoneSize, options.viewRadius), stream, pacer)
      return zone
    })
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
    this.enter(player)
  }

  /** Take a player out of the world (logout, disconnect, replaced). Returns false if not present. */
  remove(player: Player): boolean {
    if (this.online.get(player.id) !== player) return false
    this.online.delete(player.id)
    player.cancelRespawn()
    this.zone(player.zone).leave(player, LeaveReason.DISCONNECTED)
    return true
  }

  /** Move a player to another zone (their position is already updated). */
  changeZone(player: Player, zone: number): void {
    this.zone(player.zone).leave(player, LeaveReason.ZONE_CHANGE)
    player.zone = zone
    this.enter(player)
  }

  /** Send every zone's pending tick now (shutdown: before the sessions are flushed and closed). */
  flushTicks(): void {
    for (const pacer of this.pacers) pacer.flush()
  }

  close(): void {
    for (const pacer of this.pacers) pacer.close()
  }

  private enter(player: Player): void {
    const zone = this.zone(player.zone)
    zone.enter(player)
    this.sendHistory(player, zone)
  }

  /** The zone's chat history (asynchronous read); sent once it arrives if the player is still there. */
  private sendHistory(player: Player, zone: Zone): void {
    const { rules, maxChatTextBytes, shared } = this.options
    shared.recentChat(zone.id, rules.chatHistory).then(
      (messages) => {
        if (player.zone !== zone.id || !zone.players.has(player)) return
        for (const message of messages) {
          player.send(FrameType.CHAT_MESSAGE, 0, encodeChatMessage({ ...message, flags: message.flags | ChatFlags.HISTORY }, maxChatTextBytes))
        }
      },
      () => {}, // never rejects (SharedGameState contract); a broken implementation costs the history, not the server
    )
  }
}
