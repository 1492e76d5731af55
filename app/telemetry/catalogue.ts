/**
 * The metric catalogue: every metric the appliance exports, defined once — name (as it appears on
 * the wire; the Prometheus exporter adds no unit suffix, so names carry `_seconds`, `_bytes`,
 * `_ratio`, `_total`), kind, unit, help, label names and, for histograms, explicit buckets that
 * bracket the bottleneck thresholds (app/telemetry/thresholds.ts). The Node.js runtime and process
 * metrics use OpenTelemetry's semantic-convention names instead (`nodejs.eventloop.delay.p99`,
 * `v8js.gc.duration`, `process.cpu.time`…, exported as `nodejs_eventloop_delay_p99`…), so
 * dashboards built for any OpenTelemetry-instrumented Node service read them unchanged. The instruments
 * (server-metrics.ts, system.ts, the other parts' recorders), the dashboards and the alert rules
 * (deploy) are all generated from this table, so a renamed metric cannot silently break a panel.
 */

type MetricKind = 'counter' | 'gauge' | 'histogram'

/** UCUM units as OpenTelemetry expects them (`s`, `By`, `1`, `{frame}`…). */
type MetricUnit = 's' | 'By' | '1' | '{frame}' | '{session}' | '{event}' | '{connection}' | '{request}' | '{item}' | '{member}' | '{core}' | '{tick}'

export interface MetricDefinition {
  /** The Prometheus name (what dashboards and alert rules query). */
  readonly name: string
  /**
   * The OpenTelemetry instrument name when it differs from `name`: semantic-convention names have
   * dots, which the exporter turns into underscores (and counters get `_total`).
   */
  readonly otelName?: string
  readonly kind: MetricKind
  readonly unit: MetricUnit
  readonly help: string
  readonly labels: readonly string[]
  /** Histograms only: explicit upper bounds, strictly increasing (+Inf is implicit). */
  readonly buckets?: readonly number[]
  /** Which process kinds export it (none for an exporter's metric). */
  readonly roles: readonly TelemetryRole[]
  /** Set for metrics another program of the topology exports (e.g. `node-exporter`). */
  readonly exporter?: string
}

export type TelemetryRole = 'server' | 'balancer' | 'loadgen'

const ALL: readonly TelemetryRole[] = ['server', 'balancer', 'loadgen']
const SERVER: readonly TelemetryRole[] = ['server']
const BALANCER: readonly TelemetryRole[] = ['balancer']

/** Handler time per frame: fine below 1 ms, bracketing the 10 ms p95 threshold (7.5 / 10 / 15 ms). */
export const FRAME_DURATION_BUCKETS_SECONDS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const
/** Frames per batch-processor run: the flush policy is 100 frames (BATCH_MAX_FRAMES). */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 75, 100, 150, 200, 500, 1000] as const
/** Compressed / original bytes of a BATCH frame; 0.9 is the BATCH_MAX_RATIO cut-off. */
const COMPRESSION_RATIO_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1] as const
/** Garbage-collection pauses: scavenges take 0.1–2 ms, full collections up to seconds. */
export const GC_DURATION_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const
/** Database queries, cache round trips, pool acquisition, backend latency (acquire timeout 5 s). */
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const

function counter(name: string, unit: MetricUnit, help: string, labels: readonly string[] = [], roles = SERVER): MetricDefinition {
  return { name, kind: 'counter', unit, help, labels, roles }
}
function gauge(name: string, unit: MetricUnit, help: string, labels: readonly string[] = [], roles = SERVER): MetricDefinition {
  return { name, kind: 'gauge', unit, help, labels, roles }
}
/**
 * A metric named by OpenTelemetry's semantic conventions (runtime and process metrics): the
 * Prometheus name follows from the instrument name as the exporter derives it.
 */
function semconv<T extends MetricDefinition>(otelName: string, definition: (name: string) => T): T {
  const made = definition(otelName.replaceAll('.', '_'))
  const name = made.kind === 'counter' ? `${made.name}_total` : made.name
  return { ...made, name, otelName }
}
function histogram(name: string, unit: MetricUnit, help: string, buckets: readonly number[], labels: readonly string[] = [], roles = SERVER): MetricDefinition {
  return { name, kind: 'histogram', unit, help, labels, buckets, roles }
}

export const METRICS = {
  // --- frames and batches (hot path, GameMetrics) ---
  framesIn: counter('gs_frames_in_total', '{frame}', 'Frames received, by frame type (BATCH inner frames counted individually).', ['type']),
  framesOut: counter('gs_frames_out_total', '{frame}', 'Frames queued for sending, by frame type.', ['type']),
  frameProcessing: histogram('gs_frame_processing_seconds', 's', 'Handler time of one inbound frame, by frame type.', FRAME_DURATION_BUCKETS_SECONDS, ['type']),
  batchSize: histogram('gs_batch_frames', '{frame}', 'Frames taken by one run of the inbound batch processor.', BATCH_SIZE_BUCKETS),
  batchProcessing: histogram('gs_batch_processing_seconds', 's', 'Duration of one run of the inbound batch processor.', FRAME_DURATION_BUCKETS_SECONDS),
  queueDepth: gauge('gs_inbound_queue_depth', '{frame}', 'Frames waiting in the inbound queue (last reported).'),
  queueDepthMax: gauge('gs_inbound_queue_depth_max', '{frame}', 'Largest inbound queue depth reported since the previous collection.'),
  framesShed: counter('gs_frames_shed_total', '{frame}', 'Inbound frames dropped because the inbound queue was full.'),
  flushes: counter('gs_flushes_total', '{event}', 'Send-buffer writes, by trigger (count, fill, timer, idle, drain, close).', ['reason']),
  flushedFrames: counter('gs_flushed_frames_total', '{frame}', 'Frames written by send-buffer flushes, by trigger.', ['reason']),
  bytesIn: counter('gs_received_bytes_total', 'By', 'Bytes read from game sockets.'),
  bytesOut: counter('gs_sent_bytes_total', 'By', 'Bytes written to game sockets.'),
  batchesSent: counter('gs_batch_frames_sent_total', '{frame}', 'Compressed BATCH frames sent.'),
  batchCompressionRatio: histogram('gs_batch_compression_ratio', '1', 'Compressed / original size of each BATCH frame sent.', COMPRESSION_RATIO_BUCKETS),
  batchBytesSaved: counter('gs_batch_saved_bytes_total', 'By', 'Bytes saved by BATCH compression (original − compressed).'),
  ioEvents: counter('gs_io_events_total', '{event}', 'I/O events of the event-driven processor: read, write, timeout, error.', ['kind']),
  // --- sessions ---
  sessionsActive: gauge('gs_sessions_active', '{session}', 'Open game sessions.'),
  sessionsAccepted: counter('gs_sessions_accepted_total', '{session}', 'Game sessions accepted.'),
  sessionsClosed: counter('gs_sessions_closed_total', '{session}', 'Game sessions closed (or refused), by reason.', ['reason']),
  violations: counter('gs_protocol_violations_total', '{event}', 'Protocol violations, by kind.', ['kind']),
  slowClients: counter('gs_slow_client_disconnects_total', '{session}', 'Sessions cut off because their outbound backlog exceeded MAX_OUTBOUND_BYTES.'),
  // --- by transport (TCP, WebSocket): the same sessions, split by the listener they came in on ---
  transportSessionsActive: gauge('gs_transport_sessions_active', '{session}', 'Open game sessions, by transport (tcp, ws).', ['transport']),
  transportSessionsAccepted: counter('gs_transport_sessions_accepted_total', '{session}', 'Game sessions accepted, by transport (tcp, ws).', ['transport']),
  transportBytesIn: counter('gs_transport_received_bytes_total', 'By', 'Bytes read from game sessions, by transport (tcp, ws; WebSocket: message payloads).', ['transport']),
  transportBytesOut: counter('gs_transport_sent_bytes_total', 'By', 'Bytes written to game sessions, by transport (tcp, ws; WebSocket: message payloads).', ['transport']),
  transportFramesIn: counter('gs_transport_frames_in_total', '{frame}', 'Frames received, by transport (tcp, ws).', ['transport']),
  transportSlowClients: counter('gs_transport_slow_client_disconnects_total', '{session}', 'Slow-client cut-offs, by transport (tcp, ws).', ['transport']),
  outboundBacklog: gauge('gs_outbound_backlog_bytes', 'By', 'Bytes queued for sending over all sessions (sockets backed up).'),
  zoneTicks: counter('gs_zone_ticks_total', '{tick}', 'Zone ticks: each sends what gathered in a zone since its previous tick (moves, chat, attacks), encoded once per cell.'),
  zoneTickRecipients: counter('gs_zone_tick_recipients_total', '{session}', 'Sessions written to by zone ticks (one per session and tick): the rate ZONE_TICK_WRITES_PER_SECOND keeps each zone near.'),
  zoneStreamBytes: counter('gs_zone_stream_bytes_total', 'By', 'Bytes of zone-stream frames encoded by zone ticks (once per cell and tick, after compression; each is queued to every session that sees the cell).'),
  zoneTickInterval: gauge('gs_zone_tick_interval_seconds', 's', 'The longest current tick interval over the zones: how far crowded zones have stretched their ticks (at most ZONE_TICK_MAX_MS; 0 = every change goes out within the event-loop turn).'),
  logins: counter('gs_logins_total', '{request}', 'REGISTER and LOGIN requests by result: ok, failed (credentials, token, name taken), throttled, refused (overloaded, shutting down), unavailable (a store is down), abandoned (the client left first), error.', ['result']),
  // --- pools ---
  poolSize: gauge('gs_pool_size', '{item}', 'Resources owned by a pool (idle + borrowed + pending).', ['pool']),
  poolInUse: gauge('gs_pool_in_use', '{item}', 'Resources currently borrowed from a pool.', ['pool']),
  poolWaiting: gauge('gs_pool_waiting', '{request}', 'Callers waiting to acquire from a pool.', ['pool']),
  // --- data ---
  dbQuery: histogram('gs_db_query_duration_seconds', 's', 'Database query duration, by operation.', LATENCY_BUCKETS_SECONDS, ['operation']),
  dbErrors: counter('gs_db_query_errors_total', '{request}', 'Database queries that failed, by operation.', ['operation']),
  cacheHits: counter('gs_cache_hits_total', '{request}', 'Cache reads that found the key, by shard.', ['shard']),
  cacheMisses: counter('gs_cache_misses_total', '{request}', 'Cache reads that did not find the key, by shard.', ['shard']),
  cacheErrors: counter('gs_cache_errors_total', '{request}', 'Cache operations that failed, by shard.', ['shard']),
  // --- balancer and cluster ---
  backendConnections: gauge('gs_balancer_backend_connections', '{connection}', 'Client connections the balancer currently proxies to a backend.', ['backend'], BALANCER),
  backendConnectionsTotal: counter('gs_balancer_backend_connections_total', '{connection}', 'Client connections proxied to a backend.', ['backend'], BALANCER),
  backendHealthy: gauge('gs_balancer_backend_healthy', '1', '1 when the backend passes health checks, else 0.', ['backend'], BALANCER),
  backendLatency: histogram('gs_balancer_backend_latency_seconds', 's', 'Health-check (TCP connect) latency of a backend.', LATENCY_BUCKETS_SECONDS, ['backend'], BALANCER),
  healthChecks: counter('gs_balancer_health_checks_total', '{request}', 'Health checks of a backend, by result (ok, failed).', ['backend', 'result'], BALANCER),
  balancerRejected: counter('gs_balancer_rejected_total', '{connection}', 'Client connections refused because no backend was healthy.', [], BALANCER),
  balancerAccepted: counter('gs_balancer_clients_accepted_total', '{connection}', 'Client connections accepted by the balancer.', [], BALANCER),
  balancerConnect: histogram('gs_balancer_connect_seconds', 's', 'Time from accepting a client to the backend connection being open.', LATENCY_BUCKETS_SECONDS, ['backend'], BALANCER),
  balancerConnectFailures: counter('gs_balancer_connect_failures_total', '{connection}', 'Backend connects that failed or timed out (another backend is tried).', ['backend'], BALANCER),
  balancerSessionsClosed: counter('gs_balancer_sessions_closed_total', '{session}', 'Proxied sessions that ended, by backend and reason.', ['backend', 'reason'], BALANCER),
  balancerBytes: counter('gs_balancer_proxied_bytes_total', 'By', 'Bytes proxied, by direction (from-client, to-client).', ['direction'], BALANCER),
  clusterLeader: gauge('gs_cluster_leader', '1', '1 when this process is the cluster leader, else 0.', [], ['server', 'balancer']),
  clusterMembers: gauge('gs_cluster_members', '{member}', 'Live members of the cluster as seen by this process.', [], ['server', 'balancer']),
  // --- Node.js runtime and process (every role), OpenTelemetry semantic-convention names ---
  // Event-loop delay: how late the monitor's timer ran (its resolution subtracted, so an idle loop
  // reads ~0), over the last SYSTEM_SAMPLE_INTERVAL_MS — the same interval the detector judges.
  eventLoopDelayMin: semconv('nodejs.eventloop.delay.min', (n) => gauge(n, 's', 'Event-loop delay, minimum over the last sample interval.', [], ALL)),
  eventLoopDelayMax: semconv('nodejs.eventloop.delay.max', (n) => gauge(n, 's', 'Event-loop delay, maximum over the last sample interval.', [], ALL)),
  eventLoopDelayMean: semconv('nodejs.eventloop.delay.mean', (n) => gauge(n, 's', 'Event-loop delay, mean over the last sample interval.', [], ALL)),
  eventLoopDelayStddev: semconv('nodejs.eventloop.delay.stddev', (n) => gauge(n, 's', 'Event-loop delay, standard deviation over the last sample interval.', [], ALL)),
  eventLoopDelayP50: semconv('nodejs.eventloop.delay.p50', (n) => gauge(n, 's', 'Event-loop delay, median over the last sample interval.', [], ALL)),
  eventLoopDelayP90: semconv('nodejs.eventloop.delay.p90', (n) => gauge(n, 's', 'Event-loop delay, 90th percentile over the last sample interval.', [], ALL)),
  eventLoopDelayP99: semconv('nodejs.eventloop.delay.p99', (n) => gauge(n, 's', 'Event-loop delay, 99th percentile over the last sample interval.', [], ALL)),
  eventLoopUtilization: semconv('nodejs.eventloop.utilization', (n) => gauge(n, '1', 'Fraction of the last sample interval the event loop was busy.', [], ALL)),
  eventLoopTime: semconv('nodejs.eventloop.time', (n) => counter(n, 's', 'Time the event loop spent active or idle since the process started, by state.', ['nodejs_eventloop_state'], ALL)),
  gcDuration: semconv('v8js.gc.duration', (n) => histogram(n, 's', 'Garbage-collection pauses, by type (major, minor, incremental, weakcb).', GC_DURATION_BUCKETS_SECONDS, ['v8js_gc_type'], ALL)),
  heapUsed: semconv('v8js.memory.heap.used', (n) => gauge(n, 'By', 'V8 heap in use, by heap space.', ['v8js_heap_space_name'], ALL)),
  heapLimit: semconv('v8js.memory.heap.limit', (n) => gauge(n, 'By', 'V8 heap size (allocated), by heap space.', ['v8js_heap_space_name'], ALL)),
  heapSpaceAvailable: semconv('v8js.memory.heap.space.available_size', (n) => gauge(n, 'By', 'V8 heap space still available, by heap space.', ['v8js_heap_space_name'], ALL)),
  heapSpacePhysical: semconv('v8js.memory.heap.space.physical_size', (n) => gauge(n, 'By', 'V8 heap space committed in physical memory, by heap space.', ['v8js_heap_space_name'], ALL)),
  processCpu: semconv('process.cpu.time', (n) => counter(n, 's', 'CPU time of this process, by mode (user, system).', ['cpu_mode'], ALL)),
  processMemory: semconv('process.memory.usage', (n) => gauge(n, 'By', 'Resident set size of this process.', [], ALL)),
  // Not the semantic convention's process.cpu.utilization, which divides by the number of CPUs:
  // here 1 is one full core, the unit of the detector's CPU threshold for a single-threaded server.
  processCpuUtilization: gauge('gs_process_cpu_utilization_ratio', '1', 'CPU time of this process per wall second over the last sample interval (1 = one full core).', [], ALL),
  // --- this process's container (cgroup v1/v2; absent without a limit, see cgroup.ts) ---
  containerMemoryLimit: gauge('gs_container_memory_limit_bytes', 'By', 'Memory limit of this process\'s cgroup (the smallest set on it or an ancestor); absent when none is set.', [], ALL),
  containerMemoryWorkingSet: gauge('gs_container_memory_working_set_bytes', 'By', 'Memory of this process\'s cgroup in use, without inactive page cache (as docker stats counts it).', [], ALL),
  containerMemoryUsed: gauge('gs_container_memory_used_ratio', '1', 'Working set / memory limit of this process\'s cgroup; absent without a limit.', [], ALL),
  containerCpuQuota: gauge('gs_container_cpu_quota_cores', '{core}', 'CPU quota of this process\'s cgroup in cores (CFS quota / period); absent without a quota.', [], ALL),
  containerCpuUsed: gauge('gs_container_cpu_quota_used_ratio', '1', 'CPU time of this process\'s cgroup per wall second / its quota, over the last sample interval; absent without a quota.', [], ALL),
  containerCpuThrottled: gauge('gs_container_cpu_throttled_ratio', '1', 'Fraction of CFS periods in the last sample interval in which the cgroup was throttled; absent without a quota.', [], ALL),
  containerCpuThrottledSeconds: counter('gs_container_cpu_throttled_seconds_total', 's', 'Time the cgroup\'s tasks were throttled by its CPU quota.', [], ALL),
  // --- bottleneck detector ---
  bottleneckActive: gauge('gs_bottleneck_active', '1', '1 while the in-process detector holds a bottleneck raised, else 0.', ['name', 'severity'], ALL),
  bottleneckValue: gauge('gs_bottleneck_value', '1', 'The reading the detector last compared with a threshold (unit of that threshold).', ['name'], ALL),
} as const satisfies Record<string, MetricDefinition>

export type MetricKey = keyof typeof METRICS

/**
 * Metrics of node_exporter (the topology's `node-exporter`, Debian's prometheus-node-exporter
 * locally): the host-level readings, exported once per host instead of by every app process.
 */
const nodeExporter = (name: string, kind: MetricKind, unit: MetricUnit, help: string, labels: readonly string[]): MetricDefinition => ({ name, kind, unit, help, labels, roles: [], exporter: 'node-exporter' })
export const EXPORTER_METRICS = {
  nodeCpuSeconds: nodeExporter('node_cpu_seconds_total', 'counter', 's', 'Seconds each CPU spent in each mode.', ['cpu', 'mode']),
  nodeMemoryAvailable: nodeExporter('node_memory_MemAvailable_bytes', 'gauge', 'By', 'MemAvailable of /proc/meminfo.', []),
  nodeMemoryTotal: nodeExporter('node_memory_MemTotal_bytes', 'gauge', 'By', 'MemTotal of /proc/meminfo.', []),
  nodeFilesystemAvailable: nodeExporter('node_filesystem_avail_bytes', 'gauge', 'By', 'Filesystem space available to non-root users.', ['device', 'fstype', 'mountpoint']),
  nodeFilesystemSize: nodeExporter('node_filesystem_size_bytes', 'gauge', 'By', 'Filesystem size.', ['device', 'fstype', 'mountpoint']),
} as const satisfies Record<string, MetricDefinition>

export type ExporterMetricKey = keyof typeof EXPORTER_METRICS

/** A metric a threshold or panel may read: the app's own or an exporter's. */
export function metricDefinition(key: MetricKey | ExporterMetricKey): MetricDefinition {
  return key in METRICS ? METRICS[key as MetricKey] : EXPORTER_METRICS[key as ExporterMetricKey]
}

export const METRIC_LIST: readonly MetricDefinition[] = Object.values(METRICS)

/** Prometheus wire names of a definition: histograms expose `_bucket`, `_sum`, `_count`. */
export function seriesNames(def: MetricDefinition): string[] {
  return def.kind === 'histogram' ? [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`] : [def.name]
}
