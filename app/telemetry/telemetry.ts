/**
 * Telemetry of one process (game server, balancer, load generator), as one owner: the metrics
 * endpoint, the metrics the parts report through, the system sampler, the bottleneck detector and
 * the periodic report.
 *
 *   const telemetry = await Telemetry.start(config, logger, 'server')   // null with METRICS_ENABLED=false
 *   const server = new GameServer({ config, dispatcher, metrics: telemetry?.metrics, logger })
 *   telemetry?.observeServer(server)         // sessions and outbound backlog gauges
 *   …on shutdown, after the server closed:  await telemetry?.close()
 *
 * Parts never import this folder: each declares the interface it reports through, and
 * `metrics` / `balancerMetrics` implement them (without telemetry they fall back to their no-ops).
 */
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'
import { OtelBalancerMetrics } from './balancer-metrics.js'
import type { TelemetryRole } from './catalogue.js'
import { BottleneckDetector, type ReadingSources } from './detector.js'
import { TelemetryProvider } from './provider.js'
import { PerformanceReporter } from './report.js'
import { OtelServerMetrics, type ServerReading } from './server-metrics.js'
import { SystemMonitor } from './system.js'
import { THRESHOLDS, type Threshold } from './thresholds.js'

/** Frames the detector's window must hold before its p95 counts (an idle server has no bottleneck). */
const MIN_FRAMES_FOR_P95 = 20

export interface TelemetryOverrides {
  /** Instead of METRICS_PORT (0 picks a free port). */
  readonly port?: number
  readonly host?: string
  readonly thresholds?: readonly Threshold[]
  /** Replaces every threshold's `forSeconds` (tests, short benchmarks). */
  readonly forSecondsOverride?: number
}

/** What telemetry needs of app/cluster's ClusterNode (structurally: telemetry does not import it). */
interface ClusterNodeLike {
  readonly isLeader: boolean
  members(): Promise<readonly { readonly alive: boolean }[]>
}

export class Telemetry {
  private closing: Promise<void> | null = null
  private clusterTimer: NodeJS.Timeout | null = null

  private constructor(
    readonly provider: TelemetryProvider,
    /** What the game server's parts report through (net, game, database, cache). */
    readonly metrics: OtelServerMetrics,
    /** What the balancer reports through (role `balancer`, else null). */
    readonly balancerMetrics: OtelBalancerMetrics | null,
    readonly system: SystemMonitor,
    readonly detector: BottleneckDetector,
    readonly reporter: PerformanceReporter,
    private readonly sampleIntervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Bound port of /metrics and /bottlenecks. */
  get port(): number {
    return this.provider.port
  }

  /** Start everything, or null with METRICS_ENABLED=false (nothing recorded, nothing served). */
  static async start(config: Config, logger: Logger, role: TelemetryRole, overrides: TelemetryOverrides = {}): Promise<Telemetry | null> {
    const settings = config.telemetry
    if (!settings.enabled) return null
    const provider = await TelemetryProvider.start({
      role,
      instanceId: config.server.nodeId,
      host: overrides.host ?? settings.host,
      port: overrides.port ?? config.server.metricsPort,
      logger,
    })
    const slices = Math.max(1, Math.ceil(settings.detectorWindowMs / settings.detectorIntervalMs))
    const metrics = new OtelServerMetrics(provider, { windowSlices: slices })
    const balancerMetrics = role === 'balancer' ? new OtelBalancerMetrics(provider) : null
    let system: SystemMonitor | null = null
    let detector: BottleneckDetector | null = null
    try {
      const diskPaths = settings.diskPaths.split(',').map((p) => p.trim()).filter(Boolean)
      const started = await SystemMonitor.start({ sampleIntervalMs: settings.systemSampleIntervalMs, diskPaths, logger }, provider)
      system = started
      detector = new BottleneckDetector({
        thresholds: overrides.thresholds ?? THRESHOLDS,
        sources: readingSources(started, metrics, balancerMetrics),
        windowMs: settings.detectorWindowMs,
        intervalMs: settings.detectorIntervalMs,
        logger,
        onTick: () => metrics.frameWindow.rotate(),
        ...(overrides.forSecondsOverride !== undefined ? { forSecondsOverride: overrides.forSecondsOverride } : {}),
      })
      detector.register(provider)
      detector.start()
      const reporter = new PerformanceReporter({
        intervalMs: settings.reportIntervalMs,
        totals: () => metrics.totals(),
        system: () => started.latest(),
        detector,
        logger,
      })
      reporter.start()
      return new Telemetry(provider, metrics, balancerMetrics, started, detector, reporter, settings.systemSampleIntervalMs, logger)
    } catch (err) {
      system?.close()
      detector?.close()
      await provider.close()
      throw err
    }
  }

  /** Register the game server (anything with stats(): { activeSessions, outboundBytes }). */
  observeServer(server: { stats(): ServerReading }): void {
    this.metrics.observeServer(() => server.stats())
  }

  /**
   * Export gs_cluster_leader / gs_cluster_members for a cluster node once it has joined: leadership
   * is read at collection, live members are re-read every SYSTEM_SAMPLE_INTERVAL_MS (a Redis read).
   */
  observeClusterNode(joined: Promise<ClusterNodeLike>): void {
    void joined.then((node) => {
      if (this.closing !== null) return
      let members = 0
      const refresh = (): void => {
        node.members().then(
          (list) => (members = list.filter((m) => m.alive).length),
          (err: unknown) => this.logger.warn({ err }, 'reading cluster members for metrics failed'),
        )
      }
      refresh()
      this.clusterTimer = setInterval(refresh, this.sampleIntervalMs)
      this.clusterTimer.unref()
      this.metrics.observeCluster(() => ({ leader: node.isLeader, members }))
    })
  }

  /** Stop the report, detector, sampler and endpoint. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.clusterTimer !== null) clearInterval(this.clusterTimer)
      this.reporter.close()
      this.detector.close()
      this.system.close()
      await this.provider.close()
    })()
    return this.closing
  }
}

/**
 * What the detector reads. Memory and CPU: the container's budget when its cgroup sets one (a
 * 512 MiB container is full long before the host is), the host's otherwise (a bare process owns
 * the whole machine).
 */
function readingSources(system: SystemMonitor, metrics: OtelServerMetrics, balancerMetrics: OtelBalancerMetrics | null): ReadingSources {
  const sample = () => system.latest()
  return {
    containerMemoryUsedRatio: () => sample()?.cgroup?.memoryUsedRatio,
    containerCpuQuotaUsedRatio: () => sample()?.cgroup?.cpuQuotaUsedRatio,
    containerCpuThrottledRatio: () => sample()?.cgroup?.cpuThrottledRatio,
    hostCpuRatio: () => (sample()?.cgroup?.cpuQuotaCores !== undefined ? undefined : sample()?.hostCpuRatio),
    hostMemoryUsedRatio: () => {
      const current = sample()
      const memory = current?.hostMemory
      return current?.cgroup?.memoryLimitBytes !== undefined || !memory ? undefined : 1 - memory.availableBytes / memory.totalBytes
    },
    hostDiskUsedRatio: () => {
      const disks = sample()?.disks ?? []
      return disks.length === 0 ? undefined : Math.max(...disks.map((d) => (d.totalBytes > 0 ? 1 - d.availableBytes / d.totalBytes : 0)))
    },
    eventLoopDelayP99Seconds: () => sample()?.eventLoopDelayP99Seconds,
    frameProcessingP95Seconds: () => {
      // a p95 of a handful of frames is one slow login, not a bottleneck
      const window = metrics.frameWindow.snapshot()
      return window.count >= MIN_FRAMES_FOR_P95 ? window.quantile(0.95) : undefined
    },
    outboundBacklogBytes: () => metrics.outboundBacklogBytes(),
    poolWaiters: () => metrics.maxPoolWaiters(),
    cacheErrorsTotal: () => metrics.cacheErrorsTotal(),
    unhealthyBackends: () => balancerMetrics?.unhealthyBackends(),
  }
}
