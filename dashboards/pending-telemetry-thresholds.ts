// TEMPORARY stand-in for app/telemetry/thresholds.ts (the telemetry branch has not published it
// yet). Replaced by an import of the real definitions once merged; see dashboards/telemetry.ts.
import { METRICS, type MetricKey } from './pending-telemetry-catalogue.js'

export type Severity = 'warning' | 'critical'

export interface ThresholdDefinition {
  readonly name: string
  readonly summary: string
  readonly description: string
  readonly severity: Severity
  /** The reading compared, from the catalogue. */
  readonly metric: MetricKey
  /** Fires when the reading is above this value (in the metric's unit). */
  readonly value: number
  readonly forSeconds: number
  /** PromQL of the reading (without the comparison). */
  readonly expr: string
}

export const THRESHOLDS: readonly ThresholdDefinition[] = [
  {
    name: 'HostCpuHigh',
    summary: 'Host CPU above 90 %',
    description: 'The busy fraction of all host CPUs stayed above 90 %.',
    severity: 'critical',
    metric: 'hostCpuUtilization',
    value: 0.9,
    forSeconds: 60,
    expr: `max by (instance) (${METRICS.hostCpuUtilization.name})`,
  },
  {
    name: 'HostMemoryHigh',
    summary: 'Host memory above 85 %',
    description: 'Host memory in use (1 − MemAvailable / MemTotal) stayed above 85 %.',
    severity: 'warning',
    metric: 'hostMemoryUsed',
    value: 0.85,
    forSeconds: 60,
    expr: `max by (instance) (${METRICS.hostMemoryUsed.name})`,
  },
  {
    name: 'FrameProcessingP95High',
    summary: 'Frame processing p95 above 10 ms',
    description: 'The 95th percentile of handler time per inbound frame stayed above 10 ms.',
    severity: 'warning',
    metric: 'frameProcessing',
    value: 0.01,
    forSeconds: 60,
    expr: `histogram_quantile(0.95, sum by (instance, le) (rate(${METRICS.frameProcessing.name}_bucket[1m])))`,
  },
]
