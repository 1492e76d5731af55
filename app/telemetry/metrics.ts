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
}

const noop = (): void => {}
export const noopMetrics: GameMetrics = {
  frameIn: noop,
  frameOut: noop,
  frameProcessed: noop,
  batchProcessed: noop,
  queueDepth: noop,
  framesShed: noop,
  flushed: noop,
  batchCompressed: noop,
  bytesIn: noop,
  bytesOut: noop,
  sessionOpened: noop,
  sessionClosed: noop,
  violation: noop,
  slowClientDisconnected: noop,
  ioEvent: noop,
}
