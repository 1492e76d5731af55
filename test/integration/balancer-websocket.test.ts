/**
 * The balancer's WebSocket front (BALANCER_WS_PORT): browsers' connections pass through to each
 * backend's WebSocket listener — the port the backend announced through membership, named in its
 * BACKENDS entry (host:port/wsPort) or in the admin request, else BACKEND_WS_PORT — picked by the
 * same strategy as the game port's; no backend → HTTP 503.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocket from 'ws'
import { Balancer } from '../../app/balancer/balancer.js'
import { ClientConnection } from '../../app/client/connection.js'
import { loadConfig } from '../../app/config/index.js'
import { FrameType } from '../../app/protocol/types.js'
import { eventually } from '../harness/eventually.js'
import { Harness } from '../harness/index.js'
import { EchoDispatcher, startServer, type TestServer } from '../harness/net-server.js'
import { ADMIN_TOKEN, adminFetch, FAST_HEALTH } from './balancer-support.js'

const test = suite('balancer: WebSocket front')
const h = new Harness()
const backends: TestServer[] = []

test.before(async () => {
  for (let i = 0; i < 2; i++) {
    const dispatcher = new EchoDispatcher()
    dispatcher.echoType = 0x8100 + i
    const server = await startServer({ WS_PORT: '0', WS_HOST: '127.0.0.1', IDLE_TIMEOUT_MS: '0' }, {}, dispatcher)
    h.own({ stop: () => server.stop() })
    backends.push(server)
  }
})

test.after(() => h.close())

async function balancer(members: () => { id: string; address: string; webSocketPort?: number }[], env: Record<string, string> = {}): Promise<Balancer> {
  const config = loadConfig({ BALANCER_ADMIN_TOKEN: ADMIN_TOKEN, BALANCER_HOST: '127.0.0.1', BALANCER_PORT: '0', BALANCER_ADMIN_PORT: '0', BALANCER_WS_PORT: '0', BALANCE_STRATEGY: 'round-robin', ...FAST_HEALTH, ...env })
  const b = new Balancer({ config, discover: async () => members() })
  h.own(b)
  await b.listen()
  await b.ready()
  return b
}

test('WebSocket clients reach the backends\' WebSocket listeners (announced ports), round-robin', async () => {
  const b = await balancer(() => backends.map((s) => ({ id: `s${s.address.port}`, address: `127.0.0.1:${s.address.port}`, webSocketPort: s.webSocketAddress!.port })))
  assert.is(b.status().backends.length, 2)
  const served: number[] = []
  for (let i = 0; i < 4; i++) {
    const client = await ClientConnection.connect({ host: '127.0.0.1', port: b.webSocketAddress()!.port, transport: 'ws', timeoutMs: 3000 })
    const reply = await client.request(FrameType.CHAT, Buffer.from('who'))
    served.push(reply.type - 0x8100)
    assert.ok((await client.ping()) >= 0)
    await client.close()
  }
  assert.equal([...served].sort(), [0, 0, 1, 1])
  assert.ok(b.status().webSocket!.proxy.accepted >= 4)
})

test('a backend without an announced port is reached on BACKEND_WS_PORT', async () => {
  const only = backends[1]!
  const b = await balancer(() => [{ id: 'one', address: `127.0.0.1:${only.address.port}` }], { BACKEND_WS_PORT: String(only.webSocketAddress!.port) })
  const client = await ClientConnection.connect({ host: '127.0.0.1', port: b.webSocketAddress()!.port, transport: 'ws', timeoutMs: 3000 })
  assert.is((await client.request(FrameType.CHAT, Buffer.from('who'))).type, 0x8101)
  await client.close()
})

/** Which backend (0 or 1, by its echo type) serves a WebSocket client of `b`'s front. */
async function servedViaWebSocket(b: Balancer): Promise<number> {
  const client = await ClientConnection.connect({ host: '127.0.0.1', port: b.webSocketAddress()!.port, transport: 'ws', timeoutMs: 3000 })
  try {
    return (await client.request(FrameType.CHAT, Buffer.from('who'))).type - 0x8100
  } finally {
    await client.close()
  }
}

test('static BACKENDS name each backend\'s WebSocket port (host:port/wsPort); BACKEND_WS_PORT is then unused', async () => {
  // BACKEND_WS_PORT points at the game port of backend 0: a fallback to it would fail the upgrade
  const list = backends.map((s) => `127.0.0.1:${s.address.port}/${s.webSocketAddress!.port}`).join(',')
  const b = await balancer(() => [], { BACKENDS: list, BACKEND_WS_PORT: String(backends[0]!.address.port) })
  assert.equal(b.status().backends.map((x) => x.webSocketPort), backends.map((s) => s.webSocketAddress!.port))
  const served: number[] = []
  for (let i = 0; i < 4; i++) served.push(await servedViaWebSocket(b))
  assert.equal([...served].sort(), [0, 0, 1, 1])
})

test('a backend added through the admin interface as host:port/wsPort is reached on that port', async () => {
  const only = backends[0]!
  const b = await balancer(() => [], { BACKENDS: `127.0.0.1:${backends[1]!.address.port}/${backends[1]!.webSocketAddress!.port}`, BACKEND_WS_PORT: String(only.address.port) })
  const added = await adminFetch(b, '/backends', { method: 'POST', body: { address: `127.0.0.1:${only.address.port}/${only.webSocketAddress!.port}` } })
  assert.is(added.status, 201)
  const body = (await added.json()) as { id: string; webSocketPort: number | null }
  assert.is(body.webSocketPort, only.webSocketAddress!.port)
  await eventually(() => b.status().backends.find((x) => x.id === body.id)?.state === 'healthy', 5000, 'the added backend healthy')
  const served: number[] = []
  for (let i = 0; i < 4; i++) served.push(await servedViaWebSocket(b))
  assert.equal([...served].sort(), [0, 0, 1, 1])
})

test('no backend: the upgrade is answered 503', async () => {
  const b = await balancer(() => [])
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${b.webSocketAddress()!.port}/ws`)
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.on('error', () => resolve(-1))
    ws.on('open', () => resolve(101))
  })
  assert.is(status, 503)
})

test.run()
