/**
 * The connect-storm client of bench/connect-storm, run in its own process: N connect() calls in the
 * same event-loop turn, each sending one PING as soon as it is connected. Prints one `RESULT {json}`
 * with the time until all were connected and until all had their PONG.
 */
import { connect } from 'node:net'
import { HEADER_BYTES, PING, PONG } from './frames.js'

export interface StormResult {
  readonly connections: number
  readonly answered: number
  readonly failed: number
  /** ms from the first connect() until the last 'connect' (client side: the kernel completed the handshake). */
  readonly allConnectedMs: number
  /** ms from the first connect() until the last PONG (the server accepted and answered). */
  readonly allAnsweredMs: number
  readonly p50Ms: number
  readonly p99Ms: number
}

function storm(port: number, connections: number, timeoutMs: number): Promise<StormResult> {
  const ping = Buffer.alloc(HEADER_BYTES)
  ping.writeUInt16LE(HEADER_BYTES, 0)
  ping.writeUInt16LE(PING, 2)
  const answeredAt: number[] = []
  let lastConnected = 0
  let failed = 0
  let pending = connections
  const started = performance.now()
  return new Promise((resolve) => {
    const sockets = Array.from({ length: connections }, () => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true })
      let done = false
      const finish = (ok: boolean): void => {
        if (done) return
        done = true
        if (ok) answeredAt.push(performance.now() - started)
        else failed++
        if (--pending === 0) report()
      }
      socket.once('connect', () => {
        lastConnected = performance.now() - started
        socket.write(ping)
      })
      socket.once('data', (chunk: Buffer) => finish(chunk.length >= HEADER_BYTES && chunk.readUInt16LE(2) === PONG))
      socket.once('error', () => finish(false))
      socket.once('close', () => finish(false))
      return socket
    })
    const timer = setTimeout(() => {
      failed += pending
      pending = 0
      report()
    }, timeoutMs)
    function report(): void {
      clearTimeout(timer)
      for (const s of sockets) s.destroy()
      answeredAt.sort((a, b) => a - b)
      const pct = (p: number): number => Math.round(answeredAt[Math.min(answeredAt.length - 1, Math.ceil(p * answeredAt.length) - 1)] ?? Number.NaN)
      resolve({
        connections,
        answered: answeredAt.length,
        failed,
        allConnectedMs: Math.round(lastConnected),
        allAnsweredMs: Math.round(answeredAt[answeredAt.length - 1] ?? Number.NaN),
        p50Ms: pct(0.5),
        p99Ms: pct(0.99),
      })
    }
  })
}

if (/storm\.[jt]s$/.test(process.argv[1] ?? '') && process.argv[2] !== undefined) {
  const { port, connections, timeoutMs } = JSON.parse(process.argv[2]) as { port: number; connections: number; timeoutMs: number }
  void storm(port, connections, timeoutMs).then((result) => {
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
    process.exit(0)
  })
}
