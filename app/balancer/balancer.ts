/**
 * The balancer: owner of the backend pool, health checker, bottleneck poller, proxy, admin
 * interface and (without `BACKENDS`) membership discovery. Runtime operations (add, remove,
 * drain, switch strategy) are methods here, used by the admin HTTP interface; every one is
 * logged. `close()` is idempotent and stops the parts in reverse order of start.
 */
import type { AddressInfo } from 'node:net'
import type { Config } from '../config/index.js'
import type { HostPort } from '../config/schema.js'
import { GameServerError } from '../errors.js'
import { silentLogger, type Logger } from '../logger.js'
import { AdminServer } from './admin.js'
import { backendId, type Backend, type BackendSnapshot, type BackendSource } from './backend.js'
import { BackendPool } from './backend-pool.js'
import { BottleneckPoller } from './bottleneck-poller.js'
import { MembershipDiscovery, type DiscoveredBackend } from './discovery.js'
import { HealthChecker } from './health-check.js'
import { noopBalancerMetrics, type BalancerMetrics } from './metrics.js'
import { ProxyServer, type DrainResult, type ProxyStats } from './proxy.js'
import type { StrategyName } from './strategies.js'

export interface BalancerOptions {
  readonly config: Config
  readonly logger?: Logger
  readonly metrics?: BalancerMetrics
  /** Reads live game members (cluster membership); used when `BACKENDS` is empty. */
  readonly discover?: () => Promise<readonly DiscoveredBackend[]>
  /** Start the admin HTTP interface [true]. */
  readonly admin?: boolean
}

export interface BalancerStatus {
  readonly strategy: StrategyName
  readonly listening: { readonly host: string; readonly port: number } | null
  readonly admin: { readonly host: string; readonly port: number } | null
  readonly backends: readonly (BackendSnapshot & { readonly sessions: number })[]
  readonly proxy: ProxyStats
  /** The WebSocket front (BALANCER_WS_PORT), when configured. */
  readonly webSocket: { readonly port: number; readonly proxy: ProxyStats } | null
}

export class Balancer {
  readonly pool: BackendPool
  readonly proxy: ProxyServer
  /**
   * BALANCER_WS_PORT: the WebSocket front, a second proxy over the same pool and strategy that
   * passes connections through to each backend's WebSocket listener (browsers; TLS is terminated
   * in front of it). The game port's health checks stand for the process behind both ports.
   */
  readonly webSocketProxy: ProxyServer | null
  readonly health: HealthChecker
  private readonly config: Config
  private readonly logger: Logger
  private readonly metrics: BalancerMetrics
  private readonly bottlenecks: BottleneckPoller
  private readonly discovery: MembershipDiscovery | null = null
  private readonly adminServer: AdminServer | null
  private readonly drains = new Map<Backend, Promise<DrainResult>>()
  private closing: Promise<void> | null = null

  constructor(options: BalancerOptions) {
    const config = options.config
    const b = config.balancer
    this.config = config
    this.logger = (options.logger ?? silentLogger).child({ component: 'balancer' })
    this.metrics = options.metrics ?? noopBalancerMetrics
    this.pool = new BackendPool(b.strategy, { connectionWeightMs: b.connectionWeightMs })
    this.pool.listen({
      added: (backend) => {
        this.logger.info({ backend: backend.id, source: backend.source, weight: backend.weight }, 'backend added')
        this.metrics.backendState(backend.id, backend.state)
      },
      removed: (backend) => {
        this.logger.info({ backend: backend.id }, 'backend removed')
        this.metrics.backendState(backend.id, 'removed')
      },
      stateChanged: (backend, from, to, reason) => {
        this.logger[to === 'unhealthy' ? 'warn' : 'info']({ backend: backend.id, from, to, reason }, `backend ${to}`)
        this.metrics.backendState(backend.id, to)
      },
      strategyChanged: (from, to) => this.logger.info({ from, to }, 'strategy switched'),
    })
    for (const { webSocketPort, ...address } of b.backends) this.addBackend(address, { source: 'static', ...(webSocketPort === undefined ? {} : { webSocketPort }) })
    this.health = new HealthChecker(this.pool, {
      mode: b.healthCheckMode,
      intervalMs: b.healthCheckIntervalMs,
      timeoutMs: b.healthCheckTimeoutMs,
      rise: b.healthCheckRise,
      fall: b.healthCheckFall,
      logger: this.logger,
      onProbe: (backend, ok, latencyMs) => this.metrics.healthCheck(backend.id, ok, latencyMs),
    })
    this.bottlenecks = new BottleneckPoller(this.pool, { urlTemplate: b.bottleneckUrlTemplate, intervalMs: b.bottleneckPollMs, logger: this.logger })
    // What both fronts share: the same backends, retries, limits and metrics.
    const front = {
      connectTimeoutMs: b.backendConnectTimeoutMs,
      retries: b.backendConnectRetries,
      idleTimeoutMs: b.proxyIdleTimeoutMs,
      passiveFall: b.healthCheckFall,
      listenBacklog: config.server.listenBacklog,
      maxConnectionsPerAddress: b.maxConnectionsPerAddress,
      metrics: this.metrics,
    }
    this.proxy = new ProxyServer(this.pool, {
      ...front,
      // the probe speaks the game protocol; with HEALTH_CHECK_MODE=tcp the backends need not
      responseTimeoutMs: b.healthCheckMode === 'ping' ? b.backendResponseTimeoutMs : 0,
      sendProxyHeader: b.sendProxyHeader,
      logger: this.logger,
    })
    this.webSocketProxy = b.webSocketPort === undefined ? null : new ProxyServer(this.pool, {
      ...front,
      // the bytes are an HTTP upgrade, then WebSocket frames: no PING probe; the PROXY line goes
      // before the upgrade, for servers with WS_TRUST_PROXY_HEADER
      responseTimeoutMs: 0,
      sendProxyHeader: b.sendProxyHeader,
      logger: this.logger.child({ front: 'websocket' }),
      webSocket: {
        backendPort: (backend) => backend.webSocketPort ?? b.backendWebSocketPort,
        noBackendReply: httpRefusal(503, 'Service Unavailable'),
        tooManyReply: httpRefusal(429, 'Too Many Requests'),
      },
    })
    if (b.backends.length === 0 && options.discover !== undefined) {
      this.discovery = new MembershipDiscovery(
        options.discover,
        {
          discoveredIds: () => this.pool.list().filter((x) => x.source === 'membership' && x.state !== 'draining').map((x) => x.id),
          addDiscovered: (address, metricsUrl, webSocketPort) => {
            const existing = this.pool.get(backendId(address))
            if (existing !== undefined && existing.state === 'draining') return
            if (existing === undefined) this.addBackend(address, { source: 'membership', ...(metricsUrl ? { metricsUrl } : {}), ...(webSocketPort ? { webSocketPort } : {}) })
          },
          retireDiscovered: (id) => void this.removeBackend(id, { drainMs: b.drainDeadlineMs }).catch(() => {}),
        },
        config.cluster.discoveryIntervalMs,
        this.logger,
      )
    }
    this.adminServer = options.admin === false ? null : new AdminServer(this, this.logger, config.balancer.adminToken)
  }

  /** Listen for clients (BALANCER_HOST:BALANCER_PORT unless given) and start the admin interface. */
  async listen(host: string = this.config.balancer.host, port: number = this.config.balancer.port): Promise<AddressInfo> {
    const address = await this.proxy.listen(host, port)
    if (this.webSocketProxy !== null) {
      const ws = await this.webSocketProxy.listen(host, this.config.balancer.webSocketPort!)
      this.logger.info({ host: ws.address, port: ws.port }, 'balancer WebSocket front listening')
    }
    if (this.adminServer !== null) await this.adminServer.listen(this.config.balancer.adminHost, this.config.balancer.adminPort)
    this.logger.info({ host: address.address, port: address.port, strategy: this.pool.strategy, backends: this.pool.size, admin: this.adminServer?.address() }, 'balancer listening')
    return address
  }

  /** Resolves after membership was read once (immediately with a static list). */
  async ready(): Promise<void> {
    if (this.discovery !== null) await this.discovery.firstSync
  }

  address(): AddressInfo | null {
    return this.proxy.address()
  }

  adminAddress(): AddressInfo | null {
    return this.adminServer?.address() ?? null
  }

  status(): BalancerStatus {
    const address = this.proxy.address()
    const admin = this.adminServer?.address() ?? null
    return {
      strategy: this.pool.strategy,
      listening: address ? { host: address.address, port: address.port } : null,
      admin: admin ? { host: admin.address, port: admin.port } : null,
      backends: this.pool.list().map((backend) => ({ ...backend.snapshot(), sessions: this.sessionCount(backend) })),
      proxy: this.proxy.stats(),
      webSocket: this.webSocketProxy === null ? null : { port: this.webSocketProxy.address()?.port ?? 0, proxy: this.webSocketProxy.stats() },
    }
  }

  /** The WebSocket front's address (null when BALANCER_WS_PORT is unset or not listening). */
  webSocketAddress(): AddressInfo | null {
    return this.webSocketProxy?.address() ?? null
  }

  /** Sessions through `backend` on both fronts. */
  private sessionCount(backend: Backend): number {
    return this.proxy.sessionCount(backend) + (this.webSocketProxy?.sessionCount(backend) ?? 0)
  }

  addBackend(address: HostPort, options: { source?: BackendSource; weight?: number; metricsUrl?: string; webSocketPort?: number; initialState?: 'healthy' | 'unhealthy' } = {}): Backend {
    this.assertOpen()
    const b = this.config.balancer
    const backend = this.pool.add(address, { fall: b.healthCheckFall, ewmaAlpha: b.latencyEwmaAlpha, ...options })
    backend.bottleneckWeightFactor = b.bottleneckWeightFactor
    return backend
  }

  setWeight(id: string, weight: number): Backend {
    const backend = this.pool.require(id)
    const from = backend.weight
    backend.weight = weight
    this.logger.info({ backend: id, from, to: weight }, 'backend weight changed')
    return backend
  }

  setStrategy(name: StrategyName): void {
    this.assertOpen()
    this.pool.setStrategy(name)
  }

  /** Stop sending new sessions to `id`; existing ones finish within `deadlineMs`, then are cut. */
  drain(id: string, deadlineMs: number = this.config.balancer.drainDeadlineMs): Promise<DrainResult> {
    const backend = this.pool.require(id)
    const running = this.drains.get(backend)
    if (running !== undefined) return running
    this.pool.setState(backend, 'draining', 'drain requested')
    this.logger.info({ backend: id, sessions: this.sessionCount(backend), deadlineMs }, 'draining backend')
    const fronts = [this.proxy, ...(this.webSocketProxy ? [this.webSocketProxy] : [])]
    const result = Promise.all(fronts.map((front) => front.drain(backend, deadlineMs))).then((results) => {
      const r: DrainResult = { backend: id, finished: results.reduce((n, x) => n + x.finished, 0), cut: results.reduce((n, x) => n + x.cut, 0) }
      this.logger.info(r, 'backend drained')
      return r
    })
    this.drains.set(backend, result)
    return result
  }

  /** Drain (unless `drainMs` is 0: cut at once) and forget a backend. */
  async removeBackend(id: string, options: { drainMs?: number } = {}): Promise<DrainResult> {
    const backend = this.pool.require(id)
    const drainMs = options.drainMs ?? this.config.balancer.drainDeadlineMs
    let result: DrainResult
    if (drainMs > 0) {
      result = await this.drain(id, drainMs)
    } else {
      this.pool.setState(backend, 'draining', 'removed without drain')
      result = { backend: id, finished: 0, cut: this.proxy.cut(backend, 'removed') + (this.webSocketProxy?.cut(backend, 'removed') ?? 0) }
    }
    if (this.pool.get(id) === backend) this.pool.remove(id)
    this.drains.delete(backend)
    return result
  }

  /** Stop accepting, let sessions finish until the deadline, stop every loop. Idempotent. */
  close(deadlineMs: number = this.config.server.shutdownDeadlineMs): Promise<void> {
    this.closing ??= this.shutdown(deadlineMs)
    return this.closing
  }

  stop(): Promise<void> {
    return this.close(2000)
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new GameServerError('GS_ERR_BALANCER_CLOSED', 'balancer is closing', {})
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    this.logger.info({ deadlineMs }, 'balancer closing')
    this.discovery?.close()
    await this.adminServer?.close()
    await Promise.all([this.proxy.close(deadlineMs), this.webSocketProxy?.close(deadlineMs)])
    this.bottlenecks.close()
    this.health.close()
    this.logger.info({ stats: this.proxy.stats() }, 'balancer closed')
  }
}

/** What the WebSocket front writes to a client it refuses: an HTTP status (its client speaks HTTP until the upgrade). */
function httpRefusal(status: number, text: string): Buffer {
  return Buffer.from(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}
