/**
 * One upstream game server as the balancer sees it: address, health state, open sessions,
 * EWMA of measured latency, configured weight and whether its server reports an active bottleneck.
 *
 * State changes go through `setState` only (one place to log and count them):
 *
 *   healthy ⇄ unhealthy        by health checks (rise/fall)
 *   healthy|unhealthy → draining   by the admin or discovery; never leaves draining
 */
import type { HostPort } from '../config/schema.js'

/** Weight of a backend nobody weighted (all equal). */
const DEFAULT_WEIGHT = 1

export type BackendState = 'healthy' | 'unhealthy' | 'draining'

export interface BackendSnapshot {
  readonly id: string
  readonly host: string
  readonly port: number
  readonly state: BackendState
  readonly weight: number
  readonly effectiveWeight: number
  readonly activeConnections: number
  readonly totalConnections: number
  readonly connectFailures: number
  readonly ewmaLatencyMs: number | null
  readonly bottleneck: boolean
  readonly bottleneckNames: readonly string[]
  readonly source: BackendSource
  /** Its WebSocket port when known (membership, BACKENDS `/wsPort`, admin); null: BACKEND_WS_PORT. */
  readonly webSocketPort: number | null
}

/** Where a backend came from: `BACKENDS`, cluster membership, or the admin interface. */
export type BackendSource = 'static' | 'membership' | 'admin'

export function backendId(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

export interface BackendOptions {
  readonly weight?: number
  readonly source?: BackendSource
  /** Smoothing factor of the latency EWMA, (0..1] (LATENCY_EWMA_ALPHA). */
  readonly ewmaAlpha: number
  /** Health checks that must fail in a row before a healthy backend goes down (HEALTH_CHECK_FALL). */
  readonly fall: number
  /** Extra metadata from membership (e.g. the metrics URL). */
  readonly metricsUrl?: string
  /** Its WebSocket listener's port (from membership, its BACKENDS entry or the admin request); unset: BACKEND_WS_PORT. */
  readonly webSocketPort?: number
  /**
   * 'unhealthy': no traffic until `rise` health checks pass (a backend added by hand through the
   * admin interface must prove it answers first). Default 'healthy' (configured and discovered ones).
   */
  readonly initialState?: 'healthy' | 'unhealthy'
}

export class Backend {
  readonly id: string
  readonly host: string
  readonly port: number
  readonly source: BackendSource
  readonly ewmaAlpha: number
  metricsUrl: string | undefined
  readonly webSocketPort: number | undefined
  weight: number
  private stateValue: BackendState = 'healthy'
  /** Sessions open through this backend (counted from the pick, released exactly once). */
  activeConnections = 0
  totalConnections = 0
  connectFailures = 0
  ewmaLatencyMs: number | null = null
  /** Health-check streaks (HAProxy rise/fall). A new backend starts "up, going down after one failure". */
  consecutiveSuccesses = 0
  consecutiveFailures: number
  bottleneckNames: readonly string[] = []
  /** Weight multiplier applied while the server reports a bottleneck. */
  bottleneckWeightFactor = 0.25

  constructor(address: HostPort, options: BackendOptions) {
    this.host = address.host
    this.port = address.port
    this.id = backendId(address)
    this.weight = options.weight ?? DEFAULT_WEIGHT
    this.source = options.source ?? 'static'
    this.ewmaAlpha = options.ewmaAlpha
    this.metricsUrl = options.metricsUrl
    this.webSocketPort = options.webSocketPort
    this.consecutiveFailures = Math.max(0, options.fall - 1)
    if (options.initialState === 'unhealthy') {
      this.stateValue = 'unhealthy'
      this.consecutiveFailures = 0
    }
  }

  get state(): BackendState {
    return this.stateValue
  }

  /** Set the state; returns the previous one. Draining is terminal. */
  setState(next: BackendState): BackendState {
    const previous = this.stateValue
    if (previous === 'draining') return previous
    this.stateValue = next
    return previous
  }

  /** Whether new sessions may go here. */
  get available(): boolean {
    return this.stateValue === 'healthy'
  }

  get bottleneck(): boolean {
    return this.bottleneckNames.length > 0
  }

  /** The weight the strategies use: the configured weight, reduced while a bottleneck is active. */
  get effectiveWeight(): number {
    return this.bottleneck ? this.weight * this.bottleneckWeightFactor : this.weight
  }

  recordLatency(ms: number): void {
    this.ewmaLatencyMs = this.ewmaLatencyMs === null ? ms : this.ewmaLatencyMs + this.ewmaAlpha * (ms - this.ewmaLatencyMs)
  }

  /** A session was assigned here (before its connect completes, so concurrent picks see it). */
  acquire(): void {
    this.activeConnections++
    this.totalConnections++
  }

  release(): void {
    if (this.activeConnections > 0) this.activeConnections--
  }

  snapshot(): BackendSnapshot {
    return {
      id: this.id,
      host: this.host,
      port: this.port,
      state: this.stateValue,
      weight: this.weight,
      effectiveWeight: this.effectiveWeight,
      activeConnections: this.activeConnections,
      totalConnections: this.totalConnections,
      connectFailures: this.connectFailures,
      ewmaLatencyMs: this.ewmaLatencyMs === null ? null : Math.round(this.ewmaLatencyMs * 1000) / 1000,
      bottleneck: this.bottleneck,
      bottleneckNames: this.bottleneckNames,
      source: this.source,
      webSocketPort: this.webSocketPort ?? null,
    }
  }
}
