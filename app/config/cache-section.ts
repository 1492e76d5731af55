/** Redis-sharded cache (app/cache). The shard URLs are `REDIS_URLS` in the data section. */
import { integer, oneOf } from './schema.js'

export const cacheSection = {
  playerTtlSeconds: integer('CACHE_PLAYER_TTL_SECONDS', 3600, 'Lifetime of a cached player record (cache-aside; invalidated on save).', { min: 1 }),
  commandTimeoutMs: integer('REDIS_COMMAND_TIMEOUT_MS', 250, 'A Redis command not answered within this counts as a shard failure and falls back.', { min: 1 }),
  connectTimeoutMs: integer('REDIS_CONNECT_TIMEOUT_MS', 1000, 'Connect timeout per Redis shard (also how long start-up waits before running degraded).', { min: 1 }),
  maxReconnectDelayMs: integer('REDIS_MAX_RECONNECT_DELAY_MS', 2000, 'Upper bound of the back-off between reconnect attempts to a lost shard.', { min: 10 }),
  breakerFailures: integer('CACHE_BREAKER_FAILURES', 5, 'Consecutive failures that open a shard\'s circuit breaker.', { min: 1 }),
  breakerOpenMs: integer('CACHE_BREAKER_OPEN_MS', 1000, 'How long an open breaker skips its shard before one probe is let through.', { min: 1 }),
  pipelining: oneOf('REDIS_PIPELINING', ['tick', 'auto', 'off'] as const, 'tick', '`tick`: commands issued together go out as one explicit pipeline per shard (a lone one as is); `auto`: ioredis auto-pipelining; `off`: none. See BENCHMARKS.md.'),
} as const
