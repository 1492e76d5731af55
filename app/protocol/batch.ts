/**
 * BATCH frames (docs/PROTOCOL.md, type 0xFFFF, server → client). Payload:
 *
 *   u16 count · u8 flags (bit 0: body is zlib, RFC 1950) · u8 reserved = 0 · u32 original_size
 *   body: `count` complete frames back to back (zlib-compressed when bit 0 is set)
 *
 * `packBatches` turns a run of outgoing frames into BATCH frames where zlib pays off (split so that
 * no BATCH exceeds the max frame size). `unpackBatch` validates everything and bounds the inflated
 * size with zlib's `maxOutputLength`, so a small hostile BATCH cannot allocate more than the bound.
 */
import { deflateSync, inflateSync } from 'node:zlib'
import { GameServerError } from '../errors.js'
import { HEADER_BYTES, writeHeader } from './header.js'
import { FrameType } from './types.js'

/** zlib level of a BATCH body when the caller names none (COMPRESSION_LEVEL's fastest setting). */
const ZLIB_FASTEST_LEVEL = 1

export const BATCH_PREFIX_BYTES = 8
const BATCH_FLAG_ZLIB = 0x01

export interface BatchPackOptions {
  readonly maxFrameBytes: number
  /** Keep a BATCH only when compressed/original is below this ratio. */
  readonly maxRatio: number
  /** zlib level (1 = fastest); see BENCHMARKS.md "BATCH compression" for why 1 is the default. */
  readonly level: number
  /**
   * Runs shorter than this stay plain frames (BATCH_THRESHOLD_BYTES): a flush split at the max
   * frame size must not end in a small BATCH the threshold promised never to send [0].
   */
  readonly minBytes?: number
  /**
   * seq of the first BATCH produced; each further one in this call takes the next number (skipping
   * 0). 0: every BATCH carries seq 0 (the zone stream's, shared by every recipient).
   */
  readonly seq: number
  readonly playerId: number
}

export interface PackedFrames {
  /** What goes on the wire instead of the source frames. */
  readonly bytes: Buffer
  readonly batches: number
  /** Bytes of the frames that went into BATCHes, before and after compression (BATCH frames included). */
  readonly originalBytes: number
  readonly compressedBytes: number
}

interface Part {
  readonly start: number
  readonly end: number
  readonly count: number
  readonly compressed: Buffer | null
}

/**
 * Pack the whole frames in `source[0, length)`. Returns null when no run compressed below the
 * ratio (send the source unchanged). Frames keep their order.
 */
export function packBatches(source: Buffer, length: number, options: BatchPackOptions): PackedFrames | null {
  const maxBody = options.maxFrameBytes - HEADER_BYTES - BATCH_PREFIX_BYTES
  const parts: Part[] = []
  let runStart = 0
  let runCount = 0
  let offset = 0
  while (offset < length) {
    const size = source[offset]! | (source[offset + 1]! << 8)
    if (offset + size - runStart > maxBody || runCount === 0xffff) {
      if (runCount > 0) parts.push(compressRun(source, runStart, offset, runCount, options))
      runStart = offset
      runCount = 0
    }
    if (size > maxBody) {
      parts.push({ start: offset, end: offset + size, count: 1, compressed: null })
      runStart = offset + size
    } else {
      runCount++
    }
    offset += size
  }
  if (runCount > 0) parts.push(compressRun(source, runStart, length, runCount, options))

  let total = 0
  let batches = 0
  let originalBytes = 0
  let compressedBytes = 0
  const minBytes = options.minBytes ?? 0
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (part.compressed !== null && part.end - part.start < minBytes) parts[i] = { ...part, compressed: null }
  }
  for (const part of parts) {
    if (part.compressed === null) {
      total += part.end - part.start
    } else {
      const frameBytes = HEADER_BYTES + BATCH_PREFIX_BYTES + part.compressed.length
      total += frameBytes
      batches++
      originalBytes += part.end - part.start
      compressedBytes += frameBytes
    }
  }
  if (batches === 0) return null

  const bytes = Buffer.allocUnsafe(total)
  let at = 0
  let seq = options.seq
  for (const part of parts) {
    if (part.compressed === null) {
      at += source.copy(bytes, at, part.start, part.end)
      continue
    }
    const frameBytes = HEADER_BYTES + BATCH_PREFIX_BYTES + part.compressed.length
    writeHeader(bytes, at, frameBytes, FrameType.BATCH, seq, options.playerId)
    if (seq !== 0) seq = (seq + 1) >>> 0 || 1
    bytes.writeUInt16LE(part.count, at + HEADER_BYTES)
    bytes[at + HEADER_BYTES + 2] = BATCH_FLAG_ZLIB
    bytes[at + HEADER_BYTES + 3] = 0
    bytes.writeUInt32LE(part.end - part.start, at + HEADER_BYTES + 4)
    part.compressed.copy(bytes, at + HEADER_BYTES + BATCH_PREFIX_BYTES)
    at += frameBytes
  }
  return { bytes, batches, originalBytes, compressedBytes }
}

function compressRun(source: Buffer, start: number, end: number, count: number, options: BatchPackOptions): Part {
  const original = end - start
  const compressed = deflateSync(source.subarray(start, end), { level: options.level })
  const worth = compressed.length + BATCH_PREFIX_BYTES + HEADER_BYTES < original * options.maxRatio
  return { start, end, count, compressed: worth ? compressed : null }
}

/** Encode one BATCH frame around whole frames (tests, tools; the server uses packBatches). */
export function encodeBatch(frames: readonly Buffer[], options: { compress: boolean; level?: number; seq?: number; playerId?: number }): Buffer {
  const raw = Buffer.concat(frames)
  const body = options.compress ? deflateSync(raw, { level: options.level ?? ZLIB_FASTEST_LEVEL }) : raw
  const size = HEADER_BYTES + BATCH_PREFIX_BYTES + body.length
  if (size > 0xffff) throw new RangeError(`BATCH of ${size} bytes exceeds 65535`)
  const out = Buffer.allocUnsafe(size)
  writeHeader(out, 0, size, FrameType.BATCH, options.seq ?? 0, options.playerId ?? 0)
  out.writeUInt16LE(frames.length, HEADER_BYTES)
  out[HEADER_BYTES + 2] = options.compress ? BATCH_FLAG_ZLIB : 0
  out[HEADER_BYTES + 3] = 0
  out.writeUInt32LE(raw.length, HEADER_BYTES + 4)
  body.copy(out, HEADER_BYTES + BATCH_PREFIX_BYTES)
  return out
}

export interface BatchLimits {
  readonly maxFrameBytes: number
  readonly maxInflatedBatchBytes: number
}

export interface InnerFrame {
  readonly type: number
  readonly seq: number
  readonly playerId: number
  readonly payload: Buffer
}

/**
 * Validate and unpack a BATCH payload (the bytes after its 12-byte header). Throws
 * GS_ERR_BATCH_TOO_LARGE when original_size or the inflated body exceeds the bound, and
 * GS_ERR_BATCH_MALFORMED for anything inconsistent: short prefix, unknown flags, reserved ≠ 0,
 * count 0, a body that does not inflate or does not hold exactly `count` frames of valid sizes, or
 * a nested BATCH. Nothing is returned unless the whole BATCH is valid.
 */
export function unpackBatch(payload: Buffer, limits: BatchLimits): InnerFrame[] {
  if (payload.length < BATCH_PREFIX_BYTES) throw malformed('prefix shorter than 8 bytes', { bytes: payload.length })
  const count = payload.readUInt16LE(0)
  const flags = payload[2]!
  const reserved = payload[3]!
  const originalSize = payload.readUInt32LE(4)
  if ((flags & ~BATCH_FLAG_ZLIB) !== 0) throw malformed('unknown flag bits', { flags })
  if (reserved !== 0) throw malformed('reserved byte is not 0', { reserved })
  if (count === 0) throw malformed('count is 0', {})
  if (originalSize > limits.maxInflatedBatchBytes) {
    throw new GameServerError('GS_ERR_BATCH_TOO_LARGE', 'BATCH original_size exceeds the bound', { originalSize, bound: limits.maxInflatedBatchBytes })
  }
  const stored = payload.subarray(BATCH_PREFIX_BYTES)
  let body: Buffer
  if ((flags & BATCH_FLAG_ZLIB) !== 0) {
    if (originalSize === 0) throw malformed('compressed BATCH with original_size 0', {})
    try {
      body = inflateSync(stored, { maxOutputLength: originalSize })
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        throw new GameServerError('GS_ERR_BATCH_TOO_LARGE', 'BATCH inflates beyond original_size', { originalSize }, { cause: err })
      }
      throw malformed('body does not inflate', { zlibCode: code }, err)
    }
  } else {
    body = stored
  }
  if (body.length !== originalSize) throw malformed('body length differs from original_size', { originalSize, bodyBytes: body.length })

  const frames: InnerFrame[] = []
  let offset = 0
  while (offset < body.length) {
    if (body.length - offset < HEADER_BYTES) throw malformed('truncated inner header', { offset })
    const size = body.readUInt16LE(offset)
    if (size < HEADER_BYTES || size > limits.maxFrameBytes) throw malformed('inner frame size out of range', { offset, size })
    if (offset + size > body.length) throw malformed('inner frame overruns the body', { offset, size })
    const type = body.readUInt16LE(offset + 2)
    if (type === FrameType.BATCH) throw malformed('nested BATCH', { offset })
    if (frames.length === count) throw malformed('more frames than count', { count })
    frames.push({ type, seq: body.readUInt32LE(offset + 4), playerId: body.readUInt32LE(offset + 8), payload: body.subarray(offset + HEADER_BYTES, offset + size) })
    offset += size
  }
  if (frames.length !== count) throw malformed('fewer frames than count', { count, found: frames.length })
  return frames
}

function malformed(message: string, context: Record<string, unknown>, cause?: unknown): GameServerError {
  return new GameServerError('GS_ERR_BATCH_MALFORMED', `malformed BATCH: ${message}`, context, cause === undefined ? undefined : { cause })
}
