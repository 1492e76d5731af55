/**
 * ioredis auto-pipelining vs explicit pipelines vs neither, for the game's access pattern: each
 * tick the batch processor handles up to 100 frames whose handlers issue independent cache calls
 * (player loads, leaderboard increments, counters) against 3 shards. Also one call at a time (a
 * login on an idle server), where batching cannot help and only its cost shows.
 *
 *   npx tsx bench/cache-pipelining.ts [--seconds 3] [--batch 100]
 */
import { parseArgs } from 'node:util'
import { keys } from '../app/cache/keys.js'
import { ShardSet, type Shard } from '../app/cache/shards.js'
import { Harness } from '../test/harness/index.js'
import { describeMachine, percentile } from './machine.js'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, batch: { type: 'string', default: '100' } } })
const seconds = Number(values.seconds)
const batch = Number(values.batch)
const PLAYERS = 10_000

type Op = { kind: 'get'; key: string } | { kind: 'zincrby'; key: string; member: string } | { kind: 'incr'; key: string }

/** Deterministic op mix: 80 % player GET, 15 % leaderboard ZINCRBY, 5 % counter INCR. */
function makeOps(count: number, seed: number): Op[] {
  let state = seed >>> 0 || 1
  const next = () => ((state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5), (state >>> 0) / 2 ** 32)
  return Array.from({ length: count }, (): Op => {
    const r = next()
    const id = Math.floor(next() * PLAYERS)
    if (r < 0.8) return { kind: 'get', key: keys.player(id) }
    if (r < 0.95) return { kind: 'zincrby', key: keys.leaderboard(next() < 0.5 ? 'kills' : 'experience'), member: String(id) }
    return { kind: 'incr', key: keys.counter('frames') }
  })
}

function one(shard: Shard, op: Op): Promise<unknown> {
  return shard.exec((c): Promise<unknown> => (op.kind === 'get' ? c.get(op.key) : op.kind === 'zincrby' ? c.zincrby(op.key, 1, op.member) : c.incr(op.key)))
}

async function runDirect(set: ShardSet, ops: Op[]): Promise<void> {
  await Promise.all(ops.map((op) => one(set.shardFor(op.key), op)))
}

async function runExplicit(set: ShardSet, ops: Op[]): Promise<void> {
  const byShard = new Map<Shard, Op[]>()
  for (const op of ops) {
    const shard = set.shardFor(op.key)
    const list = byShard.get(shard)
    if (list) list.push(op)
    else byShard.set(shard, [op])
  }
  await Promise.all(
    [...byShard].map(([shard, list]) =>
      shard.exec((c) => {
        const pipeline = c.pipeline()
        for (const op of list) {
          if (op.kind === 'get') pipeline.get(op.key)
          else if (op.kind === 'zincrby') pipeline.zincrby(op.key, 1, op.member)
          else pipeline.incr(op.key)
        }
        return pipeline.exec()
      }),
    ),
  )
}

interface Result {
  mode: string
  batch: number
  opsPerSecond: number
  p50Ms: number
  p99Ms: number
}

async function measure(mode: string, set: ShardSet, size: number, run: (set: ShardSet, ops: Op[]) => Promise<void>): Promise<Result> {
  const batches = Array.from({ length: 64 }, (_, i) => makeOps(size, i + 1))
  for (let i = 0; i < 50; i++) await run(set, batches[i % batches.length]!) // warm-up
  const latencies: number[] = []
  let ops = 0
  const started = performance.now()
  const deadline = started + seconds * 1000
  for (let i = 0; performance.now() < deadline; i++) {
    const t = performance.now()
    await run(set, batches[i % batches.length]!)
    latencies.push(performance.now() - t)
    ops += size
  }
  const elapsed = (performance.now() - started) / 1000
  return { mode, batch: size, opsPerSecond: Math.round(ops / elapsed), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) }
}

const harness = new Harness()
try {
  console.log(`machine: ${describeMachine()}`)
  const servers = await Promise.all([harness.redis(), harness.redis(), harness.redis()])
  const urls = servers.map((s) => s.url)
  const plain = await ShardSet.open({ urls, autoPipelining: false, commandTimeoutMs: 5000 })
  const auto = await ShardSet.open({ urls, autoPipelining: true, commandTimeoutMs: 5000 })
  // Preload the players the GETs read (about 400 bytes each, like a cached PlayerRecord).
  const value = 'x'.repeat(400)
  for (let id = 0; id < PLAYERS; id += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => auto.shardFor(keys.player(id + j)).exec((c) => c.set(keys.player(id + j), value))))
  }
  const results: Result[] = []
  for (const size of [batch, 1]) {
    results.push(await measure('no pipelining', plain, size, runDirect))
    results.push(await measure('auto-pipelining', auto, size, runDirect))
    if (size > 1) results.push(await measure('explicit pipeline per shard', plain, size, runExplicit))
  }
  await plain.close()
  await auto.close()
  console.log(`3 shards, ${seconds} s per row; ops = 80 % GET / 15 % ZINCRBY / 5 % INCR`)
  console.log('| mode | calls per tick | ops/s | tick p50 ms | tick p99 ms | vs no pipelining |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const reference = results.find((x) => x.batch === r.batch && x.mode === 'no pipelining')!
    console.log(`| ${r.mode} | ${r.batch} | ${r.opsPerSecond.toLocaleString('en-US')} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${(r.opsPerSecond / reference.opsPerSecond).toFixed(2)}× |`)
  }
} finally {
  await harness.close()
}
