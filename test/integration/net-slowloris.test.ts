/**
 * Hostile connection holders, with legitimate clients measured alongside:
 *   - slow drip (slowloris): a frame trickled one byte at a time is cut at FRAME_DEADLINE_MS;
 *   - one address opening many connections is held to MAX_CONNECTIONS_PER_ADDRESS;
 *   - a connection storm past the descriptor limit gets SERVER_FULL (the session cap is derived
 *     from `ulimit -n` with a reserve), and the server's own files keep working meanwhile.
 * Attackers use other loopback addresses (127.0.x.y) than the legitimate clients.
 */
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ClientConnection } from '../../app/client/connection.js'
import { ManagedProcess } from '../../app/local/child-process.js'
import { fdReserve, openFileLimit, sessionCap } from '../../app/net/fd-limit.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { Harness } from '../harness/index.js'
import { listeningPort } from './game-support.js'
import { startServer } from '../harness/net-server.js'
import { eventually } from '../harness/eventually.js'

const test = suite('net: slowloris, per-address limit, descriptor-derived session cap')

interface Attacker {
  readonly socket: Socket
  /** First ERROR code the server sent, if any. */
  error: number | null
  closed: boolean
}

function attacker(port: number, localAddress: string): Promise<Attacker> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    const a: Attacker = { socket, error: null, closed: false }
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (a.error === null && received.length >= 14 && received.readUInt16LE(2) === FrameType.ERROR) a.error = decodeErrorPayload(received.subarray(12, received.readUInt16LE(0))).code
    })
    socket.on('error', () => {})
    socket.on('close', () => (a.closed = true))
    socket.once('connect', () => resolve(a))
  })
}

/** A legitimate client's connect + 3 PINGs, in ms; null when it failed. */
async function legitimateRound(port: number): Promise<number | null> {
  const started = performance.now()
  try {
    const client = await ClientConnection.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1', timeoutMs: 3000, connectTimeoutMs: 3000 })
    for (let i = 0; i < 3; i++) await client.ping()
    client.destroy()
    return performance.now() - started
  } catch {
    return null
  }
}

async function legitimateRounds(port: number, count: number): Promise<{ ok: number; p99: number }> {
  const times: number[] = []
  let ok = 0
  for (let i = 0; i < count; i++) {
    const ms = await legitimateRound(port)
    if (ms !== null) {
      ok++
      times.push(ms)
    }
  }
  times.sort((a, b) => a - b)
  return { ok, p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? Infinity }
}

test('slow drip: frames left incomplete are cut at FRAME_DEADLINE_MS; one address is held to MAX_CONNECTIONS_PER_ADDRESS; legitimate clients unaffected', async () => {
  const server = await startServer({ FRAME_DEADLINE_MS: '600', MAX_CONNECTIONS_PER_ADDRESS: '20', IDLE_TIMEOUT_MS: '60000' })
  const attackers: Attacker[] = []
  const drips: NodeJS.Timeout[] = []
  try {
    const baseline = await legitimateRounds(server.address.port, 20)
    // 6 addresses × 30 connects: 20 each are accepted, 10 each refused
    for (let host = 1; host <= 6; host++) {
      for (let i = 0; i < 30; i++) attackers.push(await attacker(server.address.port, `127.0.9.${host}`))
    }
    // every accepted one drips one byte of a 100-byte PING every 50 ms: never idle, never a frame
    const frame = Buffer.alloc(100)
    frame.writeUInt16LE(100, 0)
    frame.writeUInt16LE(FrameType.PING, 2)
    let sent = 0
    const drip = setInterval(() => {
      for (const a of attackers) if (!a.closed) a.socket.write(frame.subarray(sent % 100, (sent % 100) + 1))
      sent++
    }, 50)
    drips.push(drip)
    const underAttack = await legitimateRounds(server.address.port, 20)

    await eventually(() => attackers.every((a) => a.closed), 4000, 'every attacker closed')
    const codes = attackers.map((a) => a.error)
    assert.is(codes.filter((c) => c === WireError.TOO_MANY_CONNECTIONS).length, 60, 'the 10 connects past the limit of each address')
    assert.is(codes.filter((c) => c === WireError.FRAME_TIMEOUT).length, 120, 'every dripping session cut at the frame deadline')
    await eventually(() => server.metrics.closes.get('frame-timeout') === 120, 2000, 'the server counted 120 frame-timeout closes')
    assert.is(server.metrics.closes.get('address-limit'), 60)

    assert.is(baseline.ok, 20)
    assert.is(underAttack.ok, 20, 'every legitimate client connected and was answered')
    // generous: the point is "served", not a latency target; a 2-core machine shared with other tests
    assert.ok(underAttack.p99 < Math.max(baseline.p99 * 20, 500), `legitimate p99 ${underAttack.p99.toFixed(1)} ms under attack vs ${baseline.p99.toFixed(1)} ms before`)
    console.log(`    slow drip: legitimate connect+3 PINGs p99 ${baseline.p99.toFixed(1)} ms before, ${underAttack.p99.toFixed(1)} ms under 120 dripping + 60 refused connections`)
  } finally {
    for (const d of drips) clearInterval(d)
    for (const a of attackers) a.socket.destroy()
    await server.stop()
  }
})

test('the session cap is the open-file limit minus a reserve, never MAX_SESSIONS beyond it', () => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            20000                20000                files     \n'
  assert.is(openFileLimit(limits), 20000)
  assert.equal(sessionCap(20000, 20000), { maxSessions: 20000 - fdReserve(20000), source: 'open-file-limit', openFileLimit: 20000 })
  assert.is(fdReserve(20000), 1000)
  assert.is(fdReserve(300), 128)
  assert.equal(sessionCap(100, 20000).maxSessions, 100)
  assert.equal(sessionCap(5000, null), { maxSessions: 5000, source: 'MAX_SESSIONS', openFileLimit: null })
  assert.is(openFileLimit('Max open files            unlimited            unlimited            files\n'), null)
})

const root = fileURLToPath(new URL('../../', import.meta.url))

test('a storm past `ulimit -n` (MAX_SESSIONS left at its default): SERVER_FULL at the cap, /metrics and fresh clients still served, no EMFILE', async () => {
  const harness = new Harness()
  const attackers: Attacker[] = []
  try {
    const limit = 320
    const server = harness.own(new ManagedProcess({
      name: 'game-server-ulimit',
      command: 'bash',
      args: ['-c', `ulimit -n ${limit} && exec "$0" --import tsx app/main.ts`, process.execPath],
      cwd: root,
      env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: '0', METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', REDIS_URLS: '', SYSTEM_SAMPLE_INTERVAL_MS: '200', MAX_CONNECTIONS_PER_ADDRESS: '0' },
      tailLines: 400,
    }))
    const port = await listeningPort(server)
    const line = server.output().split('\n').find((l) => l.includes('game server listening'))!
    const listening = JSON.parse(line) as { maxSessions: number; openFileLimit: number; maxSessionsSource: string }
    assert.is(listening.openFileLimit, limit)
    assert.is(listening.maxSessionsSource, 'open-file-limit')
    assert.is(listening.maxSessions, limit - fdReserve(limit))
    const metricsLine = server.output().split('\n').find((l) => l.includes('metrics endpoint listening'))!
    const metricsPort = (JSON.parse(metricsLine) as { port: number }).port

    for (let i = 0; i < 260; i++) attackers.push(await attacker(port, `127.0.8.${1 + (i % 50)}`))
    await eventually(() => attackers.filter((a) => a.error === WireError.SERVER_FULL).length === 260 - listening.maxSessions, 5000, 'SERVER_FULL for every connect past the cap')
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    assert.is(metrics.status, 200, 'the metrics endpoint still gets a descriptor at the cap')
    await metrics.text()
    const fresh = await ClientConnection.connect({ host: '127.0.0.1', port, timeoutMs: 3000 })
    const full = await fresh.waitFor(FrameType.ERROR)
    assert.is(decodeErrorPayload(full.payload).code, WireError.SERVER_FULL, 'a fresh client at the cap is told, not reset')
    fresh.destroy()

    for (const a of attackers) a.socket.destroy()
    await new Promise((r) => setTimeout(r, 600)) // a few system samples (/proc reads) after the storm
    const after = await legitimateRound(port)
    assert.ok(after !== null, 'served once the storm let go')
    assert.not.match(server.output(), /EMFILE/)
    await server.stop(5000)
  } finally {
    for (const a of attackers) a.socket.destroy()
    await harness.close()
  }
})

test.run()
