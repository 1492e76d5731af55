/** Renders docs/METRICS.md from the catalogue and the thresholds (a unit test fails when it is stale). */
import { METRIC_LIST } from './catalogue.js'
import { alertRule, THRESHOLDS } from './thresholds.js'

export function renderMetricsDocs(): string {
  const lines = [
    '# Metrics and bottleneck thresholds',
    '',
    'Generated from `app/telemetry/catalogue.ts` and `app/telemetry/thresholds.ts` by',
    '`npm run docs:metrics`; do not edit by hand. How they are produced and served: [TELEMETRY.md](TELEMETRY.md).',
    '',
    '## Metrics',
    '',
    'Names are the names on the wire (`/metrics`); histograms also expose `_bucket`, `_sum` and `_count`.',
    'Every series also carries `otel_scope_name="game-server-appliance"`; `target_info` carries the resource',
    '(`service_name`, `service_instance_id`, `role`).',
    '',
    '| name | type | unit | labels | roles | buckets | meaning |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const d of METRIC_LIST) {
    const buckets = d.buckets ? d.buckets.join(', ') : ''
    lines.push(`| \`${d.name}\` | ${d.kind} | \`${d.unit}\` | ${d.labels.map((l) => `\`${l}\``).join(', ')} | ${d.roles.join(', ')} | ${buckets} | ${d.help.replace(/\|/g, '\\|')} |`)
  }
  lines.push(
    '',
    '## Bottleneck thresholds',
    '',
    'Raised while the quantity is above the limit for `for`; the in-process detector and the Prometheus',
    'alert rule use the same definition. `gs_bottleneck_active{name,severity}` is 1 while raised.',
    '',
    '| name | severity | limit | for | in-process reading | alert rule (PromQL) |',
    '|---|---|---|---|---|---|',
  )
  for (const t of THRESHOLDS) {
    const rule = alertRule(t)
    lines.push(`| \`${t.name}\` | ${t.severity} | ${t.limit} ${t.unit} | ${rule.for} | \`${t.reading}\`${t.mode === 'rate' ? ' (rate over the window)' : ''} | \`${rule.expr.replace(/\|/g, '\\|')}\` |`)
  }
  lines.push('')
  return lines.join('\n')
}
