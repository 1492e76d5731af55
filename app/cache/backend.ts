/**
 * The cache as the store factory's backend (REDIS_URLS set): the Redis SessionStore, the player
 * cache in front of the account store and the sink, and the shared game state. Opening never fails
 * because shards are unreachable: the server starts degraded and logs it.
 */
import type { Config } from '../config/index.js'
import type { SharedGameState } from '../game/shared-state.js'
import type { AccountStore, PlayerStateSink, SessionStore } from '../game/stores.js'
import type { Logger } from '../logger.js'
import { Cache, cacheOptionsFrom } from './cache.js'
import { CachedAccountStore, InvalidatingPlayerStateSink } from './cached-stores.js'
import { CacheSharedState } from './shared-state.js'

export interface CacheBackendParts {
  readonly cache: Cache
  readonly sessions: SessionStore
  readonly shared: SharedGameState
  /** The player cache (cache-aside, invalidate on save) in front of the accounts and the sink. */
  wrapAccounts(part: { readonly accounts: AccountStore; readonly playerSink: PlayerStateSink }): { accounts: AccountStore; playerSink: PlayerStateSink }
  health(): 'ok' | 'degraded' | 'down'
  /** Withdraw from the online count and disconnect every shard. Idempotent. */
  close(): Promise<void>
}

export async function openCacheBackend(config: Config, logger: Logger, metrics?: object): Promise<CacheBackendParts> {
  const cache = await Cache.open(cacheOptionsFrom(config, { logger, ...(metrics ? { metrics } : {}) }))
  const shared = new CacheSharedState(cache)
  const sessions: SessionStore = {
    create: (playerId, username) => cache.sessions.create(playerId, username),
    validate: (token) => cache.sessions.validate(token),
    invalidate: (token) => cache.sessions.invalidate(token),
    // The shards belong to the backend, closed after the accounts (see close()).
    close: async () => {},
  }
  let closing: Promise<void> | undefined
  return {
    cache,
    sessions,
    shared,
    health: () => cache.status().health,
    wrapAccounts(part) {
      const players = cache.playerCache(part.accounts)
      return { accounts: new CachedAccountStore(part.accounts, players), playerSink: new InvalidatingPlayerStateSink(part.playerSink, players) }
    },
    close() {
      closing ??= (async () => {
        await shared.close()
        await cache.close()
      })()
      return closing
    },
  }
}
