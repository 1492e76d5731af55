/**
 * `SharedGameState` of a standalone server, in process memory: the cluster is this one server, so
 * a zone's shared history is its own bounded ring (CHAT_HISTORY), the leaderboards hold the
 * players who scored here, and the online count is this server's. Nothing survives a restart.
 */
import type { ChatMessage } from '../protocol/messages.js'
import { ChatHistory } from './chat-history.js'
import type { LeaderboardName, LeaderboardRow, SharedGameState } from './shared-state.js'

export class MemorySharedState implements SharedGameState {
  private readonly chat = new Map<number, ChatHistory>()
  private readonly boards: Record<LeaderboardName, Map<number, number>> = { kills: new Map(), experience: new Map() }
  private online = 0

  /** `chatHistory`: messages kept per zone (CHAT_HISTORY). */
  constructor(private readonly chatHistory: number) {}

  async appendChat(message: ChatMessage): Promise<void> {
    let ring = this.chat.get(message.zone)
    if (ring === undefined) this.chat.set(message.zone, (ring = new ChatHistory(this.chatHistory)))
    ring.push(message)
  }

  async recentChat(zone: number, count: number): Promise<ChatMessage[]> {
    const wanted = Math.floor(count)
    if (!(wanted > 0)) return []
    return (this.chat.get(zone)?.messages() ?? []).slice(-wanted)
  }

  async recordKill(attackerId: number, experience: number): Promise<void> {
    const kills = this.boards.kills
    kills.set(attackerId, (kills.get(attackerId) ?? 0) + 1)
    this.boards.experience.set(attackerId, experience)
  }

  reportOnline(count: number): void {
    this.online = count
  }

  async onlineTotal(): Promise<number> {
    return this.online
  }

  async leaderboard(board: LeaderboardName, count: number): Promise<LeaderboardRow[]> {
    return count <= 0 ? [] : this.ranked(board).slice(0, count)
  }

  async leaderboardAround(board: LeaderboardName, playerId: number, radius: number): Promise<LeaderboardRow[]> {
    const rows = this.ranked(board)
    const at = rows.findIndex((row) => row.playerId === playerId)
    if (at < 0) return []
    const reach = Math.max(0, Math.floor(radius))
    return rows.slice(Math.max(0, at - reach), at + reach + 1)
  }

  async close(): Promise<void> {}

  /** Highest score first; equal scores by descending player id, the order Redis's ZREVRANGE gives. */
  private ranked(board: LeaderboardName): LeaderboardRow[] {
    return [...this.boards[board]]
      .sort(([idA, a], [idB, b]) => b - a || (String(idB) < String(idA) ? -1 : String(idB) > String(idA) ? 1 : 0))
      .map(([playerId, score], i) => ({ playerId, score, rank: i + 1 }))
  }
}
