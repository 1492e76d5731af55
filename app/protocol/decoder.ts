/**
 * Streaming frame decoder (docs/PROTOCOL.md §2). Feed it socket chunks in order; it calls the sink
 * once per whole frame.
 *
 * - Many frames per chunk and frames split across chunks (anywhere, also inside the header).
 * - Zero-copy: a frame that lies inside one chunk is handed over as a range of that chunk. Only a
 *   frame that straddles chunks is copied, into a buffer of exactly its size that then belongs to
 *   the sink (it is never reused), so payload views stay valid after `push` returns.
 * - Bounded: at most one partial frame (≤ the configured max size) is held between chunks.
 * - A declared size < 12 or > max is a violation, detected as soon as the two size bytes arrived;
 *   the decoder then refuses all further input.
 */
import { ABSOLUTE_MAX_FRAME_BYTES, HEADER_BYTES } from './header.js'

export type DecodeViolation = 'frame-too-small' | 'frame-too-large'
/** `stopped`: the sink returned false and the rest of the chunk was discarded. */
export type DecodeResult = 'ok' | 'stopped' | DecodeViolation

export interface FrameSink {
  /**
   * One whole frame; its payload is `source[payloadStart, payloadEnd)` (the header sits in the 12
   * bytes before). `source` is never reused by the decoder. Return false to stop decoding.
   */
  onFrame(type: number, seq: number, playerId: number, source: Buffer, payloadStart: number, payloadEnd: number): boolean
}

export class FrameDecoder {
  readonly maxFrameBytes: number
  /** The size field of the frame that caused the last violation (for error messages). */
  violationSize = 0
  private state: 'ok' | DecodeViolation = 'ok'
  /** A header split across chunks waits here; allocated on first need (most connections never split one). */
  private headerScratch: Buffer | null = null
  private headerFill = 0
  private partial: Buffer | null = null
  private partialFill = 0

  constructor(maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < HEADER_BYTES || maxFrameBytes > ABSOLUTE_MAX_FRAME_BYTES) {
      throw new RangeError(`maxFrameBytes must be an integer in [${HEADER_BYTES}, ${ABSOLUTE_MAX_FRAME_BYTES}], got ${maxFrameBytes}`)
    }
    this.maxFrameBytes = maxFrameBytes
  }

  /** Bytes held between chunks (a partial header or frame); never above maxFrameBytes. */
  get bufferedBytes(): number {
    return this.partial !== null ? this.partialFill : this.headerFill
  }

  /** Forget any partial frame and any violation (for reuse by a new connection). */
  reset(): void {
    this.state = 'ok'
    this.headerFill = 0
    this.partial = null
    this.partialFill = 0
    this.violationSize = 0
  }

  push(chunk: Buffer, sink: FrameSink): DecodeResult {
    if (this.state !== 'ok') return this.state
    const length = chunk.length
    let offset = 0

    if (this.headerFill > 0) {
      const scratch = this.headerScratch!
      const n = Math.min(HEADER_BYTES - this.headerFill, length)
      chunk.copy(scratch, this.headerFill, 0, n)
      this.headerFill += n
      offset = n
      if (this.headerFill < 2) return 'ok'
      const size = scratch[0]! | (scratch[1]! << 8)
      const violation = this.check(size)
      if (violation !== null) return violation
      if (this.headerFill < HEADER_BYTES) return 'ok'
      this.headerFill = 0
      const frame = Buffer.allocUnsafe(size)
      scratch.copy(frame, 0, 0, HEADER_BYTES)
      this.partial = frame
      this.partialFill = HEADER_BYTES
    }

    if (this.partial !== null) {
      const frame = this.partial
      const n = Math.min(frame.length - this.partialFill, length - offset)
      chunk.copy(frame, this.partialFill, offset, offset + n)
      this.partialFill += n
      offset += n
      if (this.partialFill < frame.length) return 'ok'
      this.partial = null
      this.partialFill = 0
      if (!emit(frame, 0, frame.length, sink)) return this.stop()
    }

    while (length - offset >= HEADER_BYTES) {
      const size = chunk[offset]! | (chunk[offset + 1]! << 8)
      const violation = this.check(size)
      if (violation !== null) return violation
      if (size > length - offset) break
      if (!emit(chunk, offset, size, sink)) return this.stop()
      offset += size
    }

    const rest = length - offset
    if (rest > 0) {
      if (rest < HEADER_BYTES) {
        if (rest >= 2) {
          const violation = this.check(chunk[offset]! | (chunk[offset + 1]! << 8))
          if (violation !== null) return violation
        }
        chunk.copy((this.headerScratch ??= Buffer.alloc(HEADER_BYTES)), 0, offset, length)
        this.headerFill = rest
      } else {
        const size = chunk[offset]! | (chunk[offset + 1]! << 8)
        const frame = Buffer.allocUnsafe(size)
        chunk.copy(frame, 0, offset, length)
        this.partial = frame
        this.partialFill = rest
      }
    }
    return 'ok'
  }

  private check(size: number): DecodeViolation | null {
    if (size < HEADER_BYTES) return this.fail('frame-too-small', size)
    if (size > this.maxFrameBytes) return this.fail('frame-too-large', size)
    return null
  }

  private fail(violation: DecodeViolation, size: number): DecodeViolation {
    this.state = violation
    this.violationSize = size
    this.partial = null
    this.headerFill = 0
    return violation
  }

  private stop(): 'stopped' {
    this.partial = null
    this.partialFill = 0
    this.headerFill = 0
    return 'stopped'
  }
}

function emit(source: Buffer, offset: number, size: number, sink: FrameSink): boolean {
  const type = source[offset + 2]! | (source[offset + 3]! << 8)
  const seq = (source[offset + 4]! | (source[offset + 5]! << 8) | (source[offset + 6]! << 16) | (source[offset + 7]! << 24)) >>> 0
  const playerId = (source[offset + 8]! | (source[offset + 9]! << 8) | (source[offset + 10]! << 16) | (source[offset + 11]! << 24)) >>> 0
  return sink.onFrame(type, seq, playerId, source, offset + HEADER_BYTES, offset + size)
}
