/**
 * Cache benchmark on throwaway redis-server shards:
 *  1. GET/SET throughput per shard through the cache's client (ShardSet: breaker, timeouts,
 *     tick pipelining; 50 calls in flight), compared in the same run with `redis-benchmark -t get,set`
 *     (50 clients, same value size and key space) against the same server;
 *  2. latency of a cached player load (`PlayerCache.get` on a hit: GET + decode), one at a time and
 *     50 in flight, against a bare ioredis GET of the same key as reference; and the miss path.
 *
 *   npx tsx bench/cache.bench.ts [--requests 20000] [--shards 3] [--loads 10000] [--clients 50]
 */
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { keys } from '../app/cache/keys.js'
import { PlayerCache } from '../app/cache/player-cache.js'
import { encodePlayer } from '../app/cache/player-codec.js'
import { cacheOptionsFrom } from '../app/cache/cache.js'
import { ShardSet, type Shard } from '../app/cache/shards.js'
import { loadConfig } from '../app/config/index.js'
import type { PlayerRecord } from '../app/game/stores.js'
import { runCommand } from '../app/local/child-process.js'
import type { RedisServer } from '../app/local/redis-server.js'
import { requireProgram } from '../app/local/system.js'
import { Harness } from '../test/harness/index.js'
import { describeMachine, percentile } from './machine.js'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    shards: { type: 'string', default: '3' },
    loads: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '50' },
  },
})
const requests = Number(values.requests)
const shardCount = Number(values.shards)
const loads = Number(values.loads)
const clients = Number(values.clients)
const KEYSPACE = 10_000

function samplePlayer(id: number): PlayerRecord {
  return {
    id,
    username: `player${id}`,
    email: `player${id}@example.org`,
    passwordHash: `scrypt$16384$8$1$${'a'.repeat(22)}$${'b'.repeat(86)}`,
    level: 1 + (id % 60),
    experience: id * 37,
    gold: id % 1000,
    position: { zone: id % 4, x: (id * 7) % 1000, y: (id * 13) % 1000 },
    hp: 100,
    createdAt: new Date(1_700_000_000_000 + id),
    lastLogin: new Date(1_763_000_000_000 + id),
    version: 3,
  }
}
const VALUE_BYTES = Buffer.byteLength(encodePlayer(samplePlayer(KEYSPACE)))

/** `concurrency` workers issue `total` calls of `op` back to back; calls per second. */
async function throughput(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await op(next++)
    }),
  )
  return total / ((performance.now() - started) / 1000)
}

async function redisBenchmark(server: RedisServer): Promise<{ set: number; get: number; setP99: number; getP99: number }> {
  const binary = requireProgram('redis-benchmark', 'redis-tools')
  const csv = await runCommand(binary, ['-h', server.host, '-p', String(server.port), '-t', 'set,get', '-n', String(requests), '-c', String(clients), '-d', String(VALUE_BYTES), '-r', String(KEYSPACE), '--csv'], { timeoutMs: 120_000 })
  const rows = new Map<string, string[]>()
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''))
    if (cells[0] === 'SET' || cells[0] === 'GET') rows.set(cells[0], cells)
  }
  const rps = (t: string) => Number(rows.get(t)?.[1])
  const p99 = (t: string) => Number(rows.get(t)?.[6])
  return { set: rps('SET'), get: rps('GET'), setP99: p99('SET'), getP99: p99('GET') }
}

function row(cells: readonly (string | number)[]): string {
  return `| ${cells.join(' | ')} |`
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

const harness = new Harness()
try {
  console.log(`machine: ${describeMachine()}`)
  const servers = await Promise.all(Array.from({ length: shardCount }, () => harness.redis()))
  const set = await ShardSet.open({ ...cacheOptionsFrom(loadConfig({ REDIS_URLS: servers.map((s) => s.url).join(',') })), commandTimeoutMs: 5000, pipelining: 'tick' })
  const value = encodePlayer(samplePlayer(1))
  // Warm-up (JIT, connections) so the first shard's row is not the cold one.
  await throughput(5000, clients, (i) => set.shardFor(`warm:{${i}}`).command((c) => c.set(`warm:{${i}}`, value)))

  console.log(`\n## GET/SET per shard: cache client (1 connection, tick pipelining, ${clients} in flight) vs redis-benchmark (${clients} connections), ${requests.toLocaleString('en-US')} requests, ${VALUE_BYTES}-byte values, ${KEYSPACE.toLocaleString('en-US')} keys`)
  console.log(row(['shard', 'cache SET/s', 'redis-benchmark SET/s', 'ratio', 'cache GET/s', 'redis-benchmark GET/s', 'ratio']))
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:']))
  for (const [index, shard] of set.shards.entries()) {
    // Keys that this shard owns, so every call goes to the shard under test.
    const own: string[] = []
    for (let i = 0; own.length < KEYSPACE; i++) if (set.ring.shardFor(`bench:{${i}}`) === index) own.push(`bench:{${i}}`)
    const exec = (s: Shard, f: (c: Redis) => Promise<unknown>) => s.command(f)
    const cacheSet = await throughput(requests, clients, (i) => exec(shard, (c) => c.set(own[i % KEYSPACE]!, value)))
    const cacheGet = await throughput(requests, clients, (i) => exec(shard, (c) => c.get(own[i % KEYSPACE]!)))
    const reference = await redisBenchmark(servers[index]!)
    console.log(row([index, fmt(cacheSet), fmt(reference.set), `${(cacheSet / reference.set).toFixed(2)}×`, fmt(cacheGet), fmt(reference.get), `${(cacheGet / reference.get).toFixed(2)}×`]))
  }

  console.log(`\n## Cached player load (PlayerCache.get, hit = GET + decode) vs bare ioredis GET of the same key, ${loads.toLocaleString('en-US')} loads`)
  const records = new Map<number, PlayerRecord>()
  for (let id = 0; id < KEYSPACE; id++) records.set(id, samplePlayer(id))
  let loaderCalls = 0
  const players = new PlayerCache(set, { findById: async (id) => (loaderCalls++, records.get(id)) }, { ttlSeconds: loadConfig({}).cache.playerTtlSeconds })
  for (let id = 0; id < KEYSPACE; id += 500) await Promise.all(Array.from({ length: 500 }, (_, j) => players.set(records.get(id + j)!)))
  const bare = servers.map((s) => new Redis(s.url))
  const timeEach = async (total: number, concurrency: number, op: (i: number) => Promise<unknown>) => {
    const samples: number[] = []
    const rate = await throughput(total, concurrency, async (i) => {
      const t = performance.now()
      await op(i)
      samples.push(performance.now() - t)
    })
    return { rate, p50: percentile(samples, 50), p99: percentile(samples, 99), p999: percentile(samples, 99.9) }
  }
  console.log(row(['path', 'in flight', 'loads/s', 'p50 ms', 'p99 ms', 'p99.9 ms']))
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:']))
  for (const concurrency of [1, 50]) {
    const hit = await timeEach(loads, concurrency, (i) => players.get((i * 7919) % KEYSPACE))
    const raw = await timeEach(loads, concurrency, (i) => {
      const key = keys.player((i * 7919) % KEYSPACE)
      return bare[set.ring.shardFor(key)]!.get(key)
    })
    console.log(row(['PlayerCache.get (hit)', concurrency, fmt(hit.rate), hit.p50.toFixed(3), hit.p99.toFixed(3), hit.p999.toFixed(3)]))
    console.log(row(['bare ioredis GET (reference)', concurrency, fmt(raw.rate), raw.p50.toFixed(3), raw.p99.toFixed(3), raw.p999.toFixed(3)]))
  }
  const before = loaderCalls
  const missIds = Array.from({ length: Math.min(loads, KEYSPACE) }, (_, i) => i)
  await players.invalidateMany(missIds)
  const miss = await timeEach(missIds.length, 1, (i) => players.get(missIds[i]!))
  console.log(row(['PlayerCache.get (miss: GET, load, SET EX)', 1, fmt(miss.rate), miss.p50.toFixed(3), miss.p99.toFixed(3), miss.p999.toFixed(3)]))
  if (loaderCalls - before !== missIds.length) throw new Error(`expected ${missIds.length} loads on the miss pass, saw ${loaderCalls - before}`)
  const totals = set.totals()
  console.log(`\ncounters: hits ${totals.hits}, misses ${totals.misses}, errors ${totals.errors}, timeouts ${totals.timeouts}`)
  for (const client of bare) client.disconnect()
  players.close()
  await set.close()
} finally {
  await harness.close()
}
