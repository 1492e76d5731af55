/**
 * Capacity search: run the scenario's action mix at a constant player count for `stepSeconds`,
 * check the target (thresholds such as `p99<=5ms`, `error_rate<=0.01`, and — when a Prometheus is
 * known — no alert raised during the step), and step the player count up until the target breaks
 * or `maxPlayers` is reached. Reports each step and the highest load that met the target.
 */
import type { Target } from './generator.js'
import { TotalsAccumulator, type IntervalSample } from './interval.js'
import { summarize, thresholdFigures, type CapacityResult, type CapacityStep, type ServerFigures } from './report.js'
import { runLoad, type RunResult } from './runner.js'
import { withOverrides, type Scenario } from './scenario.js'
import { checkThresholds, type Threshold } from './thresholds.js'

export interface CapacitySearchOptions {
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  readonly workers: number
  readonly thresholds: readonly Threshold[]
  readonly startPlayers: number
  readonly stepPlayers: number
  readonly stepSeconds: number
  readonly maxPlayers: number
  /** Server figures (alerts) for a time window; steps with alerts fail. */
  readonly serverFigures?: (from: Date, to: Date) => Promise<ServerFigures | null>
  readonly onInterval?: (sample: IntervalSample, players: number) => void
  readonly onStep?: (step: CapacityStep) => void
  readonly signal?: AbortSignal
}

export interface CapacitySearchResult {
  readonly capacity: CapacityResult
  /** Every step's intervals, renumbered into one timeline. */
  readonly run: RunResult
}

export async function runCapacitySearch(options: CapacitySearchOptions): Promise<CapacitySearchResult> {
  const steps: CapacityStep[] = []
  const intervals: IntervalSample[] = []
  const totals = new TotalsAccumulator()
  const startedAt = new Date()
  let elapsedSeconds = 0
  let stoppedBecause = `reached --max-players ${options.maxPlayers} with the target met`
  let aborted = false
  for (let players = options.startPlayers; players <= options.maxPlayers; players += options.stepPlayers) {
    if (options.signal?.aborted) {
      aborted = true
      stoppedBecause = 'stopped by the user'
      break
    }
    const scenario = withOverrides({ ...options.scenario, load: { mode: 'players', players, ramp: [{ at: 0, level: 1 }] } }, { durationSeconds: options.stepSeconds })
    const from = new Date()
    const offset = intervals.length
    const run = await runLoad({
      scenario,
      targets: options.targets,
      workers: options.workers,
      ...(options.signal ? { signal: options.signal } : {}),
      onInterval: (sample) => options.onInterval?.({ ...sample, second: offset + sample.second }, players),
    })
    for (const sample of run.intervals) intervals.push({ ...sample, second: offset + sample.second })
    totals.addTotals(run.totals)
    elapsedSeconds += run.elapsedSeconds
    if (run.aborted) {
      aborted = true
      stoppedBecause = 'stopped by the user'
      break
    }
    const summary = summarize(run.intervals, Math.min(run.elapsedSeconds, scenario.durationSeconds), run.totals)
    const server = options.serverFigures ? await options.serverFigures(from, new Date()).catch(() => null) : null
    const alerts = server?.alerts.map((a) => a.name) ?? []
    const results = checkThresholds(options.thresholds, thresholdFigures(summary, server))
    const failed = results.filter((r) => !r.passed).map((r) => `${r.threshold.source} (actual ${r.actual.toFixed(3)})`)
    if (alerts.length > 0) failed.push(`alerts: ${alerts.join(', ')}`)
    const step: CapacityStep = { players, throughputPerSecond: summary.throughputPerSecond, p99Ms: summary.rtt.p99Ms, errorRate: summary.errorRate, alerts, passed: failed.length === 0, failed }
    steps.push(step)
    options.onStep?.(step)
    if (!step.passed) {
      stoppedBecause = `target broken at ${players} players: ${failed.join(', ')}`
      break
    }
  }
  const passing = steps.filter((s) => s.passed)
  const best = passing[passing.length - 1]
  return {
    capacity: {
      target: [...options.thresholds.map((t) => t.source), ...(options.serverFigures ? ['no alert raised'] : [])],
      steps,
      highestPassingPlayers: best?.players ?? null,
      highestPassingThroughputPerSecond: best?.throughputPerSecond ?? null,
      stoppedBecause,
    },
    run: { intervals, totals: totals.totals(), startedAt, elapsedSeconds, workers: options.workers, aborted },
  }
}
