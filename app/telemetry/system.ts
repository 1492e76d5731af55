/**
 * Real system readings (never simulated): event-loop delay (perf_hooks monitorEventLoopDelay) and
 * utilisation (performance.eventLoopUtilization), process CPU (process.cpuUsage) and memory, V8
 * heap spaces (v8.getHeapSpaceStatistics), garbage-collection pauses (a 'gc' PerformanceObserver),
 * this process's container — its cgroup's memory limit and working set, CPU quota, usage and
 * throttling (cgroup.ts) — and, for the detector, host CPU from /proc/stat deltas, host memory from
 * /proc/meminfo (MemAvailable) and disk from fs.statfs. Every SYSTEM_SAMPLE_INTERVAL_MS a sample
 * closes the interval: CPU and event-loop figures describe that interval, memory and disk are read
 * at that moment; process memory and CPU seconds are read at collection time. `latest()` feeds the
 * detector and the report.
 *
 * Exported as observable gauges: the process's and its container's figures. Host figures are not
 * exported: every process on a host would report the same numbers (and raise the same alert);
 * node_exporter reports them once per host.
 */
import { readFile, statfs } from 'node:fs/promises'
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type ELDHistogram, type PerformanceEntry } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { silentLogger, type Logger } from '../logger.js'
import { BucketHistogram } from './bucket-histogram.js'
import { cgroupInterval, detectCgroup, readCgroup, type CgroupFiles, type CgroupInterval, type CgroupReading } from './cgroup.js'
import { GC_DURATION_BUCKETS_SECONDS, METRICS } from './catalogue.js'
import type { TelemetryProvider } from './provider.js'

export interface CpuTimes {
  /** Jiffies of all CPUs that were not idle or waiting for I/O. */
  readonly busy: number
  readonly total: number
}

export interface HostMemory {
  readonly totalBytes: number
  readonly availableBytes: number
}

export interface DiskReading {
  readonly path: string
  readonly totalBytes: number
  readonly availableBytes: number
}

export interface SystemSample {
  /** performance.now() of the sample. */
  readonly at: number
  readonly intervalMs: number
  readonly eventLoopDelayMinSeconds: number
  readonly eventLoopDelayMeanSeconds: number
  readonly eventLoopDelayStddevSeconds: number
  readonly eventLoopDelayP50Seconds: number
  readonly eventLoopDelayP90Seconds: number
  readonly eventLoopDelayP99Seconds: number
  readonly eventLoopDelayMaxSeconds: number
  readonly eventLoopUtilization: number
  /** CPU seconds of this process per wall second (1 = one core). */
  readonly processCpuRatio: number
  /** Busy fraction of all host CPUs; undefined without /proc. */
  readonly hostCpuRatio: number | undefined
  readonly hostMemory: HostMemory | undefined
  readonly disks: readonly DiskReading[]
  /** This process's cgroup (container), when one is readable. */
  readonly cgroup: (CgroupReading & CgroupInterval) | undefined
}

/** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal … */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n', 1)[0] ?? ''
  const fields = line.trim().split(/\s+/)
  if (fields[0] !== 'cpu') throw new Error('no aggregate cpu line in /proc/stat')
  // guest and guest_nice are already included in user and nice
  const values = fields.slice(1, 9).map(Number)
  const total = values.reduce((a, b) => a + b, 0)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  return { busy: total - idle, total }
}

export function parseMeminfo(text: string): HostMemory {
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)
    if (!match) throw new Error(`no ${key} in /proc/meminfo`)
    return Number(match[1]) * 1024
  }
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') }
}

/** Busy fraction between two /proc/stat readings. */
export function cpuRatio(previous: CpuTimes, current: CpuTimes): number {
  const total = current.total - previous.total
  return total > 0 ? Math.min(1, Math.max(0, (current.busy - previous.busy) / total)) : 0
}

async function readHostCpu(): Promise<CpuTimes> {
  return parseProcStat(await readFile('/proc/stat', 'utf8'))
}

async function readHostMemory(): Promise<HostMemory> {
  return parseMeminfo(await readFile('/proc/meminfo', 'utf8'))
}

async function readDisk(path: string): Promise<DiskReading> {
  const stats = await statfs(path)
  return { path, totalBytes: stats.blocks * stats.bsize, availableBytes: stats.bavail * stats.bsize }
}

export const EVENT_LOOP_DELAY_RESOLUTION_MS = 100

/** `v8js.gc.type` of a 'gc' performance entry's kind. */
const GC_TYPES = new Map<number, string>([
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perfConstants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
])

/**
 * Garbage-collection pauses by type, from a 'gc' PerformanceObserver (entries arrive in batches
 * after the collection, off the hot path; a scavenge every ~0.5 s under load costs nothing
 * measurable).
 */
class GcPauses {
  readonly byType = new Map<string, BucketHistogram>()
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { readonly detail?: { readonly kind?: number } | null }).detail?.kind
      const type = (kind !== undefined && GC_TYPES.get(kind)) || 'other'
      let histogram = this.byType.get(type)
      if (histogram === undefined) this.byType.set(type, (histogram = new BucketHistogram(GC_DURATION_BUCKETS_SECONDS)))
      histogram.record(entry.duration / 1000)
    }
  })

  start(): void {
    this.observer.observe({ entryTypes: ['gc'] })
  }

  stop(): void {
    this.observer.disconnect()
  }
}

export interface SystemMonitorOptions {
  readonly sampleIntervalMs: number
  readonly diskPaths: readonly string[]
  readonly logger?: Logger
  /** This process's cgroup files (tests); default: detected from /proc/self; null: none. */
  readonly cgroup?: CgroupFiles | null
}

export class SystemMonitor {
  private readonly delay: ELDHistogram
  private readonly gc = new GcPauses()
  private readonly logger: Logger
  private timer: NodeJS.Timeout | null = null
  private sampling: Promise<void> | null = null
  private lastAt = performance.now()
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization()
  private lastCpu = process.cpuUsage()
  private lastHostCpu: CpuTimes | undefined
  private cgroupFiles: CgroupFiles | undefined
  private lastCgroup: CgroupReading | undefined
  private sample: SystemSample | undefined
  private procWarned = false
  private closed = false

  private constructor(private readonly options: SystemMonitorOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'system-monitor' })
    // 10 samples a second. A blocked loop delays whichever tick is pending, so long stalls are caught
    // at any resolution; the 10 ms default cost up to ~10 % CPU per frame under load in
    // bench/metrics.bench.ts (extra loop wake-ups split I/O batches), 100 ms costs nothing measurable.
    this.delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_DELAY_RESOLUTION_MS })
  }

  /** Start sampling (first reading after 1 s at most, then every `sampleIntervalMs`) and register the gauges. */
  static async start(options: SystemMonitorOptions, provider?: TelemetryProvider): Promise<SystemMonitor> {
    const monitor = new SystemMonitor(options)
    monitor.delay.enable()
    monitor.gc.start()
    monitor.lastHostCpu = await monitor.tryProc(readHostCpu)
    monitor.cgroupFiles = options.cgroup === null ? undefined : (options.cgroup ?? (await detectCgroup()))
    monitor.lastCgroup = await monitor.readCgroupOnce()
    monitor.timer = setInterval(() => void monitor.sampleNow(), options.sampleIntervalMs)
    monitor.timer.unref()
    // A first, shorter interval so the gauges exist by the first scrape of a fresh process (rates
    // are over each interval's real length, so a short first one is still right).
    if (options.sampleIntervalMs > 1000) setTimeout(() => void monitor.sampleNow(), 1000).unref()
    if (provider) monitor.register(provider)
    return monitor
  }

  /** The last completed interval, or undefined before the first one. */
  latest(): SystemSample | undefined {
    return this.sample
  }

  /** Close the current interval now (tests; the timer does it every sampleIntervalMs). */
  sampleNow(): Promise<void> {
    this.sampling ??= this.takeSample().finally(() => (this.sampling = null))
    return this.sampling
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.delay.disable()
    this.gc.stop()
  }

  private async takeSample(): Promise<void> {
    if (this.closed) return
    try {
      const now = performance.now()
      const intervalMs = now - this.lastAt
      const elu = performance.eventLoopUtilization(this.lastElu)
      const cpu = process.cpuUsage(this.lastCpu)
      // the histogram records the time between two ticks of its timer; the delay is what exceeds
      // the resolution (an idle loop reads ~0, not ~100 ms)
      const resolutionNs = EVENT_LOOP_DELAY_RESOLUTION_MS * 1e6
      const ns = (v: number): number => (Number.isFinite(v) ? Math.max(0, v - resolutionNs) / 1e9 : 0)
      const delay = {
        min: ns(this.delay.min),
        mean: ns(this.delay.mean),
        // a spread, not a point on the time line: the resolution is not subtracted
        stddev: Number.isFinite(this.delay.stddev) ? this.delay.stddev / 1e9 : 0,
        p50: ns(this.delay.percentile(50)),
        p90: ns(this.delay.percentile(90)),
        p99: ns(this.delay.percentile(99)),
        max: ns(this.delay.max),
      }
      this.delay.reset()
      this.lastAt = now
      this.lastElu = performance.eventLoopUtilization()
      this.lastCpu = process.cpuUsage()
      const hostCpu = await this.tryProc(readHostCpu)
      const hostCpuRatio = hostCpu && this.lastHostCpu ? cpuRatio(this.lastHostCpu, hostCpu) : undefined
      this.lastHostCpu = hostCpu
      const hostMemory = await this.tryProc(readHostMemory)
      const disks = await this.readDisks()
      const cgroupNow = await this.readCgroupOnce()
      const cgroup = cgroupNow ? { ...cgroupNow, ...cgroupInterval(this.lastCgroup, cgroupNow, intervalMs) } : undefined
      this.lastCgroup = cgroupNow
      this.sample = {
        at: now,
        intervalMs,
        eventLoopDelayMinSeconds: delay.min,
        eventLoopDelayMeanSeconds: delay.mean,
        eventLoopDelayStddevSeconds: delay.stddev,
        eventLoopDelayP50Seconds: delay.p50,
        eventLoopDelayP90Seconds: delay.p90,
        eventLoopDelayP99Seconds: delay.p99,
        eventLoopDelayMaxSeconds: delay.max,
        eventLoopUtilization: elu.utilization,
        processCpuRatio: intervalMs > 0 ? (cpu.user + cpu.system) / 1000 / intervalMs : 0,
        hostCpuRatio,
        hostMemory,
        disks,
        cgroup,
      }
    } catch (err) {
      this.logger.error({ err }, 'system sample failed')
    }
  }

  private async readDisks(): Promise<DiskReading[]> {
    const out: DiskReading[] = []
    for (const path of this.options.diskPaths) {
      try {
        out.push(await readDisk(path))
      } catch (err) {
        this.logger.warn({ err, path }, 'statfs failed')
      }
    }
    return out
  }

  private async readCgroupOnce(): Promise<CgroupReading | undefined> {
    if (!this.cgroupFiles) return undefined
    try {
      return await readCgroup(this.cgroupFiles)
    } catch (err) {
      this.logger.warn({ err }, 'reading the cgroup failed; container figures are not reported')
      this.cgroupFiles = undefined
      return undefined
    }
  }

  private async tryProc<T>(read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read()
    } catch (err) {
      if (!this.procWarned) this.logger.warn({ err }, '/proc is not readable; host CPU and memory are not reported')
      this.procWarned = true
      return undefined
    }
  }

  private register(provider: TelemetryProvider): void {
    const fromSample = (read: (s: SystemSample) => number | undefined) => (r: { observe(v: number): void }) => {
      const value = this.sample ? read(this.sample) : undefined
      if (value !== undefined) r.observe(value)
    }
    provider.observe(METRICS.eventLoopDelayMin, fromSample((s) => s.eventLoopDelayMinSeconds))
    provider.observe(METRICS.eventLoopDelayMax, fromSample((s) => s.eventLoopDelayMaxSeconds))
    provider.observe(METRICS.eventLoopDelayMean, fromSample((s) => s.eventLoopDelayMeanSeconds))
    provider.observe(METRICS.eventLoopDelayStddev, fromSample((s) => s.eventLoopDelayStddevSeconds))
    provider.observe(METRICS.eventLoopDelayP50, fromSample((s) => s.eventLoopDelayP50Seconds))
    provider.observe(METRICS.eventLoopDelayP90, fromSample((s) => s.eventLoopDelayP90Seconds))
    provider.observe(METRICS.eventLoopDelayP99, fromSample((s) => s.eventLoopDelayP99Seconds))
    provider.observe(METRICS.eventLoopUtilization, fromSample((s) => s.eventLoopUtilization))
    provider.observe(METRICS.eventLoopTime, (r) => {
      const elu = performance.eventLoopUtilization()
      r.observe(elu.active / 1000, { 'nodejs.eventloop.state': 'active' })
      r.observe(elu.idle / 1000, { 'nodejs.eventloop.state': 'idle' })
    })
    provider.histograms.register(METRICS.gcDuration, () => [...this.gc.byType].map(([type, histogram]) => ({ attributes: { 'v8js.gc.type': type }, histogram })))
    const heapSpaces = (read: (space: ReturnType<typeof getHeapSpaceStatistics>[number]) => number) => (r: { observe(v: number, a: Record<string, string>): void }) => {
      for (const space of getHeapSpaceStatistics()) r.observe(read(space), { 'v8js.heap.space.name': space.space_name })
    }
    provider.observe(METRICS.heapUsed, heapSpaces((space) => space.space_used_size))
    provider.observe(METRICS.heapLimit, heapSpaces((space) => space.space_size))
    provider.observe(METRICS.heapSpaceAvailable, heapSpaces((space) => space.space_available_size))
    provider.observe(METRICS.heapSpacePhysical, heapSpaces((space) => space.physical_space_size))
    provider.observe(METRICS.processCpuUtilization, fromSample((s) => s.processCpuRatio))
    provider.observe(METRICS.processCpu, (r) => {
      const usage = process.cpuUsage()
      r.observe(usage.user / 1e6, { 'cpu.mode': 'user' })
      r.observe(usage.system / 1e6, { 'cpu.mode': 'system' })
    })
    provider.observe(METRICS.processMemory, (r) => r.observe(process.memoryUsage.rss()))
    const group = (read: (c: CgroupReading & CgroupInterval) => number | undefined) => fromSample((s) => (s.cgroup ? read(s.cgroup) : undefined))
    provider.observe(METRICS.containerMemoryLimit, group((c) => c.memoryLimitBytes))
    provider.observe(METRICS.containerMemoryWorkingSet, group((c) => c.memoryWorkingSetBytes))
    provider.observe(METRICS.containerMemoryUsed, group((c) => c.memoryUsedRatio))
    provider.observe(METRICS.containerCpuQuota, group((c) => c.cpuQuotaCores))
    provider.observe(METRICS.containerCpuUsed, group((c) => c.cpuQuotaUsedRatio))
    provider.observe(METRICS.containerCpuThrottled, group((c) => c.cpuThrottledRatio))
    provider.observe(METRICS.containerCpuThrottledSeconds, group((c) => (c.cpuQuotaCores !== undefined ? c.cpuThrottledSeconds : undefined)))
  }
}
