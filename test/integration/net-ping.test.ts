/**
 * PING/PONG over real TCP on 127.0.0.1, and the server's decoder fed a multi-frame stream split at
 * every byte offset through a real socket (the second part is written only after the server has
 * read the first, so each split really arrives as two reads).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeFrame } from '../../app/protocol/header.js'
import { FrameType } from '../../app/protocol/types.js'
import { CountingMetrics, startServer, type TestServer } from '../harness/net-server.js'
import { eventually } from '../harness/eventually.js'

const test = suite('net: PING/PONG over TCP')
let ts: TestServer

test.before(async () => {
  ts = await startServer()
})
test.after(async () => {
  await ts.stop()
})

test('PONG carries the same seq, player_id and payload; before login the player_id must be 0', async () => {
  const client = await ts.connect()
  const payload = Buffer.from('rtt probe ✓')
  const pong = await client.request(FrameType.PING, payload, { playerId: 0 })
  assert.is(pong.type, FrameType.PONG)
  assert.is(pong.playerId, 0)
  assert.ok(pong.payload.equals(payload))
  const empty = await client.request(FrameType.PING)
  assert.is(empty.type, FrameType.PONG)
  assert.is(empty.payload.length, 0)
  assert.is(ts.dispatcher.frames.length, 0, 'PING never reaches the game dispatcher')
  await client.close()
})

test('pipelined PINGs are all answered, in order, with the seq of each', async () => {
  const client = await ts.connect()
  const seqs: number[] = []
  client.onFrame((f) => {
    if (f.type === FrameType.PONG) seqs.push(f.seq)
  })
  const last = client.waitFor((f) => f.type === FrameType.PONG && f.seq === (0xfffffff0 + 999) >>> 0)
  for (let i = 0; i < 1000; i++) client.send(FrameType.PING, Buffer.from([i & 0xff]), { seq: (0xfffffff0 + i) >>> 0 })
  await last
  assert.is(seqs.length, 1000)
  assert.ok(seqs.every((s, i) => s === (0xfffffff0 + i) >>> 0), 'in order, seq wraps as u32')
  await client.close()
})

test('latency-aware flushing: a PONG does not wait for the flush timer (here 2 s)', async () => {
  const slowTimer = await startServer({ FLUSH_INTERVAL_MS: '2000' })
  try {
    const client = await slowTimer.connect()
    const rtts: number[] = []
    for (let i = 0; i < 20; i++) rtts.push(await client.ping())
    rtts.sort((a, b) => a - b)
    // Were the PONG left to the timer, every RTT would be ≥ 2000 ms; wide margin for a loaded machine.
    assert.ok(rtts[19]! < 1000, `slowest of 20 RTTs ${rtts[19]!.toFixed(2)} ms (median ${rtts[10]!.toFixed(2)} ms)`)
    assert.is(slowTimer.metrics.flushes.get('timer') ?? 0, 0, 'no timer flush')
    assert.ok((slowTimer.metrics.flushes.get('idle') ?? 0) >= 20)
    await client.close()
  } finally {
    await slowTimer.stop()
  }
})

test.run()

const split = suite('net: decoder fed every split point through a real socket')

split('a three-frame stream split at each offset is decoded to the same three PONGs', async () => {
  const metrics = new CountingMetrics()
  const server = await startServer({}, {}, undefined, metrics)
  try {
    const frames = [
      encodeFrame(FrameType.PING, 1, 0, Buffer.from('a')),
      encodeFrame(FrameType.PING, 2, 0, Buffer.alloc(0)),
      encodeFrame(FrameType.PING, 3, 0, Buffer.from('split me anywhere')),
    ]
    const stream = Buffer.concat(frames)
    const client = await server.connect()
    for (let cut = 1; cut < stream.length; cut++) {
      const pongs: number[] = []
      const off = client.onFrame((f) => {
        if (f.type === FrameType.PONG) pongs.push(f.seq)
      })
      const done = client.waitFor((f) => f.type === FrameType.PONG && f.seq === 3)
      const before = metrics.bytesInTotal
      client.sendRaw(stream.subarray(0, cut))
      await eventually(() => metrics.bytesInTotal === before + cut, 2000, `server read the first ${cut} bytes`)
      client.sendRaw(stream.subarray(cut))
      await done
      off()
      assert.equal(pongs, [1, 2, 3], `split at ${cut}`)
    }
    assert.is(client.status, 'open')
    assert.is(metrics.violations.size, 0)
    await client.close()
  } finally {
    await server.stop()
  }
})

split.run()
