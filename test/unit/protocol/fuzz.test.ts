/**
 * Seeded fuzzing of the decoders: 150,000 random and mutated inputs. Whatever the bytes, the frame
 * decoder never throws, never holds more than one max-size frame, and only emits frames within the
 * limits; the BATCH decoder either returns valid frames or throws a BATCH-coded GameServerError.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { encodeBatch, unpackBatch } from '../../../app/protocol/batch.js'
import { FrameDecoder, type FrameSink } from '../../../app/protocol/decoder.js'
import { encodeFrame, HEADER_BYTES } from '../../../app/protocol/header.js'
import { seededRandom } from '../../../app/random.js'

const SEED = 0x5eed1234
const MAX_FRAME = 512
const limits = { maxFrameBytes: MAX_FRAME, maxInflatedBatchBytes: 8192 }

const random = seededRandom(SEED)
const int = (n: number) => Math.floor(random() * n)

function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = int(256)
  return b
}

function validStream(): Buffer {
  const frames: Buffer[] = []
  const count = 1 + int(6)
  for (let i = 0; i < count; i++) frames.push(encodeFrame(int(10), int(1000), int(3), randomBytes(int(60))))
  return Buffer.concat(frames)
}

function mutate(input: Buffer): Buffer {
  const b = Buffer.from(input)
  const kind = int(5)
  const edits = 1 + int(4)
  for (let e = 0; e < edits && b.length > 0; e++) {
    const at = int(b.length)
    if (kind === 0) b[at] = b[at]! ^ (1 << int(8))
    else if (kind === 1) b[at] = int(256)
    else if (kind === 2) b[at] = [0, 0xff, 11, 12, 13][int(5)]!
  }
  if (kind === 3) return b.subarray(0, int(b.length + 1))
  if (kind === 4) return Buffer.concat([b, b.subarray(int(b.length))])
  return b
}

const checkingSink: FrameSink & { frames: number } = {
  frames: 0,
  onFrame(_type, _seq, _playerId, source, start, end) {
    const size = end - start + HEADER_BYTES
    if (size < HEADER_BYTES || size > MAX_FRAME || end > source.length || start < HEADER_BYTES) throw new Error(`bad frame emitted: ${start}..${end}`)
    this.frames++
    return true
  },
}

function feed(decoder: FrameDecoder, input: Buffer): void {
  decoder.reset()
  let offset = 0
  while (offset < input.length) {
    const n = 1 + int(Math.min(80, input.length - offset))
    const result = decoder.push(input.subarray(offset, offset + n), checkingSink)
    if (decoder.bufferedBytes > MAX_FRAME) throw new Error('decoder holds more than one frame')
    if (result !== 'ok') return
    offset += n
  }
}

test('frame decoder: 50,000 random and 50,000 mutated inputs, fed in random splits', () => {
  const started = performance.now()
  const decoder = new FrameDecoder(MAX_FRAME)
  for (let i = 0; i < 50_000; i++) {
    const input = randomBytes(int(300))
    // bias some inputs to start with a plausible size so the frame path is exercised too
    if (input.length >= 2 && i % 2 === 0) input.writeUInt16LE(HEADER_BYTES + int(input.length), 0)
    feed(decoder, input)
  }
  for (let i = 0; i < 50_000; i++) feed(decoder, mutate(validStream()))
  assert.ok(checkingSink.frames > 50_000, `frames were decoded (${checkingSink.frames})`)
  assert.ok(performance.now() - started < 180_000, 'bounded in time (a guard against a hang, not a speed check)')
})

test('BATCH decoder: 50,000 mutated BATCH payloads are unpacked or refused with a BATCH code', () => {
  const started = performance.now()
  let unpacked = 0
  let refused = 0
  for (let i = 0; i < 50_000; i++) {
    const frames = Array.from({ length: 1 + int(5) }, () => encodeFrame(int(8), int(100), 1, randomBytes(int(40))))
    const batch = encodeBatch(frames, { compress: i % 2 === 0 })
    const payload = i % 10 === 0 ? randomBytes(int(64)) : mutate(batch.subarray(HEADER_BYTES))
    try {
      const inner = unpackBatch(payload, limits)
      for (const f of inner) assert.ok(f.payload.length + HEADER_BYTES <= MAX_FRAME)
      unpacked++
    } catch (err) {
      if (!isGameServerError(err, 'GS_ERR_BATCH_MALFORMED') && !isGameServerError(err, 'GS_ERR_BATCH_TOO_LARGE')) throw err
      refused++
    }
  }
  assert.ok(unpacked > 1000 && refused > 1000, `both outcomes exercised (${unpacked} / ${refused})`)
  assert.ok(performance.now() - started < 180_000, 'bounded in time (a guard against a hang, not a speed check)')
})

test.run()
