/** Shared pieces of the cache tests: K real redis-server shards and a Cache with short timeouts. */
import { Redis } from 'ioredis'
import { Cache, cacheOptionsFrom, type CacheOptions } from '../../app/cache/cache.js'
import { loadConfig } from '../../app/config/index.js'
import type { CacheMetrics } from '../../app/cache/metrics.js'
import type { PlayerRecord } from '../../app/game/stores.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import type { Harness } from '../harness/index.js'

export async function startShards(harness: Harness, count = 3): Promise<RedisServer[]> {
  return Promise.all(Array.from({ length: count }, () => harness.redis()))
}

/** The config table's options with fast timeouts, breaker and reconnects so failure scenarios stay short. */
function testCacheOptions(urls: readonly string[], extra: Partial<CacheOptions> = {}): CacheOptions {
  return {
    ...cacheOptionsFrom(loadConfig({ REDIS_URLS: urls.join(',') })),
    commandTimeoutMs: 200,
    connectTimeoutMs: 500,
    maxReconnectDelayMs: 100,
    breakerFailures: 3,
    breakerOpenMs: 200,
    sessionTtlSeconds: 3600,
    chatCapPerChannel: 20,
    nodeId: 'test-node',
    ...extra,
  }
}

export function openCache(servers: readonly RedisServer[], extra: Partial<CacheOptions> = {}): Promise<Cache> {
  return Cache.open(testCacheOptions(servers.map((s) => s.url), extra))
}

/** Direct clients to each shard, to check what landed where (independent of the code under test). */
export function directClients(servers: readonly RedisServer[]): Redis[] {
  return servers.map((s) => new Redis(s.url, { lazyConnect: false, maxRetriesPerRequest: 1 }).on('error', () => {}))
}

/** Counts the cache's metric calls per shard. */
export class CountingCacheMetrics implements CacheMetrics {
  readonly hits = new Map<string, number>()
  readonly misses = new Map<string, number>()
  readonly errors = new Map<string, number>()
  cacheHit(shard: string): void {
    this.hits.set(shard, (this.hits.get(shard) ?? 0) + 1)
  }
  cacheMiss(shard: string): void {
    this.misses.set(shard, (this.misses.get(shard) ?? 0) + 1)
  }
  cacheError(shard: string): void {
    this.errors.set(shard, (this.errors.get(shard) ?? 0) + 1)
  }
}

/** The repository side of cache-aside for tests: a map of records that counts its loads. */
export class CountingLoader {
  readonly records = new Map<number, PlayerRecord>()
  loads = 0
  /** Delay each load by this much (single-flight tests). */
  delayMs = 0

  async findById(id: number): Promise<PlayerRecord | undefined> {
    this.loads++
    const record = this.records.get(id) // the row as read; the delay models the way back
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs))
    return record
  }

  put(record: PlayerRecord): void {
    this.records.set(record.id, record)
  }
}

export function player(id: number, overrides: Partial<PlayerRecord> = {}): PlayerRecord {
  return {
    id,
    username: `player${id}`,
    email: null,
    passwordHash: 'scrypt$test',
    level: 1,
    experience: id * 10,
    gold: 5,
    position: { zone: id % 4, x: id, y: -id },
    hp: 100,
    createdAt: new Date(1_700_000_000_000 + id),
    lastLogin: null,
    version: 1,
    ...overrides,
  }
}

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}
