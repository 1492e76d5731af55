/**
 * Shared frames (a zone tick's bytes, encoded once for many sessions) in a session's Outbound, over
 * a real loopback socket: queued by reference in order with the session's own frames, written in
 * one write, never packed into the session's BATCHes, never given to the pool, counted against the
 * outbound cap.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeFrame } from '../../../app/protocol/header.js'
import { FrameType } from '../../../app/protocol/types.js'
import { eventually } from '../../harness/eventually.js'
import { nextTurn, outboundRig } from './support.js'

const test = suite('net/outbound: shared frames')

function sharedPiece(seqs: readonly number[], payloadBytes = 8): Buffer {
  return Buffer.concat(seqs.map((seq) => encodeFrame(FrameType.ZONE_UPDATE, seq, 0, Buffer.alloc(payloadBytes, seq & 0xff))))
}

test('own frames and shared pieces leave in queue order, in one write, and the shared bytes are untouched', async () => {
  const rig = await outboundRig()
  try {
    const shared = sharedPiece([101, 102])
    const copy = Buffer.from(shared)
    rig.outbound.enqueue(FrameType.PONG, 1, 7, Buffer.alloc(4), 0, 4)
    assert.ok(rig.outbound.enqueueShared(shared, 2))
    rig.outbound.enqueue(FrameType.PONG, 2, 7, Buffer.alloc(4), 0, 4)
    assert.ok(rig.outbound.enqueueShared(sharedPiece([103]), 1))
    assert.is(rig.outbound.queuedBytes, 16 + shared.length + 16 + 20)
    await nextTurn()
    // A write takes at most one chunk of the session's own frames and the shared pieces around it:
    // [own 1, shared 101–102] at the end of the turn, then [own 2, shared 103] when it completed.
    await eventually(() => rig.writes.length === 2, 2000, 'two writes')
    assert.equal(rig.writes, [['idle', 3, 16 + shared.length], ['drain', 2, 16 + 20]])
    await eventually(() => rig.received.frames.length === 5, 2000, 'five frames at the peer')
    assert.equal(rig.received.frames.map((f) => f.seq), [1, 101, 102, 2, 103])
    assert.equal(shared, copy, 'the shared Buffer was not modified')
    assert.is(rig.pool.stats().dropped, 0, 'a shared piece is never given to the pool')
  } finally {
    rig.close()
  }
})

test('a shared piece is never packed into the session\'s own BATCH', async () => {
  const rig = await outboundRig({ batchThresholdBytes: 64 })
  try {
    const shared = sharedPiece([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 40) // 520 bytes of zeros-ish: would compress well
    rig.outbound.enqueueShared(shared, 10)
    await eventually(() => rig.received.frames.length === 10, 2000, 'ten frames at the peer')
    assert.is(rig.received.batches, 0)
    assert.is(rig.received.bytes, shared.length, 'the bytes as they were queued')
  } finally {
    rig.close()
  }
})

test('shared bytes count against MAX_OUTBOUND_BYTES: the piece that would exceed the cap cuts the client off', async () => {
  const rig = await outboundRig({ maxOutboundBytes: 1024 })
  try {
    assert.ok(rig.outbound.enqueueShared(Buffer.alloc(1010, 0), 1))
    assert.is(rig.owner.slowClientCalls, 0)
    assert.not.ok(rig.outbound.enqueueShared(sharedPiece([1]), 1), 'refused')
    assert.is(rig.owner.slowClientCalls, 1)
  } finally {
    rig.close()
  }
})

test.run()
