/**
 * The write side of a session: the count / fill / timer flush policy plus latency-aware flushing, one write in
 * flight at a time, backpressure, the per-session outbound cap and BATCH aggregation.
 *
 * - Triggers: ≥ flushMaxFrames frames queued ('count'), ≥ flushFillRatio × sendBufferBytes bytes
 *   ('fill'), the flushIntervalMs timer ('timer'). With latencyAwareFlush, a frame queued while the
 *   session is idle (no write in flight, socket not backed up) leaves at the end of the current
 *   event-loop turn ('idle') instead of arming the timer; the count trigger then waits for that
 *   end-of-turn write (same turn, one syscall instead of two), while the fill trigger still bounds
 *   what one turn can queue.
 * - One write in flight: the next write starts from the previous write's callback, or from 'drain'
 *   when socket.write returned false. Frames queued meanwhile go out then ('drain'). Which of the
 *   two ends a backed-up write depends on the socket's stream high-water mark (64 KiB from Node 22,
 *   above the default 32 KiB send chunk, so usually the callback); either way at most one chunk
 *   sits in the socket and the cut-off below happens at the same point.
 * - Cap: bytes queued here (plus the write in flight) may not exceed maxOutboundBytes; the frame
 *   that would exceed it makes the owner cut the slow client off.
 * - BATCH: a write of ≥ batchThresholdBytes is packed into zlib BATCH frames where that brings it
 *   below batchMaxRatio (app/protocol/batch.ts).
 * - Shared frames (`enqueueShared`): bytes encoded once for many sessions (a zone tick) are queued
 *   by reference and written as they are — never copied, packed or compressed per session; they
 *   count against the cap like any other bytes. A write takes the oldest pieces up to and
 *   including one chunk of the session's own frames plus the shared pieces around it, corked, so
 *   they leave in one writev.
 */
import type { BufferPool } from './buffer-pool.js'
import { packBatches } from '../protocol/batch.js'
import type { FlushReason, NetMetrics } from './metrics.js'
import type { FlushScheduler, IdleFlushable } from './flush-scheduler.js'
import type { SessionOptions } from './options.js'
import { SendBuffer } from './send-buffer.js'
import type { Transport } from './transport.js'

export interface OutboundOwner {
  /** The cap was hit: cut the client off now. */
  slowClient(): void
  /** Closing and everything queued was handed to the socket: end it. */
  outboundDrained(): void
  /** player_id for BATCH frame headers. */
  readonly batchPlayerId: number
}

export class Outbound implements IdleFlushable {
  private readonly buffer: SendBuffer
  private readonly fillBytes: number
  private socket: Transport | null = null
  private writing = false
  private needDrain = false
  private closing = false
  private idleQueued = false
  private inflight: Buffer | null = null
  private inflightBytes = 0
  private timer: NodeJS.Timeout | null = null
  /** Scratch list of the pieces of one corked write. */
  private readonly pending: Buffer[] = []
  /** seq of the connection's next BATCH frame: 1, 2, 3, … (wrapping at 2³²). */
  private batchSeq = 1
  private readonly onWritten = (err?: Error | null): void => this.written(err)
  private readonly onTimer = (): void => {
    this.timer = null
    this.flush('timer')
  }

  constructor(
    private readonly options: SessionOptions,
    private readonly pool: BufferPool,
    private readonly scheduler: FlushScheduler,
    private readonly metrics: NetMetrics,
    private readonly owner: OutboundOwner,
  ) {
    this.buffer = new SendBuffer(pool)
    this.fillBytes = Math.max(1, Math.floor(options.sendBufferBytes * options.flushFillRatio))
  }

  /** Bytes this session holds for the client: queued plus the write in flight. */
  get queuedBytes(): number {
    return this.buffer.bytes + this.inflightBytes
  }

  get queuedFrames(): number {
    return this.buffer.frames
  }

  attach(socket: Transport): void {
    this.socket = socket
    this.writing = false
    this.needDrain = false
    this.closing = false
    this.batchSeq = 1
  }

  /** Forget the socket and everything queued (after close or destroy). */
  detach(): void {
    this.cancelTimer()
    this.buffer.clear()
    // A chunk still being written may be referenced by the socket: leave it to the GC.
    this.inflight = null
    this.inflightBytes = 0
    this.socket = null
    this.writing = false
    this.needDrain = false
    this.closing = false
  }

  /** 'drain' listener of the socket. */
  drained(): void {
    this.needDrain = false
    if (!this.writing) this.proceed()
  }

  /**
   * Queue `frames` complete frames encoded once for many sessions, by reference (`bytes` must never
   * change afterwards). False when over the cap (the owner was told) or detached.
   */
  enqueueShared(bytes: Buffer, frames: number): boolean {
    if (this.socket === null) return false
    if (this.buffer.bytes + this.inflightBytes + bytes.length > this.options.maxOutboundBytes) {
      this.owner.slowClient()
      return false
    }
    this.buffer.appendShared(bytes, frames)
    this.queued()
    return true
  }

  /** Queue one frame. False when over the cap (the owner was told) or detached. */
  enqueue(type: number, seq: number, playerId: number, source: Uint8Array | undefined, start: number, end: number): boolean {
    if (this.socket === null) return false
    const size = 12 + end - start
    if (this.buffer.bytes + this.inflightBytes + size > this.options.maxOutboundBytes) {
      this.owner.slowClient()
      return false
    }
    this.buffer.append(type, seq, playerId, source, start, end)
    this.queued()
    return true
  }

  /** Something was queued: flush now (count, fill), at the end of the turn (idle) or on the timer. */
  private queued(): void {
    // A session already due for its end-of-turn idle flush sends this turn's frames in that one
    // write: flushing early on count would only split them into two writes (two syscalls).
    if (this.buffer.frames >= this.options.flushMaxFrames && !this.idleQueued) this.flush('count')
    else if (this.buffer.bytes >= this.fillBytes) this.flush('fill')
    else if (!this.writing && !this.needDrain) {
      if (this.options.latencyAwareFlush) {
        if (!this.idleQueued) {
          this.idleQueued = true
          this.scheduler.add(this)
        }
      } else if (this.timer === null) {
        this.armTimer()
      }
    }
  }

  flush(reason: FlushReason): void {
    this.cancelTimer()
    if (this.buffer.frames === 0 || this.writing || this.needDrain || this.socket === null) return
    this.writeNext(reason)
  }

  /** Called by the FlushScheduler at the end of the turn. */
  flushIdle(): void {
    this.idleQueued = false
    if (this.buffer.frames > 0 && !this.writing && !this.needDrain && this.socket !== null) this.writeNext('idle')
  }

  /** Graceful close: flush what is queued, then tell the owner (which ends the socket). */
  beginClose(): void {
    if (this.closing || this.socket === null) return
    this.closing = true
    this.cancelTimer()
    if (this.writing) return
    if (this.buffer.frames === 0) this.owner.outboundDrained()
    else if (!this.needDrain) this.writeNext('close')
  }

  private writeNext(reason: FlushReason): void {
    const socket = this.socket!
    const buffer = this.buffer
    if (buffer.chunkCount === 1) {
      // The common case: one piece (usually a chunk of the session's own frames), one plain write.
      const shared = buffer.oldestShared
      const piece = buffer.takeOldest()!
      const bytes = shared ? piece : this.ownBytes(piece)
      this.startWrite(reason, buffer.takenFrames, bytes.length)
      if (!socket.write(bytes, this.onWritten)) this.needDrain = true
      else this.recycleIfWritten()
      return
    }
    // Shared pieces and at most one own chunk, in queue order, in one corked write (one writev).
    let frames = 0
    let total = 0
    let ownTaken = false
    let pieces = 0
    socket.cork()
    while (buffer.chunkCount > 0 && (buffer.oldestShared || !ownTaken)) {
      const shared = buffer.oldestShared
      const piece = buffer.takeOldest()!
      frames += buffer.takenFrames
      const bytes = shared ? piece : this.ownBytes(piece)
      if (!shared) ownTaken = true
      total += bytes.length
      pieces++
      this.pending.push(bytes)
    }
    this.startWrite(reason, frames, total)
    let flowing = true
    for (let i = 0; i < pieces; i++) flowing = socket.write(this.pending[i]!, i === pieces - 1 ? this.onWritten : undefined)
    this.pending.length = 0
    socket.uncork()
    if (!flowing) this.needDrain = true
    else this.recycleIfWritten()
  }

  private startWrite(reason: FlushReason, frames: number, bytes: number): void {
    this.metrics.flushed(reason, frames, bytes)
    this.metrics.bytesOut(bytes)
    this.writing = true
    this.inflightBytes = bytes
  }

  /**
   * Written synchronously (the kernel took every byte; nothing references the chunk any more):
   * back to the pool now, so the next session flushed in this turn reuses it instead of the pool
   * allocating a fresh chunk per session (1,000 sessions flushed in one setImmediate). The
   * callback still ends the write (one write in flight).
   */
  private recycleIfWritten(): void {
    if (this.inflight !== null && this.socket!.writableLength === 0) {
      this.pool.give(this.inflight)
      this.inflight = null
    }
  }

  /** The bytes to write for one of the session's own chunks just taken: packed into BATCHes where that pays. */
  private ownBytes(chunk: Buffer): Buffer {
    const length = this.buffer.takenBytes
    let bytes: Buffer
    if (length >= this.options.batchThresholdBytes) {
      const packed = packBatches(chunk, length, {
        maxFrameBytes: this.options.maxFrameBytes,
        maxRatio: this.options.batchMaxRatio,
        level: this.options.compressionLevel,
        seq: this.batchSeq,
        minBytes: this.options.batchThresholdBytes,
        playerId: this.owner.batchPlayerId,
      })
      if (packed !== null) {
        this.batchSeq = (this.batchSeq + packed.batches) >>> 0 || 1
        this.metrics.batchCompressed(packed.originalBytes, packed.compressedBytes)
        this.pool.give(chunk)
        bytes = packed.bytes
        this.inflight = null
      } else {
        bytes = chunk.subarray(0, length)
        this.inflight = chunk
      }
    } else {
      bytes = chunk.subarray(0, length)
      this.inflight = chunk
    }
    return bytes
  }

  private written(err: Error | null | undefined): void {
    this.writing = false
    this.inflightBytes = 0
    if (this.inflight !== null) {
      this.pool.give(this.inflight)
      this.inflight = null
    }
    if (err || this.socket === null) return
    this.metrics.ioEvent('write')
    if (!this.needDrain) this.proceed()
  }

  /** The previous write finished (and the socket is not backed up): continue with what queued. */
  private proceed(): void {
    const queued = this.buffer.frames
    if (queued === 0) {
      if (this.closing) this.owner.outboundDrained()
      return
    }
    if (
      this.closing ||
      this.options.latencyAwareFlush ||
      this.buffer.chunkCount > 1 ||
      queued >= this.options.flushMaxFrames ||
      this.buffer.bytes >= this.fillBytes
    ) {
      this.writeNext(this.closing ? 'close' : 'drain')
    } else if (this.timer === null) {
      this.armTimer()
    }
  }

  private armTimer(): void {
    this.timer = setTimeout(this.onTimer, this.options.flushIntervalMs)
    this.timer.unref()
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
  }
}
