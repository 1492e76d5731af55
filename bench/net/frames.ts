/**
 * Minimal frame helpers shared by the bench's reference servers and its load generator, kept
 * independent of app/ so the references measure Node, not our code.
 */
export const HEADER_BYTES = 12
export const PING = 4
export const PONG = 5

/** Per-socket reassembly of 12-byte-header frames (size = u16 LE at offset 0). */
export class FrameSplitter {
  private pending: Buffer | null = null

  /** Calls `onFrame(buf, start, size)` for each whole frame in arrival order. */
  push(chunk: Buffer, onFrame: (buf: Buffer, start: number, size: number) => void): void {
    let buf = chunk
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk])
      this.pending = null
    }
    let offset = 0
    while (buf.length - offset >= HEADER_BYTES) {
      const size = buf[offset]! | (buf[offset + 1]! << 8)
      if (size < HEADER_BYTES) throw new Error(`bad frame size ${size}`)
      if (buf.length - offset < size) break
      onFrame(buf, offset, size)
      offset += size
    }
    if (offset < buf.length) this.pending = Buffer.from(buf.subarray(offset))
  }
}
