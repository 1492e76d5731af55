/**
 * `node:zlib` in the browser bundle: the BATCH codec's inflate on fflate (zlib format, RFC 1950),
 * with the inflated size bounded like Node's `maxOutputLength` (the error code the codec maps to
 * GS_ERR_BATCH_TOO_LARGE). Browsers do not pack BATCH frames, so deflate is not provided.
 */
import { unzlibSync } from 'fflate'

/** @public */
export function inflateSync(input: Uint8Array, options: { maxOutputLength?: number } = {}): Buffer {
  const output = unzlibSync(input)
  if (options.maxOutputLength !== undefined && output.length > options.maxOutputLength) {
    throw Object.assign(new RangeError('inflated data exceeds maxOutputLength'), { code: 'ERR_BUFFER_TOO_LARGE' })
  }
  return Buffer.from(output.buffer, output.byteOffset, output.length)
}

/** @public */
export function deflateSync(): never {
  throw new Error('deflateSync is not part of the browser client')
}
