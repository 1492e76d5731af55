/**
 * A session's outbound frames, coalesced into chunks from a shared BufferPool. Frames are written
 * header-first straight into the chunk (the caller's payload is copied, so the caller may reuse it).
 * The oldest chunk is taken for writing; frames queued while a write is in flight go into the next
 * chunk. A frame larger than a chunk gets a one-off buffer of its own size. The owner enforces the
 * byte cap (see Outbound).
 *
 * A shared piece (`appendShared`) is queued by reference instead: bytes encoded once for many
 * sessions (a zone tick's frames), never copied, never given to the pool, never modified. Frames
 * appended after it start a new chunk, so the queue keeps the order in which frames were sent.
 */
import type { BufferPool } from './buffer-pool.js'
import { HEADER_BYTES } from '../protocol/header.js'

/** Payloads up to this size are copied byte by byte (cheaper than a native copy call). */
const SMALL_PAYLOAD_BYTES = 64

export class SendBuffer {
  /** Frames queued and not yet taken for writing. */
  frames = 0
  /** Bytes queued and not yet taken for writing. */
  bytes = 0
  /** Set by `takeOldest`: bytes and frames of the chunk just taken. */
  takenBytes = 0
  takenFrames = 0
  /** Set by `takeOldest`: false when the piece taken is shared (not the pool's; never packed or given back). */
  takenOwned = true
  private readonly chunks: Buffer[] = []
  private readonly fills: number[] = []
  private readonly counts: number[] = []
  /** Per piece: true for a pool (or one-off) chunk this buffer fills, false for a shared piece. */
  private readonly owned: boolean[] = []
  private readonly pool: BufferPool

  constructor(pool: BufferPool) {
    this.pool = pool
  }

  get chunkCount(): number {
    return this.chunks.length
  }

  /** Whether the oldest piece still queued is shared (false when none is queued). */
  get oldestShared(): boolean {
    return this.owned.length > 0 && !this.owned[0]
  }

  /** Queue `frames` complete frames held in `bytes`, by reference (see the module comment). */
  appendShared(bytes: Buffer, frames: number): void {
    this.chunks.push(bytes)
    this.fills.push(bytes.length)
    this.counts.push(frames)
    this.owned.push(false)
    this.frames += frames
    this.bytes += bytes.length
  }

  append(type: number, seq: number, playerId: number, source: Uint8Array | undefined, start: number, end: number): number {
    const size = HEADER_BYTES + (end - start)
    let last = this.chunks.length - 1
    if (last < 0 || !this.owned[last] || this.fills[last]! + size > this.chunks[last]!.length) {
      this.chunks.push(size <= this.pool.bufferBytes ? this.pool.take() : Buffer.allocUnsafe(size))
      this.fills.push(0)
      this.counts.push(0)
      this.owned.push(true)
      last++
    }
    const chunk = this.chunks[last]!
    const at = this.fills[last]!
    // Plain byte stores: Buffer#writeUInt32LE's checks and Buffer#copy's native call cost more
    // than the work for a 12-byte header and a small payload (profiled: bench/hot-path, BENCHMARKS.md).
    chunk[at] = size & 0xff
    chunk[at + 1] = size >>> 8
    chunk[at + 2] = type & 0xff
    chunk[at + 3] = (type >>> 8) & 0xff
    chunk[at + 4] = seq & 0xff
    chunk[at + 5] = (seq >>> 8) & 0xff
    chunk[at + 6] = (seq >>> 16) & 0xff
    chunk[at + 7] = (seq >>> 24) & 0xff
    chunk[at + 8] = playerId & 0xff
    chunk[at + 9] = (playerId >>> 8) & 0xff
    chunk[at + 10] = (playerId >>> 16) & 0xff
    chunk[at + 11] = (playerId >>> 24) & 0xff
    if (source !== undefined && end > start) {
      const length = end - start
      if (length <= SMALL_PAYLOAD_BYTES) {
        const to = at + HEADER_BYTES - start
        for (let i = start; i < end; i++) chunk[to + i] = source[i]!
      } else if (Buffer.isBuffer(source)) {
        source.copy(chunk, at + HEADER_BYTES, start, end)
      } else {
        chunk.set(start === 0 && end === source.length ? source : source.subarray(start, end), at + HEADER_BYTES)
      }
    }
    this.fills[last] = at + size
    this.counts[last]!++
    this.frames++
    this.bytes += size
    return size
  }

  /**
   * Detach the oldest piece: the caller writes `piece[0, takenBytes)` and, when `takenOwned`, gives
   * it back to the pool once written.
   */
  takeOldest(): Buffer | undefined {
    const chunk = this.chunks.shift()
    if (chunk === undefined) return undefined
    this.takenBytes = this.fills.shift()!
    this.takenFrames = this.counts.shift()!
    this.takenOwned = this.owned.shift()!
    this.frames -= this.takenFrames
    this.bytes -= this.takenBytes
    return chunk
  }

  /** Drop everything queued and give the chunks back. */
  clear(): void {
    for (let i = 0; i < this.chunks.length; i++) if (this.owned[i]) this.pool.give(this.chunks[i]!)
    this.chunks.length = 0
    this.fills.length = 0
    this.counts.length = 0
    this.owned.length = 0
    this.frames = 0
    this.bytes = 0
  }
}
