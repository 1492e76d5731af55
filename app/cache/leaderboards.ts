/**
 * Leaderboards in sorted sets, one key per board (`gs:lb:{kills}`): members are player ids, higher
 * scores rank first (ZADD / ZINCRBY / ZREVRANGE / ZREVRANK). A board lives on one shard; while that
 * shard is unavailable writes are skipped (counted) and reads answer empty (counted as fallbacks):
 * a leaderboard is derived data and is rebuilt from play.
 */
import { assertKeyPart, keys } from './keys.js'
import type { ShardSet } from './shards.js'

export interface LeaderboardEntry {
  readonly playerId: number
  readonly score: number
  /** 1-based position, highest score first. */
  readonly rank: number
}

/** What the game calls (an in-memory implementation can stand in when there is no Redis). */
export interface Leaderboards {
  /** Set a player's score. */
  set(board: string, playerId: number, score: number): Promise<void>
  /** Add `by` to a player's score; the new score, or undefined when the write was skipped. */
  increment(board: string, playerId: number, by: number): Promise<number | undefined>
  /** The best `count` entries. */
  top(board: string, count: number): Promise<LeaderboardEntry[]>
  /** A player's entry, or undefined when unranked. */
  rank(board: string, playerId: number): Promise<LeaderboardEntry | undefined>
  /** The player's entry with up to `radius` entries above and below it (empty when unranked). */
  around(board: string, playerId: number, radius: number): Promise<LeaderboardEntry[]>
}

/** ZREVRANK and the slice around it in one round trip. */
const AROUND_SCRIPT = `
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not rank then return nil end
local first = math.max(0, rank - tonumber(ARGV[2]))
return {first, redis.call('ZREVRANGE', KEYS[1], first, rank + tonumber(ARGV[2]), 'WITHSCORES')}
`

function entries(flat: readonly string[], firstRank: number): LeaderboardEntry[] {
  const out: LeaderboardEntry[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ playerId: Number(flat[i]), score: Number(flat[i + 1]), rank: firstRank + i / 2 })
  return out
}

export class RedisLeaderboards implements Leaderboards {
  constructor(private readonly shards: ShardSet) {}

  async set(board: string, playerId: number, score: number): Promise<void> {
    const key = this.key(board)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.zadd(key, score, String(playerId)))
    if (!outcome.ok) shard.skippedWrite()
  }

  async increment(board: string, playerId: number, by: number): Promise<number | undefined> {
    const key = this.key(board)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.zincrby(key, by, String(playerId)))
    if (!outcome.ok) {
      shard.skippedWrite()
      return undefined
    }
    return Number(outcome.value)
  }

  async top(board: string, count: number): Promise<LeaderboardEntry[]> {
    if (count <= 0) return []
    const key = this.key(board)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.zrevrange(key, 0, count - 1, 'WITHSCORES'))
    if (!outcome.ok) {
      shard.fellBack()
      return []
    }
    if (outcome.value.length > 0) shard.hit()
    else shard.miss()
    return entries(outcome.value, 1)
  }

  async rank(board: string, playerId: number): Promise<LeaderboardEntry | undefined> {
    return (await this.around(board, playerId, 0))[0]
  }

  async around(board: string, playerId: number, radius: number): Promise<LeaderboardEntry[]> {
    const key = this.key(board)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.eval(AROUND_SCRIPT, 1, key, String(playerId), String(Math.max(0, Math.floor(radius)))) as Promise<[number, string[]] | null>)
    if (!outcome.ok) {
      shard.fellBack()
      return []
    }
    if (outcome.value === null) {
      shard.miss()
      return []
    }
    shard.hit()
    const [first, flat] = outcome.value
    return entries(flat, first + 1)
  }

  private key(board: string): string {
    assertKeyPart('leaderboard name', board)
    return keys.leaderboard(board)
  }
}
