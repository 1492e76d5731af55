/**
 * What game servers of one cluster share beyond accounts and sessions: each zone's chat history,
 * the leaderboards (kills, experience) and the online count. Two implementations behind one
 * contract suite (test/contracts/shared-game-state.contract.ts): `MemorySharedState` (standalone:
 * the cluster is this one server) and the Redis one (app/cache/shared-state.ts, REDIS_URLS set).
 * Implementations never reject on a cache outage: writes are skipped and counted, reads fall
 * back (docs/CACHE.md), so the game never handles a failure here.
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
  /** This server's number of players online changed (implementations may throttle the writes). */
  reportOnline(count: number): void
  /** Players online on every server of the cluster. */
  onlineTotal(): Promise<number>
  leaderboard(board: LeaderboardName, count: number): Promise<LeaderboardRow[]>
  /** A player's rank with `radius` neighbours above and below (empty when unranked). */
  leaderboardAround(board: LeaderboardName, playerId: number, radius: number): Promise<LeaderboardRow[]>
  /** Stop reporting and take this server out of the online count. Idempotent. */
  close(): Promise<void>
}
