/**
 * The balancer's TCP front: accepts clients (paused until a backend is connected), runs one
 * ProxySession each, keeps the sessions per backend (drain, removal, stats), and closes
 * gracefully: stop accepting, let sessions finish until the deadline, then cut the rest.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { withDeadline } from '../deadline.js'
import { GameServerError } from '../errors.js'
import { listenError } from '../tcp.js'
import { silentLogger, type Logger } from '../logger.js'
import type { Backend } from './backend.js'
import type { BackendPool } from './backend-pool.js'
import { noopBalancerMetrics, type BalancerMetrics, type ProxyCloseReason } from './metrics.js'
import { NO_BACKEND_FRAME, ProxySession, type ProxySessionHost } from './proxy-session.js'
import { encodeErrorPayload } from '../protocol/error-frame.js'
import { encodeFrame } from '../protocol/header.js'
import { FrameType, WireError } from '../protocol/types.js'

const TOO_MANY_FRAME = encodeFrame(FrameType.ERROR, 0, 0, encodeErrorPayload(WireError.TOO_MANY_CONNECTIONS, 0, 'too many connections from this address'))

/** How long a closing session may take to flush what it holds before it is destroyed. */
const CLOSE_GRACE_MS = 5000

export interface ProxyOptions {
  readonly connectTimeoutMs: number
  /** Open each backend connection with a PROXY v1 line naming the client (BALANCER_SEND_PROXY_HEADER). */
  readonly sendProxyHeader: boolean
  /** PING probe of a fresh backend connection before the client is handed over; 0 skips it (BACKEND_RESPONSE_TIMEOUT_MS). */
  readonly responseTimeoutMs: number
  readonly retries: number
  readonly idleTimeoutMs: number
  /** How long a closing session may take to flush before it is destroyed [CLOSE_GRACE_MS]. */
  readonly closeGraceMs?: number
  /** LISTEN_BACKLOG. */
  readonly listenBacklog: number
  /** Client connections allowed from one IP address (BALANCER_MAX_CONNECTIONS_PER_ADDRESS); 0 = no limit. */
  readonly maxConnectionsPerAddress: number
  /** Failed connects in a row (passive check) after which a backend is marked down at once (HEALTH_CHECK_FALL). */
  readonly passiveFall: number
  readonly metrics?: BalancerMetrics
  readonly logger?: Logger
  /**
   * The balancer's WebSocket front: which backend port to connect to, and what refused clients get
   * (an HTTP status line instead of a game ERROR frame). Default: the backend's game port, ERROR frames.
   */
  readonly webSocket?: { readonly backendPort: (backend: Backend) => number; readonly noBackendReply: Buffer; readonly tooManyReply: Buffer }
}

export interface ProxyStats {
  readonly accepted: number
  readonly activeSessions: number
  readonly connecting: number
  readonly noBackend: number
  /** Clients refused with TOO_MANY_CONNECTIONS (MAX_CONNECTIONS_PER_ADDRESS). */
  readonly refusedByAddress: number
  readonly connectFailures: number
  readonly closedByReason: Readonly<Record<ProxyCloseReason, number>>
}

export interface DrainResult {
  readonly backend: string
  /** Sessions that ended on their own before the deadline. */
  readonly finished: number
  /** Sessions cut at the deadline. */
  readonly cut: number
}

export class ProxyServer implements ProxySessionHost {
  readonly connectTimeoutMs: number
  readonly responseTimeoutMs: number
  readonly sendProxyHeader: boolean
  readonly retries: number
  readonly idleTimeoutMs: number
  readonly closeGraceMs: number
  readonly noBackendReply: Buffer
  private readonly tooManyReply: Buffer
  private readonly portOf: (backend: Backend) => number
  private readonly server: Server
  private readonly sessions = new Set<ProxySession>()
  private readonly perAddress = new Map<string, number>()
  private refusedByAddress = 0
  private readonly byBackend = new Map<Backend, Set<ProxySession>>()
  private readonly emptyWaiters = new Map<Backend, Set<() => void>>()
  private readonly metrics: BalancerMetrics
  private readonly logger: Logger
  private readonly passiveFall: number
  private readonly closedByReason: Record<ProxyCloseReason, number> = { closed: 0, 'client-error': 0, 'backend-error': 0, 'idle-timeout': 0, drained: 0, shutdown: 0, removed: 0 }
  private accepted = 0
  private noBackendCount = 0
  private connectFailureCount = 0
  private status: 'created' | 'listening' | 'closing' | 'closed' = 'created'
  private closing: Promise<void> | null = null
  private allEnded: (() => void) | null = null
  private idleTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly pool: BackendPool,
    private readonly options: ProxyOptions,
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs
    this.responseTimeoutMs = options.responseTimeoutMs
    this.sendProxyHeader = options.sendProxyHeader
    this.retries = options.retries
    this.idleTimeoutMs = options.idleTimeoutMs
    this.closeGraceMs = options.closeGraceMs ?? CLOSE_GRACE_MS
    this.noBackendReply = options.webSocket?.noBackendReply ?? NO_BACKEND_FRAME
    this.tooManyReply = options.webSocket?.tooManyReply ?? TOO_MANY_FRAME
    this.portOf = options.webSocket?.backendPort ?? ((backend) => backend.port)
    this.passiveFall = options.passiveFall
    this.metrics = options.metrics ?? noopBalancerMetrics
    this.logger = (options.logger ?? silentLogger).child({ component: 'proxy' })
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => this.accept(socket))
    this.server.on('error', (err) => this.logger.error({ err }, 'balancer listen socket error'))
  }

  backendPort(backend: Backend): number {
    return this.portOf(backend)
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    if (this.status !== 'created') throw new GameServerError('GS_ERR_BALANCER_CLOSED', `cannot listen in status ${this.status}`, { status: this.status })
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(listenError(err, { host: 'BALANCER_HOST', port: 'BALANCER_PORT' }, host, port))
      this.server.once('error', onError)
      this.server.listen({ host, port, backlog: this.options.listenBacklog }, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    this.status = 'listening'
    if (this.idleTimeoutMs > 0) {
      // One sweep for all sessions instead of a socket timer refreshed on every read and write.
      this.idleTimer = setInterval(() => this.sweepIdle(), Math.max(20, Math.min(5000, Math.floor(this.idleTimeoutMs / 4))))
      this.idleTimer.unref()
    }
    return this.address()!
  }

  private sweepIdle(): void {
    const now = performance.now()
    for (const session of this.sessions) {
      if (session.state !== 'open') continue
      const activity = session.activity
      if (activity !== session.idleMark) {
        session.idleMark = activity
        session.idleSince = now
      } else if (now - session.idleSince >= this.idleTimeoutMs) {
        session.destroy('idle-timeout')
      }
    }
  }

  address(): AddressInfo | null {
    const address = this.server.address()
    return address !== null && typeof address === 'object' ? address : null
  }

  sessionCount(backend: Backend): number {
    return this.byBackend.get(backend)?.size ?? 0
  }

  stats(): ProxyStats {
    let connecting = 0
    for (const session of this.sessions) if (session.state === 'connecting') connecting++
    return {
      accepted: this.accepted,
      activeSessions: this.sessions.size - connecting,
      connecting,
      noBackend: this.noBackendCount,
      refusedByAddress: this.refusedByAddress,
      connectFailures: this.connectFailureCount,
      closedByReason: { ...this.closedByReason },
    }
  }

  /**
   * Let the backend's sessions finish for up to `deadlineMs`, then cut the rest. The caller marks
   * the backend draining first so no new session goes there.
   */
  async drain(backend: Backend, deadlineMs: number): Promise<DrainResult> {
    const initial = this.sessionCount(backend)
    let cut = 0
    if (initial > 0 && !(await this.waitEmpty(backend, deadlineMs))) {
      const left = [...(this.byBackend.get(backend) ?? [])]
      cut = left.length
      for (const session of left) session.destroy('drained')
    }
    return { backend: backend.id, finished: initial - cut, cut }
  }

  /** Destroy every session of a backend now (removal without drain). */
  cut(backend: Backend, reason: ProxyCloseReason): number {
    const sessions = [...(this.byBackend.get(backend) ?? [])]
    for (const session of sessions) session.destroy(reason)
    return sessions.length
  }

  /** Stop accepting; sessions get until `deadlineMs` to end, then are destroyed. Idempotent. */
  close(deadlineMs: number): Promise<void> {
    this.closing ??= this.shutdown(deadlineMs)
    return this.closing
  }

  // ProxySessionHost

  pick(exclude: ReadonlySet<Backend>): Backend | undefined {
    return this.status === 'listening' ? this.pool.pick(exclude) : undefined
  }

  connectFailed(_session: ProxySession, backend: Backend, error: Error): void {
    this.connectFailureCount++
    backend.connectFailures++
    this.metrics.connectFailed(backend.id)
    // Passive health: refused connects count like failed checks.
    backend.consecutiveSuccesses = 0
    backend.consecutiveFailures++
    if (backend.state === 'healthy' && backend.consecutiveFailures >= this.passiveFall) {
      this.pool.setState(backend, 'unhealthy', `${backend.consecutiveFailures} connects failed: ${error.message}`)
    }
    this.logger.warn({ backend: backend.id, err: error.message }, 'backend connect failed; trying another')
  }

  opened(session: ProxySession): void {
    const backend = session.backend!
    let set = this.byBackend.get(backend)
    if (set === undefined) this.byBackend.set(backend, (set = new Set()))
    set.add(session)
    this.metrics.sessionOpened(backend.id, session.connectedAt - session.acceptedAt)
  }

  noBackend(_session: ProxySession, attempts: number): void {
    this.noBackendCount++
    this.metrics.noBackend()
    this.logger.warn({ attempts, backends: this.pool.size, available: this.pool.availableCount() }, 'no backend available; client refused with NO_BACKEND')
  }

  ended(session: ProxySession, reason: ProxyCloseReason, wasOpen: boolean): void {
    this.sessions.delete(session)
    if (wasOpen && session.backend !== null) {
      this.closedByReason[reason]++
      const backend = session.backend
      const set = this.byBackend.get(backend)
      set?.delete(session)
      this.metrics.sessionClosed(backend.id, reason, session.bytesFromClient, session.bytesToClient, performance.now() - session.acceptedAt)
      if (set !== undefined && set.size === 0) {
        this.byBackend.delete(backend)
        const waiters = this.emptyWaiters.get(backend)
        this.emptyWaiters.delete(backend)
        if (waiters) for (const wake of waiters) wake()
      }
    }
    if (this.sessions.size === 0 && this.allEnded !== null) this.allEnded()
  }

  private accept(client: Socket): void {
    if (this.status !== 'listening') {
      client.destroy()
      return
    }
    // The game servers behind see only the balancer's address, so the per-address limit is here.
    const address = client.remoteAddress ?? ''
    const open = this.perAddress.get(address) ?? 0
    const limit = this.options.maxConnectionsPerAddress
    if (limit > 0 && open >= limit) {
      this.refusedByAddress++
      client.on('error', () => {})
      client.setTimeout(1000, () => client.destroy())
      client.resume()
      client.end(this.tooManyReply)
      return
    }
    this.perAddress.set(address, open + 1)
    client.once('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1
      if (left > 0) this.perAddress.set(address, left)
      else this.perAddress.delete(address)
    })
    this.accepted++
    this.metrics.clientAccepted()
    this.sessions.add(new ProxySession(this, client))
  }

  private waitEmpty(backend: Backend, timeoutMs: number): Promise<boolean> {
    if (this.sessionCount(backend) === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      let waiters = this.emptyWaiters.get(backend)
      if (waiters === undefined) this.emptyWaiters.set(backend, (waiters = new Set()))
      const timer = setTimeout(() => {
        waiters!.delete(wake)
        resolve(false)
      }, timeoutMs)
      timer.unref()
      const wake = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      waiters.add(wake)
    })
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const wasListening = this.status === 'listening'
    this.status = 'closing'
    if (this.idleTimer !== null) clearInterval(this.idleTimer)
    this.idleTimer = null
    const serverClosed = wasListening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve()
    this.logger.info({ sessions: this.sessions.size, deadlineMs }, 'balancer proxy closing')
    if (this.sessions.size > 0) {
      const all = new Promise<void>((resolve) => (this.allEnded = resolve))
      const inTime = await withDeadline(all, deadlineMs)
      if (!inTime) {
        this.logger.warn({ sessions: this.sessions.size }, 'balancer close deadline reached; cutting remaining sessions')
        for (const session of [...this.sessions]) session.destroy('shutdown')
      }
      this.allEnded = null
    }
    await serverClosed
    this.status = 'closed'
  }
}
