/**
 * Zone replication, ours vs Colyseus 0.16 (BENCHMARKS.md, "Zone replication"): P players in one zone (or room), each sending
 * a move 10 times a second on an absolute schedule, every player observing every other; the
 * server under test pinned to one core, the generator to the other; fresh server per cell;
 * servers interleaved within each round (ours, colyseus-50, colyseus-5, ours, …) so drifting load
 * on a shared machine hits them alike, medians over rounds and per-round ratios.
 *
 *   npx tsx bench/zone-replication.bench.ts [--players 50,200] [--rounds 1]   (the full sweep: --players 50,100,200,400,800,1200,1600)
 *       [--servers ours,colyseus-50,colyseus-5 (also ours-ws: ours over its WebSocket transport)] [--warmup 1] [--duration 2] [--drain 5]
 *       [--observers 20] [--move-rate 10] [--layout packed|spread] [--view-radius R]
 *       [--join-concurrency 32] [--pin on|off] [--cpu-prof DIR] [--generator-cpu-prof DIR]
 *       [--runtime compiled|tsx] [--seed 1] [--retry-starved 0] [--starved-wait 0.15]
 *
 * --layout spread --view-radius 100 --players 5000 --servers ours: the interest-management target
 * (players spread over a large zone; an observer is expected to see the moves within the radius).
 * Today's server has no view radius: it ignores the setting and sends everything.
 *
 * --retry-starved N: on a shared machine, a cell whose server or generator waited for a CPU more than
 * --starved-wait of its window (other processes on its core) is run again, up to N times, and the
 * least starved run is kept (the table says how many cells needed it).
 *
 * What each figure is: see the legend printed under the tables and BENCHMARKS.md ("Zone replication").
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { formatMachineFacts, requireFdLimit } from './machine.js'
import { RUNTIMES, useRuntime, type Runtime } from './net/processes.js'
import { median } from './stats.js'
import { runCell, type CellResult } from './zone/runner.js'
import { parseServerSpec, VIEW_RADIUS_VARIABLE } from './zone/servers.js'
import { LAYOUTS, zoneSideFor, type Layout } from './zone/workload.js'

const { values } = parseArgs({
  options: {
    players: { type: 'string', default: '50,200' },
    servers: { type: 'string', default: 'ours,colyseus-50,colyseus-5' },
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    duration: { type: 'string', default: '2' },
    drain: { type: 'string', default: '5' },
    observers: { type: 'string', default: '20' },
    'move-rate': { type: 'string', default: '10' },
    layout: { type: 'string', default: 'packed' },
    'view-radius': { type: 'string', default: '0' },
    'join-concurrency': { type: 'string', default: '32' },
    pin: { type: 'string', default: 'on' },
    'cpu-prof': { type: 'string' },
    'generator-cpu-prof': { type: 'string' },
    runtime: { type: 'string', default: 'compiled' },
    seed: { type: 'string', default: '1' },
    'retry-starved': { type: 'string', default: '0' },
    'starved-wait': { type: 'string', default: '0.15' },
  },
})

const positive = (name: string, raw: string, allowZero = false): number => {
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${raw}`)
  return value
}
const playerCounts = values.players.split(',').map((p) => Math.floor(positive('players', p.trim())))
const servers = values.servers.split(',').map((s) => parseServerSpec(s.trim()))
const rounds = Math.floor(positive('rounds', values.rounds))
const warmupMs = positive('warmup', values.warmup, true) * 1000
const durationMs = positive('duration', values.duration) * 1000
const drainMs = positive('drain', values.drain, true) * 1000
const observers = Math.floor(positive('observers', values.observers))
const moveRate = positive('move-rate', values['move-rate'])
const viewRadius = positive('view-radius', values['view-radius'], true)
const joinConcurrency = Math.floor(positive('join-concurrency', values['join-concurrency']))
const seed = Math.floor(positive('seed', values.seed, true))
const retryStarved = Math.floor(positive('retry-starved', values['retry-starved'], true))
const starvedWait = positive('starved-wait', values['starved-wait'])
if (!LAYOUTS.includes(values.layout as Layout)) throw new Error(`--layout: expected ${LAYOUTS.join(' or ')}, got ${values.layout}`)
const layout = values.layout as Layout
for (const players of playerCounts) zoneSideFor(layout, players) // a zone too large for exact positions stops the run before it starts
if (values.pin !== 'on' && values.pin !== 'off') throw new Error(`--pin: expected on or off, got ${values.pin}`)
const pinned = values.pin === 'on'
if (pinned && availableParallelism() < 2) throw new Error('--pin on needs at least 2 cores (use --pin off)')
if (!RUNTIMES.includes(values.runtime as Runtime)) throw new Error(`--runtime: expected ${RUNTIMES.join(' or ')}, got ${values.runtime}`)
useRuntime(values.runtime as Runtime)
requireFdLimit(Math.max(...playerCounts) + 200, 'bench/zone-replication')

console.log('# zone replication: P players in one zone, each moving 10×/s, everyone observing everyone — ours vs Colyseus 0.16')
console.log(formatMachineFacts())
console.log(
  `servers ${servers.map((s) => s.name).join(', ')}; players ${playerCounts.join(', ')}; ${rounds} interleaved round(s); per cell a fresh server, ${values.warmup} s warm-up, ${values.duration} s measured, drain ≤ ${values.drain} s; ` +
    `${observers} observers decode everything, the other players count bytes and messages; ${moveRate} moves/s per player; layout ${layout}` +
    `${viewRadius > 0 ? `, view radius ${viewRadius} (passed to ours as ${VIEW_RADIUS_VARIABLE}; today's server does not read it)` : ''}; ` +
    `${pinned ? 'server pinned to core 1, generator to core 0' : 'not pinned'}; children run ${values.runtime === 'compiled' ? 'compiled JS' : 'through tsx'}`,
)
console.log('')

interface Attempted extends CellResult {
  /** Runs of this cell it took (> 1: earlier ones were starved, see --retry-starved). */
  readonly attempts: number
}
interface Cell {
  readonly players: number
  readonly server: string
  readonly rounds: (Attempted | Error)[]
}

/** How starved a cell was: the larger share of its window the server or the generator waited for a CPU. */
function starvation(r: CellResult): number {
  return Math.max(r.serverCpuWaitShare, r.generatorCpuWaitShare)
}
const cells: Cell[] = []
for (const players of playerCounts) {
  const zoneSide = zoneSideFor(layout, players)
  const row = servers.map((spec) => ({ players, server: spec.name, rounds: [] as (Attempted | Error)[] }))
  cells.push(...row)
  for (let round = 1; round <= rounds; round++) {
    for (const [i, spec] of servers.entries()) {
      process.stdout.write(`… P=${players} ${spec.name}${rounds > 1 ? ` (round ${round}/${rounds})` : ''}`)
      try {
        let result: Attempted | undefined
        // A cell whose server or generator was starved by other work on the machine measures the
        // machine: run it again (up to --retry-starved times) and keep the least starved attempt.
        for (let attempt = 0; attempt <= retryStarved; attempt++) {
          const candidate = await runCell(spec, {
            players,
            observers,
            moveRate,
            layout,
            zoneSide,
            viewRadius,
            warmupMs,
            durationMs,
            drainMs,
            joinConcurrency,
            seed: seed + round,
            serverCpus: pinned ? '1' : undefined,
            generatorCpus: pinned ? '0' : undefined,
            cpuProfileDir: values['cpu-prof'],
            generatorCpuProfileDir: values['generator-cpu-prof'],
          })
          const starvedNow = starvation(candidate)
          if (result === undefined || starvedNow < starvation(result)) result = { ...candidate, attempts: attempt + 1 }
          else result = { ...result, attempts: attempt + 1 }
          if (starvedNow <= starvedWait) break
          if (attempt < retryStarved) process.stdout.write(` [starved: waited ${pct(starvedNow)} for CPU, again]`)
        }
        row[i]!.rounds.push(result!)
        process.stdout.write(`: ${describe(result!)}\n`)
      } catch (err) {
        row[i]!.rounds.push(err as Error)
        process.stdout.write(`: FAILED ${(err as Error).message.split('\n')[0]}\n`)
      }
    }
  }
}

function describe(r: Attempted): string {
  const generator = `${generatorSaturated(r) ? ' GENERATOR SATURATED' : ''}${generatorLate(r) ? ' GENERATOR LATE' : ''}`
  const view = viewRadius > 0 ? `; per observer ${Math.round(r.outsideView / r.observers / r.seconds)} updates/s from outside the view radius, ${r.leaves} leave events` : ''
  const failures = r.failedConnections > 0 ? `, ${r.failedConnections} connections lost (${r.failureReasons.join('; ')})` : ''
  return (
    `server ${pct(r.serverCpuShare)} CPU (waited ${pct(r.serverCpuWaitShare)}), ${r.serverRssMiB} MiB; p50 ${ms(r.latencyP50Ms)} p99 ${ms(r.latencyP99Ms)}; seen ${pct(r.seen / r.expected)} (exact ${pct(r.exact / r.expected)}); ` +
    `${kb(r.bytesPerClientPerSecond)} KB/s, ${r.messagesPerClientPerSecond} msg/s per client; generator ${pct(r.generatorCpuShare)} CPU (waited ${pct(r.generatorCpuWaitShare)}), send lag p99 ${r.sendLagP99Ms} ms${generator}${view}${failures}` +
    `${r.attempts > 1 ? `, kept the least starved of ${r.attempts} runs` : ''}${r.movesRefused > 0 ? `, ${r.movesRefused} moves refused (error codes ${r.refusalCodes.join(', ')})` : ''}${r.drained ? '' : `, not drained after ${r.drainMs} ms`}; joined in ${(r.joinMs / 1000).toFixed(1)} s${r.profile ? ` [profile ${r.profile}]` : ''}`
  )
}

/** The generator's core was nearly full: it, not the server, may have set the figures. */
function generatorSaturated(r: CellResult): boolean {
  return r.generatorCpuShare > 0.9
}

/**
 * Moves left more than 20 ms after they were due (p99): the generator did not get its core in time —
 * because it was busy itself or because other work on the machine ran there (then its CPU share is low).
 */
function generatorLate(r: CellResult): boolean {
  return r.sendLagP99Ms > 20
}

function pct(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)} %` : '–'
}
function ms(value: number): string {
  if (!Number.isFinite(value)) return '–'
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : value >= 10 ? `${value.toFixed(0)} ms` : `${value.toFixed(2)} ms`
}
function kb(bytes: number): string {
  return (bytes / 1000).toFixed(1)
}

const ok = (cell: Cell): Attempted[] => cell.rounds.filter((r): r is Attempted => !(r instanceof Error))
const med = (cell: Cell, f: (r: CellResult) => number): number => median(ok(cell).map(f))

console.log('')
console.log(`## medians over ${rounds} round(s)`)
console.log('| P | server | CPU % of a core | CPU % per player | server waited for CPU | RSS MiB | observer p50 | observer p99 | seen / sent | exact / sent | KB/s per client | msg/s per client | updates/s per observer | moves/s sent | generator CPU (waited) | lost conns | rounds ok (runs) |')
console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const cell of cells) {
  const good = ok(cell)
  if (good.length === 0) {
    console.log(`| ${cell.players} | ${cell.server} | failed: ${(cell.rounds[0] as Error).message.split('\n')[0]} |`)
    continue
  }
  const flagged = (test: (r: CellResult) => boolean, word: string): string => {
    const n = good.filter(test).length
    return n === 0 ? '' : ` ${word} ${n}/${good.length}`
  }
  const limited = `${flagged(generatorSaturated, 'saturated')}${flagged(generatorLate, 'late')}`
  console.log(
    `| ${cell.players} | ${cell.server} | ${(med(cell, (r) => r.serverCpuShare) * 100).toFixed(1)} | ${(med(cell, (r) => r.serverCpuShare / r.players) * 100).toFixed(3)} | ${pct(med(cell, (r) => r.serverCpuWaitShare))} | ${med(cell, (r) => r.serverRssMiB).toFixed(0)} | ` +
      `${ms(med(cell, (r) => r.latencyP50Ms))} | ${ms(med(cell, (r) => r.latencyP99Ms))}${good.some((r) => !r.drained) ? ' (≥)' : ''} | ${pct(med(cell, (r) => r.seen / r.expected))} | ${pct(med(cell, (r) => r.exact / r.expected))} | ` +
      `${kb(med(cell, (r) => r.bytesPerClientPerSecond))} | ${med(cell, (r) => r.messagesPerClientPerSecond).toFixed(1)} | ${med(cell, (r) => r.updatesPerObserverPerSecond).toFixed(0)} | ${med(cell, (r) => r.movesPerSecond).toFixed(0)} | ` +
      `${pct(med(cell, (r) => r.generatorCpuShare))} (${pct(med(cell, (r) => r.generatorCpuWaitShare))})${limited} | ${med(cell, (r) => r.failedConnections)} | ${good.length}/${cell.rounds.length} (${good.reduce((n, r) => n + r.attempts, 0)}) |`,
  )
}

// ours over TCP and ours over WebSocket (ours-ws) are each compared with every peer
const oursVariants = servers.filter((s) => s.protocol !== 'colyseus')
const peers = servers.filter((s) => s.protocol === 'colyseus')
if (oursVariants.length > 0 && peers.length > 0) {
  console.log('')
  console.log('## ours ÷ peer, median of the per-round ratios (each round runs both back to back)')
  console.log(`| P | ours | peer | CPU per player | observer p50 | observer p99 | KB/s per client |`)
  console.log('|---:|---|---|---:|---:|---:|---:|')
  for (const players of playerCounts) for (const ours of oursVariants) {
    const mine = cells.find((c) => c.players === players && c.server === ours.name)!
    for (const peer of peers) {
      const theirs = cells.find((c) => c.players === players && c.server === peer.name)!
      const ratio = (f: (r: CellResult) => number): string => {
        const pairs: number[] = []
        for (let i = 0; i < rounds; i++) {
          const a = mine.rounds[i]
          const b = theirs.rounds[i]
          if (a === undefined || b === undefined || a instanceof Error || b instanceof Error) continue
          pairs.push(f(a) / f(b))
        }
        const m = median(pairs)
        return Number.isFinite(m) ? `${m.toFixed(2)}× (${pairs.map((p) => p.toFixed(2)).join(', ')})` : '–'
      }
      console.log(`| ${players} | ${ours.name} | ${peer.name} | ${ratio((r) => r.serverCpuShare / r.players)} | ${ratio((r) => r.latencyP50Ms)} | ${ratio((r) => r.latencyP99Ms)} | ${ratio((r) => r.bytesPerClientPerSecond)} |`)
    }
  }
}

console.log('')
console.log('CPU: server process CPU time (user + system, /proc) ÷ wall time of the window; per player = that ÷ P. waited for CPU: share of the window its main thread was runnable but not running (schedstat run_delay): another process had its core, or one of its own helper threads (GC, libuv pool) that share the pinned core — above ~10 % mostly the machine\'s other work.')
console.log('observer p50/p99: from a move being written by one player until an observer holds that position or a newer one of that player, over all moves of the window and all observers.')
console.log('seen / sent: moves of the window an observer saw (its own position, or a newer one) before the drain ended; exact / sent: those delivered with their own position — Colyseus sends the latest state per patch, so a move superseded within one patch interval is coalesced, by design.')
console.log('KB/s, msg/s per client: received by each player during the window (ours: frames incl. headers, a BATCH counts once; ours-ws and Colyseus: WebSocket messages incl. frame headers — ours-ws one per flush, Colyseus one per patch).')
console.log('generator CPU: the load generator\'s own core. "saturated n/k": above 90 % in n of k rounds — the generator, not the server, may have set the figures; "late n/k": moves left > 20 ms after they were due (p99) — its core was busy, with its own work (high CPU) or with other work on the machine (high wait).')
console.log(`rounds ok (runs): rounds that gave a result, and the runs they took (more than the rounds: starved runs repeated, --retry-starved ${retryStarved}, starved = server or generator waited > ${pct(starvedWait)} of the window).`)
console.log('(≥): some moves of the window were not seen before the drain bound; the percentiles are over the seen ones and understate the tail.')
console.log(`RESULT ${JSON.stringify(cells.map((c) => ({ players: c.players, server: c.server, rounds: c.rounds.map((r) => (r instanceof Error ? { error: r.message } : r)) })))}`)
process.exit(cells.every((c) => ok(c).length > 0) ? 0 : 1)
