/**
 * Telemetry of one process, in one call (server, balancer, load generator):
 *
 *   const telemetry = await startTelemetry(config, logger, 'server')
 *   const server = new GameServer({ config, dispatcher, metrics: telemetry.metrics, logger })
 *   telemetry.observeServer(server)          // sessions and outbound backlog gauges
 *   …on shutdown, after the server closed:  await telemetry.close()
 *
 * With METRICS_ENABLED=false it returns `noopMetrics` and starts nothing.
 */
import type { Config } from '../config/index.js'
import type { Logger } from '../logger.js'
import type { TelemetryRole } from './catalogue.js'
import { noopBalancerMetrics, type BalancerMetrics } from '../balancer/metrics.js'
import { OtelBalancerMetrics } from './balancer-metrics.js'
import { BottleneckDetector, type ReadingSources } from './detector.js'
import { OtelGameMetrics } from './game-metrics.js'
import { noopMetrics, type GameMetrics, type ServerReading } from './metrics.js'
import { TelemetryProvider } from './provider.js'
import { PerformanceReporter } from './report.js'
import { SystemMonitor } from './system.js'
import { THRESHOLDS, type Threshold } from './thresholds.js'

/** Frames the detector's window must hold before its p95 counts (an idle server has no bottleneck). */
export const MIN_FRAMES_FOR_P95 = 20

export interface TelemetryOverrides {
  /** Instead of METRICS_PORT (0 picks a free port). */
  readonly port?: number
  readonly host?: string
  readonly thresholds?: readonly Threshold[]
  /** Replaces every threshold's `forSeconds` (tests, short benchmarks). */
  readonly forSecondsOverride?: number
}

export interface Telemetry {
  readonly enabled: boolean
  readonly metrics: GameMetrics
  /** What the balancer reports (role `balancer`; noop otherwise). */
  readonly balancerMetrics: BalancerMetrics
  /** Bound port of /metrics and /bottlenecks; null when disabled. */
  readonly port: number | null
  readonly provider: TelemetryProvider | null
  readonly system: SystemMonitor | null
  readonly detector: BottleneckDetector | null
  readonly reporter: PerformanceReporter | null
  /** Register the game server (anything with stats(): { activeSessions, outboundBytes }). */
  observeServer(server: { stats(): ServerReading }): void
  /**
   * Export gs_cluster_leader / gs_cluster_members for a cluster node once it has joined: leadership
   * is read at collection, live members are re-read every SYSTEM_SAMPLE_INTERVAL_MS (a Redis read).
   */
  observeClusterNode(node: Promise<ClusterNodeLike>): void
  /** Stop the report, detector, sampler and endpoint. Idempotent. */
  close(): Promise<void>
}

/** What telemetry needs of app/cluster's ClusterNode. */
export interface ClusterNodeLike {
  readonly isLeader: boolean
  members(): Promise<readonly { readonly alive: boolean }[]>
}

export async function startTelemetry(config: Config, logger: Logger, role: TelemetryRole, overrides: TelemetryOverrides = {}): Promise<Telemetry> {
  const settings = config.telemetry
  if (!settings.enabled) {
    return {
      enabled: false,
      metrics: noopMetrics,
      balancerMetrics: noopBalancerMetrics,
      port: null,
      provider: null,
      system: null,
      detector: null,
      reporter: null,
      observeServer: () => {},
      observeClusterNode: () => {},
      close: async () => {},
    }
  }
  const provider = await TelemetryProvider.start({
    role,
    instanceId: config.server.nodeId,
    host: overrides.host ?? settings.host,
    port: overrides.port ?? config.server.metricsPort,
    logger,
  })
  const slices = Math.max(1, Math.ceil(settings.detectorWindowMs / settings.detectorIntervalMs))
  const metrics = new OtelGameMetrics(provider, { windowSlices: slices })
  const balancerMetrics = role === 'balancer' ? new OtelBalancerMetrics(provider) : null
  let system: SystemMonitor | null = null
  let detector: BottleneckDetector | null = null
  let reporter: PerformanceReporter | null = null
  try {
    const diskPaths = settings.diskPaths.split(',').map((p) => p.trim()).filter(Boolean)
    system = await SystemMonitor.start({ sampleIntervalMs: settings.systemSampleIntervalMs, diskPaths, logger }, provider)
    const sample = () => system?.latest()
    // Memory and CPU: the container's budget when its cgroup sets one (a 512 MiB container is full
    // long before the host is), the host's otherwise (a bare process owns the whole machine).
    const sources: ReadingSources = {
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
    detector = new BottleneckDetector({
      thresholds: overrides.thresholds ?? THRESHOLDS,
      sources,
      windowMs: settings.detectorWindowMs,
      intervalMs: settings.detectorIntervalMs,
      logger,
      onTick: () => metrics.frameWindow.rotate(),
      ...(overrides.forSecondsOverride !== undefined ? { forSecondsOverride: overrides.forSecondsOverride } : {}),
    })
    detector.register(provider)
    detector.start()
    reporter = new PerformanceReporter({
      intervalMs: settings.reportIntervalMs,
      totals: () => metrics.totals(),
      system: () => system?.latest(),
      detector,
      logger,
    })
    reporter.start()
  } catch (err) {
    system?.close()
    detector?.close()
    await provider.close()
    throw err
  }
  let closing: Promise<void> | null = null
  let clusterTimer: NodeJS.Timeout | null = null
  return {
    enabled: true,
    metrics,
    balancerMetrics: balancerMetrics ?? noopBalancerMetrics,
    port: provider.port,
    provider,
    system,
    detector,
    reporter,
    observeServer: (server) => metrics.observeServer(() => server.stats()),
    observeClusterNode(joined) {
      void joined.then((node) => {
        if (closing !== null) return
        let members = 0
        const refresh = (): void => {
          node.members().then(
            (list) => (members = list.filter((m) => m.alive).length),
            (err: unknown) => logger.warn({ err }, 'reading cluster members for metrics failed'),
          )
        }
        refresh()
        clusterTimer = setInterval(refresh, settings.systemSampleIntervalMs)
        clusterTimer.unref()
        metrics.observeCluster(() => ({ leader: node.isLeader, members }))
      })
    },
    close() {
      closing ??= (async () => {
        if (clusterTimer !== null) clearInterval(clusterTimer)
        reporter?.close()
        detector?.close()
        system?.close()
        await provider.close()
      })()
      return closing
    },
  }
}
