/**
 * The periodic performance report (docs/TELEMETRY.md): one structured log line every REPORT_INTERVAL_MS
 * with *rates over the interval* (frames/s, bytes/s, sessions accepted/closed per second), the
 * interval's frame-processing p95/p99 (from the difference of the cumulative histograms), the
 * current sessions, the last system sample and the active bottlenecks.
 */
import { silentLogger, type Logger } from '../logger.js'
import { BucketHistogram } from './bucket-histogram.js'
import type { BottleneckDetector } from './detector.js'
import type { MetricTotals } from './server-metrics.js'
import type { SystemSample } from './system.js'

export interface PerformanceReport {
  readonly intervalSeconds: number
  readonly framesInPerSecond: number
  readonly framesOutPerSecond: number
  readonly bytesInPerSecond: number
  readonly bytesOutPerSecond: number
  readonly sessionsActive: number
  readonly sessionsAcceptedPerSecond: number
  readonly sessionsClosedPerSecond: number
  readonly violationsPerSecond: number
  readonly framesShedPerSecond: number
  /** Frames processed in the interval and their p95/p99 (seconds; undefined when none). */
  readonly framesProcessed: number
  readonly frameProcessingP95Seconds: number | undefined
  readonly frameProcessingP99Seconds: number | undefined
}

/** Rates between two snapshots of the totals taken `intervalSeconds` apart. */
export function computeReport(previous: MetricTotals, current: MetricTotals, intervalSeconds: number): PerformanceReport {
  const rate = (a: number, b: number): number => (intervalSeconds > 0 ? round((b - a) / intervalSeconds) : 0)
  const interval = new BucketHistogram(current.frameProcessing.bounds)
  for (let i = 0; i < interval.counts.length; i++) interval.counts[i] = current.frameProcessing.counts[i]! - previous.frameProcessing.counts[i]!
  interval.count = current.frameProcessing.count - previous.frameProcessing.count
  return {
    intervalSeconds: round(intervalSeconds),
    framesInPerSecond: rate(previous.framesIn, current.framesIn),
    framesOutPerSecond: rate(previous.framesOut, current.framesOut),
    bytesInPerSecond: rate(previous.bytesIn, current.bytesIn),
    bytesOutPerSecond: rate(previous.bytesOut, current.bytesOut),
    sessionsActive: current.sessionsActive,
    sessionsAcceptedPerSecond: rate(previous.sessionsAccepted, current.sessionsAccepted),
    sessionsClosedPerSecond: rate(previous.sessionsClosed, current.sessionsClosed),
    violationsPerSecond: rate(previous.violations, current.violations),
    framesShedPerSecond: rate(previous.framesShed, current.framesShed),
    framesProcessed: interval.count,
    frameProcessingP95Seconds: interval.quantile(0.95),
    frameProcessingP99Seconds: interval.quantile(0.99),
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

export interface ReporterOptions {
  readonly intervalMs: number
  readonly totals?: () => MetricTotals
  readonly system?: () => SystemSample | undefined
  readonly detector?: BottleneckDetector
  readonly logger?: Logger
}

export class PerformanceReporter {
  private readonly logger: Logger
  private timer: NodeJS.Timeout | null = null
  private previous: MetricTotals | undefined
  private previousAt = performance.now()

  constructor(private readonly options: ReporterOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'performance-report' })
  }

  start(): void {
    if (this.timer !== null || this.options.intervalMs <= 0) return
    this.previous = this.options.totals?.()
    this.previousAt = performance.now()
    this.timer = setInterval(() => this.report(), this.options.intervalMs)
    this.timer.unref()
  }

  /** Log one report covering the time since the previous one; returns what was logged. */
  report(): Record<string, unknown> {
    const now = performance.now()
    const seconds = (now - this.previousAt) / 1000
    const line: Record<string, unknown> = {}
    try {
      const current = this.options.totals?.()
      if (current && this.previous) Object.assign(line, computeReport(this.previous, current, seconds))
      this.previous = current
      this.previousAt = now
      const system = this.options.system?.()
      if (system) {
        line.processCpuRatio = round(system.processCpuRatio)
        if (system.hostCpuRatio !== undefined) line.hostCpuRatio = round(system.hostCpuRatio)
        if (system.hostMemory) line.hostMemoryUsedRatio = round(1 - system.hostMemory.availableBytes / system.hostMemory.totalBytes)
        if (system.cgroup?.memoryUsedRatio !== undefined) line.containerMemoryUsedRatio = round(system.cgroup.memoryUsedRatio)
        if (system.cgroup?.cpuQuotaUsedRatio !== undefined) line.containerCpuQuotaUsedRatio = round(system.cgroup.cpuQuotaUsedRatio)
        line.eventLoopUtilization = round(system.eventLoopUtilization)
        line.eventLoopDelayP99Seconds = round(system.eventLoopDelayP99Seconds)
        line.rssBytes = process.memoryUsage.rss()
      }
      if (this.options.detector) line.bottlenecks = this.options.detector.active().map((s) => s.name)
      this.logger.info({ report: line }, 'performance report')
    } catch (err) {
      this.logger.error({ err }, 'performance report failed')
    }
    return line
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}
