/**
 * Hot-path benchmark (BENCHMARKS.md, "Hot path"): PING→PONG throughput and RTT percentiles of our server
 * next to a minimal coalescing Node server and a naive one-write-per-frame server, in ONE run, each
 * server in its own process and the load generator in another.
 *
 *   npx tsx bench/hot-path.bench.ts [--duration 3] [--warmup 1] [--scenarios 100x16,1000x1,100x1,100x1@100]
 *                                   [--servers ours,coalescing,naive (also ours-timer-flush, ours-net, ours-microtask)] [--payload 16] [--rounds 1] [--cpu-prof DIR]
 *                                   [--ours-node-args=--max-semi-space-size=2]  (node flags for our server only; use the = form)
 *                                   [--pacing schedule|timers]  (paced cells: see PingerOptions.pacing in bench/net/pinger.ts)
 *                                   [--pin none|paced|all]  (which cells run the server on core 1 and the load generator on core 0)
 *                                   [--runtime compiled|tsx]  (children on JS compiled once, as in the image, or through tsx)
 *
 * A scenario is CONNECTIONSxINFLIGHT (closed loop: the next PING as soon as a PONG arrives) or
 * CONNECTIONSxINFLIGHT@RATE (paced: RATE PINGs/s per connection, a moderate load).
 *
 * Targets: ours ≥ 80 % of the coalescing reference's PONG/s at 100 × 16; p99 RTT ≤ 2 ms at 100 × 1.
 */
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { formatMachineFacts, requireFdLimit } from './machine.js'
import { ourServerEntry, runPinger, RUNTIMES, SERVER_KINDS, startServer, useRuntime, type MeasuredResult, type Runtime, type ServerKind } from './net/processes.js'
import { median } from './stats.js'


const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: '100x16,1000x1,100x1,100x1@100' },
    servers: { type: 'string', default: 'ours,coalescing,naive' },
    payload: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '1' },
    'cpu-prof': { type: 'string' },
    'ours-node-args': { type: 'string', default: '' },
    pacing: { type: 'string', default: 'schedule' },
    pin: { type: 'string', default: 'none' },
    runtime: { type: 'string', default: 'compiled' },
  },
})

const durationMs = Number(values.duration) * 1000
const warmupMs = Number(values.warmup) * 1000
const payloadBytes = Number(values.payload)
const rounds = Number(values.rounds)
if (!(rounds >= 1)) throw new Error('--rounds must be ≥ 1')
const scenarios = values.scenarios.split(',').map((s) => {
  const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(s.trim())
  if (!m) throw new Error(`--scenarios: expected CONNSxINFLIGHT[@RATE], got ${s}`)
  return { name: s.trim(), connections: Number(m[1]), inFlight: Number(m[2]), ratePerConnection: Number(m[3] ?? 0) }
})
const pacing = values.pacing
if (pacing !== 'schedule' && pacing !== 'timers') throw new Error(`--pacing: expected schedule or timers, got ${pacing}`)
const pin = values.pin
if (pin !== 'paced' && pin !== 'all' && pin !== 'none') throw new Error(`--pin: expected paced, all or none, got ${pin}`)
if (pin !== 'none' && availableParallelism() < 2) throw new Error('--pin needs at least 2 cores (use --pin none)')
if (!RUNTIMES.includes(values.runtime as Runtime)) throw new Error(`--runtime: expected ${RUNTIMES.join(' or ')}, got ${values.runtime}`)
useRuntime(values.runtime as Runtime)
const oursNodeArgs = values['ours-node-args'].split(' ').filter((a) => a !== '')
const servers = values.servers.split(',').map((s) => s.trim()) as ServerKind[]
for (const s of servers) if (!SERVER_KINDS.includes(s)) throw new Error(`--servers: unknown server ${s} (known: ${SERVER_KINDS.join(', ')})`)
if (!(durationMs > 0) || !(warmupMs >= 0) || !(payloadBytes >= 0)) throw new Error('--duration, --warmup and --payload must be non-negative numbers')
requireFdLimit(Math.max(...scenarios.map((s) => s.connections)) + 200, 'bench/hot-path')

console.log('# hot path: PING→PONG, one server process vs references (each in its own process; load from another)')
console.log(formatMachineFacts())
console.log(`ours = ${ourServerEntry().label}; ${values.duration} s measured after ${values.warmup} s warm-up per cell; median of ${rounds} interleaved round(s); PING payload ${payloadBytes} B; children run ${values.runtime === 'compiled' ? 'compiled JS' : 'through tsx'}; paced cells: ${pacing} pacing; pinned (server core 1, load generator core 0): ${pin === 'paced' ? 'paced cells' : pin === 'all' ? 'all cells' : 'none'}`)
console.log('')

interface Row {
  readonly scenario: string
  readonly server: ServerKind
  readonly result: MeasuredResult
  /**
   * Median over rounds of this server's PONG/s / the coalescing reference's in the same round (and
   * the reference's CPU µs/PONG / ours, an efficiency). Each round runs the servers back to back, so
   * the pair shares the machine's state; medians taken per server separately can pair a fast round
   * of one with a slow round of the other (single cells on this VM vary up to 1.9×).
   */
  readonly pairedRatio: number | undefined
  readonly pairedEfficiency: number | undefined
}
const rows: Row[] = []
for (const scenario of scenarios) {
  // Rounds interleave the servers (ours, ref, naive, ours, ref, …) so drifting machine load hits all alike.
  const results = new Map<ServerKind, MeasuredResult[]>(servers.map((s) => [s, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const server of servers) {
      process.stdout.write(`… ${scenario.name} ${server}${rounds > 1 ? ` (round ${round}/${rounds})` : ''}`)
      const nodeArgs = values['cpu-prof'] !== undefined ? ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', values['cpu-prof']] : []
      if (server.startsWith('ours')) nodeArgs.push(...oursNodeArgs)
      const pinned = pin === 'all' || (pin === 'paced' && scenario.ratePerConnection > 0)
      const running = await startServer(server, {}, nodeArgs, pinned ? '1' : undefined)
      try {
        if (values['cpu-prof'] !== undefined) process.stdout.write(` [profile: CPU.*.${running.process.pid}.*.cpuprofile]`)
        const result = await runPinger(running.process.pid, { port: running.port, connections: scenario.connections, inFlight: scenario.inFlight, warmupMs, durationMs, payloadBytes, ratePerConnection: scenario.ratePerConnection, pacing }, pinned ? '0' : undefined)
        results.get(server)!.push(result)
        const generator = scenario.ratePerConnection > 0 ? ` (generator: PINGs per turn p99 ${result.burstP99} / max ${result.burstMax}${pacing === 'schedule' ? `, send lag p99 ${result.sendLagP99} ms` : ''}, skipped ${result.skipped})` : ''
        process.stdout.write(`: ${result.pongsPerSecond} PONG/s, p99 ${result.p99} ms, server ${result.serverCpuUsPerPong} µs CPU/PONG${generator}\n`)
      } finally {
        await running.stop()
      }
    }
  }
  const reference = results.get('coalescing')
  for (const server of servers) {
    // The round with the median throughput stands for the cell; paced scenarios all reach the same
    // throughput, so there the round with the median p99 does.
    const key = scenario.ratePerConnection > 0 ? (r: MeasuredResult): number => r.p99 : (r: MeasuredResult): number => r.pongsPerSecond
    const byRound = results.get(server)!
    const sorted = [...byRound].sort((a, b) => key(a) - key(b))
    const pairedRatio = reference ? median(byRound.map((r, i) => r.pongsPerSecond / reference[i]!.pongsPerSecond)) : undefined
    const pairedEfficiency = reference ? median(byRound.map((r, i) => reference[i]!.serverCpuUsPerPong / r.serverCpuUsPerPong)) : undefined
    rows.push({ scenario: scenario.name, server, result: sorted[Math.floor((sorted.length - 1) / 2)]!, pairedRatio, pairedEfficiency })
  }
}

const pad = (s: string | number, n: number): string => String(s).padStart(n)
console.log('')
console.log(`${'scenario'.padEnd(9)} ${'server'.padEnd(15)} ${pad('PONG/s', 9)} ${pad('vs coal.', 8)} ${pad('p50 ms', 7)} ${pad('p90 ms', 7)} ${pad('p99 ms', 7)} ${pad('p999 ms', 8)} ${pad('max ms', 7)} ${pad('srv µs/PONG', 11)} ${pad('srv CPU', 7)} ${pad('errors', 6)}`)
for (const row of rows) {
  const ratio = row.pairedRatio !== undefined ? `${(100 * row.pairedRatio).toFixed(0)} %` : '–'
  const r = row.result
  console.log(`${row.scenario.padEnd(9)} ${row.server.padEnd(15)} ${pad(r.pongsPerSecond, 9)} ${pad(ratio, 8)} ${pad(r.p50.toFixed(2), 7)} ${pad(r.p90.toFixed(2), 7)} ${pad(r.p99.toFixed(2), 7)} ${pad(r.p999.toFixed(2), 8)} ${pad(r.max.toFixed(1), 7)} ${pad(r.serverCpuUsPerPong.toFixed(2), 11)} ${pad(`${Math.round(r.serverCpuShare * 100)} %`, 7)} ${pad(r.errors, 6)}`)
}

const cell = (scenario: string, server: ServerKind): MeasuredResult | undefined => rows.find((r) => r.scenario === scenario && r.server === server)?.result
console.log(`vs coal.: median over the ${rounds} round(s) of PONG/s ÷ the coalescing reference's PONG/s in the same round.`)
console.log('srv µs/PONG: CPU time the server process spent per PONG during the measurement (user+system, /proc) — robust to other load on the machine.')
console.log('srv CPU: share of one core the server process got; well below 100 % means the load generator or the machine was the limit.')
const ours = cell('100x16', 'ours')
const coalescing = cell('100x16', 'coalescing')
console.log('')
const oursRow = rows.find((r) => r.scenario === '100x16' && r.server === 'ours')
if (ours && coalescing && oursRow?.pairedRatio !== undefined && oursRow.pairedEfficiency !== undefined) {
  const ratio = oursRow.pairedRatio
  console.log(`target throughput (100x16): ours ${(ratio * 100).toFixed(0)} % of coalescing, median of the per-round ratios (≥ 80 %) → ${ratio >= 0.8 ? 'MET' : 'MISSED'}; ratio of the two median rounds ${((100 * ours.pongsPerSecond) / coalescing.pongsPerSecond).toFixed(0)} %`)
  console.log(`  by server CPU per PONG: median rounds ${ours.serverCpuUsPerPong.toFixed(2)} µs vs ${coalescing.serverCpuUsPerPong.toFixed(2)} µs; per-round efficiency median ${(oursRow.pairedEfficiency * 100).toFixed(0)} % of the reference's`)
}
for (const scenario of ['100x1', '100x1@100']) {
  const latency = cell(scenario, 'ours')
  const reference = cell(scenario, 'coalescing')
  if (latency) console.log(`target latency (${scenario}): ours p99 ${latency.p99.toFixed(2)} ms (≤ 2 ms) → ${latency.p99 <= 2 ? 'MET' : 'MISSED'}${reference ? `; coalescing reference p99 ${reference.p99.toFixed(2)} ms on the same machine` : ''}`)
  const closedLoop = scenarios.find((s) => s.name === scenario && s.ratePerConnection === 0)
  if (latency && closedLoop) {
    // Little's law: with K requests always in flight the mean RTT is K / throughput, a floor under p99.
    const meanMs = (1000 * closedLoop.connections * closedLoop.inFlight) / latency.pongsPerSecond
    console.log(`  closed loop: mean RTT = in flight / throughput = ${closedLoop.connections * closedLoop.inFlight} / ${latency.pongsPerSecond} PONG/s = ${meanMs.toFixed(2)} ms (Little's law), so p99 ≤ 2 ms needs more than ${Math.round((closedLoop.connections * closedLoop.inFlight) / 0.002)} PONG/s here`)
  }
}
console.log(`RESULT ${JSON.stringify(rows.map((r) => ({ scenario: r.scenario, server: r.server, pairedRatio: r.pairedRatio, pairedEfficiency: r.pairedEfficiency, ...r.result })))}`)
