/**
 * The alerts, as the deployment needs them, derived from the telemetry threshold definitions: one
 * entry per threshold with its reading (PromQL grouped by instance), comparison value, `for`,
 * severity and texts. Prometheus rules, Grafana alert rules, promtool tests and the threshold lines
 * of dashboard panels are all generated from this list.
 */
import { METRICS, THRESHOLDS, type MetricDefinition, type MetricKey } from './telemetry.js'
import type { ThresholdLine } from './common.js'

export interface AlertSpec {
  readonly name: string
  readonly severity: 'warning' | 'critical'
  readonly summary: string
  readonly description: string
  readonly metricKey: MetricKey
  readonly metric: MetricDefinition
  /** PromQL of the reading, one series per instance. */
  readonly reading: string
  readonly value: number
  readonly forSeconds: number
}

export const ALERTS: readonly AlertSpec[] = THRESHOLDS.map((t) => ({
  name: t.name,
  severity: t.severity,
  summary: t.summary,
  description: t.description,
  metricKey: t.metric,
  metric: METRICS[t.metric],
  reading: `max by (instance) (${t.expr})`,
  value: t.value,
  forSeconds: t.forSeconds,
}))

/** The PromQL condition of an alert. */
export function alertExpr(alert: AlertSpec): string {
  return `${alert.reading} > ${alert.value}`
}

/** Threshold lines for a panel showing `metric`. */
export function thresholdLines(metric: MetricKey): ThresholdLine[] {
  return ALERTS.filter((a) => a.metricKey === metric).map((a) => ({ value: a.value, severity: a.severity, alert: a.name }))
}
