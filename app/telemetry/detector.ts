/**
 * The in-process bottleneck detector (docs/TELEMETRY.md, "Bottleneck detection"). Every `intervalMs` it reads each threshold's
 * reading (a percentile of a sliding-window histogram, a sampled gauge, or the per-second increase
 * of a total over the window), keeps a threshold *pending* while it is crossed and *raises* it once
 * it has been crossed for `forSeconds` (as a Prometheus alert does), clears it as soon as it no
 * longer is, logs each raised/cleared transition and exports `gs_bottleneck_active{name,severity}`.
 * `snapshot()` is what `GET /bottlenecks` on the metrics port returns (the balancer reads it).
 */
import { silentLogger, type Logger } from '../logger.js'
import { METRICS } from './catalogue.js'
import type { TelemetryProvider } from './provider.js'
import type { ReadingName, Severity, Threshold } from './thresholds.js'

/** Where each reading comes from; a missing source (or undefined) means "not applicable here". */
export type ReadingSources = Partial<Record<ReadingName, () => number | undefined>>

export interface DetectorOptions {
  readonly thresholds: readonly Threshold[]
  readonly sources: ReadingSources
  /** Sliding window for rates (and, through `onTick`, for windowed histograms). */
  readonly windowMs: number
  readonly intervalMs: number
  readonly logger?: Logger
  /** Called after every evaluation (rotate windowed histograms here). */
  readonly onTick?: () => void
  /** Replaces every threshold's `forSeconds` (tests and short benchmarks). */
  readonly forSecondsOverride?: number
}

type BottleneckStatus = 'ok' | 'pending' | 'active'

export interface ThresholdState {
  readonly name: string
  readonly severity: Severity
  readonly limit: number
  readonly unit: Threshold['unit']
  status: BottleneckStatus
  /** Last compared value; undefined when the reading is not available. */
  value: number | undefined
  /** performance.now() when the condition started to hold. */
  crossedAt: number | undefined
  /** Wall-clock ms when it was raised. */
  raisedAt: number | undefined
}

export interface BottleneckSnapshot {
  readonly evaluatedAt: string | null
  readonly windowMs: number
  readonly active: readonly { name: string; severity: Severity; value: number; limit: number; unit: string; since: string }[]
  readonly readings: Readonly<Record<string, number>>
}

interface Sample {
  at: number
  total: number
}

export class BottleneckDetector {
  private readonly states: ThresholdState[]
  private readonly logger: Logger
  private readonly history = new Map<ReadingName, Sample[]>()
  private timer: NodeJS.Timeout | null = null
  private evaluatedAt: number | null = null
  private closed = false

  constructor(private readonly options: DetectorOptions) {
    if (options.intervalMs <= 0 || options.windowMs < options.intervalMs) throw new RangeError('need 0 < intervalMs ≤ windowMs')
    this.logger = (options.logger ?? silentLogger).child({ component: 'bottleneck-detector' })
    this.states = options.thresholds.map((t) => ({
      name: t.name,
      severity: t.severity,
      limit: t.limit,
      unit: t.unit,
      status: 'ok',
      value: undefined,
      crossedAt: undefined,
      raisedAt: undefined,
    }))
  }

  start(): void {
    if (this.timer !== null || this.closed) return
    this.timer = setInterval(() => this.tick(), this.options.intervalMs)
    this.timer.unref()
  }

  /** Evaluate every threshold at `now` (performance.now() ms). The timer calls it; tests may too. */
  evaluate(now: number = performance.now()): void {
    const { thresholds, sources } = this.options
    for (let i = 0; i < thresholds.length; i++) {
      const threshold = thresholds[i]!
      const state = this.states[i]!
      const read = sources[threshold.reading]
      let value: number | undefined
      try {
        const raw = read?.()
        value = raw === undefined || !Number.isFinite(raw) ? undefined : threshold.mode === 'rate' ? this.rate(threshold.reading, raw, now) : raw
      } catch (err) {
        this.logger.error({ err, bottleneck: threshold.name }, 'reading failed')
        value = undefined
      }
      this.transition(threshold, state, value, now)
    }
    this.evaluatedAt = Date.now()
  }

  /** Thresholds currently raised. */
  active(): ThresholdState[] {
    return this.states.filter((s) => s.status === 'active')
  }

  state(name: string): ThresholdState | undefined {
    return this.states.find((s) => s.name === name)
  }

  snapshot(): BottleneckSnapshot {
    const readings: Record<string, number> = {}
    for (const s of this.states) if (s.value !== undefined) readings[s.name] = s.value
    return {
      evaluatedAt: this.evaluatedAt === null ? null : new Date(this.evaluatedAt).toISOString(),
      windowMs: this.options.windowMs,
      active: this.active().map((s) => ({
        name: s.name,
        severity: s.severity,
        value: s.value ?? NaN,
        limit: s.limit,
        unit: s.unit,
        since: new Date(s.raisedAt ?? Date.now()).toISOString(),
      })),
      readings,
    }
  }

  /** Export gs_bottleneck_active{name,severity} (0/1 for every applicable threshold) and gs_bottleneck_value{name}. */
  register(provider: TelemetryProvider): void {
    provider.observe(METRICS.bottleneckActive, (r) => {
      for (const s of this.states) if (s.value !== undefined || s.status === 'active') r.observe(s.status === 'active' ? 1 : 0, { name: s.name, severity: s.severity })
    })
    provider.observe(METRICS.bottleneckValue, (r) => {
      for (const s of this.states) if (s.value !== undefined) r.observe(s.value, { name: s.name })
    })
    provider.route('/bottlenecks', () => this.snapshot())
  }

  close(): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private tick(): void {
    try {
      this.evaluate()
      this.options.onTick?.()
    } catch (err) {
      this.logger.error({ err }, 'bottleneck evaluation failed')
    }
  }

  /** Per-second increase of a total over the window (0 until two samples exist). */
  private rate(reading: ReadingName, total: number, now: number): number {
    let samples = this.history.get(reading)
    if (samples === undefined) this.history.set(reading, (samples = []))
    samples.push({ at: now, total })
    while (samples.length > 2 && samples[1]!.at <= now - this.options.windowMs) samples.shift()
    const oldest = samples[0]!
    const seconds = (now - oldest.at) / 1000
    return seconds > 0 ? Math.max(0, total - oldest.total) / seconds : 0
  }

  private transition(threshold: Threshold, state: ThresholdState, value: number | undefined, now: number): void {
    state.value = value
    const crossed = value !== undefined && value > threshold.limit
    if (!crossed) {
      if (state.status === 'active') {
        this.logger.info({ bottleneck: threshold.name, severity: threshold.severity, value, limit: threshold.limit, activeMs: Date.now() - (state.raisedAt ?? Date.now()) }, 'bottleneck cleared')
      }
      state.status = 'ok'
      state.crossedAt = undefined
      state.raisedAt = undefined
      return
    }
    if (state.status === 'active') return
    state.crossedAt ??= now
    const forMs = (this.options.forSecondsOverride ?? threshold.forSeconds) * 1000
    if (now - state.crossedAt >= forMs) {
      state.status = 'active'
      state.raisedAt = Date.now()
      this.logger.warn({ bottleneck: threshold.name, severity: threshold.severity, value, limit: threshold.limit, unit: threshold.unit }, 'bottleneck raised')
    } else {
      state.status = 'pending'
    }
  }
}
