/**
 * What the cache reports, as the interface it reports through: the telemetry part implements it
 * (app/telemetry/server-metrics.ts), `noopCacheMetrics` records nothing. The shard label is its
 * index in REDIS_URLS as a string, never a key. Fallback reads and skipped writes are counted per
 * shard in `ShardStats` (`npm run cache -- status`); as metrics they are errors already.
 */

export interface CacheMetrics {
  cacheHit(shard: string): void
  cacheMiss(shard: string): void
  /** A command that failed or timed out, or a call refused by an open breaker. */
  cacheError(shard: string): void
}

export const noopCacheMetrics: CacheMetrics = {
  cacheHit() {},
  cacheMiss() {},
  cacheError() {},
}
