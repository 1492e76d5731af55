import { deflateSync } from 'node:zlib'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { BATCH_PREFIX_BYTES, encodeBatch, packBatches, unpackBatch } from '../../../app/protocol/batch.js'
import { decodeErrorPayload, encodeErrorPayload } from '../../../app/protocol/error-frame.js'
import { encodeFrame, HEADER_BYTES } from '../../../app/protocol/header.js'
import { FrameType } from '../../../app/protocol/types.js'

const limits = { maxFrameBytes: 16384, maxInflatedBatchBytes: 262144 }
const payloadOf = (batch: Buffer) => batch.subarray(HEADER_BYTES)
const frames = [encodeFrame(0x8003, 1, 9, Buffer.from('moved 10,20')), encodeFrame(0x8004, 2, 9, Buffer.alloc(500, 'a')), encodeFrame(5, 3, 0)]

function expectCode(fn: () => unknown, code: 'GS_ERR_BATCH_MALFORMED' | 'GS_ERR_BATCH_TOO_LARGE') {
  try {
    fn()
  } catch (err) {
    assert.ok(isGameServerError(err, code), `expected ${code}, got ${(err as Error).message}`)
    return
  }
  assert.unreachable(`expected ${code}`)
}

test('encodeBatch/unpackBatch round-trip, compressed and plain', () => {
  for (const compress of [true, false]) {
    const batch = encodeBatch(frames, { compress })
    assert.is(batch.readUInt16LE(0), batch.length)
    assert.is(batch.readUInt16LE(2), FrameType.BATCH)
    const inner = unpackBatch(payloadOf(batch), limits)
    assert.is(inner.length, 3)
    inner.forEach((f, i) => {
      assert.is(f.type, frames[i]!.readUInt16LE(2))
      assert.is(f.seq, frames[i]!.readUInt32LE(4))
      assert.is(f.playerId, frames[i]!.readUInt32LE(8))
      assert.ok(f.payload.equals(frames[i]!.subarray(HEADER_BYTES)))
    })
  }
})

test('packBatches compresses compressible frames into BATCHes no larger than the max frame size', () => {
  const many = Array.from({ length: 200 }, (_, i) => encodeFrame(0x8003, i, 7, Buffer.from(`player ${i % 5} moved to 100,200 in zone 1`)))
  const source = Buffer.concat(many)
  const packed = packBatches(source, source.length, { maxFrameBytes: 2048, maxRatio: 0.9, level: 1, seq: 0, playerId: 7 })
  assert.ok(packed !== null)
  assert.ok(packed.batches >= 2, 'split into several BATCHes')
  assert.ok(packed.compressedBytes < packed.originalBytes * 0.9)
  const out: Buffer[] = []
  let offset = 0
  while (offset < packed.bytes.length) {
    const size = packed.bytes.readUInt16LE(offset)
    assert.ok(size <= 2048)
    const type = packed.bytes.readUInt16LE(offset + 2)
    const frame = packed.bytes.subarray(offset, offset + size)
    if (type === FrameType.BATCH) {
      for (const f of unpackBatch(frame.subarray(HEADER_BYTES), limits)) out.push(encodeFrame(f.type, f.seq, f.playerId, f.payload))
    } else {
      out.push(frame)
    }
    offset += size
  }
  assert.ok(Buffer.concat(out).equals(source), 'same frames, same order')
})

test('packBatches returns null when zlib does not get under the ratio', () => {
  const random = Buffer.alloc(3000)
  let x = 0x9e3779b9
  for (let i = 0; i < random.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    random[i] = x & 0xff
  }
  const source = Buffer.concat([encodeFrame(1, 1, 0, random.subarray(0, 1500)), encodeFrame(1, 2, 0, random.subarray(1500))])
  assert.is(packBatches(source, source.length, { maxFrameBytes: 16384, maxRatio: 0.9, level: 1, seq: 0, playerId: 0 }), null)
})

test('packBatches keeps a frame too large for any BATCH as a plain frame', () => {
  const big = encodeFrame(1, 1, 0, Buffer.alloc(1000, 1))
  const small = Array.from({ length: 10 }, (_, i) => encodeFrame(1, i, 0, Buffer.alloc(100, 2)))
  const source = Buffer.concat([...small, big, ...small])
  const packed = packBatches(source, source.length, { maxFrameBytes: 1010, maxRatio: 0.9, level: 1, seq: 0, playerId: 0 })
  assert.ok(packed !== null)
  assert.ok(packed.bytes.includes(big))
})

test('packBatches: a split flush\'s tail below minBytes stays plain frames; each BATCH takes the next seq', () => {
  const many = Array.from({ length: 60 }, (_, i) => encodeFrame(0x8003, i, 7, Buffer.from(`player ${i % 5} moved to 100,200 in zone 1`)))
  const source = Buffer.concat(many)
  const packed = packBatches(source, source.length, { maxFrameBytes: 1024, maxRatio: 0.9, level: 1, seq: 5, playerId: 7, minBytes: 900 })
  assert.ok(packed !== null)
  const seqs: number[] = []
  let offset = 0
  while (offset < packed.bytes.length) {
    const size = packed.bytes.readUInt16LE(offset)
    if (packed.bytes.readUInt16LE(offset + 2) === FrameType.BATCH) {
      seqs.push(packed.bytes.readUInt32LE(offset + 4))
      assert.ok(packed.bytes.readUInt32LE(offset + HEADER_BYTES + 4) >= 900, 'no BATCH below minBytes')
    }
    offset += size
  }
  assert.ok(seqs.length >= 2)
  assert.equal(seqs, seqs.map((_, i) => 5 + i))
  assert.ok(packed.bytes.length < source.length)
})

test('unpackBatch rejects inconsistent BATCHes with GS_ERR_BATCH_MALFORMED', () => {
  const good = payloadOf(encodeBatch(frames, { compress: false }))
  const mutate = (fn: (b: Buffer) => void) => {
    const b = Buffer.from(good)
    fn(b)
    return b
  }
  expectCode(() => unpackBatch(good.subarray(0, 7), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => b.writeUInt16LE(4, 0)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => b.writeUInt16LE(2, 0)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => b.writeUInt16LE(0, 0)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => (b[2] = 2)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => (b[3] = 1)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => b.writeUInt32LE(b.readUInt32LE(4) - 1, 4)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => b.writeUInt16LE(5, BATCH_PREFIX_BYTES)), limits), 'GS_ERR_BATCH_MALFORMED')
  expectCode(() => unpackBatch(mutate((b) => b.writeUInt16LE(9000, BATCH_PREFIX_BYTES)), limits), 'GS_ERR_BATCH_MALFORMED')
  const nested = payloadOf(encodeBatch([encodeBatch(frames, { compress: false })], { compress: false }))
  expectCode(() => unpackBatch(nested, limits), 'GS_ERR_BATCH_MALFORMED')
  const garbage = payloadOf(encodeBatch(frames, { compress: true }))
  garbage[BATCH_PREFIX_BYTES + 3] = (garbage[BATCH_PREFIX_BYTES + 3] ?? 0) ^ 0xff
  expectCode(() => unpackBatch(garbage, limits), 'GS_ERR_BATCH_MALFORMED')
})

test('inflation is bounded: a zip bomb is refused with GS_ERR_BATCH_TOO_LARGE', () => {
  // original_size claims little, body inflates to 10 MB
  const bomb = deflateSync(Buffer.alloc(10 * 1024 * 1024))
  const lying = Buffer.alloc(BATCH_PREFIX_BYTES + bomb.length)
  lying.writeUInt16LE(1, 0)
  lying[2] = 1
  lying.writeUInt32LE(1000, 4)
  bomb.copy(lying, BATCH_PREFIX_BYTES)
  expectCode(() => unpackBatch(lying, limits), 'GS_ERR_BATCH_TOO_LARGE')
  // original_size itself above the bound
  lying.writeUInt32LE(limits.maxInflatedBatchBytes + 1, 4)
  expectCode(() => unpackBatch(lying, limits), 'GS_ERR_BATCH_TOO_LARGE')
})

test('ERROR payload round-trips and truncates to the frame size', () => {
  const p = encodeErrorPayload(4, 77, 'player_id does not match')
  assert.equal(decodeErrorPayload(p), { code: 4, refSeq: 77, message: 'player_id does not match' })
  const long = encodeErrorPayload(1, 1, 'é'.repeat(100), HEADER_BYTES + 6 + 11)
  const decoded = decodeErrorPayload(long)
  assert.is(decoded.message, 'é'.repeat(5), 'cut on a character boundary')
  assert.throws(() => decodeErrorPayload(Buffer.alloc(5)))
})

test.run()
