/**
 * The game's store contracts over the cache, on 3 real redis-server shards: the Redis SessionStore
 * and SharedGameState (the same suites as the in-memory ones), and the account store / player sink
 * with the player cache in front (cache-aside reads must still see every saved state).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Cache } from '../../app/cache/cache.js'
import { CachedAccountStore, InvalidatingPlayerStateSink } from '../../app/cache/cached-stores.js'
import { CacheSharedState } from '../../app/cache/shared-state.js'
import { MemoryAccountStore } from '../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../app/game/memory-player-sink.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import type { SharedGameState } from '../../app/game/shared-state.js'
import type { PlayerState } from '../../app/game/stores.js'
import { runAccountStoreContract } from '../contracts/account-store.contract.js'
import { runPlayerStateSinkContract } from '../contracts/player-state-sink.contract.js'
import { runSessionStoreContract } from '../contracts/session-store.contract.js'
import { runSharedGameStateContract } from '../contracts/shared-game-state.contract.js'
import { Harness } from '../harness/index.js'
import { directClients, openCache, startShards } from './cache-support.js'
import { eventually } from '../harness/eventually.js'

const harness = new Harness()
let shards: Promise<RedisServer[]> | undefined
const servers = () => (shards ??= startShards(harness, 3))

async function cacheFor(ttlSeconds = 3600): Promise<Cache> {
  return openCache(await servers(), { sessionTtlSeconds: ttlSeconds })
}

runSessionStoreContract('redis, 3 shards', async ({ ttlSeconds }) => {
  const cache = await cacheFor(ttlSeconds)
  // The Redis session store and the shards under it, closed together: each close reaches both
  // (no guard here, so "a second close resolves" is the implementations' own idempotence).
  return {
    create: (playerId, username) => cache.sessions.create(playerId, username),
    validate: (token) => cache.sessions.validate(token),
    invalidate: (token) => cache.sessions.invalidate(token),
    close: async () => {
      await cache.sessions.close()
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

let stateRun = 0
runSharedGameStateContract('redis, 3 shards', async ({ chatHistory }) => {
  // every test starts from empty boards, histories and online counts (the keys are cluster-wide)
  const clients = directClients(await servers())
  try {
    await Promise.all(clients.map((c) => c.flushall()))
  } finally {
    for (const c of clients) c.disconnect()
  }
  const cache = await openCache(await servers(), { chatCapPerChannel: chatHistory, nodeId: `contract-${++stateRun}` })
  const shared = new CacheSharedState(cache)
  // the state and the shards under it, closed together
  const state: SharedGameState = {
    appendChat: (m) => shared.appendChat(m),
    recentChat: (zone, count) => shared.recentChat(zone, count),
    recordKill: (id, experience) => shared.recordKill(id, experience),
    reportOnline: (count) => shared.reportOnline(count),
    onlineTotal: () => shared.onlineTotal(),
    leaderboard: (board, count) => shared.leaderboard(board, count),
    leaderboardAround: (board, id, radius) => shared.leaderboardAround(board, id, radius),
    close: async () => {
      await shared.close()
      await cache.close()
    },
  }
  return state
})

/** A sink whose writes are durable at once and that says so, like the write-behind's timed flushes. */
class NotifyingMemorySink extends MemoryPlayerStateSink {
  private readonly listeners: ((ids: readonly number[]) => void)[] = []
  override markDirty(state: PlayerState): void {
    super.markDirty(state)
    for (const listener of this.listeners) listener([state.id])
  }
  onDurable(listener: (ids: readonly number[]) => void): void {
    this.listeners.push(listener)
  }
}

const durable = suite('cache: timed write-behind flushes invalidate the player cache')
durable('state made durable without flush()/release() is not served stale from the cache', async () => {
  const cache = await cacheFor()
  try {
    const inner = new MemoryAccountStore()
    const players = cache.playerCache(inner)
    const accounts = new CachedAccountStore(inner, players)
    const sink = new InvalidatingPlayerStateSink(new NotifyingMemorySink(inner), players)
    const created = await accounts.create({ username: 'durable-1', passwordHash: 'x', position: { zone: 0, x: 1, y: 1 }, hp: 100 })
    assert.equal((await accounts.findById(created.id))?.position, { zone: 0, x: 1, y: 1 }) // now cached
    sink.markDirty({ id: created.id, level: 1, experience: 0, position: { zone: 0, x: 9, y: 9 }, hp: 50 })
    let seen = await accounts.findById(created.id)
    // the invalidation is an UNLINK in flight
    await eventually(async () => (seen = await accounts.findById(created.id))?.hp === 50, 1000, 'the durable state to be served', 20).catch(() => {})
    assert.is(seen?.hp, 50)
    assert.equal(seen?.position, { zone: 0, x: 9, y: 9 })
    await sink.close()
    await accounts.close()
  } finally {
    await cache.close()
  }
})
durable.run()

const cleanup = suite('cache contracts: stop the shards')
cleanup('harness closes', async () => {
  await harness.close()
})
cleanup.run()
