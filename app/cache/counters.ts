/**
 * Counters (`gs:counter:{logins}`: INCRBY / GET) and the cluster-wide online count: one hash
 * `gs:online:{cluster}` with a field per game server holding `<count>:<reportedAtMs>`; the total
 * sums the fields reported within `staleAfterMs`, so a crashed server stops counting by itself
 * (its field is removed on the next read, only if it was not refreshed meanwhile). While a shard is unavailable increments are skipped
 * (counted) and reads answer undefined, or, for the online total, this server's own count.
 */
import { assertKeyPart, keys } from './keys.js'
import type { ShardSet } from './shards.js'

/** A server's online count older than this is stale (the server is gone) and readers drop it. */
const ONLINE_STALE_AFTER_MS = 30_000

export interface Counters {
  /** The new value, or undefined when the write was skipped. */
  increment(name: string, by?: number): Promise<number | undefined>
  /** The value (0 when never incremented), or undefined when unavailable. */
  get(name: string): Promise<number | undefined>
}

/** Players online across the cluster. */
export interface OnlineCounter {
  /** Report this server's count (call on every change or periodically). */
  report(count: number): Promise<void>
  /** Players online on every server that reported recently. */
  total(): Promise<number>
  /** Remove this server's field (graceful shutdown). */
  withdraw(): Promise<void>
}

/** Delete hash fields whose value is still the stale one that was read (a fresh report survives). */
const DELETE_IF_UNCHANGED = `
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0
`

export class RedisCounters implements Counters {
  constructor(private readonly shards: ShardSet) {}

  async increment(name: string, by = 1): Promise<number | undefined> {
    assertKeyPart('counter name', name)
    const key = keys.counter(name)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.incrby(key, by))
    if (!outcome.ok) {
      shard.skippedWrite()
      return undefined
    }
    return outcome.value
  }

  async get(name: string): Promise<number | undefined> {
    assertKeyPart('counter name', name)
    const key = keys.counter(name)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.get(key))
    if (!outcome.ok) {
      shard.fellBack()
      return undefined
    }
    if (outcome.value === null) shard.miss()
    else shard.hit()
    return outcome.value === null ? 0 : Number(outcome.value)
  }
}

export interface RedisOnlineCounterOptions {
  readonly nodeId: string
  /** Fields older than this no longer count (default 30 s: report at least every 10 s). */
  readonly staleAfterMs?: number
  readonly now?: () => number
}

export class RedisOnlineCounter implements OnlineCounter {
  private lastCount = 0
  private readonly staleAfterMs: number
  private readonly now: () => number

  constructor(
    private readonly shards: ShardSet,
    private readonly options: RedisOnlineCounterOptions,
  ) {
    this.staleAfterMs = options.staleAfterMs ?? ONLINE_STALE_AFTER_MS
    this.now = options.now ?? Date.now
  }

  async report(count: number): Promise<void> {
    this.lastCount = count
    const key = keys.online()
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.hset(key, this.options.nodeId, `${count}:${this.now()}`))
    if (!outcome.ok) shard.skippedWrite()
  }

  async total(): Promise<number> {
    const key = keys.online()
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.hgetall(key))
    if (!outcome.ok) {
      shard.fellBack()
      return this.lastCount
    }
    shard.hit()
    const oldest = this.now() - this.staleAfterMs
    let sum = 0
    const stale: string[] = []
    for (const [node, value] of Object.entries(outcome.value)) {
      const [count, at] = value.split(':').map(Number)
      if (at !== undefined && at >= oldest && Number.isFinite(count)) sum += count!
      else stale.push(node, value)
    }
    if (stale.length > 0) await shard.command((client) => client.eval(DELETE_IF_UNCHANGED, 1, key, ...stale))
    return sum
  }

  async withdraw(): Promise<void> {
    const key = keys.online()
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.hdel(key, this.options.nodeId))
    if (!outcome.ok) shard.skippedWrite()
  }
}
