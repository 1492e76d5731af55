/**
 * Memory per session (a server's memory budget is sessions × this): open N idle sessions (default 10,000; each answered one PING, so
 * its send path was used once) on one server process and report the RSS / heap / external growth
 * per session, after a forced GC, next to a bare Node net server (the cost of a socket alone)
 * measured in the same run.
 *
 *   npx tsx bench/sessions-memory.bench.ts [--sessions 10000] [--servers ours,bare]
 */
import { fork, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { formatMachineFacts, requireFdLimit, serverNode } from './machine.js'
import { HEADER_BYTES, PING, PONG } from './net/frames.js'
import type { MemoryReport } from './net/memory-server.js'
import { REPO_ROOT } from './net/processes.js'

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '10000' },
    servers: { type: 'string', default: 'ours,bare' },
    concurrency: { type: 'string', default: '500' },
  },
})
const sessions = Number(values.sessions)
const concurrency = Number(values.concurrency)
const kinds = values.servers.split(',').map((s) => s.trim())
if (!(sessions > 0)) throw new Error('--sessions must be positive')
requireFdLimit(sessions + 200, 'bench/sessions-memory (server and load side each hold one fd per session)')

console.log(`# sessions memory: ${sessions} idle sessions on one server process`)
console.log(formatMachineFacts())
console.log('')

function request<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (reply) => resolve(reply as T))
    child.send(message)
  })
}

/** Connect and PING once; resolves with the socket once its PONG arrived. */
function session(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, noDelay: true })
    socket.once('error', reject)
    socket.once('connect', () => {
      const ping = Buffer.alloc(HEADER_BYTES + 8)
      ping.writeUInt16LE(ping.length, 0)
      ping.writeUInt16LE(PING, 2)
      socket.write(ping)
    })
    socket.once('data', (chunk: Buffer) => {
      if (chunk.readUInt16LE(2) !== PONG) reject(new Error('no PONG'))
      else resolve(socket)
    })
  })
}

interface Row {
  readonly kind: string
  readonly perSession: MemoryReport
  readonly openSeconds: number
}
const rows: Row[] = []
for (const kind of kinds) {
  const child = fork(`${REPO_ROOT}bench/net/memory-server.ts`, [kind], {
    execPath: serverNode().path,
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, MAX_SESSIONS: String(sessions + 10), MAX_CONNECTIONS_PER_ADDRESS: '0', IDLE_TIMEOUT_MS: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const sockets: Socket[] = []
  try {
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { port: number }))
      child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)))
    })
    // Warm the server up (code paths compiled, pools touched) before the baseline.
    const warm = await Promise.all(Array.from({ length: 50 }, () => session(port)))
    for (const s of warm) s.destroy()
    await new Promise((r) => setTimeout(r, 200))
    const before = await request<MemoryReport>(child, 'measure')
    const started = performance.now()
    for (let i = 0; i < sessions; i += concurrency) {
      const batch = await Promise.all(Array.from({ length: Math.min(concurrency, sessions - i) }, () => session(port)))
      sockets.push(...batch)
    }
    const openSeconds = (performance.now() - started) / 1000
    process.stdout.write(`… ${kind}: ${sockets.length} sessions open in ${openSeconds.toFixed(1)} s\n`)
    const after = await request<MemoryReport>(child, 'measure')
    const per = (key: keyof MemoryReport): number => Math.round((after[key] - before[key]) / sessions)
    rows.push({ kind, openSeconds, perSession: { rss: per('rss'), heapUsed: per('heapUsed'), external: per('external'), arrayBuffers: per('arrayBuffers') } })
  } finally {
    for (const s of sockets) s.destroy()
    child.disconnect()
    child.kill()
  }
}

console.log('')
console.log(`${'server'.padEnd(8)} ${'RSS B/session'.padStart(14)} ${'heap B/session'.padStart(15)} ${'external B/session'.padStart(19)} ${'vs bare (RSS)'.padStart(14)}`)
const bare = rows.find((r) => r.kind === 'bare')
for (const row of rows) {
  const ratio = bare ? `${(row.perSession.rss / bare.perSession.rss).toFixed(2)}×` : '–'
  console.log(`${row.kind.padEnd(8)} ${String(row.perSession.rss).padStart(14)} ${String(row.perSession.heapUsed).padStart(15)} ${String(row.perSession.external).padStart(19)} ${ratio.padStart(14)}`)
}
console.log(`RESULT ${JSON.stringify(rows)}`)
