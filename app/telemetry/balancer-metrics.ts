/**
 * The OpenTelemetry side of `BalancerMetrics` (app/balancer/metrics.ts): per-backend connections,
 * health, health-check latency and results, connect time and failures, closed sessions by reason,
 * proxied bytes, refused clients — all catalogue instruments, pre-aggregated like the game's. It
 * also tells the detector how many backends are unhealthy (`unhealthy-backends` threshold).
 */
import type { BackendState } from '../balancer/backend.js'
import type { BalancerMetrics, ProxyCloseReason } from '../balancer/metrics.js'
import { METRICS } from './catalogue.js'
import { LabelledCounter, LabelledHistogram } from './labelled.js'
import type { TelemetryProvider } from './provider.js'

interface BackendSlot {
  readonly attributes: { readonly backend: string }
  state: BackendState
  open: number
}

export class OtelBalancerMetrics implements BalancerMetrics {
  private readonly backends = new Map<string, BackendSlot>()
  private readonly connections = new LabelledCounter('backend')
  private readonly connectFailures = new LabelledCounter('backend')
  private readonly sessionsClosed = new LabelledCounter('backend')
  private readonly healthChecks = new LabelledCounter('backend')
  private readonly bytes = new LabelledCounter('direction')
  private readonly connectTime = new LabelledHistogram('backend', METRICS.balancerConnect.buckets!)
  private readonly healthLatency = new LabelledHistogram('backend', METRICS.backendLatency.buckets!)
  private accepted = 0
  private rejected = 0

  constructor(provider: TelemetryProvider) {
    provider.histograms.register(METRICS.balancerConnect, () => this.connectTime.series())
    provider.histograms.register(METRICS.backendLatency, () => this.healthLatency.series())
    provider.observe(METRICS.backendConnectionsTotal, (r) => this.connections.observe(r))
    provider.observe(METRICS.balancerConnectFailures, (r) => this.connectFailures.observe(r))
    provider.observe(METRICS.balancerSessionsClosed, (r) => this.sessionsClosed.observe(r))
    provider.observe(METRICS.healthChecks, (r) => this.healthChecks.observe(r))
    provider.observe(METRICS.balancerBytes, (r) => this.bytes.observe(r))
    provider.observe(METRICS.balancerAccepted, (r) => r.observe(this.accepted))
    provider.observe(METRICS.balancerRejected, (r) => r.observe(this.rejected))
    provider.observe(METRICS.backendConnections, (r) => {
      for (const slot of this.backends.values()) r.observe(slot.open, slot.attributes)
    })
    provider.observe(METRICS.backendHealthy, (r) => {
      for (const slot of this.backends.values()) r.observe(slot.state === 'healthy' ? 1 : 0, slot.attributes)
    })
  }

  clientAccepted(): void {
    this.accepted++
  }

  sessionOpened(backendId: string, connectMs: number): void {
    this.slot(backendId).open++
    this.connections.add(backendId, 1)
    this.connectTime.get(backendId).record(connectMs / 1000)
  }

  sessionClosed(backendId: string, reason: ProxyCloseReason, bytesFromClient: number, bytesToClient: number, _durationMs: number): void {
    const slot = this.backends.get(backendId)
    if (slot !== undefined && slot.open > 0) slot.open--
    this.sessionsClosed.addWith(`${backendId} ${reason}`, () => ({ backend: backendId, reason }), 1)
    this.bytes.add('from-client', bytesFromClient)
    this.bytes.add('to-client', bytesToClient)
  }

  connectFailed(backendId: string): void {
    this.connectFailures.add(backendId, 1)
  }

  noBackend(): void {
    this.rejected++
  }

  healthCheck(backendId: string, ok: boolean, latencyMs: number | null): void {
    const result = ok ? 'ok' : 'failed'
    this.healthChecks.addWith(`${backendId} ${result}`, () => ({ backend: backendId, result }), 1)
    if (latencyMs !== null) this.healthLatency.get(backendId).record(latencyMs / 1000)
  }

  backendState(backendId: string, state: BackendState | 'removed'): void {
    if (state === 'removed') this.backends.delete(backendId)
    else this.slot(backendId).state = state
  }

  /** Backends currently failing health checks (the detector's `unhealthyBackends` reading). */
  unhealthyBackends(): number {
    let n = 0
    for (const slot of this.backends.values()) if (slot.state === 'unhealthy') n++
    return n
  }

  private slot(backendId: string): BackendSlot {
    let slot = this.backends.get(backendId)
    if (slot === undefined) {
      slot = { attributes: { backend: backendId }, state: 'healthy', open: 0 }
      this.backends.set(backendId, slot)
    }
    return slot
  }
}
