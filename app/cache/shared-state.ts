/**
 * The game's shared state (app/game/shared-state.ts) on the Redis shards: chat history per zone
 * (channel `zone-<n>`), leaderboards `kills` and `experience`, the cluster-wide online count.
 * Online reports are throttled to one write per `onlineReportIntervalMs` (the last count always
 * goes out) and refreshed every `onlineHeartbeatMs` so this server's field stays fresh.
 */
import type { LeaderboardName, LeaderboardRow, SharedGameState } from '../game/shared-state.js'
import type { ChatMessage } from '../protocol/messages.js'
import type { ChatHistory } from './chat-history.js'
import type { Counters, OnlineCounter } from './counters.js'
import type { Leaderboards } from './leaderboards.js'

/** The online count is rewritten this often, so readers see this server's field as fresh. */
const ONLINE_HEARTBEAT_MS = 10_000

/** At most one write of this server's online count per interval (the last count always goes out). */
const ONLINE_REPORT_INTERVAL_MS = 1000

export interface CacheSharedStateOptions {
  readonly onlineReportIntervalMs?: number
  readonly onlineHeartbeatMs?: number
}

const zoneChannel = (zone: number): string => `zone-${zone}`

export class CacheSharedState implements SharedGameState {
  private lastOnline: number | undefined
  private lastReportAtMs = -Infinity
  private trailing: NodeJS.Timeout | undefined
  private readonly heartbeat: NodeJS.Timeout
  private readonly reportIntervalMs: number
  private closed = false

  constructor(
    private readonly parts: { readonly chat: ChatHistory; readonly leaderboards: Leaderboards; readonly online: OnlineCounter; readonly counters: Counters },
    options: CacheSharedStateOptions = {},
  ) {
    this.reportIntervalMs = options.onlineReportIntervalMs ?? ONLINE_REPORT_INTERVAL_MS
    this.heartbeat = setInterval(() => {
      if (this.lastOnline !== undefined) void this.sendOnline()
    }, options.onlineHeartbeatMs ?? ONLINE_HEARTBEAT_MS)
    this.heartbeat.unref()
  }

  async appendChat(message: ChatMessage): Promise<void> {
    await this.parts.chat.append(zoneChannel(message.zone), { playerId: message.senderId, username: message.username, text: message.text, sentAtMs: message.sentAtMs })
  }

  async recentChat(zone: number, count: number): Promise<ChatMessage[]> {
    const entries = await this.parts.chat.recent(zoneChannel(zone), count)
    return entries.map((e) => ({ senderId: e.playerId, zone, flags: 0, sentAtMs: e.sentAtMs, username: e.username, text: e.text }))
  }

  async recordKill(attackerId: number, experience: number): Promise<void> {
    await Promise.all([
      this.parts.leaderboards.increment('kills', attackerId, 1),
      this.parts.leaderboards.set('experience', attackerId, experience),
      this.parts.counters.increment('kills'),
    ])
  }

  reportOnline(count: number): void {
    if (this.closed) return
    this.lastOnline = count
    const waitMs = this.lastReportAtMs + this.reportIntervalMs - performance.now()
    if (waitMs <= 0) {
      void this.sendOnline()
      return
    }
    if (this.trailing) return
    this.trailing = setTimeout(() => {
      this.trailing = undefined
      void this.sendOnline()
    }, waitMs)
    this.trailing.unref()
  }

  onlineTotal(): Promise<number> {
    return this.parts.online.total()
  }

  leaderboard(board: LeaderboardName, count: number): Promise<LeaderboardRow[]> {
    return this.parts.leaderboards.top(board, count)
  }

  leaderboardAround(board: LeaderboardName, playerId: number, radius: number): Promise<LeaderboardRow[]> {
    return this.parts.leaderboards.around(board, playerId, radius)
  }

  /** Stop reporting and take this server out of the online count. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.heartbeat)
    clearTimeout(this.trailing)
    await this.parts.online.withdraw()
  }

  private async sendOnline(): Promise<void> {
    if (this.closed || this.lastOnline === undefined) return
    this.lastReportAtMs = performance.now()
    await this.parts.online.report(this.lastOnline)
  }
}
