/**
 * Hot-path benchmark (SPEC §6, issue 2): PING→PONG throughput and RTT percentiles of our server
 * next to a minimal coalescing Node server and a naive one-write-per-frame server, in ONE run, each
 * server in its own process and the load generator in another.
 *
 *   npx tsx bench/hot-path.bench.ts [--duration 5] [--warmup 1] [--scenarios 100x16,1000x1,100x1,100x1@100]
 *                                   [--servers ours,coalescing,naive] [--payload 16] [--cpu-prof DIR]
 *
 * A scenario is CONNECTIONSxINFLIGHT (closed loop: the next PING as soon as a PONG arrives) or
 * CONNECTIONSxINFLIGHT@RATE (paced: RATE PINGs/s per connection, a moderate load).
 *
 * Targets: ours ≥ 80 % of the coalescing reference's PONG/s at 100 × 16; p99 RTT ≤ 2 ms at 100 × 1.
 */
import { parseArgs } from 'node:util'
import { formatMachineFacts, requireFdLimit } from './machine.js'
import { ourServerEntry, runPinger, startServer, type ServerKind } from './net/processes.js'
import type { PingerResult } from './net/pinger.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    scenarios: { type: 'string', default: '100x16,1000x1,100x1,100x1@100' },
    servers: { type: 'string', default: 'ours,coalescing,naive' },
    payload: { type: 'string', default: '16' },
    'cpu-prof': { type: 'string' },
  },
})

const durationMs = Number(values.duration) * 1000
const warmupMs = Number(values.warmup) * 1000
const payloadBytes = Number(values.payload)
const scenarios = values.scenarios.split(',').map((s) => {
  const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(s.trim())
  if (!m) throw new Error(`--scenarios: expected CONNSxINFLIGHT[@RATE], got ${s}`)
  return { name: s.trim(), connections: Number(m[1]), inFlight: Number(m[2]), ratePerConnection: Number(m[3] ?? 0) }
})
const servers = values.servers.split(',').map((s) => s.trim()) as ServerKind[]
for (const s of servers) if (!['ours', 'ours-immediate', 'coalescing', 'naive'].includes(s)) throw new Error(`--servers: unknown server ${s}`)
if (!(durationMs > 0) || !(warmupMs >= 0) || !(payloadBytes >= 0)) throw new Error('--duration, --warmup and --payload must be non-negative numbers')
requireFdLimit(Math.max(...scenarios.map((s) => s.connections)) + 200, 'bench/hot-path')

console.log('# hot path: PING→PONG, one server process vs references (each in its own process; load from another)')
console.log(formatMachineFacts())
console.log(`ours = ${ourServerEntry().label}; ${values.duration} s measured after ${values.warmup} s warm-up per cell; PING payload ${payloadBytes} B`)
console.log('')

interface Row {
  readonly scenario: string
  readonly server: ServerKind
  readonly result: PingerResult
}
const rows: Row[] = []
for (const scenario of scenarios) {
  for (const server of servers) {
    const name = scenario.name
    process.stdout.write(`… ${name} ${server}\n`)
    const nodeArgs = values['cpu-prof'] !== undefined && server.startsWith('ours') ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []
    const running = await startServer(server, {}, nodeArgs)
    try {
      const result = await runPinger({ port: running.port, connections: scenario.connections, inFlight: scenario.inFlight, warmupMs, durationMs, payloadBytes, ratePerConnection: scenario.ratePerConnection })
      rows.push({ scenario: name, server, result })
    } finally {
      await running.stop()
    }
  }
}

const pad = (s: string | number, n: number): string => String(s).padStart(n)
console.log('')
console.log(`${'scenario'.padEnd(9)} ${'server'.padEnd(15)} ${pad('PONG/s', 9)} ${pad('vs coal.', 8)} ${pad('p50 ms', 7)} ${pad('p90 ms', 7)} ${pad('p99 ms', 7)} ${pad('p999 ms', 8)} ${pad('max ms', 7)} ${pad('errors', 6)}`)
for (const row of rows) {
  const reference = rows.find((r) => r.scenario === row.scenario && r.server === 'coalescing')
  const ratio = reference ? `${((100 * row.result.pongsPerSecond) / reference.result.pongsPerSecond).toFixed(0)} %` : '–'
  const r = row.result
  console.log(`${row.scenario.padEnd(9)} ${row.server.padEnd(15)} ${pad(r.pongsPerSecond, 9)} ${pad(ratio, 8)} ${pad(r.p50.toFixed(2), 7)} ${pad(r.p90.toFixed(2), 7)} ${pad(r.p99.toFixed(2), 7)} ${pad(r.p999.toFixed(2), 8)} ${pad(r.max.toFixed(1), 7)} ${pad(r.errors, 6)}`)
}

const cell = (scenario: string, server: ServerKind): PingerResult | undefined => rows.find((r) => r.scenario === scenario && r.server === server)?.result
const ours = cell('100x16', 'ours')
const coalescing = cell('100x16', 'coalescing')
console.log('')
if (ours && coalescing) {
  const ratio = ours.pongsPerSecond / coalescing.pongsPerSecond
  console.log(`target throughput (100x16): ours ${(ratio * 100).toFixed(0)} % of coalescing (≥ 80 %) → ${ratio >= 0.8 ? 'MET' : 'MISSED'}`)
}
for (const scenario of ['100x1', '100x1@100']) {
  const latency = cell(scenario, 'ours')
  const reference = cell(scenario, 'coalescing')
  if (latency) console.log(`target latency (${scenario}): ours p99 ${latency.p99.toFixed(2)} ms (≤ 2 ms) → ${latency.p99 <= 2 ? 'MET' : 'MISSED'}${reference ? `; coalescing reference p99 ${reference.p99.toFixed(2)} ms on the same machine` : ''}`)
}
console.log(`RESULT ${JSON.stringify(rows.map((r) => ({ scenario: r.scenario, server: r.server, ...r.result })))}`)
