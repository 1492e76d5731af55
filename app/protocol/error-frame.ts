/**
 * ERROR frame payload (type 0x8002, server → client):
 *
 *   u16 code (WireError) · u32 ref_seq (seq of the frame it answers; 0 when none) · UTF-8 message
 *
 * The message is for humans and logs; clients switch on `code`. It is truncated (on a character
 * boundary) so the frame never exceeds the max frame size.
 */
import { GameServerError } from '../errors.js'
import { HEADER_BYTES } from './header.js'

const ERROR_PREFIX_BYTES = 6
const utf8 = new TextEncoder()

export interface ErrorPayload {
  readonly code: number
  readonly refSeq: number
  readonly message: string
}

/** Write the payload into `into` (at 0) and return its length; `into` must hold ≥ 6 bytes. */
export function writeErrorPayload(into: Buffer, code: number, refSeq: number, message: string): number {
  into.writeUInt16LE(code, 0)
  into.writeUInt32LE(refSeq >>> 0, 2)
  if (message.length === 0) return ERROR_PREFIX_BYTES
  const room = into.length - ERROR_PREFIX_BYTES
  const { written } = utf8.encodeInto(message, into.subarray(ERROR_PREFIX_BYTES, ERROR_PREFIX_BYTES + room))
  return ERROR_PREFIX_BYTES + written
}

export function encodeErrorPayload(code: number, refSeq: number, message = '', maxFrameBytes = 0xffff): Buffer {
  const scratch = Buffer.allocUnsafe(Math.min(maxFrameBytes - HEADER_BYTES, ERROR_PREFIX_BYTES + Buffer.byteLength(message)))
  return scratch.subarray(0, writeErrorPayload(scratch, code, refSeq, message))
}

export function decodeErrorPayload(payload: Uint8Array): ErrorPayload {
  if (payload.length < ERROR_PREFIX_BYTES) {
    throw new GameServerError('GS_ERR_PAYLOAD_MALFORMED', 'ERROR payload shorter than 6 bytes', { bytes: payload.length })
  }
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.length)
  return { code: buf.readUInt16LE(0), refSeq: buf.readUInt32LE(2), message: buf.toString('utf8', ERROR_PREFIX_BYTES) }
}
