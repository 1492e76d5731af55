/**
 * The balancer's admin interface: JSON over HTTP on BALANCER_ADMIN_HOST:BALANCER_ADMIN_PORT.
 *
 *   GET    /status                          strategy, backends (state, sessions, latency…), proxy stats
 *   GET    /backends                        the backends
 *   POST   /backends          {address, weight?}           add (address host:port or host:port/wsPort) → 201
 *   DELETE /backends/:id      [?drainMs=N]  drain (default DRAIN_DEADLINE_MS; 0 = cut now) and remove
 *   POST   /backends/:id/drain {deadlineMs?, wait?}        drain; 202 at once, or 200 with the result when wait
 *   PUT    /backends/:id/weight {weight}                   change the weight
 *   GET    /strategy · PUT /strategy {strategy}            read / switch the strategy
 *
 * `:id` is `host:port` (URL-encoded or not). Every mutating request is logged with its outcome;
 * errors answer `{ error: { code, message } }` with 400 / 401 / 403 / 404 / 409 / 415 / 503.
 *
 * Before any route, every request must (docs/BALANCER.md "Admin interface security"):
 *   - carry `Authorization: Bearer <BALANCER_ADMIN_TOKEN>` (compared in constant time); with no
 *     token configured the interface refuses everything — it can drain and add backends;
 *   - name this listener in `Host` (a DNS-rebinding page's Host is its own name) and carry no
 *     `Origin` and no cross-site `Sec-Fetch-Site` (browsers add them; operators' tools do not);
 *   - send a body, on POST and PUT, as `application/json` (a cross-site form can only send
 *     text/plain, urlencoded or multipart without a preflight).
 * A backend added here starts unhealthy and gets traffic only after HEALTH_CHECK_RISE checks pass.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseBackendAddress } from '../config/schema.js'
import { GameServerError, isGameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { listenError } from '../tcp.js'
import type { Balancer } from './balancer.js'
import { isStrategyName, STRATEGY_NAMES } from './strategies.js'

const MAX_BODY_BYTES = 16384

type Handler = (params: string[], body: Record<string, unknown>, url: URL) => Promise<{ status: number; body: unknown }> | { status: number; body: unknown }

interface Route {
  readonly method: string
  readonly pattern: RegExp
  readonly mutating: boolean
  readonly handler: Handler
}

export class AdminServer {
  private readonly server: Server
  private readonly routes: Route[]
  private readonly logger: Logger
  private closing: Promise<void> | null = null

  private readonly tokenDigest: Buffer | null
  private hosts: ReadonlySet<string> = new Set()

  constructor(
    private readonly balancer: Balancer,
    logger: Logger,
    /** BALANCER_ADMIN_TOKEN; undefined refuses every request. */
    token: string | undefined,
  ) {
    this.tokenDigest = token === undefined ? null : digest(token)
    this.logger = logger.child({ component: 'balancer-admin' })
    this.routes = this.buildRoutes()
    this.server = createServer((req, res) => void this.handle(req, res))
    this.server.keepAliveTimeout = 1000
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(listenError(err, { host: 'BALANCER_ADMIN_HOST', port: 'BALANCER_ADMIN_PORT' }, host, port))
      this.server.once('error', onError)
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    const address = this.address()!
    this.hosts = allowedHosts(host, address.port)
    return address
  }

  /**
   * The checks every request passes before its route (see the header comment). Throws
   * GS_ERR_ADMIN_FORBIDDEN (403) or GS_ERR_ADMIN_UNAUTHORIZED (401).
   */
  private authorise(req: IncomingMessage): void {
    const host = req.headers.host ?? ''
    if (!this.hosts.has(host.toLowerCase())) throw forbidden(`Host "${host}" does not name this admin interface`)
    if (req.headers.origin !== undefined) throw forbidden('cross-origin requests (Origin header) are refused')
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'none' && site !== 'same-origin') throw forbidden(`Sec-Fetch-Site ${String(site)} is refused`)
    if (this.tokenDigest === null) throw unauthorized('BALANCER_ADMIN_TOKEN is not set: the admin interface is disabled')
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')
    if (match === null || !timingSafeEqual(digest(match[1]!), this.tokenDigest)) throw unauthorized('missing or wrong admin token (Authorization: Bearer …)')
  }

  address(): AddressInfo | null {
    const address = this.server.address()
    return address !== null && typeof address === 'object' ? address : null
  }

  close(): Promise<void> {
    this.closing ??= new Promise((resolve) => {
      if (!this.server.listening) return resolve()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    return this.closing
  }

  private buildRoutes(): Route[] {
    const b = this.balancer
    const id = '([^/]+)'
    return [
      { method: 'GET', pattern: /^\/status$/, mutating: false, handler: () => ({ status: 200, body: b.status() }) },
      { method: 'GET', pattern: /^\/backends$/, mutating: false, handler: () => ({ status: 200, body: b.status().backends }) },
      {
        method: 'POST',
        pattern: /^\/backends$/,
        mutating: true,
        handler: (_p, body) => {
          const { webSocketPort, ...address } = backendAddress(requireString(body, 'address'))
          const weight = optionalPositive(body, 'weight')
          // no traffic before it has passed HEALTH_CHECK_RISE checks: an address typed by hand is not yet known to answer
          const backend = b.addBackend(address, { source: 'admin', initialState: 'unhealthy', ...(weight === undefined ? {} : { weight }), ...(webSocketPort === undefined ? {} : { webSocketPort }) })
          return { status: 201, body: backend.snapshot() }
        },
      },
      {
        method: 'DELETE',
        pattern: new RegExp(`^/backends/${id}$`),
        mutating: true,
        handler: async (p, _body, url) => {
          const raw = url.searchParams.get('drainMs')
          const drainMs = raw === null ? undefined : Number(raw)
          if (drainMs !== undefined && !(Number.isInteger(drainMs) && drainMs >= 0)) throw badRequest('drainMs must be an integer ≥ 0')
          return { status: 200, body: await b.removeBackend(p[0]!, drainMs === undefined ? {} : { drainMs }) }
        },
      },
      {
        method: 'POST',
        pattern: new RegExp(`^/backends/${id}/drain$`),
        mutating: true,
        handler: async (p, body) => {
          const deadlineMs = optionalPositive(body, 'deadlineMs', true)
          const result = b.drain(p[0]!, deadlineMs)
          if (body.wait === true) return { status: 200, body: await result }
          return { status: 202, body: { backend: p[0], state: 'draining' } }
        },
      },
      {
        method: 'PUT',
        pattern: new RegExp(`^/backends/${id}/weight$`),
        mutating: true,
        handler: (p, body) => {
          const weight = optionalPositive(body, 'weight')
          if (weight === undefined) throw badRequest('weight is required')
          return { status: 200, body: b.setWeight(p[0]!, weight).snapshot() }
        },
      },
      { method: 'GET', pattern: /^\/strategy$/, mutating: false, handler: () => ({ status: 200, body: { strategy: b.pool.strategy, available: STRATEGY_NAMES } }) },
      {
        method: 'PUT',
        pattern: /^\/strategy$/,
        mutating: true,
        handler: (_p, body) => {
          const strategy = body.strategy
          if (!isStrategyName(strategy)) throw badRequest(`strategy must be one of ${STRATEGY_NAMES.join(', ')}`)
          b.setStrategy(strategy)
          return { status: 200, body: { strategy } }
        },
      },
    ]
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin')
    const method = req.method ?? 'GET'
    let route: Route | undefined
    let params: string[] = []
    for (const candidate of this.routes) {
      const match = candidate.pattern.exec(url.pathname)
      if (match && candidate.method === method) {
        route = candidate
        params = match.slice(1).map((s) => decodeURIComponent(s))
        break
      }
    }
    try {
      this.authorise(req)
      if (route === undefined) throw new GameServerError('GS_ERR_ADMIN_BAD_REQUEST', `no route ${method} ${url.pathname}`, { method, path: url.pathname, status: 404 })
      if (method === 'POST' || method === 'PUT') requireJson(req)
      const body = method === 'GET' || method === 'DELETE' ? {} : await readJson(req)
      const result = await route.handler(params, body, url)
      if (route.mutating) this.logger.info({ action: `${method} ${url.pathname}`, request: body, status: result.status }, 'admin action')
      reply(res, result.status, result.body)
    } catch (err) {
      const status = statusOf(err)
      const code = isGameServerError(err) ? err.code : 'GS_ERR_ADMIN_BAD_REQUEST'
      const message = (err as Error).message
      this.logger[status >= 500 ? 'error' : 'warn']({ action: `${method} ${url.pathname}`, code, err: message, status, remoteAddress: req.socket.remoteAddress }, 'admin action refused')
      reply(res, status, { error: { code, message } })
    }
  }
}

/** Host headers that name this listener: its own address and the loopback spellings, with its port. */
function allowedHosts(listenHost: string, port: number): ReadonlySet<string> {
  const own = listenHost.includes(':') ? `[${listenHost}]` : listenHost
  return new Set([`${own}:${port}`.toLowerCase(), `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`])
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

function requireJson(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase()
  if (type !== 'application/json') throw new GameServerError('GS_ERR_ADMIN_BAD_REQUEST', `Content-Type must be application/json, not "${type || 'none'}"`, { status: 415 })
}

function unauthorized(message: string): GameServerError {
  return new GameServerError('GS_ERR_ADMIN_UNAUTHORIZED', message, {})
}

function forbidden(message: string): GameServerError {
  return new GameServerError('GS_ERR_ADMIN_FORBIDDEN', message, {})
}

function statusOf(err: unknown): number {
  if (!isGameServerError(err)) return 500
  switch (err.code) {
    case 'GS_ERR_ADMIN_BAD_REQUEST':
      return typeof err.context.status === 'number' ? err.context.status : 400
    case 'GS_ERR_ADMIN_UNAUTHORIZED':
      return 401
    case 'GS_ERR_ADMIN_FORBIDDEN':
      return 403
    case 'GS_ERR_BACKEND_UNKNOWN':
      return 404
    case 'GS_ERR_BACKEND_EXISTS':
      return 409
    case 'GS_ERR_BALANCER_CLOSED':
      return 503
    default:
      return 500
  }
}

function badRequest(message: string): GameServerError {
  return new GameServerError('GS_ERR_ADMIN_BAD_REQUEST', message, {})
}

function backendAddress(raw: string): ReturnType<typeof parseBackendAddress> {
  try {
    return parseBackendAddress(raw)
  } catch (err) {
    throw badRequest(`address: ${(err as Error).message}`)
  }
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field]
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`${field} (string) is required`)
  return value
}

function optionalPositive(body: Record<string, unknown>, field: string, allowZero = false): number | undefined {
  const value = body[field]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw badRequest(`${field} must be a ${allowZero ? 'non-negative' : 'positive'} number`)
  return value
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw badRequest(`body larger than ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw badRequest('body is not JSON')
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('body must be a JSON object')
  return parsed as Record<string, unknown>
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
