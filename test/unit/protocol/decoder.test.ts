import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameDecoder, type FrameSink } from '../../../app/protocol/decoder.js'
import { encodeFrame, HEADER_BYTES } from '../../../app/protocol/header.js'

interface Got {
  type: number
  seq: number
  playerId: number
  payload: string
  zeroCopy: boolean
}

function collector(stopAfter = Infinity): FrameSink & { got: Got[]; sources: Buffer[] } {
  const got: Got[] = []
  const sources: Buffer[] = []
  return {
    got,
    sources,
    onFrame(type, seq, playerId, source, start, end) {
      sources.push(source)
      got.push({ type, seq, playerId, payload: source.toString('hex', start, end), zeroCopy: false })
      return got.length < stopAfter
    },
  }
}

const frames = [
  encodeFrame(4, 1, 0, Buffer.from('ping')),
  encodeFrame(1, 2, 77, Buffer.alloc(0)),
  encodeFrame(2, 0xffffffff, 0xfffffffe, Buffer.from('hello, world — üñí', 'utf8')),
  encodeFrame(3, 3, 77, Buffer.alloc(300, 0xab)),
  encodeFrame(0x1234, 4, 5, Buffer.from([0])),
]
const stream = Buffer.concat(frames)
const expected = frames.map((f) => ({
  type: f.readUInt16LE(2),
  seq: f.readUInt32LE(4),
  playerId: f.readUInt32LE(8),
  payload: f.toString('hex', HEADER_BYTES),
  zeroCopy: false,
}))

test('decodes many frames from one chunk, as views into that chunk (zero-copy)', () => {
  const d = new FrameDecoder(1024)
  const sink = collector()
  assert.is(d.push(stream, sink), 'ok')
  assert.equal(sink.got, expected)
  for (const source of sink.sources) assert.is(source, stream)
  assert.is(d.bufferedBytes, 0)
})

test('every single split point of a multi-frame stream yields the same frames', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder(1024)
    const sink = collector()
    assert.is(d.push(stream.subarray(0, cut), sink), 'ok')
    assert.is(d.push(stream.subarray(cut), sink), 'ok')
    assert.equal(sink.got, expected, `split at ${cut}`)
    assert.is(d.bufferedBytes, 0)
  }
})

test('every pair of split points (three chunks) yields the same frames', () => {
  for (let a = 0; a <= stream.length; a += 3) {
    for (let b = a; b <= stream.length; b += 5) {
      const d = new FrameDecoder(1024)
      const sink = collector()
      d.push(stream.subarray(0, a), sink)
      d.push(stream.subarray(a, b), sink)
      d.push(stream.subarray(b), sink)
      assert.equal(sink.got, expected, `splits at ${a},${b}`)
    }
  }
})

test('byte-by-byte feeding works and copies only straddling frames', () => {
  const d = new FrameDecoder(1024)
  const sink = collector()
  for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1), sink)
  assert.equal(sink.got, expected)
  for (const source of sink.sources) assert.is.not(source, stream)
})

test('a copied (straddling) frame is not overwritten by later input', () => {
  const d = new FrameDecoder(1024)
  const sink = collector()
  const a = encodeFrame(1, 1, 0, Buffer.alloc(20, 1))
  const b = encodeFrame(1, 2, 0, Buffer.alloc(20, 2))
  const both = Buffer.concat([a, b])
  d.push(both.subarray(0, 10), sink)
  d.push(both.subarray(10, 40), sink)
  d.push(both.subarray(40), sink)
  assert.is(sink.got.length, 2)
  assert.is(sink.sources[0]!.toString('hex', HEADER_BYTES), Buffer.alloc(20, 1).toString('hex'))
})

test('size below 12 is a frame-too-small violation and the decoder stays failed', () => {
  const d = new FrameDecoder(1024)
  const sink = collector()
  const bad = Buffer.alloc(12)
  bad.writeUInt16LE(11, 0)
  assert.is(d.push(Buffer.concat([frames[0]!, bad]), sink), 'frame-too-small')
  assert.is(sink.got.length, 1)
  assert.is(d.violationSize, 11)
  assert.is(d.push(frames[1]!, sink), 'frame-too-small')
  assert.is(sink.got.length, 1)
  d.reset()
  assert.is(d.push(frames[1]!, sink), 'ok')
  assert.is(sink.got.length, 2)
})

test('size above the max is frame-too-large, also when the header arrives in pieces', () => {
  const d = new FrameDecoder(100)
  const big = encodeFrame(1, 1, 0, Buffer.alloc(200))
  assert.is(d.push(big, collector()), 'frame-too-large')
  const d2 = new FrameDecoder(100)
  assert.is(d2.push(big.subarray(0, 1), collector()), 'ok')
  assert.is(d2.push(big.subarray(1, 5), collector()), 'frame-too-large')
  assert.is(d2.violationSize, 212)
})

test('a sink returning false stops decoding and drops the rest of the chunk', () => {
  const d = new FrameDecoder(1024)
  const sink = collector(2)
  assert.is(d.push(stream, sink), 'stopped')
  assert.is(sink.got.length, 2)
  assert.is(d.bufferedBytes, 0)
})

test('buffered bytes never exceed the max frame size', () => {
  const d = new FrameDecoder(64)
  const f = encodeFrame(1, 1, 0, Buffer.alloc(52))
  for (let i = 0; i < f.length - 1; i++) {
    d.push(f.subarray(i, i + 1), collector())
    assert.ok(d.bufferedBytes <= 64)
  }
})

test('constructor rejects impossible maxima', () => {
  assert.throws(() => new FrameDecoder(11), RangeError)
  assert.throws(() => new FrameDecoder(65536), RangeError)
})

test.run()
