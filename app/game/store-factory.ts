/**
 * Builds the three stores the game needs from the configuration — the seam where the database and
 * cache implementations plug in:
 *
 *   accounts ..... DATABASE_URL set → Postgres (app/db)   · unset → MemoryAccountStore
 *   playerSink ... DATABASE_URL set → Postgres write-behind · unset → MemoryPlayerStateSink
 *   sessions ..... REDIS_URLS set   → Redis (app/cache)    · unset → MemorySessionStore
 *   shared ....... REDIS_URLS set   → chat history, leaderboards, online count in Redis · unset → none
 *   (REDIS_URLS set also puts the Redis player cache in front of accounts and sink.)
 *
 * Each kind has its own function below (`accountStoreFor`, `playerSinkFor`, `sessionStoreFor`);
 * an implementation registers itself with `registerStoreBackend`; PostgreSQL (app/db) is registered
 * by default below and imported only when DATABASE_URL is set.
 * `close()` closes in dependency order: sink (flushes) → sessions → accounts.
 */
import type { Config } from '../config/index.js'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { noopMetrics, type GameMetrics } from '../telemetry/metrics.js'
import { MemoryAccountStore } from './memory-account-store.js'
import { MemoryPlayerStateSink } from './memory-player-sink.js'
import { MemorySessionStore } from './memory-session-store.js'
import type { SharedGameState } from './shared-state.js'
import type { AccountStore, PlayerStateSink, SessionStore } from './stores.js'

export type StoreBackend = 'memory' | 'postgres' | 'redis'
/** `standalone`: everything in memory (nothing survives a restart). */
export type StoresMode = 'standalone' | 'database' | 'cache' | 'database+cache'

export interface Stores {
  readonly accounts: AccountStore
  readonly sessions: SessionStore
  readonly playerSink: PlayerStateSink
  /** Chat history, leaderboards and online count shared by the cluster (REDIS_URLS set). */
  readonly shared?: SharedGameState
  readonly mode: StoresMode
  readonly backends: { readonly accounts: StoreBackend; readonly sessions: StoreBackend; readonly playerSink: StoreBackend }
  /** Whether the stores answer now (for /readyz); never rejects, bounded by READINESS_TIMEOUT_MS. */
  readiness(): Promise<StoresReadiness>
  /** Flush the sink, then close sink, sessions and accounts. Idempotent. */
  close(): Promise<void>
}

/**
 * What /readyz reports. Ready unless the database is down or every cache shard is: a degraded cache
 * (some shards down) still serves, see docs/CACHE.md.
 */
export interface StoresReadiness {
  readonly ready: boolean
  readonly database: 'ok' | 'down' | 'memory'
  readonly cache: 'ok' | 'degraded' | 'down' | 'memory'
}

/** A readiness probe waits at most this long for the database to answer `SELECT 1`. */
export const READINESS_TIMEOUT_MS = 1000

/** What a database backend (app/db) provides: accounts plus a write-behind sink over the same data. */
export interface DatabaseBackend {
  readonly accounts: AccountStore
  readonly playerSink: PlayerStateSink
  /** Resolves when the database answers a trivial query (readiness). */
  ping?(): Promise<void>
  /** Close what the backend owns beyond the two stores (the connection pool). */
  close(): Promise<void>
}

/** What the cache backend (app/cache) provides: sessions, shared state and the player cache. */
export interface CacheBackend {
  readonly sessions: SessionStore
  readonly shared: SharedGameState
  /** Put the player cache (cache-aside, invalidate on save) in front of the accounts and the sink. */
  wrapAccounts(part: { readonly accounts: AccountStore; readonly playerSink: PlayerStateSink }): { accounts: AccountStore; playerSink: PlayerStateSink }
  /** ok: every shard up; degraded: some; down: none. */
  health?(): 'ok' | 'degraded' | 'down'
  /** Close what the backend owns (the shard connections); runs after the accounts are closed. */
  close(): Promise<void>
}

export interface StoreBackendFactories {
  database?: (config: Config, logger: Logger, metrics: GameMetrics) => Promise<DatabaseBackend>
  /** A bare SessionStore, or the full cache backend. */
  cache?: (config: Config, logger: Logger, metrics?: GameMetrics) => Promise<SessionStore | CacheBackend>
}

const registered: StoreBackendFactories = {
  // PostgreSQL (app/db), loaded only when DATABASE_URL is set; DB_MIGRATE_AT_START applies migrations first
  database: async (config, logger, metrics) => (await import('../db/stores.js')).PostgresStores.open(config.data, { logger: logger.child({ component: 'db' }), metrics }),
  // Redis shards (app/cache), loaded only when REDIS_URLS is set
  cache: async (config, logger, metrics) => (await import('../cache/backend.js')).openCacheBackend(config, logger, metrics),
}

/** app/db and app/cache call this (e.g. from a module imported by app/main.ts) to plug in. */
export function registerStoreBackend(factories: StoreBackendFactories): void {
  if (factories.database) registered.database = factories.database
  if (factories.cache) registered.cache = factories.cache
}

interface AccountPart {
  readonly accounts: AccountStore
  readonly playerSink: PlayerStateSink
  readonly backend: StoreBackend
  ping?(): Promise<void>
  close(): Promise<void>
}

/** Accounts and the player sink (both live in the database, or both in memory). */
export async function accountStoreFor(config: Config, logger: Logger, factories: StoreBackendFactories = registered, metrics: GameMetrics = noopMetrics): Promise<AccountPart> {
  if (config.data.databaseUrl !== undefined) {
    if (!factories.database) {
      throw new GameServerError('GS_ERR_STORE_UNSUPPORTED', 'DATABASE_URL is set but no database store backend is registered', { variable: 'DATABASE_URL' })
    }
    const db = await factories.database(config, logger, metrics)
    return { accounts: db.accounts, playerSink: db.playerSink, backend: 'postgres', ...(db.ping ? { ping: () => db.ping!() } : {}), close: () => db.close() }
  }
  const accounts = new MemoryAccountStore()
  return { accounts, playerSink: playerSinkFor(accounts), backend: 'memory', close: async () => {} }
}

export function playerSinkFor(accounts: MemoryAccountStore): PlayerStateSink {
  return new MemoryPlayerStateSink(accounts)
}

export async function sessionStoreFor(config: Config, logger: Logger, factories: StoreBackendFactories = registered, metrics: GameMetrics = noopMetrics): Promise<{ sessions: SessionStore; backend: StoreBackend; cache?: CacheBackend }> {
  if (config.data.redisUrls !== undefined && config.data.redisUrls.length > 0) {
    if (!factories.cache) {
      throw new GameServerError('GS_ERR_STORE_UNSUPPORTED', 'REDIS_URLS is set but no cache store backend is registered', { variable: 'REDIS_URLS' })
    }
    const made = await factories.cache(config, logger, metrics)
    if ('wrapAccounts' in made) return { sessions: made.sessions, backend: 'redis', cache: made }
    return { sessions: made, backend: 'redis' }
  }
  return { sessions: new MemorySessionStore({ ttlSeconds: config.game.sessionTokenTtlSeconds }), backend: 'memory' }
}

export async function createStores(config: Config, logger: Logger, factories: StoreBackendFactories = registered, metrics: GameMetrics = noopMetrics): Promise<Stores> {
  const log = logger.child({ component: 'stores' })
  const accountPart = await accountStoreFor(config, log, factories, metrics)
  let sessionPart: { sessions: SessionStore; backend: StoreBackend; cache?: CacheBackend }
  try {
    sessionPart = await sessionStoreFor(config, log, factories, metrics)
  } catch (err) {
    await closeQuietly(log, 'accounts', async () => {
      await accountPart.playerSink.close()
      await accountPart.accounts.close()
      await accountPart.close()
    })
    throw err
  }
  const database = accountPart.backend !== 'memory'
  const cache = sessionPart.backend !== 'memory'
  const mode: StoresMode = database && cache ? 'database+cache' : database ? 'database' : cache ? 'cache' : 'standalone'
  const backends = { accounts: accountPart.backend, playerSink: accountPart.backend, sessions: sessionPart.backend }
  if (mode === 'standalone') log.info({ mode, backends }, 'running standalone on in-memory stores (DATABASE_URL and REDIS_URLS unset); nothing survives a restart')
  else log.info({ mode, backends }, 'stores ready')
  const cacheBackend = sessionPart.cache
  const { accounts, playerSink } = cacheBackend ? cacheBackend.wrapAccounts(accountPart) : accountPart

  let closing: Promise<void> | null = null
  return {
    accounts,
    sessions: sessionPart.sessions,
    playerSink,
    ...(cacheBackend ? { shared: cacheBackend.shared } : {}),
    mode,
    backends,
    async readiness() {
      const database = accountPart.ping === undefined ? 'memory' : (await answersWithin(accountPart.ping(), READINESS_TIMEOUT_MS)) ? 'ok' : 'down'
      const cache = cacheBackend === undefined ? 'memory' : cacheBackend.health?.() ?? 'ok'
      return { ready: database !== 'down' && cache !== 'down', database, cache }
    },
    close() {
      closing ??= (async () => {
        await closeQuietly(log, 'player sink flush', () => playerSink.flush())
        await closeQuietly(log, 'player sink', () => playerSink.close())
        await closeQuietly(log, 'sessions', () => sessionPart.sessions.close())
        await closeQuietly(log, 'accounts', () => accounts.close())
        await closeQuietly(log, 'database backend', () => accountPart.close())
        if (cacheBackend) await closeQuietly(log, 'cache backend', () => cacheBackend.close())
      })()
      return closing
    },
  }
}

async function answersWithin(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
    timer.unref()
  })
  try {
    return await Promise.race([work.then(() => true as const, () => false as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function closeQuietly(log: Logger, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step()
  } catch (err) {
    log.error({ err, step: what }, 'closing a store failed')
  }
}
