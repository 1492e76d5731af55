import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SendBuffer } from '../../../app/net/send-buffer.js'
import { BufferPool } from '../../../app/net/buffer-pool.js'
import { encodeFrame } from '../../../app/protocol/header.js'

test('frames are laid out exactly like encodeFrame: u32 extremes, small and large payloads, Buffer and Uint8Array sources', () => {
  const pool = new BufferPool({ bufferBytes: 4096, maxFree: 4 })
  const buffer = new SendBuffer(pool)
  const big = Buffer.from(Array.from({ length: 500 }, (_, i) => i & 0xff))
  const cases: [number, number, number, Uint8Array, number, number][] = [
    [4, 0xffffffff, 0xfffffffe, Buffer.from('0123456789abcdef'), 3, 11],
    [0x8002, 0, 1, new Uint8Array([9, 8, 7, 6]), 0, 4],
    [5, 0x80000000, 0x7fffffff, big, 0, 500],
    [0xffff, 1, 2, new Uint8Array(big), 100, 300],
    [1, -1, 3, Buffer.alloc(0), 0, 0],
  ]
  for (const [type, seq, playerId, source, start, end] of cases) buffer.append(type, seq, playerId, source, start, end)
  const chunk = buffer.takeOldest()!
  const expected = Buffer.concat(cases.map(([type, seq, playerId, source, start, end]) => encodeFrame(type, seq >>> 0, playerId, source.subarray(start, end))))
  assert.is(buffer.takenFrames, cases.length)
  assert.is(buffer.takenBytes, expected.length)
  assert.ok(chunk.subarray(0, buffer.takenBytes).equals(expected))
})

test('a frame that does not fit the current chunk starts the next one; an oversized frame gets its own buffer', () => {
  const pool = new BufferPool({ bufferBytes: 1024, maxFree: 4 })
  const buffer = new SendBuffer(pool)
  buffer.append(1, 1, 0, Buffer.alloc(900), 0, 900)
  buffer.append(1, 2, 0, Buffer.alloc(200), 0, 200)
  buffer.append(1, 3, 0, Buffer.alloc(3000), 0, 3000)
  assert.is(buffer.chunkCount, 3)
  assert.is(buffer.frames, 3)
  assert.is(buffer.bytes, 912 + 212 + 3012)
  assert.is(buffer.takeOldest()!.length, 1024)
  assert.is(buffer.takenBytes, 912)
  buffer.takeOldest()
  assert.is(buffer.takeOldest()!.length, 3012)
  assert.is(buffer.frames, 0)
  assert.is(buffer.bytes, 0)
})

test.run()
