/**
 * Split bytes the server queued (a session's write, a zone tick's shared frames) into frames,
 * BATCH frames unpacked into their inner frames in order, as a client handles them.
 */
import { unpackBatch } from '../../app/protocol/batch.js'
import { HEADER_BYTES } from '../../app/protocol/header.js'
import { FrameType } from '../../app/protocol/types.js'

export interface SplitFrame {
  readonly type: number
  readonly seq: number
  readonly playerId: number
  readonly payload: Buffer
}

const LIMITS = { maxFrameBytes: 65535, maxInflatedBatchBytes: 1 << 20 }

export function splitFrames(bytes: Buffer): SplitFrame[] {
  const frames: SplitFrame[] = []
  for (let at = 0; at < bytes.length;) {
    const size = bytes.readUInt16LE(at)
    if (size < HEADER_BYTES || at + size > bytes.length) throw new Error(`bad frame size ${size} at ${at} of ${bytes.length}`)
    const frame = { type: bytes.readUInt16LE(at + 2), seq: bytes.readUInt32LE(at + 4), playerId: bytes.readUInt32LE(at + 8), payload: Buffer.from(bytes.subarray(at + HEADER_BYTES, at + size)) }
    if (frame.type === FrameType.BATCH) {
      for (const inner of unpackBatch(frame.payload, LIMITS)) frames.push({ type: inner.type, seq: inner.seq, playerId: inner.playerId, payload: Buffer.from(inner.payload) })
    } else {
      frames.push(frame)
    }
    at += size
  }
  return frames
}
