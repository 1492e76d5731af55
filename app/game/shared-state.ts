/**
 * What game servers of one cluster share beyond accounts and sessions: each zone's chat history,
 * the leaderboards (kills, experience) and the online count. With REDIS_URLS set it lives in the
 * Redis shards (app/cache/shared-state.ts); without, the game keeps only its local chat history
 * and has no leaderboards (`shared` is undefined). Implementations never reject on a cache outage:
 * writes are skipped and counted, reads fall back (see docs/CACHE.md).
 */
import type { ChatMessage } from '../protocol/messages.js'

export type LeaderboardName = 'kills' | 'experience'

export interface LeaderboardRow {
  readonly playerId: number
  readonly score: number
  /** 1-based, highest score first. */
  readonly rank: number
}

export interface SharedGameState {
  /** Append an accepted chat message to its zone's shared history. */
  appendChat(message: ChatMessage): Promise<void>
  /** The zone's last `count` messages across the cluster, oldest first. */
  recentChat(zone: number, count: number): Promise<ChatMessage[]>
  /** A kill: the attacker's kills +1 and their experience score set. */
  recordKill(attackerId: number, experience: number): Promise<void>
  /** This server's number of players online changed (implementations throttle the writes). */
  reportOnline(count: number): void
  /** Players online on every server of the cluster. */
  onlineTotal(): Promise<number>
  leaderboard(board: LeaderboardName, count: number): Promise<LeaderboardRow[]>
  /** A player's rank with `radius` neighbours above and below. */
  leaderboardAround(board: LeaderboardName, playerId: number, radius: number): Promise<LeaderboardRow[]>
}
