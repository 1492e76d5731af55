/**
 * The balancer's admin interface against cross-site and unauthenticated requests: what a browser
 * page on another site (CSRF, DNS rebinding) or a stranger on the network can send is refused
 * before any route runs, and a backend added by hand gets no traffic before its health checks.
 */
import { request } from 'node:http'
import { createServer, type Server } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Balancer } from '../../app/balancer/balancer.js'
import { Harness } from '../harness/index.js'
import { ADMIN_TOKEN, adminFetch, backendIdOf, startBackend, balancerInFront, type TaggedBackend } from './balancer-support.js'

const test = suite('balancer admin interface: token, Host/Origin, content type, new backends health-checked')
const h = new Harness()
let backends: TaggedBackend[]
let balancer: Balancer

test.before(async () => {
  backends = [await startBackend(0), await startBackend(1)]
  for (const b of backends) h.own(b.server)
  balancer = h.own(await balancerInFront(backends))
})
test.after(() => h.close())

/** A raw HTTP request with exactly these headers (fetch would add or refuse some). */
function raw(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: balancer.adminAddress()!.port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, setHost: false }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c))
      res.on('end', () => {
        const code = text ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined
        resolve({ status: res.statusCode!, ...(code ? { code } : {}) })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

const host = () => `127.0.0.1:${balancer.adminAddress()!.port}`
const drainPath = () => `/backends/${encodeURIComponent(backendIdOf(backends[0]!))}/drain`

test('the cross-site drain of the report (text/plain, foreign Host and Origin, no token) is refused and drains nothing', async () => {
  const attempt = await raw('POST', drainPath(), { host: 'evil.example:80', origin: 'http://evil.example', 'content-type': 'text/plain' }, '{"deadlineMs":0}')
  assert.equal(attempt, { status: 403, code: 'GS_ERR_ADMIN_FORBIDDEN' })
  assert.is(balancer.pool.get(backendIdOf(backends[0]!))?.state, 'healthy')
})

test('each check on its own: foreign Host, any Origin, cross-site fetch metadata → 403; no or wrong token → 401; text/plain → 415', async () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const json = { 'content-type': 'application/json' }
  assert.equal(await raw('POST', drainPath(), { host: 'rebound.example:9470', ...auth, ...json }, '{}'), { status: 403, code: 'GS_ERR_ADMIN_FORBIDDEN' })
  assert.equal(await raw('POST', drainPath(), { host: host(), origin: `http://${host()}`, ...auth, ...json }, '{}'), { status: 403, code: 'GS_ERR_ADMIN_FORBIDDEN' })
  assert.equal(await raw('POST', drainPath(), { host: host(), 'sec-fetch-site': 'cross-site', ...auth, ...json }, '{}'), { status: 403, code: 'GS_ERR_ADMIN_FORBIDDEN' })
  assert.equal(await raw('POST', drainPath(), { host: host(), ...json }, '{}'), { status: 401, code: 'GS_ERR_ADMIN_UNAUTHORIZED' })
  assert.equal(await raw('GET', '/status', { host: host(), authorization: 'Bearer wrong-token-wrong-token' }), { status: 401, code: 'GS_ERR_ADMIN_UNAUTHORIZED' })
  assert.equal(await raw('POST', drainPath(), { host: host(), ...auth, 'content-type': 'text/plain' }, '{}'), { status: 415, code: 'GS_ERR_ADMIN_BAD_REQUEST' })
  assert.is(balancer.pool.get(backendIdOf(backends[0]!))?.state, 'healthy', 'none of them drained anything')
  assert.is((await raw('GET', '/status', { host: host(), ...auth })).status, 200)
})

test('without BALANCER_ADMIN_TOKEN the interface refuses everything', async () => {
  const open = h.own(await balancerInFront(backends, { BALANCER_ADMIN_TOKEN: '' }))
  const res = await fetch(`http://127.0.0.1:${open.adminAddress()!.port}/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  assert.is(res.status, 401)
  await open.close(500)
})

test('a backend added by hand (weight 100) gets no traffic until it passes its health checks; one that never answers never does', async () => {
  // accepts TCP but never answers a PING: the kind of address an attacker would add
  const silent: Server = createServer((socket) => socket.on('error', () => {}))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
  try {
    const port = (silent.address() as { port: number }).port
    const added = await adminFetch(balancer, '/backends', { method: 'POST', body: { address: `127.0.0.1:${port}`, weight: 100 } })
    assert.is(added.status, 201)
    assert.is(((await added.json()) as { state: string }).state, 'unhealthy')
    await new Promise((r) => setTimeout(r, 600)) // several health-check intervals (100 ms)
    const backend = balancer.pool.get(`127.0.0.1:${port}`)!
    assert.is(backend.state, 'unhealthy')
    assert.is(backend.totalConnections, 0, 'not one client was sent to it')
  } finally {
    silent.close()
  }
})

test.run()
