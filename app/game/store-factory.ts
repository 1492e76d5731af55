/**
 * Builds the three stores the game needs from the configuration — the seam where the database and
 * cache implementations plug in:
 *
 *   accounts ..... DATABASE_URL set → Postgres (app/db)   · unset → MemoryAccountStore
 *   playerSink ... DATABASE_URL set → Postgres write-behind · unset → MemoryPlayerStateSink
 *   sessions ..... REDIS_URLS set   → Redis (app/cache)    · unset → MemorySessionStore
 *
 * Each kind has its own function below (`accountStoreFor`, `playerSinkFor`, `sessionStoreFor`);
 * an implementation registers itself with `registerStoreBackend` (or replaces the body of its
 * function), so this file never imports app/db or app/cache until those exist.
 * `close()` closes in dependency order: sink (flushes) → sessions → accounts.
 */
import type { Config } from '../config/index.js'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { MemoryAccountStore } from './memory-account-store.js'
import { MemoryPlayerStateSink } from './memory-player-sink.js'
import { MemorySessionStore } from './memory-session-store.js'
import type { AccountStore, PlayerStateSink, SessionStore } from './stores.js'

export type StoreBackend = 'memory' | 'postgres' | 'redis'
/** `standalone`: everything in memory (nothing survives a restart). */
export type StoresMode = 'standalone' | 'database' | 'cache' | 'database+cache'

export interface Stores {
  readonly accounts: AccountStore
  readonly sessions: SessionStore
  readonly playerSink: PlayerStateSink
  readonly mode: StoresMode
  readonly backends: { readonly accounts: StoreBackend; readonly sessions: StoreBackend; readonly playerSink: StoreBackend }
  /** Flush the sink, then close sink, sessions and accounts. Idempotent. */
  close(): Promise<void>
}

/** What a database backend (app/db) provides: accounts plus a write-behind sink over the same data. */
export interface DatabaseBackend {
  readonly accounts: AccountStore
  readonly playerSink: PlayerStateSink
  /** Close what the backend owns beyond the two stores (the connection pool). */
  close(): Promise<void>
}

export interface StoreBackendFactories {
  database?: (config: Config, logger: Logger) => Promise<DatabaseBackend>
  cache?: (config: Config, logger: Logger) => Promise<SessionStore>
}

const registered: StoreBackendFactories = {}

/** app/db and app/cache call this (e.g. from a module imported by app/main.ts) to plug in. */
export function registerStoreBackend(factories: StoreBackendFactories): void {
  if (factories.database) registered.database = factories.database
  if (factories.cache) registered.cache = factories.cache
}

interface AccountPart {
  readonly accounts: AccountStore
  readonly playerSink: PlayerStateSink
  readonly backend: StoreBackend
  close(): Promise<void>
}

/** Accounts and the player sink (both live in the database, or both in memory). */
export async function accountStoreFor(config: Config, logger: Logger, factories: StoreBackendFactories = registered): Promise<AccountPart> {
  if (config.data.databaseUrl !== undefined) {
    if (!factories.database) {
      throw new GameServerError('GS_ERR_STORE_UNSUPPORTED', 'DATABASE_URL is set but no database store backend is registered', { variable: 'DATABASE_URL' })
    }
    const db = await factories.database(config, logger)
    return { accounts: db.accounts, playerSink: db.playerSink, backend: 'postgres', close: () => db.close() }
  }
  const accounts = new MemoryAccountStore()
  return { accounts, playerSink: playerSinkFor(accounts), backend: 'memory', close: async () => {} }
}

export function playerSinkFor(accounts: MemoryAccountStore): PlayerStateSink {
  return new MemoryPlayerStateSink(accounts)
}

export async function sessionStoreFor(config: Config, logger: Logger, factories: StoreBackendFactories = registered): Promise<{ sessions: SessionStore; backend: StoreBackend }> {
  if (config.data.redisUrls !== undefined && config.data.redisUrls.length > 0) {
    if (!factories.cache) {
      throw new GameServerError('GS_ERR_STORE_UNSUPPORTED', 'REDIS_URLS is set but no cache store backend is registered', { variable: 'REDIS_URLS' })
    }
    return { sessions: await factories.cache(config, logger), backend: 'redis' }
  }
  return { sessions: new MemorySessionStore({ ttlSeconds: config.game.sessionTokenTtlSeconds }), backend: 'memory' }
}

export async function createStores(config: Config, logger: Logger, factories: StoreBackendFactories = registered): Promise<Stores> {
  const log = logger.child({ component: 'stores' })
  const accountPart = await accountStoreFor(config, log, factories)
  let sessionPart: { sessions: SessionStore; backend: StoreBackend }
  try {
    sessionPart = await sessionStoreFor(config, log, factories)
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

  let closing: Promise<void> | null = null
  return {
    accounts: accountPart.accounts,
    sessions: sessionPart.sessions,
    playerSink: accountPart.playerSink,
    mode,
    backends,
    close() {
      closing ??= (async () => {
        await closeQuietly(log, 'player sink flush', () => accountPart.playerSink.flush())
        await closeQuietly(log, 'player sink', () => accountPart.playerSink.close())
        await closeQuietly(log, 'sessions', () => sessionPart.sessions.close())
        await closeQuietly(log, 'accounts', () => accountPart.accounts.close())
        await closeQuietly(log, 'database backend', () => accountPart.close())
      })()
      return closing
    },
  }
}

async function closeQuietly(log: Logger, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step()
  } catch (err) {
    log.error({ err, step: what }, 'closing a store failed')
  }
}
