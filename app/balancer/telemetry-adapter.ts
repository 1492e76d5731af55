/**
 * Connects the balancer's `BalancerMetrics` events to the telemetry part's `GameMetrics`
 * (OpenTelemetry instruments of the catalogue: gs_balancer_backend_connections_total,
 * gs_balancer_backend_latency_seconds, gs_balancer_rejected_total, and — read at collection time —
 * gs_balancer_backend_connections / gs_balancer_backend_healthy).
 */
import type { GameMetrics } from '../telemetry/metrics.js'
import type { Balancer } from './balancer.js'
import type { BalancerMetrics } from './metrics.js'

export function balancerMetricsFor(metrics: GameMetrics): BalancerMetrics {
  return {
    clientAccepted() {},
    sessionOpened(backendId, connectMs) {
      metrics.backendConnection(backendId)
      metrics.backendLatency(backendId, connectMs / 1000)
    },
    sessionClosed() {},
    connectFailed() {},
    noBackend() {
      metrics.balancerRejected()
    },
    healthCheck(backendId, ok, latencyMs) {
      if (ok && latencyMs !== null) metrics.backendLatency(backendId, latencyMs / 1000)
    },
    backendState() {},
  }
}

/** Let telemetry read the backends (open sessions, healthy) at every scrape. */
export function observeBalancer(metrics: GameMetrics, balancer: Balancer): void {
  metrics.observeBackends(() => balancer.pool.list().map((backend) => ({ backend: backend.id, connections: backend.activeConnections, healthy: backend.state === 'healthy' })))
}
