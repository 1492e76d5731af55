/**
 * What a game server reports, in one implementation of its parts' interfaces (`NetMetrics`,
 * `GameMetrics`, `DatabaseMetrics`, `CacheMetrics`: each declared by its part, imported here as
 * types only). Hot-path calls update plain numbers and pre-aggregated histograms held in
 * per-label slots (attribute objects built once per label value; a Map lookup, no allocation per
 * call). OTel observable counters and gauges read the slots at collection time, histograms are
 * exported through the provider's `HistogramProducer`. The frame-processing durations also go to a
 * sliding window the bottleneck detector reads (`frameWindow`), and `totals()` gives the periodic
 * report its raw counters.
 */
import type { Attributes, ObservableResult } from '@opentelemetry/api'
import type { CacheMetrics } from '../cache/metrics.js'
import type { DatabaseMetrics, PoolReading } from '../db/metrics.js'
import type { GameMetrics, LoginResult } from '../game/metrics.js'
import type { CloseReason, ViolationKind } from '../net/connection.js'
import type { FlushReason, IoEventKind, NetMetrics } from '../net/metrics.js'
import type { TransportKind } from '../net/transport.js'
import { BucketHistogram, WindowedHistogram } from './bucket-histogram.js'
import { FRAME_DURATION_BUCKETS_SECONDS, METRICS, type MetricDefinition } from './catalogue.js'
import { IndexedCounter, LabelledCounter, LabelledHistogram } from './labelled.js'
import type { TelemetryProvider } from './provider.js'

/** The game server's live state, read at collection time (GameServer.stats() fits). */
export interface ServerReading {
  readonly activeSessions: number
  readonly outboundBytes: number
}

/** Cluster membership as this process sees it, read at collection time. */
export interface ClusterReading {
  readonly leader: boolean
  readonly members: number
}

/** Raw totals for the performance report (it turns them into rates). */
export interface MetricTotals {
  readonly framesIn: number
  readonly framesOut: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly sessionsActive: number
  readonly sessionsAccepted: number
  readonly sessionsClosed: number
  readonly violations: number
  readonly framesShed: number
  readonly slowClients: number
  readonly batchBytesSaved: number
  /** Every frame-processing duration so far, all types merged (cumulative). */
  readonly frameProcessing: BucketHistogram
}

export interface OtelServerMetricsOptions {
  /** Slices of the detector's sliding window (window / evaluation interval). */
  readonly windowSlices: number
}

const TRANSPORTS: readonly TransportKind[] = ['tcp', 'ws']
const TRANSPORT_LABEL = 'transport'

const FLUSH_REASONS: readonly FlushReason[] = ['count', 'fill', 'timer', 'idle', 'drain', 'close']
const IO_EVENT_KINDS: readonly IoEventKind[] = ['read', 'write', 'timeout', 'error']

function flushIndex(reason: FlushReason): number {
  switch (reason) {
    case 'count':
      return 0
    case 'fill':
      return 1
    case 'timer':
      return 2
    case 'idle':
      return 3
    case 'drain':
      return 4
    default:
      return 5
  }
}

function ioIndex(kind: IoEventKind): number {
  switch (kind) {
    case 'read':
      return 0
    case 'write':
      return 1
    case 'timeout':
      return 2
    default:
      return 3
  }
}

function histogramBuckets(definition: MetricDefinition): readonly number[] {
  if (!definition.buckets) throw new TypeError(`${definition.name} has no buckets`)
  return definition.buckets
}

export class OtelServerMetrics implements NetMetrics, GameMetrics, DatabaseMetrics, CacheMetrics {
  /** Frame-processing durations (all types) over the detector's sliding window. */
  readonly frameWindow: WindowedHistogram

  private readonly framesInByType = new LabelledCounter('type')
  private readonly framesOutByType = new LabelledCounter('type')
  private readonly processingByType = new LabelledHistogram('type', histogramBuckets(METRICS.frameProcessing))
  private readonly batchSize = new BucketHistogram(histogramBuckets(METRICS.batchSize))
  private readonly batchDuration = new BucketHistogram(histogramBuckets(METRICS.batchProcessing))
  private readonly compressionRatio = new BucketHistogram(histogramBuckets(METRICS.batchCompressionRatio))
  private readonly flushes = new IndexedCounter('reason', FLUSH_REASONS)
  private readonly flushedFrames = new IndexedCounter('reason', FLUSH_REASONS)
  private readonly closes = new LabelledCounter('reason')
  private readonly violations = new LabelledCounter('kind')
  private readonly logins = new LabelledCounter('result')
  private zoneTicksTotal = 0
  private zoneTickRecipientsTotal = 0
  private zoneStreamBytesTotal = 0
  /** The current tick interval of each zone that ticked, by zone id. */
  private readonly zoneIntervals: number[] = []
  private readonly ioEvents = new IndexedCounter('kind', IO_EVENT_KINDS)
  private readonly dbErrors = new LabelledCounter('operation')
  private readonly dbDuration = new LabelledHistogram('operation', histogramBuckets(METRICS.dbQuery))
  private readonly cacheHits = new LabelledCounter('shard')
  private readonly cacheMisses = new LabelledCounter('shard')
  private readonly cacheErrors = new LabelledCounter('shard')
  private readonly pools = new Map<string, { readonly attributes: Attributes; readonly source: () => PoolReading }>()
  private serverSource: (() => ServerReading) | null = null
  private readonly transportSessionsOpened = new IndexedCounter(TRANSPORT_LABEL, TRANSPORTS)
  private readonly transportSessionsClosed = new IndexedCounter(TRANSPORT_LABEL, TRANSPORTS)
  private readonly transportBytesIn = new IndexedCounter(TRANSPORT_LABEL, TRANSPORTS)
  private readonly transportBytesOut = new IndexedCounter(TRANSPORT_LABEL, TRANSPORTS)
  private readonly transportFramesIn = new IndexedCounter(TRANSPORT_LABEL, TRANSPORTS)
  private readonly transportSlowClients = new IndexedCounter(TRANSPORT_LABEL, TRANSPORTS)
  private readonly transportViews = new Map<TransportKind, NetMetrics>()
  private clusterSource: (() => ClusterReading) | null = null

  private bytesInTotal = 0
  private bytesOutTotal = 0
  private framesInTotal = 0
  private framesOutTotal = 0
  private framesShedTotal = 0
  private bytesSavedTotal = 0
  private batchesSentTotal = 0
  private sessionsOpened = 0
  private sessionsClosedTotal = 0
  private sessionsRefused = 0
  private slowClientsTotal = 0
  private violationsTotal = 0
  private lastQueueDepth = 0
  private maxQueueDepth = 0

  constructor(provider: TelemetryProvider, options: OtelServerMetricsOptions) {
    this.frameWindow = new WindowedHistogram(FRAME_DURATION_BUCKETS_SECONDS, options.windowSlices)
    this.register(provider)
  }

  // --- hot path ---

  frameIn(typeName: string, _bytes: number): void {
    this.framesInTotal++
    this.framesInByType.add(typeName, 1)
  }

  frameOut(typeName: string, _bytes: number): void {
    this.framesOutTotal++
    this.framesOutByType.add(typeName, 1)
  }

  frameProcessed(typeName: string, seconds: number): void {
    this.processingByType.get(typeName).record(seconds)
    this.frameWindow.record(seconds)
  }

  batchProcessed(frames: number, seconds: number): void {
    this.batchSize.record(frames)
    this.batchDuration.record(seconds)
  }

  queueDepth(depth: number): void {
    this.lastQueueDepth = depth
    if (depth > this.maxQueueDepth) this.maxQueueDepth = depth
  }

  framesShed(count: number): void {
    this.framesShedTotal += count
  }

  flushed(reason: FlushReason, frames: number, _bytes: number): void {
    const i = flushIndex(reason)
    this.flushes.counts[i]!++
    this.flushedFrames.counts[i]! += frames
  }

  batchCompressed(originalBytes: number, compressedBytes: number): void {
    this.batchesSentTotal++
    this.bytesSavedTotal += originalBytes - compressedBytes
    if (originalBytes > 0) this.compressionRatio.record(compressedBytes / originalBytes)
  }

  bytesIn(bytes: number): void {
    this.bytesInTotal += bytes
  }

  bytesOut(bytes: number): void {
    this.bytesOutTotal += bytes
  }

  sessionOpened(): void {
    this.sessionsOpened++
  }

  sessionClosed(reason: CloseReason): void {
    this.sessionsClosedTotal++
    if (reason === 'server-full' || reason === 'address-limit') this.sessionsRefused++
    this.closes.add(reason, 1)
  }

  violation(kind: ViolationKind): void {
    this.violationsTotal++
    this.violations.add(kind, 1)
  }

  zoneTicked(zone: number, recipients: number, bytes: number, nextIntervalSeconds: number): void {
    this.zoneTicksTotal++
    this.zoneTickRecipientsTotal += recipients
    this.zoneStreamBytesTotal += bytes
    this.zoneIntervals[zone] = nextIntervalSeconds
  }

  loginFinished(result: LoginResult): void {
    this.logins.add(result, 1)
  }

  slowClientDisconnected(): void {
    this.slowClientsTotal++
  }

  ioEvent(kind: IoEventKind): void {
    this.ioEvents.counts[ioIndex(kind)]!++
  }

  /**
   * The net metrics of one transport's sessions: everything reported here as before, plus the
   * transport-labelled counters (one view per transport, built once).
   */
  forTransport(kind: TransportKind): NetMetrics {
    let view = this.transportViews.get(kind)
    if (view === undefined) {
      view = new TransportNetMetrics(this, TRANSPORTS.indexOf(kind), {
        sessionsOpened: this.transportSessionsOpened.counts,
        sessionsClosed: this.transportSessionsClosed.counts,
        bytesIn: this.transportBytesIn.counts,
        bytesOut: this.transportBytesOut.counts,
        framesIn: this.transportFramesIn.counts,
        slowClients: this.transportSlowClients.counts,
      })
      this.transportViews.set(kind, view)
    }
    return view
  }

  // --- pull sources (registered once by their owner, read at collection time) ---

  observeServer(source: () => ServerReading): void {
    this.serverSource = source
  }

  observePool(pool: string, source: () => PoolReading): void {
    this.pools.set(pool, { attributes: { pool }, source })
  }

  observeCluster(source: () => ClusterReading): void {
    this.clusterSource = source
  }

  // --- data events ---

  dbQueryDuration(operation: string, seconds: number): void {
    this.dbDuration.get(operation).record(seconds)
  }

  dbQueryError(operation: string): void {
    this.dbErrors.add(operation, 1)
  }

  cacheHit(shard: string): void {
    this.cacheHits.add(shard, 1)
  }

  cacheMiss(shard: string): void {
    this.cacheMisses.add(shard, 1)
  }

  cacheError(shard: string): void {
    this.cacheErrors.add(shard, 1)
  }

  // --- readings for the detector and the report ---

  get sessionsActive(): number {
    return this.sessionsOpened - (this.sessionsClosedTotal - this.sessionsRefused)
  }

  /** Bytes queued over all sessions, when a server is observed. */
  outboundBacklogBytes(): number | undefined {
    return this.serverSource?.().outboundBytes
  }

  /** Largest number of waiters over the observed pools. */
  maxPoolWaiters(): number | undefined {
    if (this.pools.size === 0) return undefined
    let max = 0
    for (const { source } of this.pools.values()) max = Math.max(max, source().waiting)
    return max
  }

  cacheErrorsTotal(): number {
    return this.cacheErrors.total()
  }

  totals(): MetricTotals {
    const frameProcessing = new BucketHistogram(FRAME_DURATION_BUCKETS_SECONDS)
    for (const { histogram } of this.processingByType.series()) frameProcessing.add(histogram)
    return {
      framesIn: this.framesInTotal,
      framesOut: this.framesOutTotal,
      bytesIn: this.bytesInTotal,
      bytesOut: this.bytesOutTotal,
      sessionsActive: this.sessionsActive,
      sessionsAccepted: this.sessionsOpened,
      sessionsClosed: this.sessionsClosedTotal - this.sessionsRefused,
      violations: this.violationsTotal,
      framesShed: this.framesShedTotal,
      slowClients: this.slowClientsTotal,
      batchBytesSaved: this.bytesSavedTotal,
      frameProcessing,
    }
  }

  private register(provider: TelemetryProvider): void {
    const h = provider.histograms
    h.register(METRICS.frameProcessing, () => this.processingByType.series())
    h.register(METRICS.batchSize, () => [{ attributes: {}, histogram: this.batchSize }])
    h.register(METRICS.batchProcessing, () => [{ attributes: {}, histogram: this.batchDuration }])
    h.register(METRICS.batchCompressionRatio, () => [{ attributes: {}, histogram: this.compressionRatio }])
    h.register(METRICS.dbQuery, () => this.dbDuration.series())

    const labelled: [MetricDefinition, LabelledCounter][] = [
      [METRICS.framesIn, this.framesInByType],
      [METRICS.framesOut, this.framesOutByType],
      [METRICS.sessionsClosed, this.closes],
      [METRICS.violations, this.violations],
      [METRICS.logins, this.logins],
      [METRICS.dbErrors, this.dbErrors],
      [METRICS.cacheHits, this.cacheHits],
      [METRICS.cacheMisses, this.cacheMisses],
      [METRICS.cacheErrors, this.cacheErrors],
    ]
    for (const [definition, counter] of labelled) provider.observe(definition, (r) => counter.observe(r))
    const indexed: [MetricDefinition, IndexedCounter][] = [
      [METRICS.transportSessionsAccepted, this.transportSessionsOpened],
      [METRICS.transportBytesIn, this.transportBytesIn],
      [METRICS.transportBytesOut, this.transportBytesOut],
      [METRICS.transportFramesIn, this.transportFramesIn],
      [METRICS.transportSlowClients, this.transportSlowClients],
      [METRICS.flushes, this.flushes],
      [METRICS.flushedFrames, this.flushedFrames],
      [METRICS.ioEvents, this.ioEvents],
    ]
    for (const [definition, counter] of indexed) provider.observe(definition, (r) => counter.observe(r))

    const plain: [MetricDefinition, () => number][] = [
      [METRICS.bytesIn, () => this.bytesInTotal],
      [METRICS.bytesOut, () => this.bytesOutTotal],
      [METRICS.framesShed, () => this.framesShedTotal],
      [METRICS.batchesSent, () => this.batchesSentTotal],
      [METRICS.batchBytesSaved, () => this.bytesSavedTotal],
      [METRICS.sessionsAccepted, () => this.sessionsOpened],
      [METRICS.slowClients, () => this.slowClientsTotal],
      [METRICS.zoneTicks, () => this.zoneTicksTotal],
      [METRICS.zoneTickRecipients, () => this.zoneTickRecipientsTotal],
      [METRICS.zoneStreamBytes, () => this.zoneStreamBytesTotal],
      [METRICS.zoneTickInterval, () => this.zoneIntervals.reduce((max, v) => (v > max ? v : max), 0)],
      [METRICS.queueDepth, () => this.lastQueueDepth],
    ]
    for (const [definition, read] of plain) provider.observe(definition, (r) => r.observe(read()))

    provider.observe(METRICS.queueDepthMax, (r) => {
      r.observe(Math.max(this.maxQueueDepth, this.lastQueueDepth))
      this.maxQueueDepth = this.lastQueueDepth
    })
    provider.observe(METRICS.sessionsActive, (r) => r.observe(this.serverSource?.().activeSessions ?? this.sessionsActive))
    provider.observe(METRICS.transportSessionsActive, (r) => {
      const opened = this.transportSessionsOpened.counts
      const closed = this.transportSessionsClosed.counts
      for (let i = 0; i < TRANSPORTS.length; i++) r.observe(opened[i]! - closed[i]!, { [TRANSPORT_LABEL]: TRANSPORTS[i]! })
    })
    provider.observe(METRICS.outboundBacklog, (r) => {
      const backlog = this.outboundBacklogBytes()
      if (backlog !== undefined) r.observe(backlog)
    })
    const poolGauge = (read: (reading: PoolReading) => number) => (r: ObservableResult<Attributes>) => {
      for (const { attributes, source } of this.pools.values()) r.observe(read(source()), attributes)
    }
    provider.observe(METRICS.poolSize, poolGauge((p) => p.size))
    provider.observe(METRICS.poolInUse, poolGauge((p) => p.inUse))
    provider.observe(METRICS.poolWaiting, poolGauge((p) => p.waiting))
    provider.observe(METRICS.clusterLeader, (r) => {
      const cluster = this.clusterSource?.()
      if (cluster) r.observe(cluster.leader ? 1 : 0)
    })
    provider.observe(METRICS.clusterMembers, (r) => {
      const cluster = this.clusterSource?.()
      if (cluster) r.observe(cluster.members)
    })
  }
}

interface TransportCounts {
  readonly sessionsOpened: Float64Array
  /** Sessions that were opened and closed (refusals are not sessions of a transport). */
  readonly sessionsClosed: Float64Array
  readonly bytesIn: Float64Array
  readonly bytesOut: Float64Array
  readonly framesIn: Float64Array
  readonly slowClients: Float64Array
}

/** One transport's view of the server metrics: forwards every call and counts its own slot. */
class TransportNetMetrics implements NetMetrics {
  constructor(
    private readonly all: OtelServerMetrics,
    private readonly slot: number,
    private readonly counts: TransportCounts,
  ) {}

  frameIn(typeName: string, bytes: number): void {
    this.counts.framesIn[this.slot]!++
    this.all.frameIn(typeName, bytes)
  }
  frameOut(typeName: string, bytes: number): void {
    this.all.frameOut(typeName, bytes)
  }
  flushed(reason: FlushReason, frames: number, bytes: number): void {
    this.all.flushed(reason, frames, bytes)
  }
  batchCompressed(originalBytes: number, compressedBytes: number): void {
    this.all.batchCompressed(originalBytes, compressedBytes)
  }
  bytesIn(bytes: number): void {
    this.counts.bytesIn[this.slot]! += bytes
    this.all.bytesIn(bytes)
  }
  bytesOut(bytes: number): void {
    this.counts.bytesOut[this.slot]! += bytes
    this.all.bytesOut(bytes)
  }
  sessionOpened(): void {
    this.counts.sessionsOpened[this.slot]!++
    this.all.sessionOpened()
  }
  sessionClosed(reason: CloseReason): void {
    if (reason !== 'server-full' && reason !== 'address-limit') this.counts.sessionsClosed[this.slot]!++
    this.all.sessionClosed(reason)
  }
  violation(kind: ViolationKind): void {
    this.all.violation(kind)
  }
  slowClientDisconnected(): void {
    this.counts.slowClients[this.slot]!++
    this.all.slowClientDisconnected()
  }
  ioEvent(kind: IoEventKind): void {
    this.all.ioEvent(kind)
  }
  forTransport(kind: TransportKind): NetMetrics {
    return this.all.forTransport(kind)
  }
}
