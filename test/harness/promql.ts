/** Reading the dashboards' panel queries in tests: the metric names they name, and runnable forms outside Grafana. */
import type { PanelSpec } from '../../dashboards/common.js'

const PROMQL_WORDS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'irate', 'increase', 'histogram_quantile', 'label_values', 'or', 'and', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'vector', 'bool', 'offset',
])

/** Metric names in a PromQL expression (identifiers not followed by `(`, outside label matchers and strings). */
function metricNames(expr: string): string[] {
  const stripped = expr.replace(/\{[^}]*\}/g, '{}').replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '[]').replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
  const names = new Set<string>()
  for (const match of stripped.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)) {
    const [, word, call] = match
    if (call || PROMQL_WORDS.has(word!) || /^\d/.test(word!)) continue
    names.add(word!)
  }
  return [...names]
}

export function panelMetricNames(panel: PanelSpec): string[] {
  return [...new Set(panel.targets.flatMap((t) => metricNames(t.expr)))]
}

/** A panel query with Grafana's variables replaced, to run against Prometheus directly. */
export function runnableQuery(expr: string, rateWindow = '30s'): string {
  return expr.replaceAll('$__rate_interval', rateWindow).replaceAll('"$service"', '".*"').replaceAll('$service', '.*')
}
