/** `npm run cache -- status | top | invalidate` against real shards (one of them unreachable). */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Cache } from '../../app/cache/cache.js'
import { freePort } from '../../app/local/ports.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { Harness } from '../harness/index.js'
import { runScript, type ScriptResult } from '../harness/run-script.js'
import { openCache, player, startShards } from './cache-support.js'

const test = suite('cache: operator CLI')
const harness = new Harness()
let shards: RedisServer[]
let cache: Cache

function cli(args: string[], redisUrls: string): Promise<ScriptResult> {
  return runScript('app/cli/cache.ts', args, { env: { ...process.env, REDIS_URLS: redisUrls, LOG_LEVEL: 'silent' } })
}

test.before(async () => {
  shards = await startShards(harness, 2)
  cache = await openCache(shards)
})

test.after(async () => {
  await cache?.close()
  await harness.close()
})

test('status: every shard with its keys; exit 3 and the dead shard named when one does not answer', async () => {
  const players = cache.playerCache({ findById: async () => undefined })
  for (let id = 1; id <= 40; id++) await players.set(player(id))
  const urls = shards.map((s) => s.url).join(',')
  const ok = await cli(['status', '--json'], urls)
  assert.is(ok.code, 0, ok.stderr)
  const report = JSON.parse(ok.stdout) as { health: string; shards: { keys?: number; breaker: string }[] }
  assert.is(report.health, 'ok')
  assert.is(report.shards.reduce((sum, s) => sum + (s.keys ?? 0), 0), 40)

  const dead = `redis://127.0.0.1:${await freePort()}`
  const degraded = await cli(['status'], `${urls},${dead}`)
  assert.is(degraded.code, 3)
  assert.match(degraded.stdout, /cache degraded: 2\/3 shards answer/)
})

test('top prints a leaderboard; invalidate removes matching keys on every shard', async () => {
  await cache.leaderboards.set('kills', 7, 12)
  await cache.leaderboards.set('kills', 8, 30)
  const urls = shards.map((s) => s.url).join(',')
  const top = await cli(['top', 'kills', '5', '--json'], urls)
  assert.is(top.code, 0, top.stderr)
  assert.equal((JSON.parse(top.stdout) as { entries: unknown[] }).entries, [
    { playerId: 8, score: 30, rank: 1 },
    { playerId: 7, score: 12, rank: 2 },
  ])

  const wiped = await cli(['invalidate', 'gs:player:*'], urls)
  assert.is(wiped.code, 0, wiped.stderr)
  assert.match(wiped.stdout, /40 key\(s\) matching gs:player:\* removed/)
  const left = await Promise.all(cache.shards.shards.map((s) => s.exec((c) => c.keys('gs:player:*'))))
  assert.ok(left.every((o) => o.ok && o.value.length === 0))
  assert.is((await cache.leaderboards.top('kills', 5)).length, 2, 'other keys stay')
})

test.run()
