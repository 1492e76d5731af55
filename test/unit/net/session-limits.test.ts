/**
 * Session limits through a real GameServer on 127.0.0.1: the per-session outbound cap (slow client
 * disconnected with reason 'slow-client' and counted), the idle timeout, and the frame/byte rate
 * limits (token buckets).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { FrameDispatcher, InboundFrame, Connection, CloseReason } from '../../../app/net/connection.js'
import { decodeErrorPayload } from '../../../app/protocol/error-frame.js'
import { encodeFrame } from '../../../app/protocol/header.js'
import { FrameType, WireError } from '../../../app/protocol/types.js'
import { startServer, type TestServer } from '../../harness/net-server.js'
import { eventually } from '../../harness/eventually.js'

/**
 * On CHAT: queue `frames` frames of `bytes` payload for the sender in one go (a one-byte CHAT payload
 * overrides the count); records send results.
 */
class FloodDispatcher implements FrameDispatcher {
  readonly disconnects: { connection: Connection; reason: CloseReason }[] = []
  accepted = 0
  refused = 0
  constructor(private readonly frames: number, private readonly bytes: number) {}
  dispatch(frame: InboundFrame): void {
    const payload = Buffer.alloc(this.bytes, 0x42)
    const frames = frame.payload.length === 1 ? frame.payload[0]! : this.frames
    for (let i = 0; i < frames; i++) {
      if (frame.connection.send(FrameType.CHAT_MESSAGE, i, 0, payload)) this.accepted++
      else this.refused++
    }
  }
  disconnected(connection: Connection, reason: CloseReason): void {
    this.disconnects.push({ connection, reason })
  }
}

const cap = suite('net/session: outbound cap')

cap('past MAX_OUTBOUND_BYTES the client is disconnected with reason slow-client and counted once', async () => {
  const dispatcher = new FloodDispatcher(200, 8000) // 1.6 MB for a 64 KiB cap
  const ts = await startServer({ MAX_OUTBOUND_BYTES: String(64 * 1024), BATCH_THRESHOLD_BYTES: '1000000' }, {}, dispatcher as never)
  try {
    const client = await ts.connect()
    client.pause() // never reads
    client.send(FrameType.CHAT, Buffer.from('flood me'))
    await eventually(() => dispatcher.disconnects.length === 1, 3000, 'disconnected() call')
    // A paused socket notices the server's close only once it reads again.
    client.resume()
    await client.closed
    assert.is(dispatcher.disconnects[0]!.reason, 'slow-client')
    assert.ok(dispatcher.disconnects[0]!.connection.closed, 'the handle reports closed')
    assert.is(ts.metrics.slowClients, 1, 'slowClientDisconnected counted once')
    assert.is(ts.metrics.closes.get('slow-client'), 1)
    assert.is(ts.server.stats().closedByReason['slow-client'], 1)
    assert.ok(dispatcher.refused > 0, 'send() returned false once the cap was hit')
    assert.ok(dispatcher.accepted * 8012 <= 64 * 1024 + 8012 * 4, `accepted ${dispatcher.accepted} frames: no more than the cap (plus the write in flight)`)
    assert.is(ts.server.activeSessions, 0)
  } finally {
    await ts.stop()
  }
})

cap('the same volume under the cap is delivered completely to a reading client', async () => {
  const dispatcher = new FloodDispatcher(6, 8000) // 48 KB < 64 KiB
  const ts = await startServer({ MAX_OUTBOUND_BYTES: String(64 * 1024), BATCH_THRESHOLD_BYTES: '1000000' }, {}, dispatcher as never)
  try {
    const client = await ts.connect()
    let got = 0
    client.onFrame((f) => {
      if (f.type === FrameType.CHAT_MESSAGE) got++
    })
    client.send(FrameType.CHAT, Buffer.from('six please'))
    await eventually(() => got === 6, 3000, 'six frames')
    assert.is(ts.metrics.slowClients, 0)
    assert.is(client.status, 'open')
  } finally {
    await ts.stop()
  }
})

cap('a pooled session reused after a slow-client cut (write still in flight) serves its next client cleanly', async () => {
  const dispatcher = new FloodDispatcher(40, 8000) // 320 KB: over the 64 KiB cap for a reader that stopped
  const ts = await startServer({ MAX_OUTBOUND_BYTES: String(64 * 1024), BATCH_THRESHOLD_BYTES: '1000000' }, {}, dispatcher as never)
  try {
    const slow = await ts.connect()
    slow.pause()
    slow.send(FrameType.CHAT, Buffer.from('flood me'))
    await eventually(() => dispatcher.disconnects.length === 1, 3000, 'slow client cut')
    assert.is(dispatcher.disconnects[0]!.reason, 'slow-client')
    slow.destroy()

    for (let round = 0; round < 3; round++) {
      const next = await ts.connect()
      let chats = 0
      let pongs = 0
      next.onFrame((f) => {
        if (f.type === FrameType.CHAT_MESSAGE) chats++
        if (f.type === FrameType.PONG) pongs++
      })
      for (let i = 0; i < 200; i++) next.send(FrameType.PING, Buffer.from([i]))
      next.send(FrameType.CHAT, Buffer.from([6])) // 6 × 8 KB: under the cap
      await eventually(() => pongs === 200 && chats === 6, 5000, `round ${round}: 200 PONGs and 6 CHAT_MESSAGEs`)
      assert.is(next.status, 'open')
      await next.close()
      await eventually(() => ts.server.activeSessions === 0, 2000, 'closed')
    }
    assert.ok(ts.server.stats().sessionPool.reused >= 3, 'the pooled session objects were reused')
    assert.is(ts.metrics.slowClients, 1)
  } finally {
    await ts.stop()
  }
})

cap.run()

const idle = suite('net/session: idle timeout')

idle('a silent session gets ERROR IDLE_TIMEOUT and is closed; a pinging one stays', async () => {
  let ts: TestServer | null = null
  try {
    ts = await startServer({ IDLE_TIMEOUT_MS: '1000' })
    const silent = await ts.connect()
    const busy = await ts.connect()
    const errorFrame = silent.waitFor(FrameType.ERROR, 3000)
    const started = performance.now()
    // generous margins: a loaded machine can stall the event loop for a few hundred ms
    const keepAlive = setInterval(() => {
      if (busy.status === 'open') busy.send(FrameType.PING)
    }, 100)
    try {
      const frame = await errorFrame
      assert.is(decodeErrorPayload(frame.payload).code, WireError.IDLE_TIMEOUT)
      await silent.closed
      const afterMs = performance.now() - started
      assert.ok(afterMs >= 990, `closed after ${afterMs.toFixed(0)} ms, not before the timeout`)
      await new Promise((r) => setTimeout(r, 1200))
      assert.is(busy.status, 'open', 'the pinging client outlived the timeout')
    } finally {
      clearInterval(keepAlive)
    }
    assert.equal(ts.dispatcher.disconnects.map((d) => d.reason), ['idle-timeout'])
    assert.is(ts.server.stats().closedByReason['idle-timeout'], 1)
  } finally {
    await ts?.stop()
  }
})

idle.run()

const rate = suite('net/session: rate limits')

rate('frames over MAX_FRAMES_PER_SECOND get RATE_LIMITED; the session closes after MAX_VIOLATIONS', async () => {
  const ts = await startServer({ MAX_FRAMES_PER_SECOND: '5', MAX_VIOLATIONS: '3' })
  try {
    const client = await ts.connect()
    const got: { type: number; code?: number }[] = []
    client.onFrame((f) => got.push({ type: f.type, ...(f.type === FrameType.ERROR ? { code: decodeErrorPayload(f.payload).code } : {}) }))
    client.sendRaw(Buffer.concat(Array.from({ length: 10 }, (_, i) => encodeFrame(FrameType.PING, i + 1, 0))))
    await client.closed
    assert.is(got.filter((f) => f.type === FrameType.PONG).length, 5, 'the burst of 5 answered')
    assert.equal(got.filter((f) => f.type === FrameType.ERROR).map((f) => f.code), [WireError.RATE_LIMITED, WireError.RATE_LIMITED, WireError.RATE_LIMITED])
    assert.is(ts.metrics.violations.get('rate-frames'), 3)
    await eventually(() => ts.dispatcher.disconnects.length === 1, 2000, 'disconnect')
    assert.is(ts.dispatcher.disconnects[0]!.reason, 'rate-limited')
  } finally {
    await ts.stop()
  }
})

rate('bytes over MAX_BYTES_PER_SECOND pause reading until the bucket refills (counted, not closed)', async () => {
  const ts = await startServer({ MAX_BYTES_PER_SECOND: '1024' })
  try {
    const client = await ts.connect()
    // 3 × 512 B = 1536 B: 512 B of debt at 1.024 B/ms → reading pauses for ~500 ms.
    const burst = Array.from({ length: 3 }, (_, i) => encodeFrame(FrameType.PING, i + 1, 0, Buffer.alloc(500)))
    const pongs = Promise.all([1, 2, 3].map((seq) => client.waitFor((f) => f.type === FrameType.PONG && f.seq === seq)))
    client.sendRaw(Buffer.concat(burst))
    await pongs
    await eventually(() => ts.metrics.violations.get('rate-bytes') === 1, 1000, 'rate-bytes violation')
    const sentAt = performance.now()
    const late = await client.request(FrameType.PING, Buffer.alloc(10), { timeoutMs: 3000 })
    const waitedMs = late.receivedAt - sentAt
    assert.is(late.type, FrameType.PONG)
    assert.ok(waitedMs >= 300, `the next PING waited ${waitedMs.toFixed(0)} ms for the bucket`)
    assert.is(client.status, 'open')
    assert.is(ts.dispatcher.disconnects.length, 0)
  } finally {
    await ts.stop()
  }
})

rate.run()
