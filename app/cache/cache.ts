/**
 * The cache as one owned resource: the shard set and the APIs on top of it. `Cache.open` never
 * fails because a shard is unreachable (it starts degraded and says so); `close()` is idempotent.
 *
 *   const cache = await Cache.open(cacheOptionsFrom(config, { metrics, logger }))
 *   const players = cache.playerCache(accountStore)
 */
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'
import type { CacheMetrics } from './metrics.js'
import { RedisChatHistory } from './chat-history.js'
import { RedisCounters, RedisOnlineCounter } from './counters.js'
import { BroadcastInvalidator } from './invalidation.js'
import { RedisLeaderboards } from './leaderboards.js'
import { PlayerCache, type PlayerLoader } from './player-cache.js'
import { RedisSessionStore } from './session-store.js'
import { ShardSet, type CacheStatus, type ShardSetOptions } from './shards.js'

export interface CacheOptions extends ShardSetOptions {
  readonly playerTtlSeconds: number
  readonly sessionTtlSeconds: number
  readonly chatCapPerChannel: number
  /** This server's id in the online counter. */
  readonly nodeId: string
}

/** Options from the config table (REDIS_URLS and the cache section): the only place they are mapped. */
export function cacheOptionsFrom(config: Config, deps: { metrics?: CacheMetrics; logger?: Logger } = {}): CacheOptions {
  return {
    urls: config.data.redisUrls,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    connectTimeoutMs: config.cache.connectTimeoutMs,
    maxReconnectDelayMs: config.cache.maxReconnectDelayMs,
    breakerFailures: config.cache.breakerFailures,
    breakerOpenMs: config.cache.breakerOpenMs,
    pipelining: config.cache.pipelining,
    playerTtlSeconds: config.cache.playerTtlSeconds,
    sessionTtlSeconds: config.game.sessionTokenTtlSeconds,
    chatCapPerChannel: config.game.chatHistory,
    nodeId: config.server.nodeId,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  }
}

export class Cache {
  readonly sessions: RedisSessionStore
  readonly leaderboards: RedisLeaderboards
  readonly chat: RedisChatHistory
  readonly counters: RedisCounters
  readonly online: RedisOnlineCounter
  readonly invalidator: BroadcastInvalidator
  private readonly playerCaches: PlayerCache[] = []
  private closed = false

  private constructor(
    readonly shards: ShardSet,
    private readonly options: CacheOptions,
  ) {
    this.sessions = new RedisSessionStore(shards, { ttlSeconds: options.sessionTtlSeconds })
    this.leaderboards = new RedisLeaderboards(shards)
    this.chat = new RedisChatHistory(shards, { capPerChannel: options.chatCapPerChannel })
    this.counters = new RedisCounters(shards)
    this.online = new RedisOnlineCounter(shards, { nodeId: options.nodeId })
    this.invalidator = new BroadcastInvalidator(shards)
  }

  static async open(options: CacheOptions): Promise<Cache> {
    return new Cache(await ShardSet.open(options), options)
  }

  /** A cache-aside player cache in front of `loader` (the repository or an AccountStore). */
  playerCache(loader: PlayerLoader): PlayerCache {
    const cache = new PlayerCache(this.shards, loader, { ttlSeconds: this.options.playerTtlSeconds })
    this.playerCaches.push(cache)
    return cache
  }

  /** `delete every key matching pattern on every shard` (SCAN + UNLINK). */
  invalidatePattern(pattern: string) {
    return this.invalidator.invalidatePattern(pattern)
  }

  status(): CacheStatus {
    return this.shards.status()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const cache of this.playerCaches) cache.close()
    this.invalidator.close()
    await this.sessions.close()
    await this.shards.close()
  }
}
