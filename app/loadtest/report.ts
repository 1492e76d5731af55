/**
 * The report of one load-test run: totals, RTT percentiles, a per-second timeline, generator
 * health (was the generator the bottleneck?), server-side figures when a Prometheus was queried,
 * threshold results. `renderSummary` prints it as a table; `writeReport` writes report.json and
 * the self-contained report.html.
 */
import { addCauses, formatCauses } from './error-cause.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LatencyHistogram, type LatencySummaryMs } from './histogram.js'
import { renderHtmlReport } from './html.js'
import { quantilesOf, type IntervalSample, type RunTotals } from './interval.js'
import type { Target } from './generator.js'
import type { RunResult } from './runner.js'
import { ACTION_NAMES, type ActionName, type Scenario } from './scenario.js'
import { checkThresholds, formatActual, type Threshold, type ThresholdFigures, type ThresholdResult } from './thresholds.js'

export interface TimelinePoint {
  readonly second: number
  readonly connected: number
  readonly sent: number
  readonly answered: number
  readonly errors: number
  readonly disconnects: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly generatorUtilization: number
  readonly generatorLoopDelayP99Ms: number
}

export interface ServerSeries {
  readonly name: string
  readonly unit: string
  /** [seconds since the run started, value]. */
  readonly points: ReadonlyArray<readonly [number, number]>
}

export interface ServerAlert {
  readonly name: string
  readonly state: string
  readonly labels: Readonly<Record<string, string>>
  readonly activeAt?: string
}

export interface ServerFigures {
  /** Where they came from (a Prometheus URL). */
  readonly source: string
  /** Headline numbers over the run, e.g. `frameProcessingP95Ms`, `cpuCores`, `eventLoopDelayP99Ms`. */
  readonly figures: Readonly<Record<string, number | null>>
  readonly series: readonly ServerSeries[]
  /** Alerts raised during the run: Prometheus alerts firing, or the in-process detector's. */
  readonly alerts: readonly ServerAlert[]
  /** Queries that failed or returned nothing (named, not hidden). */
  readonly missing: readonly string[]
}

export interface GeneratorHealth {
  readonly workers: number
  readonly maxUtilization: number
  readonly meanUtilization: number
  readonly maxLoopDelayP99Ms: number
  /** Main-process CPU over the run as a share of all cores (0…1), when measured. */
  readonly cpuShareOfHost: number | null
  readonly bottleneck: boolean
  readonly reasons: readonly string[]
}

interface ActionSummary {
  readonly ok: number
  readonly rejected: number
  readonly errors: number
  /** `errors` by cause: wire error name (`OVERLOADED`, …), `timeout`, `connection-closed`, … */
  readonly errorsByCause: Readonly<Record<string, number>>
  readonly rtt: LatencySummaryMs
}

export interface RunSummary {
  readonly sent: number
  readonly answered: number
  /** Answered with a game-rule rejection (in `answered`, not in `errors`). */
  readonly rejected: number
  readonly errors: number
  /** `errors` by cause, every action together (sums to `errors`). */
  readonly errorsByCause: Readonly<Record<string, number>>
  readonly timeouts: number
  readonly disconnects: number
  readonly connectFailures: number
  /** `connectFailures` by cause (sums to `connectFailures`). */
  readonly connectFailuresByCause: Readonly<Record<string, number>>
  readonly errorRate: number
  readonly throughputPerSecond: number
  readonly peakConnected: number
  readonly rtt: LatencySummaryMs
  readonly byAction: Readonly<Record<ActionName, ActionSummary>>
}

/** Where the generator ran (numbers are only comparable on one machine). */
interface GeneratorMachine {
  readonly hostname: string
  readonly cpuModel: string
  readonly cores: number
  readonly node: string
  /** 1-minute load average at the start and at the end of the run (other work on the machine). */
  readonly loadAverageAtStart: number
  readonly loadAverageAtEnd: number
}

export interface LoadReport {
  readonly kind: 'gameserver-loadtest-report'
  readonly version: 1
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  readonly startedAt: string
  readonly elapsedSeconds: number
  readonly aborted: boolean
  readonly summary: RunSummary
  readonly timeline: readonly TimelinePoint[]
  readonly generator: GeneratorHealth
  readonly machine: GeneratorMachine | null
  readonly server: ServerFigures | null
  readonly thresholds: readonly ThresholdResultJson[]
  readonly passed: boolean
  /** Set by capacity search: each step and the highest load that met the target. */
  readonly capacity?: CapacityResult
}

interface ThresholdResultJson {
  readonly threshold: string
  readonly metric: string
  readonly op: string
  readonly value: number
  /** null when the figure was not available (no server figures): the threshold fails. */
  readonly actual: number | null
  readonly passed: boolean
}

export interface CapacityStep {
  readonly players: number
  readonly throughputPerSecond: number
  readonly p99Ms: number
  readonly errorRate: number
  readonly alerts: readonly string[]
  readonly passed: boolean
  readonly failed: readonly string[]
}

export interface CapacityResult {
  readonly target: readonly string[]
  readonly steps: readonly CapacityStep[]
  /** Highest player count whose step met every target; null when even the first step failed. */
  readonly highestPassingPlayers: number | null
  readonly highestPassingThroughputPerSecond: number | null
  readonly stoppedBecause: string
}

/** Utilisation above this, or loop delay above the limit, in a fifth of the seconds (and at least two) flags the generator. */
const BUSY_UTILIZATION = 0.9
const BUSY_SHARE_OF_SECONDS = 0.2
const LOOP_DELAY_LIMIT_MS = 50

/**
 * Totals of a run. RTT percentiles come from `totals` when given (a runner's whole-run histograms,
 * complete even after old seconds were compacted), else from the intervals' own histograms.
 */
export function summarize(intervals: readonly IntervalSample[], elapsedSeconds: number, totals?: RunTotals): RunSummary {
  const histogram = new LatencyHistogram()
  let sent = 0
  let answered = 0
  let rejected = 0
  let errors = 0
  let timeouts = 0
  let disconnects = 0
  let connectFailures = 0
  let peakConnected = 0
  const errorsByCause: Record<string, number> = {}
  const connectFailuresByCause: Record<string, number> = {}
  const byAction = Object.fromEntries(ACTION_NAMES.map((a) => [a, { ok: 0, rejected: 0, errors: 0, errorsByCause: {} }])) as Record<ActionName, { ok: number; rejected: number; errors: number; errorsByCause: Record<string, number> }>
  const byActionRtt = Object.fromEntries(ACTION_NAMES.map((a) => [a, new LatencyHistogram()])) as Record<ActionName, LatencyHistogram>
  for (const i of intervals) {
    if (totals === undefined) histogram.merge(i.histogram)
    sent += i.sent
    answered += i.answered
    rejected += i.rejected
    errors += i.errors
    addCauses(errorsByCause, i.errorCauses)
    timeouts += i.timeouts
    disconnects += i.disconnects
    connectFailures += i.connectFailures
    addCauses(connectFailuresByCause, i.connectFailureCauses)
    peakConnected = Math.max(peakConnected, i.connected)
    for (const a of ACTION_NAMES) {
      byAction[a].ok += i.byAction[a].ok
      byAction[a].rejected += i.byAction[a].rejected
      byAction[a].errors += i.byAction[a].errors
      addCauses(byAction[a].errorsByCause, i.byAction[a].causes)
      const h = i.byAction[a].histogram
      if (h !== undefined && totals === undefined) byActionRtt[a].merge(h)
    }
  }
  if (totals !== undefined) {
    histogram.merge(totals.histogram)
    for (const a of ACTION_NAMES) {
      const h = totals.byAction[a]
      if (h !== undefined) byActionRtt[a].merge(h)
    }
  }
  const attempted = answered + errors
  return {
    sent,
    answered,
    rejected,
    errors,
    errorsByCause,
    timeouts,
    disconnects,
    connectFailures,
    connectFailuresByCause,
    errorRate: attempted === 0 ? 0 : errors / attempted,
    throughputPerSecond: elapsedSeconds > 0 ? answered / elapsedSeconds : 0,
    peakConnected,
    rtt: histogram.summaryMs(),
    byAction: Object.fromEntries(ACTION_NAMES.map((a) => [a, { ...byAction[a], rtt: byActionRtt[a].summaryMs() }])) as Record<ActionName, ActionSummary>,
  }
}

export function timelineOf(intervals: readonly IntervalSample[]): TimelinePoint[] {
  return intervals.map((i) => {
    const q = i.quantiles ?? quantilesOf(i.histogram)
    return {
      second: i.second,
      connected: i.connected,
      sent: i.sent,
      answered: i.answered,
      errors: i.errors,
      disconnects: i.disconnects,
      p50Ms: q.p50Ms,
      p90Ms: q.p90Ms,
      p99Ms: q.p99Ms,
      p999Ms: q.p999Ms,
      generatorUtilization: i.generatorUtilization,
      generatorLoopDelayP99Ms: i.generatorLoopDelayP99Ms,
    }
  })
}

export function generatorHealth(intervals: readonly IntervalSample[], workers: number, cpuShareOfHost: number | null): GeneratorHealth {
  const utils = intervals.map((i) => i.generatorUtilization)
  const maxUtilization = utils.length ? Math.max(...utils) : 0
  const meanUtilization = utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : 0
  const maxLoopDelayP99Ms = intervals.length ? Math.max(...intervals.map((i) => i.generatorLoopDelayP99Ms)) : 0
  const busySeconds = utils.filter((u) => u >= BUSY_UTILIZATION).length
  const reasons: string[] = []
  if (busySeconds >= Math.max(2, BUSY_SHARE_OF_SECONDS * utils.length)) {
    reasons.push(`a generator thread's event loop was ≥ ${BUSY_UTILIZATION * 100} % busy in ${busySeconds} of ${utils.length} seconds; add --workers (when the generator host has free cores) or generator machines`)
  }
  const laggingSeconds = intervals.filter((i) => i.generatorLoopDelayP99Ms > LOOP_DELAY_LIMIT_MS).length
  if (laggingSeconds >= Math.max(2, BUSY_SHARE_OF_SECONDS * intervals.length)) {
    reasons.push(`generator event-loop delay p99 was above ${LOOP_DELAY_LIMIT_MS} ms in ${laggingSeconds} of ${intervals.length} seconds (max ${maxLoopDelayP99Ms.toFixed(1)} ms): measured RTTs include generator queueing`)
  }
  if (cpuShareOfHost !== null && cpuShareOfHost >= 0.9) reasons.push(`the generator process used ${(cpuShareOfHost * 100).toFixed(0)} % of the host's CPU`)
  return { workers, maxUtilization, meanUtilization, maxLoopDelayP99Ms, cpuShareOfHost, bottleneck: reasons.length > 0, reasons }
}

export function thresholdFigures(summary: RunSummary, server: ServerFigures | null): ThresholdFigures {
  return {
    p50: summary.rtt.p50Ms,
    p90: summary.rtt.p90Ms,
    p99: summary.rtt.p99Ms,
    p999: summary.rtt.p999Ms,
    mean: summary.rtt.meanMs,
    max: summary.rtt.maxMs,
    error_rate: summary.errorRate,
    errors: summary.errors,
    disconnects: summary.disconnects,
    connect_failures: summary.connectFailures,
    alerts: server?.alerts.length ?? Number.NaN,
    rps: summary.throughputPerSecond,
    server_frame_p95: server?.figures['frameProcessingP95Ms'] ?? Number.NaN,
    server_loop_delay_p99: server?.figures['eventLoopDelayP99Ms'] ?? Number.NaN,
    server_cpu: server?.figures['cpuCores'] ?? Number.NaN,
  }
}

function thresholdJson(r: ThresholdResult): ThresholdResultJson {
  return { threshold: r.threshold.source, metric: r.threshold.metric, op: r.threshold.op, value: r.threshold.value, actual: Number.isNaN(r.actual) ? null : r.actual, passed: r.passed }
}

export interface BuildReportInput {
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  readonly run: RunResult
  readonly thresholds: readonly Threshold[]
  readonly server?: ServerFigures | null
  readonly cpuShareOfHost?: number | null
  readonly machine?: GeneratorMachine
  readonly capacity?: CapacityResult
}

export function buildReport(input: BuildReportInput): LoadReport {
  const run = input.run
  // throughput over the scenario's own length (the last partial second holds in-flight answers)
  const seconds = Math.min(run.elapsedSeconds, input.scenario.durationSeconds)
  const summary = summarize(run.intervals, seconds, run.totals)
  const server = input.server ?? null
  const results = checkThresholds(input.thresholds, thresholdFigures(summary, server)).map(thresholdJson)
  return {
    kind: 'gameserver-loadtest-report',
    version: 1,
    scenario: input.scenario,
    targets: input.targets,
    startedAt: run.startedAt.toISOString(),
    elapsedSeconds: run.elapsedSeconds,
    aborted: run.aborted,
    summary,
    timeline: timelineOf(run.intervals),
    generator: generatorHealth(run.intervals, run.workers, input.cpuShareOfHost ?? null),
    machine: input.machine ?? null,
    server,
    thresholds: results,
    passed: results.every((r) => r.passed) && (input.capacity === undefined || input.capacity.highestPassingPlayers !== null),
    ...(input.capacity ? { capacity: input.capacity } : {}),
  }
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n))

/** The end-of-run table (plain text, for the terminal). */
export function renderSummary(report: LoadReport): string {
  const s = report.summary
  const rows: Array<[string, string]> = [
    ['scenario', `${report.scenario.name} (${report.scenario.load.mode === 'players' ? `${report.scenario.load.players} players` : `${report.scenario.load.arrivalsPerSecond}/s arrivals, ≤ ${report.scenario.load.maxPlayers} players`}, ${report.scenario.durationSeconds} s${report.aborted ? ', stopped early' : ''})`],
    ['target', report.targets.map((t) => `${t.host}:${t.port}`).join(', ')],
    ...(report.machine ? [['machine', `${report.machine.cpuModel} × ${report.machine.cores}, node ${report.machine.node}, load average ${report.machine.loadAverageAtStart.toFixed(1)} → ${report.machine.loadAverageAtEnd.toFixed(1)}`] as [string, string]] : []),
    ['generator', `${report.generator.workers} worker(s), max loop utilisation ${fmt(report.generator.maxUtilization * 100, 0)} %${report.generator.bottleneck ? '  ** GENERATOR WAS THE BOTTLENECK **' : ''}`],
    ['peak players', String(s.peakConnected)],
    ['requests', `${s.sent} sent, ${s.answered} answered (${s.rejected} rejected by game rules)`],
    ['throughput', `${fmt(s.throughputPerSecond, 1)} req/s`],
    ['RTT ms', `p50 ${fmt(s.rtt.p50Ms, 3)}  p90 ${fmt(s.rtt.p90Ms, 3)}  p99 ${fmt(s.rtt.p99Ms, 3)}  p999 ${fmt(s.rtt.p999Ms, 3)}  max ${fmt(s.rtt.maxMs, 3)}`],
    ['errors', `${s.errors} (${fmt(s.errorRate * 100, 3)} %), of which timeouts ${s.timeouts}${s.errors > 0 ? `; by cause: ${formatCauses(s.errorsByCause)}` : ''}`],
    ['disconnects', `${s.disconnects}, connect failures ${s.connectFailures}${s.connectFailures > 0 ? ` (${formatCauses(s.connectFailuresByCause)})` : ''}`],
  ]
  for (const action of ACTION_NAMES) {
    const counts = s.byAction[action]
    if (counts.ok + counts.errors > 0) rows.push([`  ${action}`, `${counts.ok} answered (${counts.rejected} rejected by game rules), ${counts.errors} errors${counts.errors > 0 ? ` (${formatCauses(counts.errorsByCause)})` : ''}${counts.rtt.count > 0 ? `; RTT p50 ${fmt(counts.rtt.p50Ms, 3)} p99 ${fmt(counts.rtt.p99Ms, 3)} ms` : ''}`])
  }
  if (report.server) {
    for (const [name, value] of Object.entries(report.server.figures)) rows.push([`server ${name}`, value === null ? 'n/a' : fmt(value, 3)])
    rows.push(['server alerts', report.server.alerts.length === 0 ? 'none' : report.server.alerts.map((a) => `${a.name} (${a.state})`).join(', ')])
  }
  for (const reason of report.generator.reasons) rows.push(['generator note', reason])
  if (report.capacity) {
    const c = report.capacity
    rows.push(['capacity target', c.target.join(', ')])
    for (const step of c.steps) rows.push([`  ${step.players} players`, `${fmt(step.throughputPerSecond, 1)} req/s, p99 ${fmt(step.p99Ms, 3)} ms, errors ${fmt(step.errorRate * 100, 2)} % → ${step.passed ? 'met' : `broken (${step.failed.join(', ')})`}`])
    rows.push(['capacity', c.highestPassingPlayers === null ? `none met the target (${c.stoppedBecause})` : `${c.highestPassingPlayers} players, ${fmt(c.highestPassingThroughputPerSecond ?? 0, 1)} req/s (${c.stoppedBecause})`])
  }
  for (const t of report.thresholds) rows.push([`threshold ${t.threshold}`, `${t.passed ? 'PASS' : 'FAIL'} (actual ${formatActual(t.metric, t.actual)})`])
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
}

/** Write report.json, report.html and summary.txt (the table) into `dir` (created). Returns their paths. */
export async function writeReport(dir: string, report: LoadReport): Promise<{ json: string; html: string; text: string }> {
  await mkdir(dir, { recursive: true })
  const json = join(dir, 'report.json')
  const html = join(dir, 'report.html')
  const text = join(dir, 'summary.txt')
  await writeFile(json, JSON.stringify(report, null, 2) + '\n')
  await writeFile(html, renderHtmlReport(report))
  await writeFile(text, renderSummary(report) + '\n')
  return { json, html, text }
}
