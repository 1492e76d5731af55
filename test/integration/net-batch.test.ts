/**
 * BATCH aggregation end to end over TCP: replies that reach BATCH_THRESHOLD_BYTES in one flush and
 * compress below BATCH_MAX_RATIO arrive as a zlib BATCH that the client unpacks into the same
 * frames; incompressible replies arrive as plain frames.
 */
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ReceivedFrame } from '../../app/client/connection.js'
import type { CloseReason, Connection, FrameDispatcher, InboundFrame } from '../../app/net/connection.js'
import { FrameType } from '../../app/protocol/types.js'
import { startServer } from '../harness/net-server.js'
import { eventually } from '../harness/eventually.js'

/** On CHAT: 30 replies, compressible text or (payload 'noise') distinct random bytes. */
class FanDispatcher implements FrameDispatcher {
  dispatch(frame: InboundFrame): void {
    const noise = frame.payload.toString() === 'noise'
    for (let i = 0; i < 30; i++) {
      const payload = noise ? randomBytes(100) : Buffer.from(`player ${i} moved to ${i * 3},${i * 7} in zone 2`.padEnd(100, '.'))
      frame.connection.send(FrameType.PLAYER_MOVED, i + 1, 0, payload)
    }
  }
  disconnected(_connection: Connection, _reason: CloseReason): void {}
}

const test = suite('net: BATCH over TCP')

test('compressible replies ≥ the threshold arrive as one BATCH, unpacked into the original frames in order', async () => {
  const ts = await startServer({ BATCH_THRESHOLD_BYTES: '1024', BATCH_MAX_RATIO: '0.9' }, {}, new FanDispatcher() as never)
  try {
    const client = await ts.connect()
    const got: ReceivedFrame[] = []
    client.onFrame((f) => got.push(f))
    client.send(FrameType.CHAT, Buffer.from('text'))
    await eventually(() => got.length === 30, 3000, '30 frames')
    assert.ok(got.every((f) => f.batched), 'all came inside a BATCH')
    assert.equal(got.map((f) => f.seq), Array.from({ length: 30 }, (_, i) => i + 1))
    assert.ok(got[4]!.payload.toString().startsWith('player 4 moved to 12,28'))
    assert.ok(client.stats.batchesIn >= 1)
    assert.ok(client.stats.bytesIn < 30 * 112 * 0.9, `${client.stats.bytesIn} B on the wire for ${30 * 112} B of frames`)
    assert.ok(ts.metrics.batches >= 1)
  } finally {
    await ts.stop()
  }
})

test('incompressible replies arrive as plain frames', async () => {
  const ts = await startServer({ BATCH_THRESHOLD_BYTES: '1024', BATCH_MAX_RATIO: '0.9' }, {}, new FanDispatcher() as never)
  try {
    const client = await ts.connect()
    const got: ReceivedFrame[] = []
    client.onFrame((f) => got.push(f))
    client.send(FrameType.CHAT, Buffer.from('noise'))
    await eventually(() => got.length === 30, 3000, '30 frames')
    assert.ok(got.every((f) => !f.batched))
    assert.is(client.stats.batchesIn, 0)
    assert.is(ts.metrics.batches, 0)
  } finally {
    await ts.stop()
  }
})

test.run()
