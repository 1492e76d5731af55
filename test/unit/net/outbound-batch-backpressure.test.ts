/**
 * Outbound over a real loopback socket: the BATCH aggregation decision, backpressure (socket.write
 * returned false → frames wait in the session's own buffer until 'drain'), and the outbound cap.
 */
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameType } from '../../../app/protocol/types.js'
import { eventually, nextTurn, outboundRig } from './support.js'

const batch = suite('net/outbound: BATCH aggregation')
const text = (n: number): Buffer => Buffer.from('player 42 moved to 10,20 in zone 3; '.repeat(Math.ceil(n / 36)).slice(0, n))

batch('≥ threshold and compressible (ratio < 0.9) → one zlib BATCH holding every frame in order', async () => {
  const rig = await outboundRig({ batchThresholdBytes: 1024, batchMaxRatio: 0.9, flushMaxFrames: 100 })
  try {
    for (let i = 1; i <= 20; i++) rig.outbound.enqueue(FrameType.PLAYER_MOVED, i, 9, text(60), 0, 60) // 20 × 72 = 1440 B
    await eventually(() => rig.received.frames.length === 20, 2000, '20 frames')
    assert.is(rig.received.batches, 1)
    assert.is(rig.metrics.batches, 1, 'batchCompressed reported')
    assert.ok(rig.received.frames.every((f) => f.batched))
    assert.equal(rig.received.frames.map((f) => f.seq), Array.from({ length: 20 }, (_, i) => i + 1))
    assert.ok(rig.received.frames.every((f) => f.payload.equals(text(60)) && f.playerId === 9))
    assert.ok(rig.received.bytes < 1440 * 0.9, `${rig.received.bytes} B on the wire for 1440 B of frames`)
  } finally {
    rig.close()
  }
})

batch('just below the threshold → plain frames even though they compress well', async () => {
  const rig = await outboundRig({ batchThresholdBytes: 1024, batchMaxRatio: 0.9, flushMaxFrames: 100 })
  try {
    for (let i = 1; i <= 14; i++) rig.outbound.enqueue(FrameType.PLAYER_MOVED, i, 9, text(60), 0, 60) // 14 × 72 = 1008 B
    await eventually(() => rig.received.frames.length === 14, 2000, '14 frames')
    assert.is(rig.received.batches, 0)
    assert.is(rig.received.bytes, 1008, 'sent as they are')
  } finally {
    rig.close()
  }
})

batch('≥ threshold but incompressible (ratio ≥ 0.9) → plain frames', async () => {
  const rig = await outboundRig({ batchThresholdBytes: 1024, batchMaxRatio: 0.9, flushMaxFrames: 100 })
  try {
    // Distinct random payloads (a repeated one would compress through zlib's window).
    for (let i = 1; i <= 10; i++) rig.outbound.enqueue(FrameType.PLAYER_MOVED, i, 9, randomBytes(200), 0, 200) // 2120 B
    await eventually(() => rig.received.frames.length === 10, 2000, '10 frames')
    assert.is(rig.received.batches, 0)
    assert.is(rig.metrics.batches, 0)
    assert.is(rig.received.bytes, 2120)
  } finally {
    rig.close()
  }
})

batch('the ratio is the cut-off: the same frames batch at ratio 0.9 and go plain at ratio 0.05', async () => {
  for (const [ratio, batches] of [[0.9, 1], [0.05, 0]] as const) {
    const rig = await outboundRig({ batchThresholdBytes: 1024, batchMaxRatio: ratio, flushMaxFrames: 100 })
    try {
      for (let i = 1; i <= 20; i++) rig.outbound.enqueue(FrameType.PLAYER_MOVED, i, 9, text(60), 0, 60)
      await eventually(() => rig.received.frames.length === 20, 2000, '20 frames')
      assert.is(rig.received.batches, batches, `ratio ${ratio}`)
    } finally {
      rig.close()
    }
  }
})

batch.run()

const backpressure = suite('net/outbound: backpressure and the outbound cap')

/** Queue 1 KiB frames (yielding so writes happen) until the socket is backed up. */
async function fillUntilBackedUp(rig: Awaited<ReturnType<typeof outboundRig>>, firstSeq: number): Promise<number> {
  let seq = firstSeq
  const chunk = Buffer.alloc(1012, 0x5a)
  for (let round = 0; round < 2000; round++) {
    for (let i = 0; i < 64; i++) {
      if (!rig.outbound.enqueue(FrameType.PLAYER_MOVED, seq, 0, chunk, 0, chunk.length)) return seq
      seq++
    }
    await nextTurn()
    if (rig.pair.local.writableNeedDrain && rig.outbound.queuedFrames > 0) return seq
  }
  throw new Error('socket never backed up')
}

backpressure('write returns false → frames wait in the session buffer (no further writes) until drain, then all arrive in order', async () => {
  const rig = await outboundRig({ batchThresholdBytes: 1 << 30, maxOutboundBytes: 256 << 20, flushMaxFrames: 10 })
  try {
    rig.pair.peer.pause() // the client stops reading
    const sent = (await fillUntilBackedUp(rig, 1)) - 1
    const writesAtBackup = rig.writes.length
    const queued = rig.outbound.queuedFrames
    assert.ok(queued > 0, 'frames wait in the session buffer')
    // More frames while backed up: queued, not written (no write while 'drain' is pending).
    for (let i = 0; i < 50; i++) rig.outbound.enqueue(FrameType.PLAYER_MOVED, sent + 1 + i, 0, Buffer.alloc(100), 0, 100)
    await new Promise((r) => setTimeout(r, 30))
    assert.is(rig.writes.length, writesAtBackup, 'no write while the socket is backed up')
    assert.is(rig.outbound.queuedFrames, queued + 50)
    assert.ok(rig.pair.local.writableLength <= rig.outbound.queuedBytes, 'at most one write sits in the socket')

    rig.pair.peer.resume()
    const total = sent + 50
    await eventually(() => rig.received.frames.length === total, 10_000, `all ${total} frames`)
    assert.ok(rig.received.frames.every((f, i) => f.seq === i + 1), 'in order, none lost')
    assert.ok(rig.writes.some((w) => w[0] === 'drain'), 'the queued frames left on drain')
    assert.is(rig.outbound.queuedBytes, 0)
    assert.is(rig.owner.slowClientCalls, 0)
  } finally {
    rig.close()
  }
})

backpressure('past MAX_OUTBOUND_BYTES the owner is told once per refused frame and nothing beyond the cap is held', async () => {
  const cap = 256 * 1024
  const rig = await outboundRig({ batchThresholdBytes: 1 << 30, maxOutboundBytes: cap, flushMaxFrames: 10 })
  try {
    rig.pair.peer.pause()
    await fillUntilBackedUp(rig, 1)
    // Whatever the kernel absorbed, the session itself never holds more than the cap.
    let refused = 0
    for (let i = 0; i < 400 && refused === 0; i++) {
      if (!rig.outbound.enqueue(FrameType.PLAYER_MOVED, 1, 0, Buffer.alloc(1012), 0, 1012)) refused++
      assert.ok(rig.outbound.queuedBytes <= cap, `queued ${rig.outbound.queuedBytes} ≤ cap ${cap}`)
    }
    assert.is(refused, 1, 'a frame was refused at the cap')
    assert.is(rig.owner.slowClientCalls, 1, 'owner told to cut the slow client off')
    assert.ok(rig.outbound.queuedBytes > cap - 1024, 'the cap, not something smaller, refused it')
  } finally {
    rig.close()
  }
})

backpressure('graceful close waits for the backed-up buffer to drain before ending', async () => {
  const rig = await outboundRig({ batchThresholdBytes: 1 << 30, maxOutboundBytes: 256 << 20 })
  try {
    rig.pair.peer.pause()
    const sent = (await fillUntilBackedUp(rig, 1)) - 1
    rig.outbound.beginClose()
    await new Promise((r) => setTimeout(r, 20))
    assert.is(rig.owner.drainedCalls, 0, 'not drained while backed up')
    rig.pair.peer.resume()
    await eventually(() => rig.owner.drainedCalls === 1, 10_000, 'outboundDrained')
    await eventually(() => rig.received.frames.length === sent, 10_000, 'every frame delivered')
  } finally {
    rig.close()
  }
})

backpressure.run()
