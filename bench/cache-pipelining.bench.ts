/**
 * ioredis auto-pipelining vs explicit pipelines (one held batch per shard, and the app's per-tick
 * pipeline for independent callers) vs neither, for the game's access pattern: each
 * tick the batch processor handles up to 100 frames whose handlers issue independent cache calls
 * (player loads, leaderboard increments, counters) against 3 shards. Also one call at a time (a
 * login on an idle server), where batching cannot help and only its cost shows.
 *
 * The machine is shared and noisy, so the modes run interleaved in rounds (A B C A B C …) and
 * each row reports the median round.
 *
 *   npx tsx bench/cache-pipelining.bench.ts [--rounds 5] [--seconds 1] [--batch 100]
 */
import { parseArgs } from 'node:util'
import { keys } from '../app/cache/keys.js'
import { cacheOptionsFrom } from '../app/cache/cache.js'
import { ShardSet, type Shard } from '../app/cache/shards.js'
import { loadConfig } from '../app/config/index.js'
import { seededRandom } from '../app/random.js'
import { Harness } from '../test/harness/index.js'
import { describeMachine, percentile } from './machine.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '1' }, batch: { type: 'string', default: '100' } } })
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const batch = Number(values.batch)
const PLAYERS = 10_000

type Op = { kind: 'get'; key: string } | { kind: 'zincrby'; key: string; member: string } | { kind: 'incr'; key: string }

/** Deterministic op mix: 80 % player GET, 15 % leaderboard ZINCRBY, 5 % counter INCR. */
function makeOps(count: number, seed: number): Op[] {
  const next = seededRandom(seed)
  return Array.from({ length: count }, (): Op => {
    const r = next()
    const id = Math.floor(next() * PLAYERS)
    if (r < 0.8) return { kind: 'get', key: keys.player(id) }
    if (r < 0.95) return { kind: 'zincrby', key: keys.leaderboard(next() < 0.5 ? 'kills' : 'experience'), member: String(id) }
    return { kind: 'incr', key: keys.counter('frames') }
  })
}

function one(shard: Shard, op: Op): Promise<unknown> {
  return shard.command((c): Promise<unknown> => (op.kind === 'get' ? c.get(op.key) : op.kind === 'zincrby' ? c.zincrby(op.key, 1, op.member) : c.incr(op.key)))
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
  /** This process's CPU time (user + system) per op: less sensitive to other load than ops/s. */
  cpuMicrosPerOp: number
}

async function measure(mode: string, set: ShardSet, size: number, run: (set: ShardSet, ops: Op[]) => Promise<void>): Promise<Result> {
  const batches = Array.from({ length: 64 }, (_, i) => makeOps(size, i + 1))
  for (let i = 0; i < 20; i++) await run(set, batches[i % batches.length]!) // warm-up
  const latencies: number[] = []
  let ops = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const deadline = started + seconds * 1000
  for (let i = 0; performance.now() < deadline; i++) {
    const t = performance.now()
    await run(set, batches[i % batches.length]!)
    latencies.push(performance.now() - t)
    ops += size
  }
  const elapsed = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  return { mode, batch: size, opsPerSecond: Math.round(ops / elapsed), p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), cpuMicrosPerOp: (cpu.user + cpu.system) / ops }
}

const harness = new Harness()
try {
  console.log(`machine: ${describeMachine()}`)
  const servers = await Promise.all([harness.redis(), harness.redis(), harness.redis()])
  const urls = servers.map((s) => s.url)
  const options = { ...cacheOptionsFrom(loadConfig({ REDIS_URLS: urls.join(',') })), commandTimeoutMs: 5000 }
  const plain = await ShardSet.open({ ...options, pipelining: 'off' })
  const auto = await ShardSet.open({ ...options, pipelining: 'auto' })
  const tick = await ShardSet.open({ ...options, pipelining: 'tick' })
  // Preload the players the GETs read (about 400 bytes each, like a cached PlayerRecord).
  const value = 'x'.repeat(400)
  for (let id = 0; id < PLAYERS; id += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => auto.shardFor(keys.player(id + j)).exec((c) => c.set(keys.player(id + j), value))))
  }
  const cases: Array<{ mode: string; set: ShardSet; size: number; run: (set: ShardSet, ops: Op[]) => Promise<void> }> = [
    { mode: 'no pipelining', set: plain, size: batch, run: runDirect },
    { mode: 'auto-pipelining', set: auto, size: batch, run: runDirect },
    { mode: 'explicit pipeline per shard', set: plain, size: batch, run: runExplicit },
    { mode: 'tick pipeline (app/cache/tick-pipeline.ts)', set: tick, size: batch, run: runDirect },
    { mode: 'no pipelining', set: plain, size: 1, run: runDirect },
    { mode: 'auto-pipelining', set: auto, size: 1, run: runDirect },
    { mode: 'tick pipeline (app/cache/tick-pipeline.ts)', set: tick, size: 1, run: runDirect },
  ]
  const perCase = cases.map(() => [] as Result[])
  for (let round = 0; round < rounds; round++) {
    for (const [i, c] of cases.entries()) perCase[i]!.push(await measure(c.mode, c.set, c.size, c.run))
  }
  await plain.close()
  await auto.close()
  await tick.close()
  const medianOf = (list: Result[]) => [...list].sort((a, b) => a.opsPerSecond - b.opsPerSecond)[Math.floor(list.length / 2)]!
  const medianCpu = (list: Result[]) => [...list].map((r) => r.cpuMicrosPerOp).sort((a, b) => a - b)[Math.floor(list.length / 2)]!
  const results = perCase.map((list) => ({ median: medianOf(list), cpu: medianCpu(list), all: list.map((r) => r.opsPerSecond) }))
  console.log(`3 shards, ${rounds} interleaved rounds of ${seconds} s per mode, median round shown; ops = 80 % GET / 15 % ZINCRBY / 5 % INCR`)
  console.log('| mode | calls per tick | ops/s (median) | tick p50 ms | tick p99 ms | vs no pipelining | client CPU µs/op (median) | ops/s of every round |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---|')
  for (const { median: r, cpu, all } of results) {
    const reference = results.find((x) => x.median.batch === r.batch && x.median.mode === 'no pipelining')!.median
    console.log(`| ${r.mode} | ${r.batch} | ${r.opsPerSecond.toLocaleString('en-US')} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${(r.opsPerSecond / reference.opsPerSecond).toFixed(2)}× | ${cpu.toFixed(1)} | ${all.map((n) => Math.round(n / 1000) + 'k').join(' ')} |`)
  }
} finally {
  await harness.close()
}
