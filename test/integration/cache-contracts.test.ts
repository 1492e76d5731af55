/**
 * The game's store contracts over the cache, on 3 real redis-server shards: the Redis SessionStore
 * (the same suite as the in-memory one), and the account store / player sink with the player cache
 * in front (cache-aside reads must still see every saved state).
 */
import { suite } from 'uvu'
import type { Cache } from '../../app/cache/cache.js'
import { CachedAccountStore, InvalidatingPlayerStateSink } from '../../app/cache/cached-stores.js'
import { MemoryAccountStore } from '../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../app/game/memory-player-sink.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { runAccountStoreContract } from '../contracts/account-store.contract.js'
import { runPlayerStateSinkContract } from '../contracts/player-state-sink.contract.js'
import { runSessionStoreContract } from '../contracts/session-store.contract.js'
import { Harness } from '../harness/index.js'
import { openCache, startShards } from './cache-support.js'

const harness = new Harness()
let shards: Promise<RedisServer[]> | undefined
const servers = () => (shards ??= startShards(harness, 3))

async function cacheFor(ttlSeconds = 3600): Promise<Cache> {
  return openCache(await servers(), { sessionTtlSeconds: ttlSeconds })
}

runSessionStoreContract('redis, 3 shards', async ({ ttlSeconds }) => {
  const cache = await cacheFor(ttlSeconds)
  let closed = false
  return {
    create: (playerId, username) => cache.sessions.create(playerId, username),
    validate: (token) => cache.sessions.validate(token),
    invalidate: (token) => cache.sessions.invalidate(token),
    close: async () => {
      if (closed) return
      closed = true
      await cache.close()
    },
  }
})

runAccountStoreContract('memory behind the redis player cache, 3 shards', async () => {
  const cache = await cacheFor()
  const inner = new MemoryAccountStore()
  const store = new CachedAccountStore(inner, cache.playerCache(inner))
  return Object.assign(Object.create(store) as CachedAccountStore, {
    close: async () => {
      await store.close()
      await cache.close()
    },
  })
})

runPlayerStateSinkContract('memory behind the redis player cache, 3 shards', async () => {
  const cache = await cacheFor()
  const inner = new MemoryAccountStore()
  const players = cache.playerCache(inner)
  const accounts = new CachedAccountStore(inner, players)
  const sink = new InvalidatingPlayerStateSink(new MemoryPlayerStateSink(inner), players)
  return {
    accounts,
    sink,
    close: async () => {
      await sink.close()
      await accounts.close()
      await cache.close()
    },
  }
})

const cleanup = suite('cache contracts: stop the shards')
cleanup('harness closes', async () => {
  await harness.close()
})
cleanup.run()
