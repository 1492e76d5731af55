/**
 * Alert rules from the threshold definitions (alert-model.ts): the Prometheus rule file, Grafana's
 * alert-rule provisioning (pointing at the dashboard panel that draws the threshold), and a promtool
 * unit-test file with two cases per alert: it fires above its threshold once `for` has passed (and
 * not before), and stays quiet below it.
 */
import { ALERTS, type AlertSpec } from './alert-model.js'
import { DATASOURCE } from './common.js'
import { allPanels } from './index.js'

const RULE_GROUP = 'game-appliance-bottlenecks'
export const RULE_FILE = 'alerts.yml'
const EVALUATION_INTERVAL_SECONDS = 15

function description(alert: AlertSpec): string {
  return `${alert.description} Instance {{ $labels.instance }} (job {{ $labels.job }}).`
}

function panelOf(alert: AlertSpec): { uid: string; id: number } | undefined {
  const found = allPanels().find(({ panel }) => panel.thresholds?.some((t) => t.alert === alert.name))
  return found ? { uid: found.dashboard.uid, id: found.id } : undefined
}

export function prometheusRules() {
  return {
    groups: [
      {
        name: RULE_GROUP,
        interval: `${EVALUATION_INTERVAL_SECONDS}s`,
        rules: ALERTS.map((alert) => {
          const where = panelOf(alert)
          return {
            alert: alert.name,
            expr: alert.expr,
            for: `${alert.forSeconds}s`,
            labels: { ...alert.labels },
            annotations: { summary: alert.summary, description: description(alert), ...(where ? { dashboard: where.uid } : {}) },
          }
        }),
      },
    ],
  }
}

export function grafanaAlertRules() {
  return {
    apiVersion: 1,
    groups: [
      {
        orgId: 1,
        name: RULE_GROUP,
        folder: 'Game appliance',
        interval: `${EVALUATION_INTERVAL_SECONDS}s`,
        rules: ALERTS.map((alert) => {
          const where = panelOf(alert)
          return {
            uid: `gs-${alert.name.toLowerCase()}`.slice(0, 40),
            title: alert.name,
            condition: 'C',
            data: [
              { refId: 'A', relativeTimeRange: { from: 600, to: 0 }, datasourceUid: DATASOURCE.uid, model: { refId: 'A', expr: alert.reading, instant: true, intervalMs: 1000, maxDataPoints: 43200 } },
              { refId: 'B', datasourceUid: '__expr__', model: { refId: 'B', type: 'reduce', expression: 'A', reducer: 'last' } },
              { refId: 'C', datasourceUid: '__expr__', model: { refId: 'C', type: 'threshold', expression: 'B', conditions: [{ evaluator: { type: 'gt', params: [alert.threshold.limit] } }] } },
            ],
            noDataState: 'OK',
            execErrState: 'Error',
            for: `${alert.forSeconds}s`,
            labels: { ...alert.labels },
            annotations: {
              summary: alert.summary,
              description: description(alert),
              ...(where ? { __dashboardUid__: where.uid, __panelId__: String(where.id) } : {}),
            },
          }
        }),
      },
    ],
  }
}

/** Where the test's series come from: node_exporter for host thresholds, a game server, or the balancer for balancer-only metrics. */
function source(alert: AlertSpec): { job: string; instance: string; service: string } {
  if (alert.threshold.scope === 'host') return { job: 'node', instance: 'node-exporter:9100', service: 'node-exporter' }
  return alert.metric.roles.includes('server') ? { job: 'game-server', instance: 'game-1:9464', service: 'game-1' } : { job: 'balancer', instance: 'balancer:9464', service: 'balancer' }
}

/**
 * Input series of the host thresholds, whose expressions combine node_exporter series (idle CPU
 * time, MemAvailable and MemTotal, available and total filesystem bytes): values that put the
 * quantity at 95 % (above) or 50 % (below), over one CPU, 1 GB of memory, one 1 GB filesystem.
 */
const HOST_SERIES: Record<string, (above: boolean, steps: number, labels: string) => { series: string; values: string }[]> = {
  'host-cpu': (above, steps, labels) => [{ series: `node_cpu_seconds_total{${labels},cpu="0",mode="idle"}`, values: `0+${(above ? 0.05 : 0.5) * EVALUATION_INTERVAL_SECONDS}x${steps}` }],
  'host-memory': (above, steps, labels) => [
    { series: `node_memory_MemAvailable_bytes{${labels}}`, values: `${above ? 0.05e9 : 0.5e9}x${steps}` },
    { series: `node_memory_MemTotal_bytes{${labels}}`, values: `${1e9}x${steps}` },
  ],
  'host-disk': (above, steps, labels) => [
    { series: `node_filesystem_avail_bytes{${labels},device="/dev/vda",fstype="ext4",mountpoint="/"}`, values: `${above ? 0.05e9 : 0.5e9}x${steps}` },
    { series: `node_filesystem_size_bytes{${labels},device="/dev/vda",fstype="ext4",mountpoint="/"}`, values: `${1e9}x${steps}` },
  ],
}

/** Input series of a test case that put the alert's reading above its limit (or well below it). */
function inputSeries(alert: AlertSpec, above: boolean, steps: number): { series: string; values: string }[] {
  const metric = alert.metric
  const limit = alert.threshold.limit
  const from = source(alert)
  const labels = [`instance="${from.instance}"`, `job="${from.job}"`, `service="${from.service}"`, ...metric.labels.map((l) => `${l}="x"`)]
  const series = (name: string, extra: string[] = []) => `${name}{${[...labels, ...extra].join(',')}}`
  if (alert.threshold.scope === 'host') {
    const host = HOST_SERIES[alert.threshold.name]
    if (!host) throw new Error(`no promtool series for host threshold ${alert.threshold.name}`)
    return host(above, steps, labels.slice(0, 3).join(','))
  }
  if (metric.kind === 'gauge') {
    // A reading that counts series equal to zero (unhealthy backends): 0 raises it, 1 does not.
    if (/==\s*0\b/.test(alert.threshold.promql)) return [{ series: series(metric.name), values: `${above ? 0 : 1}x${steps}` }]
    const value = above ? (limit === 0 ? 1 : limit * 1.05) : limit / 2
    return [{ series: series(metric.name), values: `${value}x${steps}` }]
  }
  if (metric.kind === 'counter') {
    const perStep = above ? Math.max(1, limit * 2) * EVALUATION_INTERVAL_SECONDS : 0
    return [{ series: series(metric.name), values: `0+${perStep}x${steps}` }]
  }
  const bounds = [...(metric.buckets ?? []), Number.POSITIVE_INFINITY]
  // Above: every observation in the first bucket whose lower bound is ≥ the limit.
  // Below: every observation in the lowest bucket (whose upper bound is below the limit).
  const first = above ? bounds.findIndex((_, i) => i > 0 && bounds[i - 1]! >= limit) : 0
  return bounds.map((le, i) => ({
    series: series(`${metric.name}_bucket`, [`le="${Number.isFinite(le) ? le : '+Inf'}"`]),
    values: `0+${i >= first ? 100 : 0}x${steps}`,
  }))
}

export function promtoolTests() {
  const rules = prometheusRules().groups[0]!.rules
  return {
    rule_files: [RULE_FILE],
    evaluation_interval: `${EVALUATION_INTERVAL_SECONDS}s`,
    tests: ALERTS.flatMap((alert) => {
      const steps = Math.ceil((alert.forSeconds + 180) / EVALUATION_INTERVAL_SECONDS)
      const firesAt = alert.forSeconds + 120
      const from = source(alert)
      const labels = { ...alert.labels, job: from.job, instance: from.instance }
      const annotations = {
        ...rules.find((r) => r.alert === alert.name)!.annotations,
        description: description(alert).replace('{{ $labels.instance }}', from.instance).replace('{{ $labels.job }}', from.job),
      }
      return [
        {
          name: `${alert.name} fires above ${alert.threshold.limit} after ${alert.forSeconds}s`,
          interval: `${EVALUATION_INTERVAL_SECONDS}s`,
          input_series: inputSeries(alert, true, steps),
          alert_rule_test: [
            // Above the limit for less than `for`: pending, not firing yet.
            ...(alert.forSeconds >= 2 * EVALUATION_INTERVAL_SECONDS ? [{ eval_time: `${Math.floor(alert.forSeconds / 2)}s`, alertname: alert.name, exp_alerts: [] }] : []),
            { eval_time: `${firesAt}s`, alertname: alert.name, exp_alerts: [{ exp_labels: labels, exp_annotations: annotations }] },
          ],
        },
        {
          name: `${alert.name} stays quiet below ${alert.threshold.limit}`,
          interval: `${EVALUATION_INTERVAL_SECONDS}s`,
          input_series: inputSeries(alert, false, steps),
          alert_rule_test: [{ eval_time: `${firesAt}s`, alertname: alert.name, exp_alerts: [] }],
        },
      ]
    }),
  }
}
