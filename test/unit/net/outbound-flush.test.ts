/**
 * The flush triggers of a session's Outbound, over a real loopback socket: ≥ FLUSH_MAX_FRAMES frames,
 * ≥ 80 % of the 32 KiB send buffer, the 10 ms timer, and latency-aware idle flushing (a frame for an
 * idle session leaves in the same event-loop turn).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FrameType } from '../../../app/protocol/types.js'
import { nextTurn, outboundRig } from './support.js'
import { eventually } from '../../harness/eventually.js'

const test = suite('net/outbound: flush triggers')
const payload = (n: number, fill = 0x61): Buffer => Buffer.alloc(n, fill)
// Seed policy without latency-aware flushing, a timer far away so only the trigger under test fires.
const seedPolicy = { latencyAwareFlush: false, flushIntervalMs: 60_000, batchThresholdBytes: 1 << 30 }

test('count: the FLUSH_MAX_FRAMES-th frame flushes at once, not one frame earlier', async () => {
  const rig = await outboundRig({ ...seedPolicy, flushMaxFrames: 10 })
  try {
    for (let i = 1; i <= 9; i++) rig.outbound.enqueue(FrameType.PONG, i, 0, payload(8), 0, 8)
    await nextTurn()
    assert.equal(rig.writes, [], 'nine frames stay queued')
    assert.is(rig.outbound.queuedFrames, 9)
    rig.outbound.enqueue(FrameType.PONG, 10, 0, payload(8), 0, 8)
    assert.equal(rig.writes, [['count', 10, 200]], 'the tenth frame triggers one write of all ten, synchronously')
    await eventually(() => rig.received.frames.length === 10, 2000, 'ten frames at the peer')
    assert.equal(rig.received.frames.map((f) => f.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  } finally {
    rig.close()
  }
})

test('fill: reaching 80 % of the 32 KiB send buffer flushes, 1 KiB below does not', async () => {
  const rig = await outboundRig({ ...seedPolicy, flushMaxFrames: 1000, sendBufferBytes: 32768, flushFillRatio: 0.8 })
  try {
    const fillBytes = Math.floor(32768 * 0.8) // 26214
    const frameBytes = 1000
    const below = Math.floor(fillBytes / frameBytes) // 26 frames = 26000 B
    for (let i = 1; i <= below; i++) rig.outbound.enqueue(FrameType.PONG, i, 0, payload(frameBytes - 12), 0, frameBytes - 12)
    await nextTurn()
    assert.equal(rig.writes, [], `${below * frameBytes} B < ${fillBytes} B stays queued`)
    rig.outbound.enqueue(FrameType.PONG, below + 1, 0, payload(frameBytes - 12), 0, frameBytes - 12)
    assert.equal(rig.writes, [['fill', below + 1, (below + 1) * frameBytes]])
    await eventually(() => rig.received.frames.length === below + 1, 2000, 'all frames at the peer')
  } finally {
    rig.close()
  }
})

test('timer: a lone frame of a non-latency-aware session leaves after FLUSH_INTERVAL_MS, not before', async () => {
  const rig = await outboundRig({ ...seedPolicy, flushIntervalMs: 10, flushMaxFrames: 10 })
  try {
    const queuedAt = performance.now()
    rig.outbound.enqueue(FrameType.PONG, 1, 0, payload(4), 0, 4)
    await nextTurn()
    assert.equal(rig.writes, [], 'not written in the same turn')
    await eventually(() => rig.received.frames.length === 1, 2000, 'the frame at the peer')
    const waitedMs = rig.received.frames[0]!.at - queuedAt
    assert.equal(rig.writes.map((w) => w[0]), ['timer'])
    // Node timers never fire early; 1 ms slack for the clock reads around them.
    assert.ok(waitedMs >= 9, `left after ${waitedMs.toFixed(2)} ms, expected ≥ 10 ms`)
  } finally {
    rig.close()
  }
})

test('timer: a second frame does not re-arm the timer (the first frame sets the deadline)', async () => {
  const rig = await outboundRig({ ...seedPolicy, flushIntervalMs: 200, flushMaxFrames: 10 })
  try {
    const queuedAt = performance.now()
    rig.outbound.enqueue(FrameType.PONG, 1, 0, payload(4), 0, 4)
    await new Promise((r) => setTimeout(r, 150)) // time passing is what is under test
    rig.outbound.enqueue(FrameType.PONG, 2, 0, payload(4), 0, 4)
    await eventually(() => rig.received.frames.length === 2, 3000, 'both frames at the peer')
    assert.equal(rig.writes, [['timer', 2, 32]], 'one timer write carries both')
    // Re-armed, the write could not happen before 150 + 200 ms; wide margin for a loaded machine.
    const waitedMs = rig.received.frames[1]!.at - queuedAt
    assert.ok(waitedMs < 340, `both left ${waitedMs.toFixed(1)} ms after the first was queued (timer not re-armed)`)
  } finally {
    rig.close()
  }
})

test('idle (latency-aware): a frame for an idle session is written before the next loop turn', async () => {
  const rig = await outboundRig({ latencyAwareFlush: true, flushIntervalMs: 60_000, flushMaxFrames: 10 })
  try {
    rig.outbound.enqueue(FrameType.PONG, 1, 0, payload(4), 0, 4)
    rig.outbound.enqueue(FrameType.PONG, 2, 0, payload(4), 0, 4)
    rig.outbound.enqueue(FrameType.PONG, 3, 0, payload(4), 0, 4)
    assert.equal(rig.writes, [], 'not written synchronously: frames of the same turn coalesce')
    await nextTurn()
    assert.equal(rig.writes, [['idle', 3, 48]], 'one write with all three, in the same turn')
    assert.ok(rig.pair.local.bytesWritten >= 48, 'handed to the socket')
    await eventually(() => rig.received.frames.length === 3, 2000, 'three frames at the peer')
    assert.equal(rig.received.frames.map((f) => f.seq), [1, 2, 3])
  } finally {
    rig.close()
  }
})

test('idle (immediate mode): also leaves within the same loop iteration', async () => {
  const rig = await outboundRig({ latencyAwareFlush: true, idleFlushMode: 'immediate', flushIntervalMs: 60_000 })
  try {
    // Queue from inside an I/O-phase callback, as a socket read would.
    await new Promise<void>((resolve) => {
      rig.pair.local.once('data', () => {
        rig.outbound.enqueue(FrameType.PONG, 7, 0, payload(4), 0, 4)
        setImmediate(() => {
          assert.equal(rig.writes.map((w) => w[0]), ['idle'], 'written by the check phase of this iteration')
          resolve()
        })
      })
      rig.pair.peer.write('x')
    })
    await eventually(() => rig.received.frames.length === 1, 2000, 'the frame at the peer')
  } finally {
    rig.close()
  }
})

test('idle: frames queued while a write is in flight follow it as soon as it completes (reason drain)', async () => {
  const rig = await outboundRig({ latencyAwareFlush: true, flushIntervalMs: 60_000, flushMaxFrames: 1000 })
  try {
    rig.outbound.enqueue(FrameType.PONG, 1, 0, payload(4), 0, 4)
    await nextTurn()
    assert.equal(rig.writes.length, 1)
    // The first write may still be in flight: the next frame must not arm the 60 s timer either way.
    rig.outbound.enqueue(FrameType.PONG, 2, 0, payload(4), 0, 4)
    await eventually(() => rig.received.frames.length === 2, 5000, 'the second frame without waiting for the 60 s timer')
    assert.ok(['idle', 'drain'].includes(rig.writes[1]![0]), `second write reason ${rig.writes[1]![0]}`)
  } finally {
    rig.close()
  }
})

test('regression: with latency-aware flushing the count trigger split one turn\'s frames into two writes', async () => {
  const rig = await outboundRig({ latencyAwareFlush: true, flushIntervalMs: 60_000, flushMaxFrames: 10 })
  try {
    for (let i = 1; i <= 16; i++) rig.outbound.enqueue(FrameType.PONG, i, 0, payload(16), 0, 16)
    assert.equal(rig.writes, [], 'the tenth frame does not flush early: the session is due at the end of the turn')
    await nextTurn()
    assert.equal(rig.writes, [['idle', 16, 16 * 28]], 'all sixteen in one write')
    await eventually(() => rig.received.frames.length === 16, 2000, 'sixteen frames at the peer')
  } finally {
    rig.close()
  }
})

test('latency-aware: the fill trigger still bounds one turn (no unbounded growth before the end-of-turn flush)', async () => {
  const rig = await outboundRig({ latencyAwareFlush: true, flushIntervalMs: 60_000, flushMaxFrames: 10, sendBufferBytes: 32768, flushFillRatio: 0.8, batchThresholdBytes: 1 << 30 })
  try {
    for (let i = 1; i <= 27; i++) rig.outbound.enqueue(FrameType.PONG, i, 0, payload(988), 0, 988)
    assert.equal(rig.writes.map((w) => w[0]), ['fill'], '27 KB ≥ 80 % of 32 KiB leaves at once')
  } finally {
    rig.close()
  }
})

test('a chunk written synchronously is back in the pool before the write callback; the next flush reuses it', async () => {
  const rig = await outboundRig({ ...seedPolicy, flushMaxFrames: 2 })
  try {
    const created = rig.pool.stats().created
    rig.outbound.enqueue(FrameType.PONG, 1, 0, payload(8), 0, 8)
    rig.outbound.enqueue(FrameType.PONG, 2, 0, payload(8), 0, 8)
    assert.equal(rig.writes, [['count', 2, 40]])
    // 40 B to an idle loopback socket: the kernel takes it synchronously (writableLength 0)
    assert.is(rig.pair.local.writableLength, 0)
    assert.is(rig.pool.stats().free, 1, 'the chunk is free again in the same turn')
    await nextTurn()
    assert.is(rig.pool.stats().free, 1, 'the write callback does not give it back a second time')
    rig.outbound.enqueue(FrameType.PONG, 3, 0, payload(8), 0, 8)
    rig.outbound.enqueue(FrameType.PONG, 4, 0, payload(8), 0, 8)
    assert.is(rig.pool.stats().created - created, 1, 'one chunk served both writes')
    await eventually(() => rig.received.frames.length === 4, 2000, 'four frames at the peer')
    assert.equal(rig.received.frames.map((f) => f.seq), [1, 2, 3, 4])
  } finally {
    rig.close()
  }
})

test.run()
