import { Redis } from 'ioredis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Cache } from '../../app/cache/cache.js'
import { RedisOnlineCounter } from '../../app/cache/counters.js'
import { keys } from '../../app/cache/keys.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { Harness } from '../harness/index.js'
import { CountingCacheMetrics, CountingLoader, directClients, openCache, player, rejection, startShards } from './cache-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('cache: every API over 3 real redis-server shards')
const harness = new Harness()
let servers: RedisServer[]
let direct: Redis[]
let cache: Cache
const metrics = new CountingCacheMetrics()

test.before(async () => {
  servers = await startShards(harness, 3)
  direct = directClients(servers)
  cache = await openCache(servers, { metrics, sessionTtlSeconds: 2, playerTtlSeconds: 60 })
})

test.after(async () => {
  await cache?.close()
  for (const client of direct ?? []) client.disconnect()
  await harness.close()
})

/** Which shard holds `key`, asked of the servers themselves. */
async function holders(key: string): Promise<number[]> {
  const found = await Promise.all(direct.map((c) => c.exists(key)))
  return found.flatMap((n, i) => (n === 1 ? [i] : []))
}

test('starts healthy with every shard connected', () => {
  const status = cache.status()
  assert.is(status.health, 'ok')
  assert.is(status.shards.length, 3)
  assert.ok(status.shards.every((s) => s.connection === 'ready' && s.breaker === 'closed'))
})

test('player cache-aside: miss loads and caches with a TTL, hit does not load, invalidate drops', async () => {
  const loader = new CountingLoader()
  const players = cache.playerCache(loader)
  const record = player(7, { lastLogin: new Date('2026-11-23T10:00:00Z') })
  loader.put(record)

  assert.equal(await players.get(7), record)
  assert.is(loader.loads, 1)
  const key = keys.player(7)
  const shard = cache.shards.ring.shardFor(key)
  assert.equal(await holders(key), [shard], 'cached on the ring shard only')
  const ttlMs = await direct[shard]!.pttl(key)
  assert.ok(ttlMs > 55_000 && ttlMs <= 60_000, `TTL ${ttlMs}`)

  assert.equal(await players.get(7), record, 'hit: the decoded record, dates included')
  assert.is(loader.loads, 1)
  assert.ok((metrics.hits.get(String(shard)) ?? 0) >= 1)

  await players.invalidate(7)
  assert.equal(await holders(key), [])
  loader.put({ ...record, gold: 999, version: 2 })
  assert.is((await players.get(7))?.gold, 999, 'after invalidation the saved state is loaded')
  assert.is(loader.loads, 2)

  assert.is(await players.get(404), undefined, 'unknown player')
  assert.equal(await holders(keys.player(404)), [], 'absence is not cached')
})

test('many commands issued together (one tick pipeline per shard) each get their own reply', async () => {
  const records = Array.from({ length: 300 }, (_, i) => player(5000 + i, { gold: i }))
  const players = cache.playerCache(new CountingLoader())
  const written = await Promise.all(records.map((r) => players.set(r)))
  assert.ok(written.every(Boolean))
  const read = await Promise.all(records.map((r) => players.get(r.id)))
  assert.equal(read.map((r) => r?.gold), records.map((r) => r.gold))
  const [top, counter] = await Promise.all([cache.leaderboards.top('nobody-here', 3), cache.counters.increment('tick-test', 3)])
  assert.equal(top, [])
  assert.is(counter, 3)
})

test('player cache: concurrent misses for one player do one load (single-flight)', async () => {
  const loader = new CountingLoader()
  loader.delayMs = 50
  const players = cache.playerCache(loader)
  loader.put(player(8))
  loader.put(player(9))
  const results = await Promise.all([...Array.from({ length: 20 }, () => players.get(8)), players.get(9), players.get(9)])
  assert.is(loader.loads, 2, 'one load per player')
  assert.ok(results.slice(0, 20).every((r) => r?.id === 8))
  assert.is(results[21]?.id, 9)
})

test('player cache: a save during a load keeps the older result out of the cache', async () => {
  const loader = new CountingLoader()
  loader.delayMs = 50
  const players = cache.playerCache(loader)
  loader.put(player(10, { gold: 1 }))
  const loading = players.get(10)
  await new Promise((r) => setTimeout(r, 10))
  loader.put(player(10, { gold: 2, version: 2 }))
  await players.invalidate(10)
  assert.is((await loading)?.gold, 1, 'the caller still gets what was loaded')
  assert.equal(await holders(keys.player(10)), [], 'but it was not cached')
  assert.is((await players.get(10))?.gold, 2)
})

test('sessions: create, validate, sliding refresh, invalidate, expiry', async () => {
  const session = await cache.sessions.create(42, 'ada')
  assert.match(session.token, /^[A-Za-z0-9_-]{32}$/)
  assert.is(session.playerId, 42)
  const key = keys.session(session.token)
  const shard = cache.shards.ring.shardFor(key)
  assert.equal(await holders(key), [shard])
  // the key is the token's digest: nothing stored in Redis contains the token itself
  const stored = (await Promise.all(direct.map((c) => c.keys('gs:session:*')))).flat()
  assert.ok(stored.length > 0)
  for (const name of stored) assert.not.ok(name.includes(session.token), `${name} contains the token`)
  assert.not.ok((await direct[shard]!.get(key))!.includes(session.token), 'nor does the value')

  const seen = await cache.sessions.validate(session.token)
  assert.equal({ ...seen, expiresAt: 0 }, { token: session.token, playerId: 42, username: 'ada', expiresAt: 0 })

  // Sliding: let the TTL run down, validate, and it is back at the full 2 s.
  await eventually(async () => (await direct[shard]!.pttl(key)) < 1500, 3000, 'TTL to run down')
  assert.ok(await cache.sessions.validate(session.token))
  assert.ok((await direct[shard]!.pttl(key)) > 1600, 'validate refreshed the TTL')

  await cache.sessions.invalidate(session.token)
  assert.is(await cache.sessions.validate(session.token), undefined)
  assert.is(await cache.sessions.validate('not a token'), undefined)

  const started = performance.now()
  const expiring = await cache.sessions.create(43, 'bob')
  await eventually(async () => (await direct[cache.shards.ring.shardFor(keys.session(expiring.token))]!.exists(keys.session(expiring.token))) === 0, 4000, 'session key expiry')
  assert.ok(performance.now() - started > 950, 'not before its TTL')
  assert.is(await cache.sessions.validate(expiring.token), undefined, 'expired')
})

test('player entries expire after their TTL', async () => {
  const loader = new CountingLoader()
  const shortLived = await openCache(servers, { playerTtlSeconds: 1 })
  try {
    const players = shortLived.playerCache(loader)
    loader.put(player(11))
    await players.get(11)
    const key = keys.player(11)
    assert.is((await holders(key)).length, 1)
    await eventually(async () => (await holders(key)).length === 0, 3000, 'player key expiry')
    await players.get(11)
    assert.is(loader.loads, 2, 'an expired entry is a miss')
  } finally {
    await shortLived.close()
  }
})

test('leaderboards: set, increment, top N with scores, rank and neighbours, one shard per board', async () => {
  const lb = cache.leaderboards
  for (let id = 1; id <= 10; id++) await lb.set('kills', id, id * 10)
  assert.is(await lb.increment('kills', 3, 100), 130)
  assert.equal(await lb.top('kills', 3), [
    { playerId: 3, score: 130, rank: 1 },
    { playerId: 10, score: 100, rank: 2 },
    { playerId: 9, score: 90, rank: 3 },
  ])
  assert.equal(await lb.rank('kills', 9), { playerId: 9, score: 90, rank: 3 })
  assert.is(await lb.rank('kills', 999), undefined)
  assert.equal(
    (await lb.around('kills', 8, 2)).map((e) => [e.playerId, e.rank]),
    [[10, 2], [9, 3], [8, 4], [7, 5], [6, 6]],
  )
  assert.equal((await lb.around('kills', 3, 1)).map((e) => e.playerId), [3, 10], 'clipped at the top')
  assert.equal(await lb.around('kills', 999, 1), [])
  assert.equal(await lb.top('nobody', 5), [])
  assert.equal(await holders(keys.leaderboard('kills')), [cache.shards.ring.shardFor(keys.leaderboard('kills'))])
  assert.instance(await rejection(lb.top('bad{name}', 1)), RangeError)
})

test('chat history: append trims to the cap in one transaction, reads do not remove', async () => {
  const chat = cache.chat
  for (let i = 0; i < 25; i++) await chat.append('zone-1', { playerId: i, username: `p${i}`, text: `hello ${i}`, sentAtMs: 1000 + i })
  const key = keys.chat('zone-1')
  const shard = cache.shards.ring.shardFor(key)
  assert.is(await direct[shard]!.llen(key), 20, 'trimmed to the cap')
  const last5 = await chat.recent('zone-1', 5)
  assert.equal(last5.map((e) => e.text), ['hello 20', 'hello 21', 'hello 22', 'hello 23', 'hello 24'])
  assert.is((await chat.recent('zone-1', 100)).length, 20)
  assert.is(await direct[shard]!.llen(key), 20, 'reading removed nothing')
  assert.equal(await holders(key), [shard])
  assert.equal(await chat.recent('empty-channel', 5), [])

  // one round trip: MULTI/RPUSH/LTRIM/EXEC go out in one write — the server sees them as one transaction
  const before = Number((await direct[shard]!.info('stats')).match(/total_commands_processed:(\d+)/)![1])
  await chat.append('zone-1', { playerId: 1, username: 'p1', text: 'one more', sentAtMs: 2000 })
  const after = Number((await direct[shard]!.info('stats')).match(/total_commands_processed:(\d+)/)![1])
  assert.is(after - before - 1, 4, 'MULTI, RPUSH, LTRIM, EXEC (the INFO itself is the +1)')
})

test('counters and the cluster-wide online count', async () => {
  assert.is(await cache.counters.get('logins'), 0)
  assert.is(await cache.counters.increment('logins'), 1)
  assert.is(await cache.counters.increment('logins', 4), 5)
  assert.is(await cache.counters.get('logins'), 5)

  await cache.online.report(12)
  const other = await openCache(servers, { nodeId: 'other-node' })
  try {
    await other.online.report(30)
    assert.is(await cache.online.total(), 42)
    await other.online.withdraw()
    assert.is(await cache.online.total(), 12)
    // A server that stopped reporting (crashed) stops counting, and its field is removed.
    const crashed = new RedisOnlineCounter(cache.shards, { nodeId: 'crashed-node', now: () => Date.now() - 60_000 })
    await crashed.report(100)
    assert.is(await cache.online.total(), 12)
    const key = keys.online()
    assert.is(await direct[cache.shards.ring.shardFor(key)]!.hexists(key, 'crashed-node'), 0)
  } finally {
    await other.close()
  }
})

test('keys spread over all 3 shards as the ring says', async () => {
  const loader = new CountingLoader()
  const players = cache.playerCache(loader)
  for (let id = 1000; id < 2500; id++) {
    loader.put(player(id))
    await players.set(player(id))
  }
  const perShard = await Promise.all(
    direct.map(async (client) => {
      let cursor = '0'
      const found: string[] = []
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', 'gs:player:*', 'COUNT', 1000)
        cursor = next
        found.push(...batch)
      } while (cursor !== '0')
      return found
    }),
  )
  perShard.forEach((found, shard) => {
    // only this test's players (ids 1000–2499): other tests of the suite leave cached players too (e.g. 5000–5299)
    const mine = found.filter((k) => {
      const id = Number(/\{(\d+)\}/.exec(k)![1])
      return id >= 1000 && id < 2500
    })
    assert.ok(mine.length > 1500 * 0.2 && mine.length < 1500 * 0.47, `shard ${shard} holds ${mine.length} of 1500`)
    for (const key of found) assert.is(cache.shards.ring.shardFor(key), shard, `${key} is on its ring shard`)
  })
})

test('broadcast invalidation removes matching keys on every shard with SCAN + UNLINK', async () => {
  const loader = new CountingLoader()
  const players = cache.playerCache(loader)
  for (let id = 3000; id < 3300; id++) await players.set(player(id))
  await cache.sessions.create(1, 'keep-me')
  const countPlayers = async () => (await Promise.all(direct.map(async (c) => (await c.keys('gs:player:*')).length))).reduce((a, b) => a + b, 0)
  const result = await cache.invalidatePattern('gs:player:*')
  assert.is(await countPlayers(), 0, 'no player key left anywhere')
  assert.ok(result.deleted >= 300)
  assert.equal(result.skippedShards, [])
  assert.ok(result.shards.every((s) => (s.deleted ?? 0) > 0), 'every shard had some')
  const sessions = (await Promise.all(direct.map((c) => c.keys('gs:session:*')))).flat()
  assert.ok(sessions.length >= 1, 'other keys untouched')
  assert.is(((await rejection(cache.invalidatePattern('*'))) as { code?: string }).code, 'GS_ERR_CACHE_PATTERN')
  // SCAN + UNLINK, never KEYS: the servers' command stats say so
  for (const client of direct) {
    const stats = await client.info('commandstats')
    assert.match(stats, /cmdstat_scan:calls=\d+/)
    assert.match(stats, /cmdstat_unlink:calls=\d+/)
  }
})

test.run()
