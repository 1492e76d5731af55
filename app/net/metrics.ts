/**
 * What the net layer reports, as the interface it reports through: the telemetry part implements
 * it (app/telemetry/server-metrics.ts), `noopNetMetrics` records nothing (metrics off, tools,
 * tests). Every call is on the hot path: callers pass low-cardinality labels only (frame type
 * names, closed sets of reasons), never ids.
 */
import type { CloseReason, ViolationKind } from './connection.js'
import type { TransportKind } from './transport.js'

/**
 * Why a send buffer was written: count, fill or timer trigger, latency-aware `idle` (same
 * event-loop turn), `drain` (frames that queued while a write was in flight or the socket was
 * backed up) and `close` (graceful close).
 */
export type FlushReason = 'count' | 'fill' | 'timer' | 'idle' | 'drain' | 'close'
/** I/O events of a session: a socket read, a completed write, an idle or frame timeout, a socket error. */
export type IoEventKind = 'read' | 'write' | 'timeout' | 'error'

export interface NetMetrics {
  frameIn(typeName: string, bytes: number): void
  frameOut(typeName: string, bytes: number): void
  flushed(reason: FlushReason, frames: number, bytes: number): void
  /** A BATCH frame was sent: bytes before and after compression. */
  batchCompressed(originalBytes: number, compressedBytes: number): void
  bytesIn(bytes: number): void
  bytesOut(bytes: number): void
  sessionOpened(): void
  sessionClosed(reason: CloseReason): void
  /** One protocol violation, whichever layer saw it (the game reports its own through `Connection.violation`). */
  violation(kind: ViolationKind): void
  slowClientDisconnected(): void
  ioEvent(kind: IoEventKind): void
  /**
   * The metrics the sessions of one transport report through (the telemetry adds a `transport`
   * label to what they report; a double or the no-op may return itself); asked once per transport
   * when the server starts.
   */
  forTransport(kind: TransportKind): NetMetrics
}

export const noopNetMetrics: NetMetrics = {
  frameIn() {},
  frameOut() {},
  flushed() {},
  batchCompressed() {},
  bytesIn() {},
  bytesOut() {},
  sessionOpened() {},
  sessionClosed() {},
  violation() {},
  slowClientDisconnected() {},
  ioEvent() {},
  forTransport() {
    return noopNetMetrics
  },
}
