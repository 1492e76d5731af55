/**
 * The alerts, as the deployment needs them, derived from the telemetry threshold definitions
 * (app/telemetry/thresholds.ts): name, expression and labels come from `alertRule()`; the metric a
 * threshold reads is found in the catalogue from its PromQL. Prometheus rules, Grafana alert rules,
 * promtool tests and the threshold lines of dashboard panels are all generated from this list.
 */
import type { ThresholdLine } from './common.js'
import { alertRule, metricDefinition, THRESHOLDS, type MetricDefinition, type Threshold, type ThresholdName } from './telemetry.js'

/** Window of the rates inside threshold expressions. */
const RATE_RANGE = '1m'

export interface AlertSpec {
  readonly name: string
  readonly threshold: Threshold
  readonly severity: Threshold['severity']
  readonly summary: string
  readonly description: string
  /** The metric the threshold reads (the app's catalogue, or node_exporter's for host thresholds). */
  readonly metric: MetricDefinition
  /** PromQL of the compared quantity (one series per job/instance). */
  readonly reading: string
  /** Full alerting expression (`reading > limit`). */
  readonly expr: string
  readonly labels: Readonly<Record<string, string>>
  readonly forSeconds: number
}

function metricOf(threshold: Threshold): MetricDefinition {
  const metric = metricDefinition(threshold.metric)
  if (!new RegExp(`\\b${metric.name}(_bucket|_sum|_count)?\\b`).test(threshold.promql)) throw new Error(`threshold ${threshold.name} declares ${metric.name} but its PromQL does not read it`)
  return metric
}

const UNIT_TEXT: Record<Threshold['unit'], string> = { ratio: '', seconds: ' s', bytes: ' bytes', count: '', 'per-second': ' per second' }

export const ALERTS: readonly AlertSpec[] = THRESHOLDS.map((threshold: Threshold) => {
  const rule = alertRule(threshold, RATE_RANGE)
  return {
    name: rule.alert,
    threshold,
    severity: threshold.severity,
    summary: rule.annotations.summary,
    description: `${threshold.summary}: ${threshold.mode === 'rate' ? 'the rate of ' : ''}${metricOf(threshold).name} stayed above ${threshold.limit}${UNIT_TEXT[threshold.unit]} for ${threshold.forSeconds} s.`,
    metric: metricOf(threshold),
    reading: threshold.promql.replaceAll('$range', RATE_RANGE),
    expr: rule.expr,
    labels: rule.labels,
    forSeconds: threshold.forSeconds,
  }
})

function alertByThreshold(name: ThresholdName): AlertSpec {
  return ALERTS.find((a) => a.threshold.name === name)!
}

/**
 * The threshold line a panel draws for a threshold: at its limit, or for a count (an integer that
 * raises the alert when above the limit) at the first value that raises it.
 */
export function thresholdLines(...names: ThresholdName[]): ThresholdLine[] {
  return names.map((name) => {
    const alert = alertByThreshold(name)
    const t = alert.threshold
    return { value: t.unit === 'count' ? Math.floor(t.limit) + 1 : t.limit, severity: t.severity, alert: alert.name }
  })
}
