/**
 * What a generator measures per one-second interval, and how intervals from several generators
 * (worker threads) are added up. Counters are per interval, not cumulative.
 */
import { addCauses } from './error-cause.js'
import { LatencyHistogram, type HistogramSnapshot } from './histogram.js'
import { ACTION_NAMES, type ActionName } from './scenario.js'

export interface ActionCounts {
  /** Answered. */
  ok: number
  /** Answered with a game-rule rejection (MOVE/CHAT/ATTACK_REJECTED); also in `ok`'s RTTs. */
  rejected: number
  /** Answered with an ERROR frame, timed out, or the connection died while waiting. */
  errors: number
  /** `errors` by cause (error-cause.ts): wire error name, `timeout`, `connection-closed`, … */
  causes?: Record<string, number>
  /** RTTs of this action's answers (absent when none). */
  histogram?: HistogramSnapshot
}

export interface IntervalQuantiles {
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
}

/** Whole-run RTT histograms (overall and per action), kept while per-second ones are compacted. */
export interface RunTotals {
  readonly histogram: HistogramSnapshot
  readonly byAction: Readonly<Partial<Record<ActionName, HistogramSnapshot>>>
}

export function quantilesOf(histogram: HistogramSnapshot): IntervalQuantiles {
  const h = LatencyHistogram.from(histogram)
  return { p50Ms: h.percentileMs(50), p90Ms: h.percentileMs(90), p99Ms: h.percentileMs(99), p999Ms: h.percentileMs(99.9) }
}

/** Accumulates RunTotals from samples. */
export class TotalsAccumulator {
  private readonly histogram = new LatencyHistogram()
  private readonly byAction = new Map<ActionName, LatencyHistogram>()

  add(sample: IntervalSample): void {
    this.histogram.merge(sample.histogram)
    for (const action of ACTION_NAMES) {
      const h = sample.byAction[action].histogram
      if (h === undefined) continue
      let mine = this.byAction.get(action)
      if (mine === undefined) this.byAction.set(action, (mine = new LatencyHistogram()))
      mine.merge(h)
    }
  }

  addTotals(totals: RunTotals): void {
    this.histogram.merge(totals.histogram)
    for (const action of ACTION_NAMES) {
      const h = totals.byAction[action]
      if (h === undefined) continue
      let mine = this.byAction.get(action)
      if (mine === undefined) this.byAction.set(action, (mine = new LatencyHistogram()))
      mine.merge(h)
    }
  }

  totals(): RunTotals {
    return { histogram: this.histogram.toJSON(), byAction: Object.fromEntries([...this.byAction].map(([a, h]) => [a, h.toJSON()])) }
  }
}

export interface IntervalSample {
  /** Interval number from the start of the run (0 = the first second). */
  readonly second: number
  /** Connected players at the end of the interval. */
  connected: number
  /** Requests sent. */
  sent: number
  /** Requests answered (RTT recorded). */
  answered: number
  /** Answered with a game-rule rejection (counted in `answered` too, not in `errors`). */
  rejected: number
  errors: number
  /** `errors` by cause (error-cause.ts), every action together. */
  errorCauses: Record<string, number>
  /** Of `errors`: no answer within the scenario's requestTimeoutMs. */
  timeouts: number
  /** Connections closed that we did not close. */
  disconnects: number
  connectFailures: number
  /** `connectFailures` by cause (error-cause.ts). */
  connectFailureCauses: Record<string, number>
  readonly byAction: Record<ActionName, ActionCounts>
  /** RTT of the answered requests in this interval (emptied when the run compacts old seconds). */
  histogram: HistogramSnapshot
  /** Set when the histogram was compacted away: its percentiles, computed before. */
  quantiles?: IntervalQuantiles
  /** Generator health: the busiest thread's event-loop utilisation (0…1) in this interval. */
  generatorUtilization: number
  /** Generator health: the worst thread's event-loop delay p99 in this interval. */
  generatorLoopDelayP99Ms: number
}

export function emptyActionCounts(): Record<ActionName, ActionCounts> {
  return Object.fromEntries(ACTION_NAMES.map((a) => [a, { ok: 0, rejected: 0, errors: 0 }])) as Record<ActionName, ActionCounts>
}

export function emptySample(second: number): IntervalSample {
  return {
    second,
    connected: 0,
    sent: 0,
    answered: 0,
    rejected: 0,
    errors: 0,
    errorCauses: {},
    timeouts: 0,
    disconnects: 0,
    connectFailures: 0,
    connectFailureCauses: {},
    byAction: emptyActionCounts(),
    histogram: new LatencyHistogram().toJSON(),
    generatorUtilization: 0,
    generatorLoopDelayP99Ms: 0,
  }
}

/** Add `b` into `a` (same second, different generators). */
export function addSample(a: IntervalSample, b: IntervalSample): IntervalSample {
  a.connected += b.connected
  a.sent += b.sent
  a.answered += b.answered
  a.rejected += b.rejected
  a.errors += b.errors
  a.errorCauses = addCauses({ ...a.errorCauses }, b.errorCauses)
  a.timeouts += b.timeouts
  a.disconnects += b.disconnects
  a.connectFailures += b.connectFailures
  a.connectFailureCauses = addCauses({ ...a.connectFailureCauses }, b.connectFailureCauses)
  for (const action of ACTION_NAMES) {
    a.byAction[action].ok += b.byAction[action].ok
    a.byAction[action].rejected += b.byAction[action].rejected
    a.byAction[action].errors += b.byAction[action].errors
    if (b.byAction[action].causes !== undefined) a.byAction[action].causes = addCauses({ ...a.byAction[action].causes }, b.byAction[action].causes)
    const theirs = b.byAction[action].histogram
    if (theirs !== undefined) {
      const ours = a.byAction[action].histogram
      a.byAction[action].histogram = ours === undefined ? theirs : LatencyHistogram.from(ours).merge(theirs).toJSON()
    }
  }
  a.histogram = LatencyHistogram.from(a.histogram).merge(b.histogram).toJSON()
  a.generatorUtilization = Math.max(a.generatorUtilization, b.generatorUtilization)
  a.generatorLoopDelayP99Ms = Math.max(a.generatorLoopDelayP99Ms, b.generatorLoopDelayP99Ms)
  return a
}
