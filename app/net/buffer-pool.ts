/**
 * A bounded free list of equally sized Buffers (send-buffer chunks). Sessions take a chunk when they
 * have something to send and give it back once its write completed, so an idle session holds no
 * chunk at all and a busy one reuses memory instead of allocating per flush.
 */
export interface BufferPoolStats {
  readonly bufferBytes: number
  readonly free: number
  readonly created: number
  readonly reused: number
  readonly dropped: number
}

export class BufferPool {
  readonly bufferBytes: number
  readonly maxFree: number
  private readonly free: Buffer[] = []
  private created = 0
  private reused = 0
  private dropped = 0

  constructor(options: { bufferBytes: number; maxFree: number }) {
    if (!Number.isInteger(options.bufferBytes) || options.bufferBytes < 1) throw new RangeError('bufferBytes must be a positive integer')
    if (!Number.isInteger(options.maxFree) || options.maxFree < 0) throw new RangeError('maxFree must be a non-negative integer')
    this.bufferBytes = options.bufferBytes
    this.maxFree = options.maxFree
  }

  take(): Buffer {
    const buf = this.free.pop()
    if (buf !== undefined) {
      this.reused++
      return buf
    }
    this.created++
    return Buffer.allocUnsafeSlow(this.bufferBytes)
  }

  /** Return a buffer taken from this pool. Buffers of another size (oversized one-offs) are dropped. */
  give(buf: Buffer): void {
    if (buf.length !== this.bufferBytes || this.free.length >= this.maxFree) {
      this.dropped++
      return
    }
    this.free.push(buf)
  }

  stats(): BufferPoolStats {
    return { bufferBytes: this.bufferBytes, free: this.free.length, created: this.created, reused: this.reused, dropped: this.dropped }
  }

  /** Drop every free buffer. */
  clear(): void {
    this.free.length = 0
  }
}
