/**
 * Broadcast invalidation: delete every key matching a pattern on every shard, with SCAN (cursor,
 * bounded batches: never KEYS, which blocks a shard for its whole keyspace) and UNLINK (memory is
 * freed in the background). A shard that is unavailable is skipped and remembered; the pattern is
 * applied to it when its breaker closes again, before stale entries could be served for long.
 */
import type { Redis } from 'ioredis'
import { GameServerError } from '../errors.js'
import { KEY_PREFIX } from './keys.js'
import type { Shard, ShardSet } from './shards.js'

/** Pattern invalidations remembered per down shard, replayed when it answers again. */
const MAX_OWED_PATTERNS = 1000

interface ShardInvalidation {
  readonly shard: number
  /** Keys removed, or undefined when the shard was skipped. */
  readonly deleted: number | undefined
}

export interface InvalidationResult {
  readonly deleted: number
  readonly shards: readonly ShardInvalidation[]
  /** Shards that were unavailable: the pattern is replayed on them when they recover. */
  readonly skippedShards: readonly number[]
}

/** SCAN `pattern` in batches of `count` and UNLINK each batch; resolves with the keys removed. */
export async function scanAndUnlink(client: Redis, pattern: string, count = 500): Promise<number> {
  let cursor = '0'
  let deleted = 0
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', count)
    cursor = next
    if (found.length > 0) deleted += await client.unlink(...found)
  } while (cursor !== '0')
  return deleted
}

export class BroadcastInvalidator {
  /** Patterns still owed to a shard that was down; bounded, oldest dropped (TTLs bound staleness). */
  private readonly owed = new Map<number, Set<string>>()
  private readonly unsubscribe: () => void

  constructor(
    private readonly shards: ShardSet,
    private readonly options: { readonly scanCount?: number; readonly maxOwedPatterns?: number } = {},
  ) {
    this.unsubscribe = shards.onRecovered((shard) => void this.replay(shard))
  }

  /** Remove every key matching `pattern` (which must start with `gs:`) from every shard. */
  async invalidatePattern(pattern: string): Promise<InvalidationResult> {
    if (!pattern.startsWith(KEY_PREFIX) || pattern.length <= KEY_PREFIX.length) {
      throw new GameServerError('GS_ERR_CACHE_PATTERN', `invalidation pattern must start with "${KEY_PREFIX}" and name something`, { pattern })
    }
    const shards = await Promise.all(
      this.shards.shards.map(async (shard): Promise<ShardInvalidation> => {
        const outcome = await shard.exec((client) => scanAndUnlink(client, pattern, this.options.scanCount))
        if (outcome.ok) return { shard: shard.index, deleted: outcome.value }
        shard.skippedWrite()
        this.owe(shard.index, pattern)
        return { shard: shard.index, deleted: undefined }
      }),
    )
    return {
      deleted: shards.reduce((sum, s) => sum + (s.deleted ?? 0), 0),
      shards,
      skippedShards: shards.filter((s) => s.deleted === undefined).map((s) => s.shard),
    }
  }

  /** Patterns owed to each shard (for status and tests). */
  owedPatterns(shard: number): readonly string[] {
    return [...(this.owed.get(shard) ?? [])]
  }

  close(): void {
    this.unsubscribe()
    this.owed.clear()
  }

  private owe(shard: number, pattern: string): void {
    let patterns = this.owed.get(shard)
    if (!patterns) this.owed.set(shard, (patterns = new Set()))
    patterns.delete(pattern)
    patterns.add(pattern)
    const max = this.options.maxOwedPatterns ?? MAX_OWED_PATTERNS
    while (patterns.size > max) patterns.delete(patterns.values().next().value as string)
  }

  private async replay(shard: Shard): Promise<void> {
    const patterns = this.owed.get(shard.index)
    if (!patterns || patterns.size === 0) return
    for (const pattern of [...patterns]) {
      const outcome = await shard.exec((client) => scanAndUnlink(client, pattern, this.options.scanCount))
      if (!outcome.ok) return // still owed; the next recovery tries again
      patterns.delete(pattern)
    }
  }
}
