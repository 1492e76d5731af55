/**
 * What the balancer reports, as one injectable interface (the telemetry part exports it as
 * OpenTelemetry instruments; `noopBalancerMetrics` drops it). Labels are backend ids (a handful
 * per balancer, so low cardinality) and closed sets of reasons. Metric names are in docs/BALANCER.md.
 */
import type { BackendState } from './backend.js'

/** Why a proxied session ended. */
export type ProxyCloseReason = 'closed' | 'client-error' | 'backend-error' | 'idle-timeout' | 'drained' | 'shutdown' | 'removed'

export interface BalancerMetrics {
  /** A client was accepted by the balancer. */
  clientAccepted(): void
  /** A session was connected to `backendId`; `connectMs` = time from accept to the backend's connect. */
  sessionOpened(backendId: string, connectMs: number): void
  sessionClosed(backendId: string, reason: ProxyCloseReason, bytesFromClient: number, bytesToClient: number, durationMs: number): void
  /** A connect to a backend failed or timed out (another one is tried). */
  connectFailed(backendId: string): void
  /** A client got NO_BACKEND and was closed. */
  noBackend(): void
  healthCheck(backendId: string, ok: boolean, latencyMs: number | null): void
  backendState(backendId: string, state: BackendState | 'removed'): void
}

export const noopBalancerMetrics: BalancerMetrics = {
  clientAccepted() {},
  sessionOpened() {},
  sessionClosed() {},
  connectFailed() {},
  noBackend() {},
  healthCheck() {},
  backendState() {},
}
