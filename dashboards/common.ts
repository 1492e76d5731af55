/**
 * Shared builders of the Grafana dashboards: the Prometheus datasource, label selectors, PromQL
 * helpers that take catalogue entries (never metric-name strings), panels laid out on the 24-column
 * grid, thresholds and alert annotations taken from the threshold definitions.
 */
import { SCRAPE_JOBS } from '../app/topology/build.js'
import { readingExpr, THRESHOLDS, type MetricDefinition, type ThresholdName } from './telemetry.js'

export const DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const
export const DATASOURCE_NAME = 'Prometheus'

/** Label selectors shared by every query (the `$service` variable filters instances). */
export const SELECT = {
  servers: `job="${SCRAPE_JOBS.gameServer}",service=~"$service"`,
  balancer: `job="${SCRAPE_JOBS.balancer}"`,
  appProcesses: `job=~"${SCRAPE_JOBS.gameServer}|${SCRAPE_JOBS.balancer}",service=~"$service|${'balancer'}"`,
  postgres: `job="${SCRAPE_JOBS.postgres}"`,
  redis: `job="${SCRAPE_JOBS.redis}"`,
  node: `job="${SCRAPE_JOBS.node}"`,
} as const

/** Grafana's own rate window; replaced by a fixed window when queries run outside Grafana. */
export const RATE_WINDOW = '$__rate_interval'

export const q = {
  series: (metric: MetricDefinition, selector: string) => `${metric.name}{${selector}}`,
  sum: (metric: MetricDefinition, selector: string, by: readonly string[] = []) => `sum${byClause(by)} (${metric.name}{${selector}})`,
  max: (metric: MetricDefinition, selector: string, by: readonly string[] = []) => `max${byClause(by)} (${metric.name}{${selector}})`,
  min: (metric: MetricDefinition, selector: string, by: readonly string[] = []) => `min${byClause(by)} (${metric.name}{${selector}})`,
  rate: (metric: MetricDefinition, selector: string, by: readonly string[] = []) => `sum${byClause(by)} (rate(${metric.name}{${selector}}[${RATE_WINDOW}]))`,
  quantile: (quantile: number, metric: MetricDefinition, selector: string, by: readonly string[] = []) =>
    `histogram_quantile(${quantile}, sum by (${['le', ...by].join(', ')}) (rate(${metric.name}_bucket{${selector}}[${RATE_WINDOW}])))`,
  /** Observations per second of a histogram (its `_count`). */
  countRate: (metric: MetricDefinition, selector: string, by: readonly string[] = []) => `sum${byClause(by)} (rate(${metric.name}_count{${selector}}[${RATE_WINDOW}]))`,
  /** Mean of a histogram: sum / count over the window. */
  mean: (metric: MetricDefinition, selector: string, by: readonly string[] = []) =>
    `sum${byClause(by)} (rate(${metric.name}_sum{${selector}}[${RATE_WINDOW}])) / sum${byClause(by)} (rate(${metric.name}_count{${selector}}[${RATE_WINDOW}]))`,
  /** The quantity a threshold compares with its limit (its alert's PromQL), over Grafana's rate window. */
  threshold: (name: ThresholdName) => readingExpr(THRESHOLDS.find((t) => t.name === name)!, RATE_WINDOW),
  /** Metrics of exporters or Prometheus itself (not in the app's catalogue): named explicitly. */
  external: (name: ExternalMetric, selector: string, by: readonly string[] = [], fn: 'sum' | 'max' | 'rate' = 'sum') =>
    fn === 'rate' ? `sum${byClause(by)} (rate(${name}{${selector}}[${RATE_WINDOW}]))` : `${fn}${byClause(by)} (${name}{${selector}})`,
}

/**
 * Metrics a panel may name that the app does not export: Prometheus's own `up` and the metrics of
 * the PostgreSQL, Redis and node exporters of the topology. Tests check each against a live exporter.
 */
export const EXTERNAL_METRICS = {
  up: 'prometheus',
  pg_up: 'postgres-exporter',
  pg_stat_database_numbackends: 'postgres-exporter',
  pg_stat_database_xact_commit: 'postgres-exporter',
  redis_up: 'redis-exporter',
  redis_connected_clients: 'redis-exporter',
  redis_memory_used_bytes: 'redis-exporter',
  redis_commands_processed_total: 'redis-exporter',
  redis_db_keys: 'redis-exporter',
  node_cpu_seconds_total: 'node-exporter',
  node_memory_MemAvailable_bytes: 'node-exporter',
  node_memory_MemTotal_bytes: 'node-exporter',
  node_filesystem_avail_bytes: 'node-exporter',
  node_filesystem_size_bytes: 'node-exporter',
} as const
export type ExternalMetric = keyof typeof EXTERNAL_METRICS

function byClause(by: readonly string[]): string {
  return by.length > 0 ? ` by (${by.join(', ')})` : ''
}

export type Unit = 'short' | 'percentunit' | 's' | 'bytes' | 'Bps' | 'ops' | 'reqps' | 'none'

export interface Target {
  readonly expr: string
  readonly legend: string
  /** This series counts rare events (see PanelSpec.sparse). */
  readonly sparse?: boolean
}

export interface ThresholdLine {
  readonly value: number
  readonly severity: 'warning' | 'critical'
  /** The alert drawn on this panel. */
  readonly alert: string
}

export interface PanelSpec {
  readonly title: string
  readonly description: string
  readonly kind: 'timeseries' | 'stat'
  readonly unit: Unit
  readonly targets: readonly Target[]
  readonly thresholds?: readonly ThresholdLine[]
  /** Full width instead of half. */
  readonly wide?: boolean
  /**
   * Counts rare events (violations, shed frames…): the series only exists once the event happened,
   * so an idle or healthy system legitimately returns no data.
   */
  readonly sparse?: boolean
}

interface RowSpec {
  readonly title: string
  readonly panels: readonly PanelSpec[]
}

export interface DashboardSpec {
  readonly uid: string
  readonly title: string
  readonly description: string
  readonly tags: readonly string[]
  readonly rows: readonly RowSpec[]
}

export const panel = {
  timeseries: (title: string, description: string, unit: Unit, targets: readonly Target[], extra: Partial<PanelSpec> = {}): PanelSpec => ({
    title,
    description,
    kind: 'timeseries',
    unit,
    targets,
    ...extra,
  }),
  stat: (title: string, description: string, unit: Unit, targets: readonly Target[], extra: Partial<PanelSpec> = {}): PanelSpec => ({
    title,
    description,
    kind: 'stat',
    unit,
    targets,
    ...extra,
  }),
}

export const target = (expr: string, legend: string, options: { sparse?: boolean } = {}): Target => ({ expr, legend, ...options })

const SEVERITY_COLOURS = { warning: 'orange', critical: 'red' } as const

/** The Grafana JSON model of a dashboard: rows of panels, two per line (wide panels one). */
export function renderDashboard(spec: DashboardSpec) {
  const panels: Record<string, unknown>[] = []
  let id = 1
  let y = 0
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] })
    y += 1
    let x = 0
    for (const p of row.panels) {
      const width = p.wide ? 24 : p.kind === 'stat' ? 6 : 12
      if (x + width > 24) {
        x = 0
        y += 8
      }
      panels.push(renderPanel(p, id++, { h: 8, w: width, x, y }))
      x += width
    }
    y += 8
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [...spec.tags],
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-30m', to: 'now' },
    timezone: 'utc',
    graphTooltip: 1,
    templating: {
      list: [
        {
          name: 'service',
          label: 'Game server',
          type: 'query',
          datasource: DATASOURCE,
          query: { query: `label_values(up{job="${SCRAPE_JOBS.gameServer}"}, service)`, refId: 'service' },
          definition: `label_values(up{job="${SCRAPE_JOBS.gameServer}"}, service)`,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
          refresh: 2,
          sort: 1,
        },
      ],
    },
    annotations: {
      list: [
        {
          name: 'Bottleneck alerts',
          datasource: DATASOURCE,
          enable: true,
          iconColor: 'red',
          expr: 'ALERTS{alertstate="firing"}',
          step: '30s',
          titleFormat: '{{alertname}}',
          textFormat: '{{severity}} on {{instance}}',
          tagKeys: 'severity,alertname',
          useValueForTime: false,
        },
      ],
    },
    panels,
  }
}

function renderPanel(p: PanelSpec, id: number, gridPos: { h: number; w: number; x: number; y: number }) {
  const steps: { color: string; value: number | null }[] = [{ color: 'green', value: null }]
  for (const t of [...(p.thresholds ?? [])].sort((a, b) => a.value - b.value)) steps.push({ color: SEVERITY_COLOURS[t.severity], value: t.value })
  return {
    id,
    type: p.kind,
    title: p.title,
    description: p.description + (p.thresholds?.length ? `\n\nAlerts: ${p.thresholds.map((t) => `${t.alert} (${t.severity}) above ${t.value}`).join('; ')}.` : ''),
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: {
      defaults: {
        unit: p.unit,
        thresholds: { mode: 'absolute', steps },
        ...(p.kind === 'timeseries'
          ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', thresholdsStyle: { mode: p.thresholds?.length ? 'line+area' : 'off' } } }
          : {}),
      },
      overrides: [],
    },
    options:
      p.kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto' }
        : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: p.targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend, range: true, instant: false })),
  }
}
