/**
 * The TCP game server: accepts sockets (listen backlog LISTEN_BACKLOG), caps them at MAX_SESSIONS
 * (lowered to what the open-file limit allows, see fd-limit.ts) and at MAX_CONNECTIONS_PER_ADDRESS
 * per client address, runs one pooled Session per socket, sweeps idle sessions and frames left
 * incomplete past FRAME_DEADLINE_MS, and shuts down gracefully:
 *
 *   close(deadlineMs): stop accepting → stop reading every session → let the dispatcher finish
 *   what it queued (`dispatcher.drain`, else one event-loop turn) → ERROR SHUTTING_DOWN + flush +
 *   end every session → resolve when all sockets closed; stragglers destroyed at the deadline.
 */
import { createServer, type AddressInfo, type Server } from 'node:net'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { Config } from '../config/index.js'
import { withDeadline } from '../deadline.js'
import { silentLogger, type Logger } from '../logger.js'
import { BufferPool, type BufferPoolStats } from './buffer-pool.js'
import { encodeErrorPayload } from '../protocol/error-frame.js'
import { encodeFrame } from '../protocol/header.js'
import { FrameType, WireError } from '../protocol/types.js'
import { listenError } from '../tcp.js'
import type { CloseReason, Connection, FrameDispatcher } from './connection.js'
import { sessionCap, type SessionCap } from './fd-limit.js'
import { FlushScheduler } from './flush-scheduler.js'
import { noopNetMetrics, type NetMetrics } from './metrics.js'
import { sessionOptionsFromConfig, type SessionOptions } from './options.js'
import { Session, type SessionHost } from './session.js'
import { SessionPool, type SessionPoolStats } from './session-pool.js'
import type { Transport, TransportKind } from './transport.js'
import { WebSocketListener, type HttpAsset } from './ws-listener.js'

export interface GameServerOptions {
  readonly config: Config
  readonly dispatcher: FrameDispatcher
  readonly metrics?: NetMetrics
  readonly logger?: Logger
  /** Overrides of the session options resolved from config (tests, benchmarks). */
  readonly session?: Partial<SessionOptions>
  /** The process's open-file limit (tests); default: read from /proc/self/limits. */
  readonly openFileLimit?: number | null
  /** Static files the WebSocket listener serves over HTTP (the playground), by path. */
  readonly webAssets?: ReadonlyMap<string, HttpAsset>
}

/**
 * The sessions of one transport: their pool, and the metrics they report through (the
 * transport's, `NetMetrics.forTransport`). Both transports share the server's options,
 * dispatcher, send buffers, flush scheduler, session cap and address limits.
 */
class TransportSessions implements SessionHost {
  readonly pool: SessionPool
  readonly metrics: NetMetrics

  constructor(private readonly server: GameServer, readonly kind: TransportKind) {
    this.metrics = server.metrics.forTransport(kind)
    this.pool = new SessionPool(server.options.sessionPoolSize, () => new Session(this))
  }

  get options(): SessionOptions {
    return this.server.options
  }
  get dispatcher(): FrameDispatcher {
    return this.server.dispatcher
  }
  get logger(): Logger {
    return this.server.logger
  }
  get buffers(): BufferPool {
    return this.server.buffers
  }
  get scheduler(): FlushScheduler {
    return this.server.scheduler
  }

  sessionEnded(session: Session, reason: CloseReason): void {
    this.server.sessionEnded(session, reason)
    this.pool.release(session)
  }
}

export type GameServerStatus = 'created' | 'listening' | 'closing' | 'closed'

const CLOSE_REASONS: readonly CloseReason[] = [
  'client-closed', 'logout', 'idle-timeout', 'protocol-violation', 'rate-limited', 'slow-client', 'server-full', 'shutdown', 'socket-error', 'replaced', 'frame-timeout', 'address-limit',
]

/**
 * A refused socket holds its descriptor until it is closed. Past this many refusals in flight the
 * next is destroyed at once, without the error frame: in a storm the descriptors matter more.
 */
const MAX_REFUSING = 256
/** How long a refused client gets to read its error frame before the socket is destroyed. */
const REFUSE_GRACE_MS = 1000

export interface GameServerStats {
  readonly status: GameServerStatus
  readonly activeSessions: number
  readonly accepted: number
  /** Connects refused with SERVER_FULL or TOO_MANY_CONNECTIONS (also counted in closedByReason). */
  readonly rejected: number
  /** The session cap in force and where it came from. */
  readonly sessionCap: SessionCap
  /** Distinct client addresses with open sessions. */
  readonly addresses: number
  readonly closedByReason: Readonly<Record<CloseReason, number>>
  readonly outboundBytes: number
  readonly sessionPool: SessionPoolStats
  readonly sendBuffers: BufferPoolStats
}

/** Free send-buffer chunks kept for reuse (× SEND_BUFFER_BYTES each). */
const MAX_FREE_CHUNKS = 1024

export class GameServer {
  readonly options: SessionOptions
  readonly dispatcher: FrameDispatcher
  readonly metrics: NetMetrics
  readonly logger: Logger
  readonly buffers: BufferPool
  readonly scheduler: FlushScheduler
  private readonly config: Config
  private readonly server: Server
  /** WS_PORT set: the WebSocket listener, whose sessions are this server's like TCP ones. */
  private readonly webSocket: WebSocketListener | null
  private readonly transports: Readonly<Record<TransportKind, TransportSessions>>
  private readonly active = new Set<Session>()
  readonly cap: SessionCap
  private readonly perAddress = new Map<string, number>()
  private readonly addressOf = new Map<Session, string>()
  private refusing = 0
  private readonly closedByReason = Object.fromEntries(CLOSE_REASONS.map((r) => [r, 0])) as Record<CloseReason, number>
  private status: GameServerStatus = 'created'
  private accepted = 0
  private rejected = 0
  private nextConnectionId = 0
  private sweepTimer: NodeJS.Timeout | null = null
  private closing: Promise<void> | null = null
  private allClosed: (() => void) | null = null

  constructor(options: GameServerOptions) {
    this.config = options.config
    this.dispatcher = options.dispatcher
    this.metrics = options.metrics ?? noopNetMetrics
    this.logger = (options.logger ?? silentLogger).child({ component: 'game-server' })
    this.options = sessionOptionsFromConfig(options.config, options.session)
    this.cap = options.openFileLimit === undefined ? sessionCap(options.config.server.maxSessions) : sessionCap(options.config.server.maxSessions, options.openFileLimit)
    this.buffers = new BufferPool({ bufferBytes: this.options.sendBufferBytes, maxFree: MAX_FREE_CHUNKS })
    this.scheduler = new FlushScheduler(this.options.idleFlushMode, (err) => this.logger.error({ err }, 'idle flush failed'))
    this.transports = { tcp: new TransportSessions(this, 'tcp'), ws: new TransportSessions(this, 'ws') }
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket, 'tcp'))
    this.server.on('error', (err) => this.logger.error({ err }, 'listen socket error'))
    const ws = options.config.webSocket
    this.webSocket = ws.port === undefined ? null : new WebSocketListener({
      path: ws.path,
      allowedOrigins: ws.allowedOrigins,
      maxFrameBytes: this.options.maxFrameBytes,
      accept: (transport, kind) => this.accept(transport, kind),
      trustProxyHeader: ws.trustProxyHeader,
      ...(options.webAssets ? { assets: options.webAssets } : {}),
      logger: this.logger,
    })
  }

  /** Listen on host:port (defaults: GAME_HOST, GAME_PORT) with backlog LISTEN_BACKLOG. */
  async listen(host: string = this.config.server.host, port: number = this.config.server.port): Promise<AddressInfo> {
    if (this.status !== 'created') throw new Error(`cannot listen in status ${this.status}`)
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(listenError(err, { host: 'GAME_HOST', port: 'GAME_PORT' }, host, port))
      this.server.once('error', onError)
      this.server.listen({ host, port, backlog: this.config.server.listenBacklog }, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    if (this.webSocket !== null) {
      try {
        await this.webSocket.listen(this.config.webSocket.host ?? host, this.config.webSocket.port!)
      } catch (err) {
        await new Promise<void>((resolve) => this.server.close(() => resolve()))
        throw err
      }
    }
    this.status = 'listening'
    const timeouts = [this.options.idleTimeoutMs, this.options.frameDeadlineMs].filter((ms) => ms > 0)
    if (timeouts.length > 0) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), Math.min(1000, Math.max(20, Math.floor(Math.min(...timeouts) / 10))))
      this.sweepTimer.unref()
    }
    const address = this.address()!
    this.logger.info({ host: address.address, port: address.port, backlog: this.config.server.listenBacklog, maxSessions: this.cap.maxSessions, maxSessionsSource: this.cap.source, openFileLimit: this.cap.openFileLimit }, 'game server listening')
    if (this.cap.source === 'open-file-limit') {
      this.logger.warn({ maxSessionsConfigured: this.config.server.maxSessions, maxSessions: this.cap.maxSessions, openFileLimit: this.cap.openFileLimit }, 'MAX_SESSIONS lowered to what the open-file limit allows; raise `ulimit -n` for more')
    }
    return address
  }

  address(): AddressInfo | null {
    const address = this.server.address()
    return address !== null && typeof address === 'object' ? address : null
  }

  /** The WebSocket listener's address (null when WS_PORT is unset or not listening). */
  webSocketAddress(): AddressInfo | null {
    return this.webSocket?.address() ?? null
  }

  get activeSessions(): number {
    return this.active.size
  }

  /** The open connections (for broadcasts that bypass the game's own registry, and tests). */
  *connections(): IterableIterator<Connection> {
    for (const session of this.active) if (session.connection !== null) yield session.connection
  }

  stats(): GameServerStats {
    let outboundBytes = 0
    for (const session of this.active) outboundBytes += session.outboundBytes
    return {
      status: this.status,
      activeSessions: this.active.size,
      accepted: this.accepted,
      rejected: this.rejected,
      sessionCap: this.cap,
      addresses: this.perAddress.size,
      closedByReason: { ...this.closedByReason },
      outboundBytes,
      sessionPool: mergePoolStats(this.transports.tcp.pool.stats(), this.transports.ws.pool.stats()),
      sendBuffers: this.buffers.stats(),
    }
  }

  /** Graceful shutdown within `deadlineMs` (default SHUTDOWN_DEADLINE_MS). Idempotent. */
  close(deadlineMs: number = this.config.server.shutdownDeadlineMs): Promise<void> {
    this.closing ??= this.shutdown(deadlineMs)
    return this.closing
  }

  /** Alias of close() for owners that stop things (test harness). */
  stop(): Promise<void> {
    return this.close()
  }

  sessionEnded(session: Session, reason: CloseReason): void {
    this.active.delete(session)
    const address = this.addressOf.get(session)
    if (address !== undefined) {
      this.addressOf.delete(session)
      const left = (this.perAddress.get(address) ?? 1) - 1
      if (left > 0) this.perAddress.set(address, left)
      else this.perAddress.delete(address)
    }
    this.closedByReason[reason]++
    if (this.active.size === 0 && this.allClosed !== null) this.allClosed()
  }

  /**
   * Run a session on an accepted transport (the TCP listener's sockets, the WebSocket listener's
   * connections): the same cap, address limit and refusal for both.
   */
  accept(socket: Transport, kind: TransportKind): void {
    if (this.status !== 'listening') {
      socket.destroy()
      return
    }
    if (this.active.size >= this.cap.maxSessions) {
      this.refuse(socket, 'server-full', WireError.SERVER_FULL, 'server full')
      return
    }
    const address = socket.remoteAddress ?? ''
    const fromAddress = this.perAddress.get(address) ?? 0
    const perAddressLimit = this.config.server.maxConnectionsPerAddress
    if (perAddressLimit > 0 && fromAddress >= perAddressLimit) {
      this.refuse(socket, 'address-limit', WireError.TOO_MANY_CONNECTIONS, `at most ${perAddressLimit} connections per address`)
      return
    }
    this.accepted++
    const session = this.transports[kind].pool.acquire()
    this.active.add(session)
    this.perAddress.set(address, fromAddress + 1)
    this.addressOf.set(session, address)
    session.open(socket, ++this.nextConnectionId, performance.now())
  }

  private refuse(socket: Transport, reason: 'server-full' | 'address-limit', code: number, message: string): void {
    this.rejected++
    this.closedByReason[reason]++
    this.metrics.sessionClosed(reason)
    socket.on('error', () => {})
    if (this.refusing >= MAX_REFUSING) {
      socket.destroy()
      return
    }
    this.refusing++
    // A hard deadline, not socket.setTimeout (an idle timeout): a refused client that keeps sending
    // must not hold its socket open, uncounted by the session cap, for as long as it likes.
    const deadline = setTimeout(() => socket.destroy(), Math.min(REFUSE_GRACE_MS, this.options.closeGraceMs))
    deadline.unref()
    socket.once('close', () => {
      this.refusing--
      clearTimeout(deadline)
    })
    socket.resume()
    socket.endWith?.(code, message)
    socket.end(encodeFrame(FrameType.ERROR, 0, 0, encodeErrorPayload(code, 0, message, this.options.maxFrameBytes)))
  }

  private sweepIdle(): void {
    const now = performance.now()
    const idleMs = this.options.idleTimeoutMs
    const frameMs = this.options.frameDeadlineMs
    for (const session of this.active) {
      try {
        if (frameMs > 0 && session.closeIfFrameStalled(now, frameMs)) continue
        if (idleMs > 0) session.closeIfIdle(now, idleMs)
      } catch (err) {
        this.logger.error({ err }, 'idle sweep failed for a session')
      }
    }
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const deadline = performance.now() + deadlineMs
    const wasListening = this.status === 'listening'
    this.status = 'closing'
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    this.sweepTimer = null
    const serverClosed = wasListening ? Promise.all([new Promise<void>((resolve) => this.server.close(() => resolve())), this.webSocket?.close()]) : Promise.resolve()
    this.logger.info({ sessions: this.active.size, deadlineMs }, 'game server shutting down')

    for (const session of this.active) session.stopReading()
    try {
      await withDeadline(this.dispatcher.drain ? Promise.resolve(this.dispatcher.drain()) : nextTurn(), deadline - performance.now())
    } catch (err) {
      this.logger.error({ err }, 'dispatcher drain failed during shutdown')
    }
    for (const session of [...this.active]) {
      session.sendError(WireError.SHUTTING_DOWN, 0, 'server shutting down')
      session.close('shutdown')
    }
    if (this.active.size > 0) {
      const all = new Promise<void>((resolve) => (this.allClosed = resolve))
      const inTime = await withDeadline(all, deadline - performance.now())
      if (!inTime) {
        this.logger.warn({ sessions: this.active.size }, 'shutdown deadline reached; destroying remaining sessions')
        for (const session of [...this.active]) session.destroy('shutdown')
        await withDeadline(all, 1000)
      }
      this.allClosed = null
    }
    await withDeadline(serverClosed, 1000)
    this.status = 'closed'
    this.logger.info({ stats: this.stats().closedByReason }, 'game server closed')
  }
}

function mergePoolStats(a: SessionPoolStats, b: SessionPoolStats): SessionPoolStats {
  return { free: a.free + b.free, created: a.created + b.created, reused: a.reused + b.reused, dropped: a.dropped + b.dropped }
}
