/**
 * Pass/fail thresholds on a run's summary, e.g. `p99<5ms`, `p999<=20ms`, `error_rate<1%`,
 * `errors==0`, `disconnects<=2`, `rps>=1000`, `alerts==0`.
 *
 *   threshold := metric op number [unit]
 *   metric    := p50 | p90 | p99 | p999 | mean | max        (RTT, unit ms (default), us, s)
 *              | error_rate                                  (fraction, or with %)
 *              | errors | disconnects | connect_failures | alerts  (counts)
 *              | rps                                         (answered requests per second)
 *              | server_frame_p95 | server_loop_delay_p99        (server side, ms; need Prometheus)
 *              | server_cpu                                  (server CPU in cores; needs Prometheus)
 *   op        := < | <= | > | >= | ==
 */
import { GameServerError } from '../errors.js'

const THRESHOLD_METRICS = ['p50', 'p90', 'p99', 'p999', 'mean', 'max', 'error_rate', 'errors', 'disconnects', 'connect_failures', 'alerts', 'rps', 'server_frame_p95', 'server_loop_delay_p99', 'server_cpu'] as const
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number]
type ThresholdOp = '<' | '<=' | '>' | '>=' | '=='

const LATENCY: readonly ThresholdMetric[] = ['p50', 'p90', 'p99', 'p999', 'mean', 'max', 'server_frame_p95', 'server_loop_delay_p99']
/** Metrics read from the servers' Prometheus: a run without one cannot check them. */
export const SERVER_METRICS: readonly ThresholdMetric[] = ['alerts', 'server_frame_p95', 'server_loop_delay_p99', 'server_cpu']

export interface Threshold {
  /** As written by the user. */
  readonly source: string
  readonly metric: ThresholdMetric
  readonly op: ThresholdOp
  /** In the metric's base unit: ms for latencies, a fraction for error_rate, a count or req/s otherwise. */
  readonly value: number
}

/** The figures thresholds are checked against (a run's summary). */
export type ThresholdFigures = Readonly<Record<ThresholdMetric, number>>

export interface ThresholdResult {
  readonly threshold: Threshold
  /** NaN when the figure was not available (the threshold then fails). */
  readonly actual: number
  readonly passed: boolean
}

const PATTERN = /^\s*([a-z_0-9]+)\s*(<=|>=|==|<|>)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(ms|us|µs|s|%)?\s*$/

function fail(source: string, why: string): never {
  throw new GameServerError('GS_ERR_LOADTEST_THRESHOLD', `threshold '${source}': ${why} (form: METRIC OP NUMBER[UNIT], e.g. 'p99<5ms', 'error_rate<1%'; metrics: ${THRESHOLD_METRICS.join(', ')})`, { threshold: source })
}

export function parseThreshold(source: string): Threshold {
  const match = PATTERN.exec(source)
  if (!match) fail(source, 'cannot parse')
  const [, name, op, number, unit] = match
  if (!(THRESHOLD_METRICS as readonly string[]).includes(name!)) fail(source, `unknown metric "${name}"`)
  const metric = name as ThresholdMetric
  let value = Number(number)
  if (LATENCY.includes(metric)) {
    if (unit === '%') fail(source, `${metric} is a latency: use ms, us or s`)
    if (unit === 's') value *= 1000
    else if (unit === 'us' || unit === 'µs') value /= 1000
  } else if (metric === 'error_rate') {
    if (unit !== undefined && unit !== '%') fail(source, 'error_rate is a fraction or a percentage')
    if (unit === '%') value /= 100
  } else if (unit !== undefined) {
    fail(source, `${metric} takes no unit`)
  }
  if (value < 0) fail(source, 'the value must not be negative')
  return { source: source.trim(), metric, op: op as ThresholdOp, value }
}

function checkThreshold(threshold: Threshold, figures: ThresholdFigures): ThresholdResult {
  const actual = figures[threshold.metric]
  const v = threshold.value
  if (Number.isNaN(actual)) return { threshold, actual, passed: false }
  const passed =
    threshold.op === '<' ? actual < v
    : threshold.op === '<=' ? actual <= v
    : threshold.op === '>' ? actual > v
    : threshold.op === '>=' ? actual >= v
    : actual === v
  return { threshold, actual, passed }
}

export function checkThresholds(thresholds: readonly Threshold[], figures: ThresholdFigures): ThresholdResult[] {
  return thresholds.map((t) => checkThreshold(t, figures))
}

/** The unit a metric's figures are shown in. */
function metricUnit(metric: ThresholdMetric): string {
  if (LATENCY.includes(metric)) return 'ms'
  if (metric === 'rps') return 'req/s'
  if (metric === 'server_cpu') return 'cores'
  return ''
}

/** A threshold's actual value for people: `7.231 ms`, `0.5 %` for error_rate, `not available`. */
export function formatActual(metric: string, actual: number | null): string {
  if (actual === null || Number.isNaN(actual)) return 'not available (no server figures)'
  if (metric === 'error_rate') return `${+(actual * 100).toFixed(4)} %`
  const unit = (THRESHOLD_METRICS as readonly string[]).includes(metric) ? metricUnit(metric as ThresholdMetric) : ''
  return `${+actual.toFixed(3)}${unit ? ` ${unit}` : ''}`
}
