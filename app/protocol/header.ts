/**
 * The 12-byte little-endian frame header (docs/PROTOCOL.md §2):
 *   u16 size (whole frame incl. header) · u16 type · u32 seq · u32 player_id
 */
export const HEADER_BYTES = 12
/** Hard ceiling from the u16 size field; the configured maximum may be lower. */
export const ABSOLUTE_MAX_FRAME_BYTES = 0xffff

export function writeHeader(buf: Buffer, offset: number, size: number, type: number, seq: number, playerId: number): void {
  buf.writeUInt16LE(size, offset)
  buf.writeUInt16LE(type, offset + 2)
  buf.writeUInt32LE(seq >>> 0, offset + 4)
  buf.writeUInt32LE(playerId >>> 0, offset + 8)
}

/** Allocate and encode one whole frame (header + payload). Not for the hot path. */
export function encodeFrame(type: number, seq: number, playerId: number, payload: Uint8Array = EMPTY): Buffer {
  const size = HEADER_BYTES + payload.length
  if (size > ABSOLUTE_MAX_FRAME_BYTES) throw new RangeError(`frame of ${size} bytes exceeds ${ABSOLUTE_MAX_FRAME_BYTES}`)
  const buf = Buffer.allocUnsafe(size)
  writeHeader(buf, 0, size, type, seq, playerId)
  buf.set(payload, HEADER_BYTES)
  return buf
}

const EMPTY = new Uint8Array(0)
