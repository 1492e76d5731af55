/**
 * The game's stores, opened from the configuration and closed in one fixed order: the one place
 * that knows which implementation backs each interface the game runs on, and who closes what.
 *
 *   interface           DATABASE_URL / REDIS_URLS unset   set
 *   AccountStore ...... MemoryAccountStore                PostgresAccountStore (app/db), behind the Redis player cache with REDIS_URLS
 *   PlayerStateSink ... MemoryPlayerStateSink             WriteBehindPlayerSink (app/db), invalidating the player cache with REDIS_URLS
 *   SessionStore ...... MemorySessionStore                RedisSessionStore (app/cache)
 *   SharedGameState ... MemorySharedState                 CacheSharedState (app/cache)
 *
 * Opening fails once with GS_ERR_DB_UNAVAILABLE when PostgreSQL does not answer (DB_MIGRATE_AT_START
 * applies migrations first); unreachable Redis shards never fail it (the cache starts degraded).
 * app/db and app/cache (with postgres.js and ioredis) are loaded only when their variable is set:
 * a standalone server does not pay for them.
 *
 * `close()` (idempotent), in this order: flush the player sink → close it (the write-behind's final
 * flush) → leave the shared state (the online count, while the shards still answer) → the
 * in-memory session store → accounts → the cache (player caches, Redis sessions, shard
 * connections) → the database pool (after every write that needs it). A failing step is logged and
 * the next runs.
 */
import type { Cache } from '../cache/cache.js'
import type { CacheMetrics } from '../cache/metrics.js'
import type { Config } from '../config/index.js'
import type { DatabaseMetrics } from '../db/metrics.js'
import type { DatabasePool } from '../db/pool.js'
import { withDeadline } from '../deadline.js'
import { MemoryAccountStore } from '../game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../game/memory-player-sink.js'
import { MemorySessionStore } from '../game/memory-session-store.js'
import { MemorySharedState } from '../game/memory-shared-state.js'
import type { SharedGameState } from '../game/shared-state.js'
import type { AccountStore, GameStoreSet, PlayerStateSink, SessionStore } from '../game/stores.js'
import type { Logger } from '../logger.js'

/** `standalone`: everything in memory (nothing survives a restart). */
export type StoresMode = 'standalone' | 'database' | 'cache' | 'database+cache'

/**
 * What /readyz reports. Ready unless the database is down or every cache shard is: a degraded cache
 * (some shards down) still serves, see docs/CACHE.md.
 */
export interface StoresReadiness {
  readonly ready: boolean
  readonly database: 'ok' | 'down' | 'memory'
  readonly cache: 'ok' | 'degraded' | 'down' | 'memory'
}

/**
 * The cache's part of /readyz. A shard counts as up when its breaker is closed **and** its Redis
 * connection is ready: the breaker opens only when commands fail, so on an idle server a shard that
 * went away would otherwise look up until the next command — and /readyz is asked exactly then.
 */
function cacheReadiness(cache: Cache): 'ok' | 'degraded' | 'down' {
  const { shards } = cache.status()
  const up = shards.filter((s) => s.breaker === 'closed' && s.connection === 'ready').length
  return up === shards.length ? 'ok' : up === 0 ? 'down' : 'degraded'
}

/** A readiness probe waits at most this long for the database to answer `SELECT 1`. */
const READINESS_TIMEOUT_MS = 1000

export interface GameStoresOptions {
  readonly logger: Logger
  readonly metrics?: DatabaseMetrics & CacheMetrics
}

type CloseStep = readonly [name: string, close: () => Promise<void>]

export class GameStores implements GameStoreSet {
  /** The names of the close steps, in the order `close()` runs them. */
  readonly closeOrder: readonly string[]
  private closing: Promise<void> | null = null

  private constructor(
    readonly accounts: AccountStore,
    readonly sessions: SessionStore,
    readonly playerSink: PlayerStateSink,
    readonly shared: SharedGameState,
    /** The pool under the PostgreSQL stores (DATABASE_URL set), else null. */
    readonly database: DatabasePool | null,
    /** The Redis shards under sessions, shared state and the player cache (REDIS_URLS set), else null. */
    readonly cache: Cache | null,
    private readonly steps: readonly CloseStep[],
    private readonly logger: Logger,
  ) {
    this.closeOrder = steps.map(([name]) => name)
  }

  get mode(): StoresMode {
    return this.database !== null && this.cache !== null ? 'database+cache' : this.database !== null ? 'database' : this.cache !== null ? 'cache' : 'standalone'
  }

  static async open(config: Config, options: GameStoresOptions): Promise<GameStores> {
    const logger = options.logger.child({ component: 'stores' })
    const dbLogger = logger.child({ component: 'db' })
    const postgres = config.data.databaseUrl === undefined ? null : await openPostgres(config, dbLogger, options.metrics)
    const database = postgres?.database ?? null
    let redis: RedisPart | null = null
    try {
      if (config.data.redisUrls.length > 0) redis = await openRedis(config, logger, options.metrics)
    } catch (err) {
      await database?.close(0)
      throw err
    }
    const cache = redis?.cache ?? null

    let accounts: AccountStore
    let playerSink: PlayerStateSink
    if (postgres !== null) {
      accounts = postgres.accounts
      playerSink = postgres.playerSink
    } else {
      const memory = new MemoryAccountStore()
      accounts = memory
      playerSink = new MemoryPlayerStateSink(memory)
    }
    let sessions: SessionStore
    let shared: SharedGameState
    if (redis !== null) {
      ;({ accounts, playerSink } = redis.inFront(accounts, playerSink))
      sessions = redis.cache.sessions
      shared = redis.shared
    } else {
      sessions = new MemorySessionStore({ ttlSeconds: config.game.sessionTokenTtlSeconds })
      shared = new MemorySharedState(config.game.chatHistory)
    }

    // Each resource is closed once, by its owner: the Redis session store belongs to the cache.
    const steps: CloseStep[] = [
      ['player sink flush', () => playerSink.flush()],
      ['player sink', () => playerSink.close()],
      ['shared state', () => shared.close()],
      ...(cache === null ? [['sessions', () => sessions.close()] as const] : []),
      ['accounts', () => accounts.close()],
      ...(cache === null ? [] : [['cache', () => cache.close()] as const]),
      ...(database === null ? [] : [['database', () => database.close()] as const]),
    ]
    const stores = new GameStores(accounts, sessions, playerSink, shared, database, cache, steps, logger)
    const backends = { accounts: database ? 'postgres' : 'memory', playerSink: database ? 'postgres' : 'memory', sessions: cache ? 'redis' : 'memory' }
    if (stores.mode === 'standalone') logger.info({ mode: stores.mode, backends }, 'running standalone on in-memory stores (DATABASE_URL and REDIS_URLS unset); nothing survives a restart')
    else logger.info({ mode: stores.mode, backends }, 'stores ready')
    return stores
  }

  /** Whether the stores answer now (for /readyz); never rejects, bounded by READINESS_TIMEOUT_MS. */
  async readiness(): Promise<StoresReadiness> {
    const database = this.database === null ? 'memory' : (await withDeadline(this.database.ping(), READINESS_TIMEOUT_MS).catch(() => false)) ? 'ok' : 'down'
    const cache = this.cache === null ? 'memory' : cacheReadiness(this.cache)
    return { ready: database !== 'down' && cache !== 'down', database, cache }
  }

  /** Close everything in the order above. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const [name, close] of this.steps) {
        try {
          await close()
        } catch (err) {
          this.logger.error({ err, step: name }, 'closing a store failed')
        }
      }
    })()
    return this.closing
  }
}

interface PostgresPart {
  readonly database: DatabasePool
  readonly accounts: AccountStore
  readonly playerSink: PlayerStateSink
}

/**
 * The pool (migrated first when DB_MIGRATE_AT_START is on, its occupancy registered with the
 * metrics), the account store and the write-behind sink on it.
 */
async function openPostgres(config: Config, logger: Logger, metrics: DatabaseMetrics | undefined): Promise<PostgresPart> {
  const [{ DatabasePool }, { migrate }, { WriteBehindPlayerSink, writeBehindOptions }, { PostgresAccountStore }] = await Promise.all([
    import('../db/pool.js'),
    import('../db/migrate.js'),
    import('../db/write-behind.js'),
    import('../db/account-store.js'),
  ])
  const database = await DatabasePool.connect(config.data, { logger, ...(metrics ? { metrics } : {}) })
  try {
    if (config.data.dbMigrateAtStart) {
      const result = await migrate(database, { logger })
      logger.info({ applied: result.applied, version: result.version }, 'database migrations checked at start')
    }
  } catch (err) {
    await database.close(0)
    throw err
  }
  metrics?.observePool('postgres', () => database.poolReading())
  const sink = new WriteBehindPlayerSink(database, { ...writeBehindOptions(config.data), logger })
  return { database, accounts: new PostgresAccountStore(database, { pending: (id) => sink.pending(id) }), playerSink: sink }
}

interface RedisPart {
  readonly cache: Cache
  readonly shared: SharedGameState
  /** The player cache in front of the accounts and the sink (cache-aside, invalidated on save). */
  inFront(accounts: AccountStore, playerSink: PlayerStateSink): { accounts: AccountStore; playerSink: PlayerStateSink }
}

/** The shard set (unreachable shards do not fail this: the cache starts degraded and says so) and what runs on it. */
async function openRedis(config: Config, logger: Logger, metrics: CacheMetrics | undefined): Promise<RedisPart> {
  const [{ Cache, cacheOptionsFrom }, { CachedAccountStore, InvalidatingPlayerStateSink }, { CacheSharedState }] = await Promise.all([
    import('../cache/cache.js'),
    import('../cache/cached-stores.js'),
    import('../cache/shared-state.js'),
  ])
  const cache = await Cache.open(cacheOptionsFrom(config, { logger, ...(metrics ? { metrics } : {}) }))
  return {
    cache,
    shared: new CacheSharedState(cache),
    inFront(accounts, playerSink) {
      const players = cache.playerCache(accounts)
      // each wrapper closes what it fronts: the accounts, the sink (after flushing it)
      return { accounts: new CachedAccountStore(accounts, players), playerSink: new InvalidatingPlayerStateSink(playerSink, players) }
    },
  }
}
