/**
 * Connect storm (BENCHMARKS.md, "Connect storm"): 1,000 connects in the same instant → how long until every one was
 * accepted and answered a PING, for our server at LISTEN_BACKLOG 4096 (default) and at 128, next to
 * the coalescing reference server (same backlog as ours). Server and client in separate processes.
 * The kernel caps the backlog at net.core.somaxconn (printed).
 *
 *   npx tsx bench/connect-storm.bench.ts [--connections 1000] [--rounds 3] [--timeout 15]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ManagedProcess } from '../app/local/child-process.js'
import { formatMachineFacts, requireFdLimit } from './machine.js'
import { REPO_ROOT, scriptArgs, startServer, type ServerKind } from './net/processes.js'
import type { StormResult } from './net/storm.js'

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '15' },
  },
})
const connections = Number(values.connections)
const rounds = Number(values.rounds)
const timeoutMs = Number(values.timeout) * 1000
requireFdLimit(connections + 100, 'bench/connect-storm')

let somaxconn = 'unknown'
try {
  somaxconn = readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim()
} catch {
  /* not Linux */
}
console.log(`# connect storm: ${connections} simultaneous connects, each PINGs once; ${rounds} rounds per server (median shown)`)
console.log(formatMachineFacts())
console.log(`net.core.somaxconn = ${somaxconn} (caps every listen backlog)`)
console.log('')

const variants: { label: string; kind: ServerKind; backlog: number }[] = [
  { label: 'ours', kind: 'ours', backlog: 4096 },
  { label: 'ours', kind: 'ours', backlog: 128 },
  { label: 'coalescing', kind: 'coalescing', backlog: 4096 },
]

interface Row {
  readonly label: string
  readonly backlog: number
  readonly result: StormResult
}
const rows: Row[] = []
for (const variant of variants) {
  const results: StormResult[] = []
  for (let round = 0; round < rounds; round++) {
    const server = await startServer(variant.kind, { LISTEN_BACKLOG: String(variant.backlog), MAX_SESSIONS: String(connections * 2) })
    try {
      const client = new ManagedProcess({
        name: 'storm',
        command: process.execPath,
        args: [...(await scriptArgs('bench/net/storm.ts')), JSON.stringify({ port: server.port, connections, timeoutMs })],
        cwd: REPO_ROOT,
      })
      await client.waitForExit()
      const line = client.output().split('\n').find((l) => l.startsWith('RESULT '))
      if (line === undefined) throw client.startError('storm client gave no result')
      results.push(JSON.parse(line.slice(7)) as StormResult)
    } finally {
      await server.stop()
    }
  }
  results.sort((a, b) => a.allAnsweredMs - b.allAnsweredMs)
  const median = results[Math.floor(results.length / 2)]!
  process.stdout.write(`… ${variant.label} backlog ${variant.backlog}: all answered in ${results.map((r) => r.allAnsweredMs).join(' / ')} ms\n`)
  rows.push({ label: variant.label, backlog: variant.backlog, result: median })
}

console.log('')
console.log(`${'server'.padEnd(11)} ${'backlog'.padStart(7)} ${'answered'.padStart(9)} ${'failed'.padStart(6)} ${'all connected ms'.padStart(17)} ${'all answered ms'.padStart(16)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'vs coal.'.padStart(9)}`)
const reference = rows.find((r) => r.label === 'coalescing')
for (const row of rows) {
  const r = row.result
  const ratio = reference ? `${(r.allAnsweredMs / reference.result.allAnsweredMs).toFixed(2)}×` : '–'
  console.log(`${row.label.padEnd(11)} ${String(row.backlog).padStart(7)} ${String(r.answered).padStart(9)} ${String(r.failed).padStart(6)} ${String(r.allConnectedMs).padStart(17)} ${String(r.allAnsweredMs).padStart(16)} ${String(r.p50Ms).padStart(7)} ${String(r.p99Ms).padStart(7)} ${ratio.padStart(9)}`)
}
console.log(`RESULT ${JSON.stringify(rows)}`)
