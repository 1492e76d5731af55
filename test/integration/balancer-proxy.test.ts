/**
 * The balancer against 3 real game servers (GameServer + echo dispatcher tagged per backend):
 * strategy distribution, NO_BACKEND, half-close, drain, admin interface.
 */
import { createHash } from 'node:crypto'
import { connect, createServer, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Balancer } from '../../app/balancer/balancer.js'
import type { ClientConnection } from '../../app/client/connection.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeFrame } from '../../app/protocol/header.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { Harness } from '../harness/index.js'
import { loadConfig } from '../../app/config/index.js'
import { Balancer as BalancerClass } from '../../app/balancer/balancer.js'

import { adminFetch, backendIdOf, connectVia, startBackend, balancerInFront, whoServes, type TaggedBackend } from './balancer-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('balancer proxy')
let h: Harness
let backends: TaggedBackend[]
const clients: ClientConnection[] = []

test.before(async () => {
  h = new Harness()
  backends = []
  for (let i = 0; i < 3; i++) backends.push(await startBackend(i))
  for (const b of backends) h.own({ stop: () => b.server.stop() })
})

test.after.each(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(500)))
})

test.after(() => h.close())

async function open(balancer: Balancer, n: number): Promise<number[]> {
  const served: number[] = []
  for (let i = 0; i < n; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    served.push(await whoServes(client))
  }
  return served
}

test('round-robin cycles through the backends in order', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin' }))
  const served = await open(balancer, 9)
  const first = served[0]!
  const expected = served.map((_, i) => (first + i) % 3)
  assert.equal(served, expected)
  await balancer.close(1000)
})

test('least-connections keeps the counts within ±1 while sessions come and go', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'least-connections' }))
  await open(balancer, 12)
  // Close some sessions on one backend, then open more: the emptier backend is refilled first.
  const sessionsOn = (i: number): number => balancer.status().backends.find((b) => b.id === backendIdOf(backends[i]!))!.sessions
  const spread = (): number[] => [0, 1, 2].map(sessionsOn)
  assert.equal(spread(), [4, 4, 4])
  const onZero: ClientConnection[] = []
  for (const c of clients) if ((await whoServes(c)) === 0) onZero.push(c)
  for (const c of onZero.slice(0, 3)) await c.close(500)
  await eventually(() => sessionsOn(0) === 1, 3000, 'sessions released')
  const next = await open(balancer, 3)
  assert.equal(next, [0, 0, 0])
  for (let i = 0; i < 7; i++) {
    await open(balancer, 1)
    const counts = spread()
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts}`)
  }
  await balancer.close(1000)
})

test('strategy switch at runtime through the admin interface; every action answered as JSON', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'least-connections' }))
  const put = await adminFetch(balancer, '/strategy', { method: 'PUT', body: { strategy: 'round-robin' } })
  assert.is(put.status, 200)
  assert.is(balancer.pool.strategy, 'round-robin')
  const bad = await adminFetch(balancer, '/strategy', { method: 'PUT', body: { strategy: 'random' } })
  assert.is(bad.status, 400)
  assert.is(((await bad.json()) as { error: { code: string } }).error.code, 'GS_ERR_ADMIN_BAD_REQUEST')
  const list = (await (await adminFetch(balancer, '/backends')).json()) as { id: string; state: string }[]
  assert.equal(list.map((b) => b.state), ['healthy', 'healthy', 'healthy'])
  // Remove one backend (cut at once), traffic only goes to the other two; add it back.
  const id = backendIdOf(backends[2]!)
  const removed = await adminFetch(balancer, `/backends/${encodeURIComponent(id)}?drainMs=0`, { method: 'DELETE' })
  assert.is(removed.status, 200)
  const served = await open(balancer, 4)
  assert.not.ok(served.includes(2))
  const unknown = await adminFetch(balancer, `/backends/${encodeURIComponent(id)}`, { method: 'DELETE' })
  assert.is(unknown.status, 404)
  const added = await adminFetch(balancer, '/backends', { method: 'POST', body: { address: id } })
  assert.is(added.status, 201)
  assert.is(((await added.json()) as { state: string }).state, 'unhealthy', 'an added backend waits for its health checks')
  const again = await adminFetch(balancer, '/backends', { method: 'POST', body: { address: id } })
  assert.is(again.status, 409)
  const badAddress = await adminFetch(balancer, '/backends', { method: 'POST', body: { address: 'nope' } })
  assert.is(badAddress.status, 400)
  await eventually(() => balancer.pool.get(id)?.state === 'healthy', 3000, 'the added backend passes its checks')
  const afterAdd = await open(balancer, 3)
  assert.ok(afterAdd.includes(2))
  await balancer.close(1000)
})

test('no healthy backend: the client receives an ERROR frame NO_BACKEND and is closed', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin' }))
  for (const b of balancer.pool.list()) balancer.pool.setState(b, 'unhealthy', 'test')
  const client = await connectVia(balancer)
  clients.push(client)
  const frame = await client.waitFor(FrameType.ERROR)
  assert.is(decodeErrorPayload(frame.payload).code, WireError.NO_BACKEND)
  await client.closed
  assert.is(balancer.status().proxy.noBackend, 1)
  await balancer.close(1000)
})

test('a refused connect retries another backend; only refusals everywhere give NO_BACKEND; counters released', async () => {
  const dead = await startBackend(7)
  const port = dead.port
  // One health check at start (both pass), none after: the balancer still believes the backend is up.
  const balancer = h.own(await balancerInFront([dead, backends[1]!], { BALANCE_STRATEGY: 'round-robin', HEALTH_CHECK_INTERVAL_MS: '60000' }))
  await eventually(() => balancer.status().backends.every((b) => b.ewmaLatencyMs !== null), 3000, 'first checks')
  await dead.server.stop()
  const served = await open(balancer, 4)
  assert.equal(served, [1, 1, 1, 1])
  const deadStatus = (): { activeConnections: number; connectFailures: number } => balancer.status().backends.find((b) => b.port === port)!
  assert.ok(deadStatus().connectFailures >= 1)
  assert.is(deadStatus().activeConnections, 0)
  await balancer.removeBackend(backendIdOf(backends[1]!), { drainMs: 0 })
  const client = await connectVia(balancer)
  clients.push(client)
  const frame = await client.waitFor(FrameType.ERROR)
  assert.is(decodeErrorPayload(frame.payload).code, WireError.NO_BACKEND)
  assert.is(deadStatus().activeConnections, 0)
  await balancer.close(1000)
})

test('half-close: the client FIN reaches the backend, the answer still comes back', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin' }))
  const socket = connect({ host: '127.0.0.1', port: balancer.address()!.port, allowHalfOpen: true })
  await new Promise((resolve) => socket.once('connect', resolve))
  const received: Buffer[] = []
  socket.on('data', (chunk: Buffer) => received.push(chunk))
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()))
  // PING then FIN: the server answers the PING and closes its side; we still get the PONG.
  socket.end(encodeFrame(FrameType.PING, 42, 0, Buffer.from('bye')))
  await ended
  const data = Buffer.concat(received)
  assert.ok(data.length >= 12, 'got the PONG after our FIN')
  assert.is(data.readUInt16LE(2), FrameType.PONG)
  assert.is(data.readUInt32LE(4), 42)
  await new Promise((resolve) => socket.once('close', resolve))
  await eventually(() => balancer.status().backends.every((b) => b.activeConnections === 0 && b.sessions === 0), 3000, 'counters released')
  await balancer.close(1000)
})

test('drain: no new sessions to the backend; existing ones finish; stragglers cut at the deadline', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin' }))
  const served = await open(balancer, 6)
  const onZero = clients.filter((_, i) => served[i] === 0)
  assert.is(onZero.length, 2)
  const draining = balancer.drain(backendIdOf(backends[0]!), 800)
  assert.is(balancer.pool.get(backendIdOf(backends[0]!))!.state, 'draining')
  const more = await open(balancer, 4)
  assert.not.ok(more.includes(0))
  // The sessions on the draining backend still work …
  assert.is(await whoServes(onZero[0]!), 0)
  // … one finishes by itself, the other is cut at the deadline.
  await onZero[0]!.close(500)
  const started = performance.now()
  const result = await draining
  assert.ok(performance.now() - started >= 500, 'waited for the deadline')
  assert.equal({ finished: result.finished, cut: result.cut }, { finished: 1, cut: 1 })
  await onZero[1]!.closed
  // Sessions on the others are untouched.
  const survivors = clients.filter((c) => !onZero.includes(c))
  for (const c of survivors) assert.ok([1, 2].includes(await whoServes(c)))
  await balancer.close(1000)
})

test('idle timeout: a silent session is cut (both sockets, counters released); an active one stays', async () => {
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin', PROXY_IDLE_TIMEOUT_MS: '300' }))
  const silent = await connectVia(balancer)
  const active = await connectVia(balancer)
  clients.push(silent, active)
  const started = performance.now()
  const keepAlive = setInterval(() => void active.ping().catch(() => {}), 50)
  try {
    await silent.closed
    const cutAfterMs = performance.now() - started
    assert.ok(cutAfterMs >= 250 && cutAfterMs < 1500, `cut after ${cutAfterMs.toFixed(0)} ms`)
    assert.is(active.status, 'open')
    await eventually(() => balancer.status().proxy.closedByReason['idle-timeout'] === 1, 2000, 'idle close counted')
    assert.is(balancer.status().backends.reduce((n, b) => n + b.activeConnections, 0), 1)
  } finally {
    clearInterval(keepAlive)
  }
  await balancer.close(1000)
})

test('backpressure: 16 MB each way through a slow reader arrive intact (no byte lost, reordered or overwritten)', async () => {
  const TOTAL = 16 * 1024 * 1024
  const pattern = (seed: number): Buffer => {
    const out = Buffer.allocUnsafe(TOTAL)
    let x = seed
    for (let i = 0; i < TOTAL; i += 4) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0
      out.writeUInt32LE(x, i)
    }
    return out
  }
  const down = pattern(1)
  const up = pattern(2)
  const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
  // A plain TCP backend (the balancer is L4): sends `down`, hashes what it receives.
  let backendReceived: Promise<string> = Promise.resolve('')
  // (Health-check connects send nothing; the proxied session is the one that sends data.)
  const backend = createServer({ allowHalfOpen: true }, (socket: Socket) => {
    socket.on('error', () => {})
    const endIdle = (): void => void socket.end()
    socket.once('end', endIdle)
    socket.once('data', (first: Buffer) => {
      socket.off('end', endIdle)
      const chunks: Buffer[] = [first]
      backendReceived = new Promise((resolve) => {
        socket.on('data', (c: Buffer) => chunks.push(c))
        socket.on('end', () => resolve(digest(Buffer.concat(chunks))))
      })
      socket.end(down)
    })
  })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  h.own({ stop: () => new Promise<void>((resolve) => backend.close(() => resolve())) })
  const port = (backend.address() as { port: number }).port
  const config = loadConfig({ BALANCER_HOST: '127.0.0.1', BALANCER_PORT: '0', BALANCER_ADMIN_PORT: '0', BACKENDS: `127.0.0.1:${port}`, HEALTH_CHECK_MODE: 'tcp', HEALTH_CHECK_INTERVAL_MS: '60000' })
  const balancer = h.own(new BalancerClass({ config, admin: false }))
  await balancer.listen()
  const client = connect({ host: '127.0.0.1', port: balancer.address()!.port, allowHalfOpen: true })
  await new Promise((resolve) => client.once('connect', resolve))
  const received: Buffer[] = []
  let receivedBytes = 0
  const done = new Promise<void>((resolve) => client.on('end', () => resolve()))
  client.on('data', (c: Buffer) => {
    received.push(c)
    receivedBytes += c.length
    // A slow reader: stop for a moment every ~1 MB so the balancer has to hold the backend back.
    if (receivedBytes % (1024 * 1024) < c.length) {
      client.pause()
      setTimeout(() => client.resume(), 20)
    }
  })
  client.end(up)
  await done
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(receivedBytes, TOTAL)
  assert.is(digest(Buffer.concat(received)), digest(down))
  assert.is(await backendReceived, digest(up))
  await balancer.close(1000)
})

test.run()
