/**
 * Bottleneck thresholds, defined once (docs/TELEMETRY.md, docs/METRICS.md). The in-process detector (detector.ts) evaluates
 * them over a sliding window; the deployment generates the Prometheus alert rules and the Grafana
 * threshold lines from the same objects through `promqlExpr()` / `alertRule()`. Each threshold says
 * what it reads (an in-process reading and, for Prometheus, the catalogue metric), the limit, the
 * severity and how long the condition must hold (`forSeconds`) before it is raised.
 */
import { EXPORTER_METRICS, METRICS, type ExporterMetricKey, type MetricKey } from './catalogue.js'

export type Severity = 'warning' | 'critical'

/** In-process readings the detector is given sources for (see detector.ts `ReadingSources`). */
export type ReadingName =
  | 'containerMemoryUsedRatio'
  | 'containerCpuQuotaUsedRatio'
  | 'containerCpuThrottledRatio'
  | 'hostCpuRatio'
  | 'hostMemoryUsedRatio'
  | 'hostDiskUsedRatio'
  | 'frameProcessingP95Seconds'
  | 'eventLoopDelayP99Seconds'
  | 'outboundBacklogBytes'
  | 'poolWaiters'
  | 'cacheErrorsTotal'
  | 'unhealthyBackends'

export interface Threshold {
  /** Stable id: label `name` of gs_bottleneck_active, alert name suffix, dashboard reference. */
  readonly name: string
  readonly summary: string
  /** One or two sentences for the alert's description annotation and the dashboard. */
  readonly description: string
  /**
   * Where the alert is evaluated. `process`: on each app process's own metric (one alert per
   * process or container). `host`: on node_exporter's metrics, one alert per host, however many
   * app processes share it; the in-process detector still reads the host where the process has no
   * cgroup limit of that kind (start.ts), so a bare process on a host keeps its feedback.
   */
  readonly scope: 'process' | 'host'
  /** The metric the Prometheus side reads (dashboards draw the limit on its panel). */
  readonly metric: MetricKey | ExporterMetricKey
  readonly reading: ReadingName
  /**
   * `value`: compare the reading itself; `rate`: the reading is a monotonic total and the detector
   * compares its per-second increase over the window.
   */
  readonly mode: 'value' | 'rate'
  /** Raised while reading (or its rate) > limit. */
  readonly limit: number
  /** Unit of `limit` (for humans and dashboards). */
  readonly unit: 'ratio' | 'seconds' | 'bytes' | 'count' | 'per-second'
  readonly severity: Severity
  readonly forSeconds: number
  /** PromQL of the compared quantity; `$range` is replaced by the rate range (promqlExpr). */
  readonly promql: string
}

const by = 'job, instance'

/** Filesystems node_exporter reports that are not disks that fill up. */
const PSEUDO_FILESYSTEMS = 'fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|autofs|proc|sysfs|cgroup2?"'

export const THRESHOLDS = [
  {
    name: 'container-memory',
    scope: 'process',
    metric: 'containerMemoryUsed',
    description: 'The working set of the process\'s container (cgroup) stayed above the limit of its memory limit; near the limit the kernel reclaims hard and then kills the process (OOM).',
    summary: 'Container memory above 85 % of its limit',
    reading: 'containerMemoryUsedRatio',
    mode: 'value',
    limit: 0.85,
    unit: 'ratio',
    severity: 'critical',
    forSeconds: 60,
    promql: `max by (${by}) (${METRICS.containerMemoryUsed.name})`,
  },
  {
    name: 'container-cpu',
    scope: 'process',
    metric: 'containerCpuUsed',
    description: 'The process\'s container used more than the limit of its CPU quota; beyond the quota it is throttled and every session waits.',
    summary: 'Container CPU above 90 % of its quota',
    reading: 'containerCpuQuotaUsedRatio',
    mode: 'value',
    limit: 0.9,
    unit: 'ratio',
    severity: 'critical',
    forSeconds: 60,
    promql: `max by (${by}) (${METRICS.containerCpuUsed.name})`,
  },
  {
    name: 'container-cpu-throttled',
    scope: 'process',
    metric: 'containerCpuThrottled',
    description: 'The CPU quota throttled the process\'s container in more than a quarter of its scheduling periods: latency spikes of up to a period (100 ms by default) follow.',
    summary: 'Container throttled in more than 25 % of CPU periods',
    reading: 'containerCpuThrottledRatio',
    mode: 'value',
    limit: 0.25,
    unit: 'ratio',
    severity: 'warning',
    forSeconds: 60,
    promql: `max by (${by}) (${METRICS.containerCpuThrottled.name})`,
  },
  {
    name: 'host-cpu',
    scope: 'host',
    metric: 'nodeCpuSeconds',
    description: 'The busy fraction of all CPUs of a host (node_exporter) stayed above the limit; the servers on it will queue frames and latency rises.',
    summary: 'Host CPU above 90 %',
    reading: 'hostCpuRatio',
    mode: 'value',
    limit: 0.9,
    unit: 'ratio',
    severity: 'critical',
    forSeconds: 60,
    promql: `1 - avg by (${by}) (rate(${EXPORTER_METRICS.nodeCpuSeconds.name}{mode="idle"}[$range]))`,
  },
  {
    name: 'host-memory',
    scope: 'host',
    metric: 'nodeMemoryAvailable',
    description: 'Memory in use on a host (1 - MemAvailable / MemTotal, node_exporter) stayed above the limit; the kernel may start reclaiming or killing processes.',
    summary: 'Host memory above 85 % (MemAvailable)',
    reading: 'hostMemoryUsedRatio',
    mode: 'value',
    limit: 0.85,
    unit: 'ratio',
    severity: 'critical',
    forSeconds: 60,
    promql: `1 - max by (${by}) (${EXPORTER_METRICS.nodeMemoryAvailable.name}) / max by (${by}) (${EXPORTER_METRICS.nodeMemoryTotal.name})`,
  },
  {
    name: 'host-disk',
    scope: 'host',
    metric: 'nodeFilesystemAvailable',
    description: 'A filesystem of a host (node_exporter; in-process: DISK_PATHS) is nearly full; the database and logs need room.',
    summary: 'Filesystem above 90 % used',
    reading: 'hostDiskUsedRatio',
    mode: 'value',
    limit: 0.9,
    unit: 'ratio',
    severity: 'warning',
    forSeconds: 300,
    promql: `max by (${by}) (1 - ${EXPORTER_METRICS.nodeFilesystemAvailable.name}{${PSEUDO_FILESYSTEMS}} / ${EXPORTER_METRICS.nodeFilesystemSize.name}{${PSEUDO_FILESYSTEMS}})`,
  },
  {
    name: 'frame-processing-p95',
    scope: 'process',
    metric: 'frameProcessing',
    description: 'The 95th percentile of handler time per inbound frame stayed above 10 ms.',
    summary: 'Frame processing p95 above 10 ms',
    reading: 'frameProcessingP95Seconds',
    mode: 'value',
    limit: 0.01,
    unit: 'seconds',
    severity: 'warning',
    forSeconds: 30,
    promql: `histogram_quantile(0.95, sum by (${by}, le) (rate(${METRICS.frameProcessing.name}_bucket[$range])))`,
  },
  {
    name: 'event-loop-delay-p99',
    scope: 'process',
    metric: 'eventLoopDelayP99',
    description: 'The event loop ran late by more than 50 ms at the 99th percentile: every session on this process waits that long.',
    summary: 'Event-loop delay p99 above 50 ms',
    reading: 'eventLoopDelayP99Seconds',
    mode: 'value',
    limit: 0.05,
    unit: 'seconds',
    severity: 'warning',
    forSeconds: 30,
    promql: `max by (${by}) (${METRICS.eventLoopDelayP99.name})`,
  },
  {
    name: 'outbound-backlog',
    scope: 'process',
    metric: 'outboundBacklog',
    description: 'Bytes queued for clients whose sockets are backed up exceed the limit; slow clients are being disconnected.',
    summary: 'More than 32 MiB queued for slow clients',
    reading: 'outboundBacklogBytes',
    mode: 'value',
    limit: 32 * 1024 * 1024,
    unit: 'bytes',
    severity: 'warning',
    forSeconds: 30,
    promql: `sum by (${by}) (${METRICS.outboundBacklog.name})`,
  },
  {
    name: 'pool-waiters',
    scope: 'process',
    metric: 'poolWaiting',
    description: 'Callers wait for a pool resource (database connections): the pool is too small or queries are slow.',
    summary: 'More than 10 callers waiting for a pool',
    reading: 'poolWaiters',
    mode: 'value',
    limit: 10,
    unit: 'count',
    severity: 'warning',
    forSeconds: 30,
    promql: `max by (${by}) (${METRICS.poolWaiting.name})`,
  },
  {
    name: 'cache-errors',
    scope: 'process',
    metric: 'cacheErrors',
    description: 'Cache operations fail (Redis shards unreachable or breaker open); reads fall back to the database.',
    summary: 'Cache errors above 1 per second',
    reading: 'cacheErrorsTotal',
    mode: 'rate',
    limit: 1,
    unit: 'per-second',
    severity: 'warning',
    forSeconds: 60,
    promql: `sum by (${by}) (rate(${METRICS.cacheErrors.name}[$range]))`,
  },
  {
    name: 'unhealthy-backends',
    scope: 'process',
    metric: 'backendHealthy',
    description: 'The balancer marked at least one backend unhealthy (failed health checks); its share of traffic goes elsewhere.',
    summary: 'A balancer backend fails its health checks',
    reading: 'unhealthyBackends',
    mode: 'value',
    limit: 0,
    unit: 'count',
    severity: 'warning',
    forSeconds: 30,
    promql: `count by (${by}) (${METRICS.backendHealthy.name} == 0)`,
  },
] as const satisfies readonly Threshold[]

export type ThresholdName = (typeof THRESHOLDS)[number]['name']

/** The PromQL of the compared quantity (no comparison): what a panel plots against the limit. */
export function readingExpr(threshold: Threshold, range = '1m'): string {
  return threshold.promql.replaceAll('$range', range)
}

/** The alerting expression: true (non-empty) while the threshold is crossed. */
export function promqlExpr(threshold: Threshold, range = '1m'): string {
  return `${readingExpr(threshold, range)} > ${threshold.limit}`
}

export interface AlertRule {
  readonly alert: string
  readonly expr: string
  readonly for: string
  readonly labels: { readonly severity: Severity; readonly bottleneck: string }
  readonly annotations: { readonly summary: string; readonly description: string }
}

/** A Prometheus alerting rule for the threshold (the deployment writes them into rules.yml). */
export function alertRule(threshold: Threshold, range = '1m'): AlertRule {
  const alert = 'Bottleneck' + threshold.name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
  return {
    alert,
    expr: promqlExpr(threshold, range),
    for: `${threshold.forSeconds}s`,
    labels: { severity: threshold.severity, bottleneck: threshold.name },
    annotations: { summary: threshold.summary, description: threshold.description },
  }
}
