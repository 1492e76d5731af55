/**
 * A session's outbound frames, coalesced into chunks from a shared BufferPool (the seed's
 * NetworkSendBuffer). Frames are written header-first straight into the chunk (the caller's payload
 * is copied, so the caller may reuse it). The oldest chunk is taken for writing; frames queued while
 * a write is in flight go into the next chunk. A frame larger than a chunk gets a one-off buffer of
 * its own size. The owner enforces the byte cap (see Outbound).
 */
import type { BufferPool } from '../pool/buffer-pool.js'
import { HEADER_BYTES } from '../protocol/header.js'

export class SendBuffer {
  /** Frames queued and not yet taken for writing. */
  frames = 0
  /** Bytes queued and not yet taken for writing. */
  bytes = 0
  /** Set by `takeOldest`: bytes and frames of the chunk just taken. */
  takenBytes = 0
  takenFrames = 0
  private readonly chunks: Buffer[] = []
  private readonly fills: number[] = []
  private readonly counts: number[] = []
  private readonly pool: BufferPool

  constructor(pool: BufferPool) {
    this.pool = pool
  }

  get chunkCount(): number {
    return this.chunks.length
  }

  append(type: number, seq: number, playerId: number, source: Uint8Array | undefined, start: number, end: number): number {
    const size = HEADER_BYTES + (end - start)
    let last = this.chunks.length - 1
    if (last < 0 || this.fills[last]! + size > this.chunks[last]!.length) {
      this.chunks.push(size <= this.pool.bufferBytes ? this.pool.take() : Buffer.allocUnsafe(size))
      this.fills.push(0)
      this.counts.push(0)
      last++
    }
    const chunk = this.chunks[last]!
    const at = this.fills[last]!
    chunk[at] = size & 0xff
    chunk[at + 1] = size >>> 8
    chunk[at + 2] = type & 0xff
    chunk[at + 3] = (type >>> 8) & 0xff
    chunk.writeUInt32LE(seq >>> 0, at + 4)
    chunk.writeUInt32LE(playerId >>> 0, at + 8)
    if (source !== undefined && end > start) {
      if (Buffer.isBuffer(source)) source.copy(chunk, at + HEADER_BYTES, start, end)
      else chunk.set(start === 0 && end === source.length ? source : source.subarray(start, end), at + HEADER_BYTES)
    }
    this.fills[last] = at + size
    this.counts[last]!++
    this.frames++
    this.bytes += size
    return size
  }

  /** Detach the oldest chunk (caller writes `chunk[0, takenBytes)` and gives it back to the pool). */
  takeOldest(): Buffer | undefined {
    const chunk = this.chunks.shift()
    if (chunk === undefined) return undefined
    this.takenBytes = this.fills.shift()!
    this.takenFrames = this.counts.shift()!
    this.frames -= this.takenFrames
    this.bytes -= this.takenBytes
    return chunk
  }

  /** Drop everything queued and give the chunks back. */
  clear(): void {
    for (const chunk of this.chunks) this.pool.give(chunk)
    this.chunks.length = 0
    this.fills.length = 0
    this.counts.length = 0
    this.frames = 0
    this.bytes = 0
  }
}
