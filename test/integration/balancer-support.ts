/** Shared pieces of the balancer tests: tagged echo backends and a balancer in front of them. */
import { Balancer, type BalancerOptions } from '../../app/balancer/balancer.js'
import { ClientConnection } from '../../app/client/connection.js'
import { loadConfig, type Env } from '../../app/config/index.js'
import { FrameType } from '../../app/protocol/types.js'
import { EchoDispatcher, startServer, type TestServer } from '../harness/net-server.js'

/** Echo type of backend i: replies tell which backend served a client. */
const tagOf = (index: number): number => 0x8100 + index

export interface TaggedBackend {
  readonly index: number
  port: number
  server: TestServer
}

export async function startBackend(index: number, port = 0): Promise<TaggedBackend> {
  const dispatcher = new EchoDispatcher()
  dispatcher.echoType = tagOf(index)
  const server = await startServer({ GAME_PORT: String(port), IDLE_TIMEOUT_MS: '0' }, {}, dispatcher)
  return { index, port: server.address.port, server }
}

/** Start the same backend again on its old port (after a kill). */
export async function restartBackend(backend: TaggedBackend): Promise<void> {
  const dispatcher = new EchoDispatcher()
  dispatcher.echoType = tagOf(backend.index)
  backend.server = await startServer({ GAME_PORT: String(backend.port), IDLE_TIMEOUT_MS: '0' }, {}, dispatcher)
}

export const FAST_HEALTH: Env = {
  HEALTH_CHECK_INTERVAL_MS: '100',
  HEALTH_CHECK_TIMEOUT_MS: '2000', // generous: a loaded CI machine must not fail a check of a live backend
  HEALTH_CHECK_RISE: '2',
  HEALTH_CHECK_FALL: '2',
  BACKEND_CONNECT_TIMEOUT_MS: '1000',
}

/** BALANCER_ADMIN_TOKEN of the test balancers. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789'

/** An admin request as an operator's tool sends it: the token, and JSON bodies as JSON. */
export function adminFetch(balancer: Balancer, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  return fetch(`http://127.0.0.1:${balancer.adminAddress()!.port}${path}`, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) })
}

export async function balancerInFront(backends: readonly TaggedBackend[], env: Env = {}, options: Partial<BalancerOptions> = {}): Promise<Balancer> {
  const config = loadConfig({
    BALANCER_ADMIN_TOKEN: ADMIN_TOKEN,
    BALANCER_HOST: '127.0.0.1',
    BALANCER_PORT: '0',
    BALANCER_ADMIN_PORT: '0',
    BACKENDS: backends.map((b) => `127.0.0.1:${b.port}`).join(','),
    ...FAST_HEALTH,
    ...env,
  })
  const balancer = new Balancer({ config, ...options })
  await balancer.listen()
  await balancer.ready()
  return balancer
}

export function connectVia(balancer: Balancer): Promise<ClientConnection> {
  return ClientConnection.connect({ host: '127.0.0.1', port: balancer.address()!.port, timeoutMs: 3000 })
}

/** Which backend serves this client (by the echo's tag). */
export async function whoServes(client: ClientConnection): Promise<number> {
  const reply = await client.request(FrameType.CHAT, Buffer.from('who'))
  return reply.type - 0x8100
}

export function backendIdOf(backend: TaggedBackend): string {
  return `127.0.0.1:${backend.port}`
}
