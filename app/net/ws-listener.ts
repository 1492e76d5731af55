/**
 * The WebSocket listener: an HTTP server on its own port (WS_PORT) whose upgrades on WS_PATH
 * become sessions of the game server (each WebSocket wrapped in a `WebSocketTransport`), and whose
 * GET requests serve a fixed set of static assets (the playground page and its browser client,
 * handed in by the composition root; the net layer knows no page).
 *
 * Browser safety, checked before the upgrade:
 *   - Origin: no Origin header (native clients, tools) is allowed; a browser's Origin must be the
 *     listener's own (the Host it was asked for: the page it served) or one of WS_ALLOWED_ORIGINS
 *     (`*` allows all), else 403 — a page on another site cannot ride a visitor's browser into the
 *     game (cross-site WebSocket hijacking).
 *   - maxPayload: a message of more than MESSAGE_FRAMES × MAX_FRAME_BYTES is refused by ws (close
 *     1009) before it is buffered whole.
 *   - permessage-deflate is off: the server's large flushes already go out as zlib BATCH frames,
 *     and a second compression layer costs CPU and a per-connection zlib context for nothing
 *     (BENCHMARKS.md "WebSocket transport"). *
 * Client addresses behind a proxy (`trustProxyHeader`, WS_TRUST_PROXY_HEADER): a connection may
 * open with a PROXY v1 line (the balancer's WebSocket front with BALANCER_SEND_PROXY_HEADER, or
 * HAProxy / nginx `proxy_protocol`) before its HTTP request; the line's source becomes the
 * session's address, so per-address login throttling sees browser players, not the proxy. The
 * listener then accepts on a plain TCP server, reads the line, and hands the socket to the HTTP
 * server. Like TRUST_PROXY_HEADER on the game port: only where clients cannot reach the port
 * directly (whoever can reach it can claim any address).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Logger } from '../logger.js'
import { parseProxyV1 } from '../protocol/proxy-header.js'
import { listenError } from '../tcp.js'
import type { TransportKind } from './transport.js'
import { WebSocketTransport } from './ws-transport.js'

/** A client message may hold several whole frames: up to this many maximum-size frames' worth. */
export const MESSAGE_FRAMES = 4
/** With trustProxyHeader: a connection that has not finished its PROXY line (or begun HTTP) by then is closed. */
const PROXY_HEADER_TIMEOUT_MS = 10_000

export interface HttpAsset {
  readonly contentType: string
  readonly body: Buffer
}

export interface WebSocketListenerOptions {
  readonly path: string
  readonly allowedOrigins: readonly string[]
  readonly maxFrameBytes: number
  /** Called with every accepted WebSocket. */
  readonly accept: (transport: WebSocketTransport, kind: TransportKind) => void
  /** GET path → asset (e.g. `/` → the playground page). */
  readonly assets?: ReadonlyMap<string, HttpAsset>
  /** WS_TRUST_PROXY_HEADER: a PROXY v1 line may open a connection and name the client's address. */
  readonly trustProxyHeader?: boolean
  readonly logger: Logger
}

export interface WebSocketListenerStats {
  readonly upgrades: number
  readonly refusedOrigin: number
  readonly refusedPath: number
  /** Connections closed for a malformed PROXY line (trustProxyHeader). */
  readonly refusedProxyHeader: number
}

/**
 * Whether a browser upgrade from `origin` may proceed: absent (not a browser), the listener's own
 * origin (its Host), listed, or `*` listed.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true
  if (allowed.includes('*') || allowed.includes(origin)) return true
  if (host === undefined) return false
  try {
    return new URL(origin).host === host.toLowerCase()
  } catch {
    return false
  }
}

export class WebSocketListener {
  private readonly http: Server
  /** What listens: the HTTP server itself, or (trustProxyHeader) a TCP server that reads the PROXY line first. */
  private readonly listener: Server | TcpServer
  private readonly wss: WebSocketServer
  /** Client addresses named by PROXY lines, by connection. */
  private readonly proxied = new WeakMap<Socket, string>()
  private upgrades = 0
  private refusedOrigin = 0
  private refusedPath = 0
  private refusedProxyHeader = 0
  private closing: Promise<void> | null = null

  constructor(private readonly options: WebSocketListenerOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MESSAGE_FRAMES * options.maxFrameBytes, perMessageDeflate: false, clientTracking: false })
    this.http = createServer((req, res) => this.serve(req, res))
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head))
    this.http.on('clientError', (_err, socket: Duplex) => socket.destroy())
    this.listener = options.trustProxyHeader === true ? createTcpServer((socket) => this.readProxyHeader(socket)) : this.http
    this.listener.on('error', (err) => options.logger.error({ err }, 'WebSocket listen socket error'))
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(listenError(err, { host: 'WS_HOST', port: 'WS_PORT' }, host, port))
      this.listener.once('error', onError)
      this.listener.listen({ host, port }, () => {
        this.listener.off('error', onError)
        resolve()
      })
    })
    const address = this.address()!
    this.options.logger.info({ host: address.address, port: address.port, path: this.options.path, allowedOrigins: this.options.allowedOrigins, trustProxyHeader: this.options.trustProxyHeader === true }, 'WebSocket listener listening')
    return address
  }

  address(): AddressInfo | null {
    const address = this.listener.address()
    return address !== null && typeof address === 'object' ? address : null
  }

  stats(): WebSocketListenerStats {
    return { upgrades: this.upgrades, refusedOrigin: this.refusedOrigin, refusedPath: this.refusedPath, refusedProxyHeader: this.refusedProxyHeader }
  }

  /** Stop accepting (sessions already open are the game server's to close). Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.listener.listening) {
        resolve()
        return
      }
      this.listener.close(() => resolve())
      this.http.closeIdleConnections()
    })
    return this.closing
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignore)
    if (this.closing !== null) {
      socket.destroy()
      return
    }
    const path = (req.url ?? '').split('?')[0]
    if (path !== this.options.path) {
      this.refusedPath++
      refuseUpgrade(socket, 404, 'Not Found')
      return
    }
    if (!originAllowed(req.headers.origin, req.headers.host, this.options.allowedOrigins)) {
      this.refusedOrigin++
      this.options.logger.info({ code: 'GS_ERR_WS_ORIGIN_REFUSED', origin: req.headers.origin, remoteAddress: req.socket.remoteAddress }, 'WebSocket upgrade refused: origin not allowed')
      refuseUpgrade(socket, 403, 'Forbidden')
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      this.upgrades++
      socket.off('error', ignore)
      const connection = req.socket as Socket
      this.options.accept(new WebSocketTransport(ws, connection, this.proxied.get(connection) ?? connection.remoteAddress), 'ws')
    })
  }

  /**
   * trustProxyHeader: hold the first bytes until it is clear whether a PROXY line opens the
   * connection (a browser's own "GET" shows at once that none does), note the address it names,
   * then hand the connection, and the bytes after the line, to the HTTP server.
   */
  private readProxyHeader(socket: Socket): void {
    let seen: Buffer = Buffer.alloc(0)
    const timer = setTimeout(() => socket.destroy(), PROXY_HEADER_TIMEOUT_MS).unref()
    const done = (): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('error', ignore)
    }
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk])
      const parsed = parseProxyV1(seen)
      if (parsed.kind === 'incomplete') return
      done()
      if (parsed.kind === 'invalid') {
        this.refusedProxyHeader++
        this.options.logger.info({ code: 'GS_ERR_WS_PROXY_HEADER', reason: parsed.reason, remoteAddress: socket.remoteAddress }, 'WebSocket connection refused: bad PROXY header')
        socket.destroy()
        return
      }
      if (parsed.kind === 'header' && parsed.source !== null) this.proxied.set(socket, parsed.source)
      const rest = parsed.kind === 'header' ? seen.subarray(parsed.consumed) : seen
      socket.pause()
      if (rest.length > 0) socket.unshift(rest)
      if (this.closing !== null) {
        socket.destroy()
        return
      }
      this.http.emit('connection', socket)
      socket.resume()
    }
    socket.on('error', ignore)
    socket.on('data', onData)
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!
    const asset = this.options.assets?.get(path)
    if (asset === undefined) {
      res.writeHead(path === this.options.path ? 426 : 404, { 'content-type': 'text/plain; charset=utf-8' })
      res.end(path === this.options.path ? 'Upgrade Required: this path speaks WebSocket\n' : 'Not Found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' })
      res.end()
      return
    }
    res.writeHead(200, {
      'content-type': asset.contentType,
      'content-length': asset.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'",
    })
    res.end(req.method === 'HEAD' ? undefined : asset.body)
  }
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  setTimeout(() => socket.destroy(), 1000).unref()
}

function ignore(): void {}
