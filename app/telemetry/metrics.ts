/**
 * What the hot path reports, as one interface. The OpenTelemetry implementation (app/telemetry)
 * turns these calls into instruments; `noopMetrics` turns them into nothing (metrics off, unit
 * tests). Callers pass low-cardinality labels only (frame type names, reasons), never ids.
 */
import type { CloseReason } from '../net/connection.js'

/**
 * Why a send buffer was written: the seed's triggers (count, fill, timer), latency-aware `idle`
 * (same event-loop turn), `drain` (frames that queued while a write was in flight or the socket was
 * backed up) and `close` (graceful close).
 */
export type FlushReason = 'count' | 'fill' | 'timer' | 'idle' | 'drain' | 'close'
/** I/O events of the event-driven processor (row 16.3.1). */
export type IoEventKind = 'read' | 'write' | 'timeout' | 'error'
export type ViolationKind =
  | 'frame-too-small'
  | 'frame-too-large'
  | 'batch-from-client'
  | 'player-id-mismatch'
  | 'unknown-type'
  | 'malformed-payload'
  | 'not-logged-in'
  | 'rate-frames'
  | 'rate-bytes'

export interface GameMetrics {
  frameIn(typeName: string, bytes: number): void
  frameOut(typeName: string, bytes: number): void
  /** Processing time of one frame by its handler, in seconds. */
  frameProcessed(typeName: string, seconds: number): void
  /** One run of the batch processor: how many frames it took. */
  batchProcessed(frames: number, seconds: number): void
  queueDepth(depth: number): void
  framesShed(count: number): void
  flushed(reason: FlushReason, frames: number, bytes: number): void
  /** A BATCH frame was sent: bytes before and after compression. */
  batchCompressed(originalBytes: number, compressedBytes: number): void
  bytesIn(bytes: number): void
  bytesOut(bytes: number): void
  sessionOpened(): void
  sessionClosed(reason: CloseReason): void
  violation(kind: ViolationKind): void
  slowClientDisconnected(): void
  /** One socket read, completed write, idle timeout or socket error. */
  ioEvent(kind: IoEventKind): void

  // --- registered once by the owner of a part (pull: read at collection time, never per call) ---
  /** The game server's live state (GameServer.stats() fits): open sessions, queued outbound bytes. */
  observeServer(source: () => ServerReading): void
  /** A pool's occupancy, read at collection time ({ size, inUse: borrowed, waiting }). */
  observePool(pool: string, source: () => PoolReading): void
  /** Cluster membership as this process sees it, read at collection time. */
  observeCluster(source: () => ClusterReading): void

  // --- data events (the balancer reports through app/balancer/metrics.ts BalancerMetrics) ---
  /** One database query by operation (a small fixed set, e.g. `account.find`), in seconds. */
  dbQueryDuration(operation: string, seconds: number): void
  dbQueryError(operation: string): void
  /** Cache outcomes by shard label (e.g. `0`, `1`: the shard index, never a key). */
  cacheHit(shard: string): void
  cacheMiss(shard: string): void
  cacheError(shard: string): void
}

export interface ServerReading {
  readonly activeSessions: number
  readonly outboundBytes: number
}
export interface PoolReading {
  readonly size: number
  readonly inUse: number
  readonly waiting: number
}
export interface ClusterReading {
  readonly leader: boolean
  readonly members: number
}

/**
 * Records nothing (metrics off, unit tests). Test doubles extend it and override what they count,
 * so a method added to `GameMetrics` later does not break them.
 */
export class NoopMetrics implements GameMetrics {
  frameIn(_typeName: string, _bytes: number): void {}
  frameOut(_typeName: string, _bytes: number): void {}
  frameProcessed(_typeName: string, _seconds: number): void {}
  batchProcessed(_frames: number, _seconds: number): void {}
  queueDepth(_depth: number): void {}
  framesShed(_count: number): void {}
  flushed(_reason: FlushReason, _frames: number, _bytes: number): void {}
  batchCompressed(_originalBytes: number, _compressedBytes: number): void {}
  bytesIn(_bytes: number): void {}
  bytesOut(_bytes: number): void {}
  sessionOpened(): void {}
  sessionClosed(_reason: CloseReason): void {}
  violation(_kind: ViolationKind): void {}
  slowClientDisconnected(): void {}
  ioEvent(_kind: IoEventKind): void {}
  observeServer(_source: () => ServerReading): void {}
  observePool(_pool: string, _source: () => PoolReading): void {}
  observeCluster(_source: () => ClusterReading): void {}
  dbQueryDuration(_operation: string, _seconds: number): void {}
  dbQueryError(_operation: string): void {}
  cacheHit(_shard: string): void {}
  cacheMiss(_shard: string): void {}
  cacheError(_shard: string): void {}
}

export const noopMetrics: GameMetrics = new NoopMetrics()
