/**
 * Fault injection against real redis-server shards: unreachable at start-up, a shard killed
 * mid-test and restarted on the same port, a slow (paused) shard. The cache keeps answering from
 * the loader, counts fallbacks, skipped writes and timeouts, and uses the shard again once it
 * answers.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Cache } from '../../app/cache/cache.js'
import { keys } from '../../app/cache/keys.js'
import { isGameServerError } from '../../app/errors.js'
import { RedisServer } from '../../app/local/redis-server.js'
import { freePort } from '../../app/local/ports.js'
import { createLogger } from '../../app/logger.js'
import { Harness } from '../harness/index.js'
import { CountingCacheMetrics, CountingLoader, directClients, openCache, player, rejection, startShards } from './cache-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('cache: failures (down at start, killed, restarted, slow)')

/** Ids whose player key lives on `shard`, and ids that do not. */
function idsOn(cache: Cache, shard: number, count: number, from = 1): number[] {
  const out: number[] = []
  for (let id = from; out.length < count; id++) if (cache.shards.ring.shardFor(keys.player(id)) === shard) out.push(id)
  return out
}

test('unreachable at start-up: starts degraded, says so, answers from the loader, then uses the shard once it is up', async () => {
  const harness = new Harness()
  let cache: Cache | undefined
  try {
    const [live] = await startShards(harness, 1)
    const deadPort = await freePort()
    const lines: string[] = []
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } })
    const started = performance.now()
    cache = await openCache([live!, { url: `redis://127.0.0.1:${deadPort}` } as RedisServer], { logger })
    assert.ok(performance.now() - started < 2000, 'start-up does not hang on the dead shard')
    assert.is(cache.status().health, 'degraded')
    assert.is(cache.status().shards[1]!.breaker, 'open')
    const warning = lines.map((l) => JSON.parse(l) as { level: string; msg: string; health?: string }).find((l) => l.health === 'degraded')
    assert.ok(warning, 'a log line says the cache runs degraded')
    assert.is(warning!.level, 'warn')

    const loader = new CountingLoader()
    const players = cache.playerCache(loader)
    const downIds = idsOn(cache, 1, 5)
    for (const id of downIds) loader.put(player(id))
    for (const id of downIds) assert.is((await players.get(id))?.id, id, 'answered from the loader')
    assert.is(cache.shards.shards[1]!.stats.fallbacks, 5)
    assert.is(cache.shards.shards[1]!.stats.shortCircuited, 5, 'the open breaker kept the calls off the network')

    // Logins keep working: the token is drawn onto the live shard.
    for (let i = 0; i < 10; i++) {
      const session = await cache.sessions.create(i, `p${i}`)
      assert.is(cache.shards.ring.shardFor(keys.session(session.token)), 0)
      assert.is((await cache.sessions.validate(session.token))?.playerId, i)
    }

    harness.own(await RedisServer.start({ dir: await harness.tempDir(), port: deadPort }))
    await eventually(() => cache!.status().health === 'ok', 5000, 'the late shard to be used')
    const id = downIds[0]!
    await players.get(id) // miss → cached on shard 1 now
    const before = cache.shards.shards[1]!.stats.hits
    await players.get(id)
    assert.is(cache.shards.shards[1]!.stats.hits, before + 1, 'served by the shard that came up late')
  } finally {
    await cache?.close()
    await harness.close()
  }
})

test('a shard killed mid-test: calls keep answering, fallbacks and skipped writes are counted; restarted on its port it is used again', async () => {
  const harness = new Harness()
  let cache: Cache | undefined
  const direct = [] as ReturnType<typeof directClients>
  try {
    const servers = await startShards(harness, 3)
    const metrics = new CountingCacheMetrics()
    cache = await openCache(servers, { metrics })
    direct.push(...directClients(servers))
    const loader = new CountingLoader()
    const players = cache.playerCache(loader)
    const victim = 1
    const downIds = idsOn(cache, victim, 20)
    const upIds = [...idsOn(cache, 0, 10), ...idsOn(cache, 2, 10)]
    for (const id of [...downIds, ...upIds]) {
      loader.put(player(id))
      await players.get(id)
    }
    const victimSession = await (async () => {
      for (;;) {
        const s = await cache!.sessions.create(1, 'ada')
        if (cache!.shards.ring.shardFor(keys.session(s.token)) === victim) return s
      }
    })()
    const board = (() => {
      for (let i = 0; ; i++) if (cache!.shards.ring.shardFor(keys.leaderboard(`kills-${i}`)) === victim) return `kills-${i}`
    })()
    const channel = (() => {
      for (let i = 0; ; i++) if (cache!.shards.ring.shardFor(keys.chat(`zone-${i}`)) === victim) return `zone-${i}`
    })()
    await cache.chat.append(channel, { playerId: 1, username: 'ada', text: 'before', sentAtMs: 1 })
    const loadsBefore = loader.loads

    await servers[victim]!.kill()

    // Reads keep answering from the loader; the other shards still serve hits.
    for (const id of downIds) assert.is((await players.get(id))?.id, id)
    for (const id of upIds) assert.is((await players.get(id))?.id, id)
    assert.is(loader.loads - loadsBefore, downIds.length, 'only the dead shard\'s players were loaded')
    const stats = cache.shards.shards[victim]!.stats
    assert.is(stats.fallbacks, downIds.length)
    assert.is(cache.shards.shards[victim]!.breaker.state, 'open', 'breaker opened')
    assert.ok(stats.shortCircuited >= downIds.length - 3, 'after the threshold calls stop reaching the network')
    assert.ok((metrics.errors.get(String(victim)) ?? 0) >= downIds.length)
    assert.ok((metrics.errors.get(String(victim)) ?? 0) >= stats.fallbacks, 'each fallback is a cache error in the metrics')

    // Writes are skipped and counted; the game is not failed.
    const skippedBefore = stats.skippedWrites
    assert.not.ok(await players.set(player(downIds[0]!)))
    assert.is(await cache.leaderboards.increment(board, 1, 5), undefined)
    await cache.chat.append(channel, { playerId: 1, username: 'ada', text: 'during', sentAtMs: 2 })
    assert.equal((await cache.chat.recent(channel, 5)).map((e) => e.text), ['before', 'during'], 'local mirror answers chat reads')
    await players.invalidate(downIds[1]!)
    assert.is(stats.skippedWrites - skippedBefore, 4)
    assert.equal(players.owedInvalidations(victim).ids, [downIds[1]])

    // A token on the dead shard: the client must log in with its password again.
    const err = await rejection(cache.sessions.validate(victimSession.token))
    assert.ok(isGameServerError(err, 'GS_ERR_SESSION_STORE_UNAVAILABLE'), String(err))
    const fresh = await cache.sessions.create(2, 'bob')
    assert.is.not(cache.shards.ring.shardFor(keys.session(fresh.token)), victim, 'new logins avoid the dead shard')
    await cache.sessions.invalidate(victimSession.token)
    assert.equal(cache.sessions.owedInvalidations(victim), [victimSession.token])
    assert.is(cache.status().health, 'degraded')

    // Restart on the same port: the half-open probe closes the breaker and the shard is used again.
    const restarted = await harness.restartRedis(servers[victim]!)
    assert.is(restarted.port, servers[victim]!.port)
    await eventually(() => cache!.status().health === 'ok', 5000, 'breaker to close after the restart')
    await eventually(() => players.owedInvalidations(victim).ids.length === 0 && cache!.sessions.owedInvalidations(victim).length === 0, 3000, 'owed invalidations to be replayed')
    const hitsBefore = cache.shards.shards[victim]!.stats.hits
    await players.get(downIds[2]!) // miss on the empty restarted shard → cached there
    await players.get(downIds[2]!)
    assert.is(cache.shards.shards[victim]!.stats.hits, hitsBefore + 1, 'served by the restarted shard')
    const restartedClient = directClients([restarted])[0]!
    direct.push(restartedClient)
    assert.is(await restartedClient.exists(keys.player(downIds[2]!)), 1)
    assert.is(await cache.leaderboards.increment(board, 1, 5), 5)
  } finally {
    for (const client of direct) client.disconnect()
    await cache?.close()
    await harness.close()
  }
})

test('a slow shard (CLIENT PAUSE): commands time out, are counted, reads fall back within the timeout; then it is used again', async () => {
  const harness = new Harness()
  let cache: Cache | undefined
  try {
    const servers = await startShards(harness, 3)
    cache = await openCache(servers, { commandTimeoutMs: 150 })
    const loader = new CountingLoader()
    const players = cache.playerCache(loader)
    const slow = 0
    const ids = idsOn(cache, slow, 6)
    for (const id of ids) {
      loader.put(player(id))
      await players.get(id)
    }
    const pauseMs = 3000
    await servers[slow]!.pause(pauseMs)
    const timings: number[] = []
    for (const id of ids) {
      const started = performance.now()
      assert.is((await players.get(id))?.id, id)
      timings.push(performance.now() - started)
    }
    const stats = cache.shards.shards[slow]!.stats
    assert.is(stats.timeouts, 3, 'timeouts until the breaker opened (threshold 3)')
    assert.is(stats.shortCircuited, 3, 'then no more calls were sent')
    assert.is(stats.fallbacks, 6)
    // Generous margins for a loaded machine; the point is that no read waits for the paused shard.
    assert.ok(Math.max(...timings) < 150 + 700, `each read answered within the timeout plus margin: ${timings.map(Math.round)}`)
    assert.ok(timings.slice(3).every((t) => t < 250), `an open breaker answers at once: ${timings.map(Math.round)}`)
    await eventually(() => cache!.status().health === 'ok', 8000, 'the shard to answer again after the pause')
    const hits = stats.hits
    await players.get(ids[0]!)
    assert.is(cache.shards.shards[slow]!.stats.hits, hits + 1)
  } finally {
    await cache?.close()
    await harness.close()
  }
})

test('a paused shard: a batch of concurrent reads (one tick pipeline) times out together and falls back', async () => {
  const harness = new Harness()
  let cache: Cache | undefined
  try {
    const servers = await startShards(harness, 2)
    cache = await openCache(servers, { commandTimeoutMs: 150, breakerFailures: 1000 })
    const loader = new CountingLoader()
    const players = cache.playerCache(loader)
    const ids = idsOn(cache, 0, 20)
    for (const id of ids) {
      loader.put(player(id))
      await players.get(id)
    }
    await servers[0]!.pause(3000)
    const started = performance.now()
    const results = await Promise.all(ids.map((id) => players.get(id)))
    const elapsedMs = performance.now() - started
    assert.equal(results.map((r) => r?.id), ids, 'every read answered from the loader')
    const stats = cache.shards.shards[0]!.stats
    assert.is(stats.timeouts, ids.length, 'each call of the batch counted its timeout')
    assert.is(stats.fallbacks, ids.length)
    assert.ok(elapsedMs < 150 + 700, `the batch gave up after the command timeout, not the pause: ${Math.round(elapsedMs)} ms`)
  } finally {
    await cache?.close()
    await harness.close()
  }
})

test.run()
