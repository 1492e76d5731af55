/**
 * Server-side figures for a run window, read from Prometheus through its HTTP API: frame-processing
 * p95, CPU, event-loop delay, frames received, and the alerts raised (firing) during the run.
 *
 * Metric names are discovered from `/api/v1/label/__name__/values` by pattern, so the report keeps
 * working when the telemetry module names a family slightly differently; a figure whose family is
 * absent is listed in `missing` (never invented).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { GameServerError } from '../errors.js'
import { EXPORTER_METRICS, METRIC_LIST, METRICS, seriesNames } from '../telemetry/catalogue.js'
import type { ServerAlert, ServerFigures, ServerSeries } from './report.js'

interface PromResponse<T> {
  status: 'success' | 'error'
  data?: T
  error?: string
}

type Vector = Array<{ metric: Record<string, string>; value: [number, string] }>
type Matrix = Array<{ metric: Record<string, string>; values: Array<[number, string]> }>

export class PrometheusClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 5000,
  ) {}

  private async get<T>(path: string, params: Record<string, string>): Promise<T> {
    const query = new URLSearchParams(params).toString()
    let response: Response
    try {
      response = await fetch(`${this.url}${path}${query ? `?${query}` : ''}`, { signal: AbortSignal.timeout(this.timeoutMs) })
    } catch (err) {
      throw new GameServerError('GS_ERR_LOADTEST_TARGET', `Prometheus at ${this.url} cannot be reached: ${(err as Error).message}`, { url: this.url }, { cause: err })
    }
    const body = (await response.json().catch(() => ({ status: 'error', error: `HTTP ${response.status}` }))) as PromResponse<T>
    if (body.status !== 'success' || body.data === undefined) {
      throw new GameServerError('GS_ERR_LOADTEST_TARGET', `Prometheus ${path} ${params['query'] ?? ''} failed: ${body.error ?? response.status}`, { url: this.url })
    }
    return body.data
  }

  metricNames(): Promise<string[]> {
    return this.get<string[]>('/api/v1/label/__name__/values', {})
  }

  instant(query: string, time?: Date): Promise<Vector> {
    return this.get<{ result: Vector }>('/api/v1/query', { query, ...(time ? { time: (time.getTime() / 1000).toFixed(3) } : {}) }).then((d) => d.result)
  }

  range(query: string, from: Date, to: Date, stepSeconds: number): Promise<Matrix> {
    return this.get<{ result: Matrix }>('/api/v1/query_range', {
      query,
      start: (from.getTime() / 1000).toFixed(3),
      end: (to.getTime() / 1000).toFixed(3),
      step: String(stepSeconds),
    }).then((d) => d.result)
  }

  /** Wait until every scrape target has been scraped after `time` (bounded), so the window is complete. */
  async awaitScrapeAfter(time: Date, timeoutMs = 15_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const result = await this.instant('min(timestamp(up))').catch(() => [] as Vector)
      const ts = result[0] ? Number(result[0].value[1]) : 0
      if (ts * 1000 >= time.getTime()) return true
      await sleep(200)
    }
    return false
  }
}

interface FigureRule {
  readonly key: string
  readonly unit: string
  /** Picks the family from the names Prometheus knows. */
  readonly find: (names: readonly string[]) => string | undefined
  /** PromQL for the series over time (per second step) given the family and a rate window. */
  readonly series: (family: string, window: string) => string
  /** PromQL for the headline figure over the whole run window. */
  readonly headline: (family: string, window: string) => string
  /**
   * For counters: the headline is the exact difference of `headline` at the end and at the start
   * of the run (no rate extrapolation), so it can be compared with the generator's own counts.
   */
  readonly delta?: boolean
}

const first = (names: readonly string[], ...patterns: RegExp[]): string | undefined => {
  for (const p of patterns) {
    const hit = names.find((n) => p.test(n))
    if (hit) return hit
  }
  return undefined
}

const baseName = (family: string): string => family.replace(/_bucket$/, '')
/**
 * ' * 1000' when `family` is in seconds: by the catalogue's unit for our own metrics (the
 * semantic-convention names such as nodejs_eventloop_delay_p99 carry no unit suffix), by the
 * `_seconds` suffix for others.
 */
const msScale = (family: string): string => {
  const definition = METRIC_LIST.find((d) => seriesNames(d).includes(family))
  const seconds = definition !== undefined ? definition.unit === 's' : /_seconds/.test(family)
  return seconds ? ' * 1000' : ''
}

const name = (key: keyof typeof METRICS): string => METRICS[key].name

/**
 * The figures, by the telemetry catalogue's names (a rename breaks the typecheck, not the report),
 * with a pattern fallback for servers of another build.
 */
export const FIGURE_RULES: readonly FigureRule[] = [
  {
    key: 'frameProcessingP95Ms',
    unit: 'ms',
    find: (names) => first(names, new RegExp(`^${name('frameProcessing')}_bucket$`), /frame.*process.*_seconds_bucket$/),
    series: (f, w) => `histogram_quantile(0.95, sum by (le) (rate(${f}[${w}])))${msScale(f)}`,
    headline: (f, w) => `histogram_quantile(0.95, sum by (le) (increase(${f}[${w}])))${msScale(f)}`,
  },
  {
    key: 'cpuCores',
    unit: 'cores',
    find: (names) => first(names, new RegExp(`^${name('processCpu')}$`)), // not process_cpu_seconds_total: Prometheus and exporters have that too
    series: (f) => `sum(rate(${f}[5s]))`,
    headline: (f, w) => `sum(rate(${f}[${w}]))`,
  },
  {
    // Host CPU comes from node_exporter (once per host): the busiest host, from its idle time.
    key: 'hostCpuUtilizationMax',
    unit: 'ratio',
    find: (names) => first(names, new RegExp(`^${EXPORTER_METRICS.nodeCpuSeconds.name}$`)),
    series: (f) => `max(1 - avg by (instance) (rate(${f}{mode="idle"}[5s])))`,
    headline: (f, w) => `max_over_time((max(1 - avg by (instance) (rate(${f}{mode="idle"}[10s]))))[${w}:5s])`,
  },
  {
    key: 'eventLoopDelayP99Ms',
    unit: 'ms',
    find: (names) => first(names, new RegExp(`^${name('eventLoopDelayP99')}$`), /event_?loop.*delay.*p99/),
    series: (f) => `max(${f})${msScale(f)}`,
    headline: (f, w) => `max(max_over_time(${f}[${w}]))${msScale(f)}`,
  },
  {
    key: 'framesReceived',
    unit: 'frames',
    find: (names) => first(names, new RegExp(`^${name('framesIn')}$`), /frames?_(in|received).*_total$/),
    series: (f) => `sum(rate(${f}[5s]))`,
    headline: (f) => `sum(${f})`,
    delta: true,
  },
  {
    // without PING: comparable with the generator's game requests also behind a balancer whose
    // health checks ping the servers
    key: 'gameFramesReceived',
    unit: 'frames',
    find: (names) => first(names, new RegExp(`^${name('framesIn')}$`)),
    series: (f) => `sum(rate(${f}{type!="PING"}[5s]))`,
    headline: (f) => `sum(${f}{type!="PING"})`,
    delta: true,
  },
  {
    key: 'sessionsAccepted',
    unit: 'sessions',
    find: (names) => first(names, new RegExp(`^${name('sessionsAccepted')}$`)),
    series: (f) => `sum(rate(${f}[5s]))`,
    headline: (f) => `sum(${f})`,
    delta: true,
  },
  {
    key: 'sessionsActiveMax',
    unit: 'sessions',
    find: (names) => first(names, new RegExp(`^${name('sessionsActive')}$`)),
    series: (f) => `sum(${f})`,
    headline: (f, w) => `max_over_time(sum(${f})[${w}:1s])`,
  },
]

function numberOf(vector: Vector): number | null {
  if (vector.length === 0) return null
  const v = Number(vector[0]!.value[1])
  return Number.isFinite(v) ? v : null
}

/** Collect the figures for [from, to]. Never throws for a missing family; throws when Prometheus is unreachable. */
export async function collectServerFigures(client: PrometheusClient, from: Date, to: Date): Promise<ServerFigures> {
  // series run on past the end by two steps (the server is idle then): rate() needs two scrapes,
  // so a family that appeared mid-run in a short run would otherwise have no point at all
  const seriesEnd = new Date(to.getTime() + 2000)
  await client.awaitScrapeAfter(new Date(to.getTime() + 1000))
  const names = await client.metricNames()
  const windowSeconds = Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000))
  const window = `${windowSeconds}s`
  const figures: Record<string, number | null> = {}
  const series: ServerSeries[] = []
  const missing: string[] = []
  for (const rule of FIGURE_RULES) {
    const family = rule.find(names)
    if (family === undefined) {
      missing.push(rule.key)
      continue
    }
    if (rule.delta) {
      // the run is over: the latest scrape holds the final count; before the run, absent = 0
      const end = numberOf(await client.instant(rule.headline(family, window)).catch(() => []))
      const start = numberOf(await client.instant(rule.headline(family, window), from).catch(() => [])) ?? 0
      figures[rule.key] = end === null ? null : end - start
    } else {
      figures[rule.key] = numberOf(await client.instant(rule.headline(family, window), to).catch(() => []))
    }
    const matrix = await client.range(rule.series(family, '5s'), from, seriesEnd, 1).catch(() => [] as Matrix)
    const points = (matrix[0]?.values ?? [])
      .map(([t, v]): [number, number] => [Math.round(t - from.getTime() / 1000), Number(v)])
      .filter(([, v]) => Number.isFinite(v))
    series.push({ name: `${rule.key} (${baseName(family)})`, unit: rule.unit, points })
  }
  const alerts = await collectAlerts(client, names, from, to)
  return { source: client.url, figures, series, alerts, missing }
}

async function collectAlerts(client: PrometheusClient, names: readonly string[], from: Date, runEnd: Date): Promise<ServerAlert[]> {
  const alerts = new Map<string, ServerAlert>()
  // range steps are from + k s ≤ end: extend by one step so an alert raised in the last (partial)
  // second of the run is seen
  const to = new Date(runEnd.getTime() + 1000)
  // firing only: a pending alert has not held for its `for` duration, so it was not raised
  const matrix = await client.range('ALERTS{alertstate="firing"}', from, to, 1).catch(() => [] as Matrix)
  for (const s of matrix) {
    const name = s.metric['alertname'] ?? 'unknown'
    const previous = alerts.get(name)
    const state = s.metric['alertstate'] ?? 'firing'
    if (!previous || (previous.state === 'pending' && state === 'firing')) {
      const firstAt = s.values[0]?.[0]
      alerts.set(name, { name, state, labels: s.metric, ...(firstAt !== undefined ? { activeAt: new Date(firstAt * 1000).toISOString() } : {}) })
    }
  }
  // alerts the in-process detector exports as metrics (e.g. gameserver_bottleneck_alert{rule=…} 1)
  const detector = names.find((n) => n === name('bottleneckActive')) ?? names.find((n) => /bottleneck.*(alert|active)/.test(n) && !n.endsWith('_total'))
  if (detector) {
    const raised = await client.range(`${detector} > 0`, from, to, 1).catch(() => [] as Matrix)
    for (const s of raised) {
      const alert = s.metric['name'] ?? s.metric['alertname'] ?? detector
      if (!alerts.has(alert)) {
        const firstAt = s.values[0]?.[0]
        alerts.set(alert, { name: alert, state: 'raised', labels: s.metric, ...(firstAt !== undefined ? { activeAt: new Date(firstAt * 1000).toISOString() } : {}) })
      }
    }
  }
  return [...alerts.values()]
}
