/**
 * A slow reader (a client that stops reading) is cut off as a slow client while the other clients
 * keep receiving every broadcast and answering PINGs at normal latency.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ClientConnection } from '../../app/client/connection.js'
import { FrameType } from '../../app/protocol/types.js'
import { BroadcastDispatcher, startServer } from '../harness/net-server.js'
import { eventually } from '../harness/eventually.js'

const test = suite('net: slow reader')

test('the client that stops reading is cut off; the others get every broadcast at normal PING latency', async () => {
  const dispatcher = new BroadcastDispatcher(4)
  // No BATCH (the payload would compress to nothing) and a 512 KiB cap.
  const ts = await startServer({ MAX_OUTBOUND_BYTES: String(512 * 1024), BATCH_THRESHOLD_BYTES: '100000000', MAX_BYTES_PER_SECOND: String(64 << 20) }, {}, dispatcher as never)
  dispatcher.server = ts.server
  const readers: ClientConnection[] = []
  try {
    const slow = await ts.connect()
    slow.pause()
    for (let i = 0; i < 4; i++) readers.push(await ts.connect())
    const received = readers.map(() => 0)
    readers.forEach((r, i) => r.onFrame((f) => {
      if (f.type === FrameType.CHAT_MESSAGE) received[i]!++
    }))
    const broadcaster = readers[0]!
    const payload = Buffer.alloc(12_000, 0x37)

    // Broadcast 4 × 12 KB to 5 clients per CHAT, one CHAT per turn, until the slow reader is cut off,
    // while every other reader keeps pinging.
    const rtts: number[] = []
    let sent = 0
    let pinging = true
    const pingers = readers.map(async (r) => {
      while (pinging) rtts.push(await r.ping(undefined, 5000))
    })
    const deadline = performance.now() + 20_000
    while (dispatcher.disconnects.length === 0) {
      if (performance.now() > deadline) throw new Error(`slow reader not cut off after ${sent} broadcasts`)
      broadcaster.send(FrameType.CHAT, payload)
      sent++
      await new Promise((r) => setImmediate(r))
      // Keep the healthy readers from being flooded beyond what they can read on a loaded machine.
      if (sent % 8 === 0) await eventually(() => received.every((n) => n >= (sent - 8) * 4), 5000, 'readers keep up')
    }
    const cutAfter = sent
    assert.equal(dispatcher.disconnects.map((d) => d.reason), ['slow-client'])
    assert.is(ts.metrics.slowClients, 1)

    // Service goes on for the others after the cut.
    for (let i = 0; i < 20; i++) {
      broadcaster.send(FrameType.CHAT, payload)
      sent++
    }
    await eventually(() => received.every((n) => n === sent * 4), 10_000, 'every reader got every broadcast')
    pinging = false
    await Promise.all(pingers)
    assert.ok(readers.every((r) => r.status === 'open'), 'no reader was cut off')
    assert.is(ts.server.activeSessions, 4)
    rtts.sort((a, b) => a - b)
    const p50 = rtts[Math.floor(rtts.length * 0.5)]!
    // Each PING shares the socket with up to 48 KB of broadcast per turn. A server held up by the
    // slow reader would stall the others for seconds; the bound is generous for a loaded 2-core machine.
    assert.ok(rtts.length >= 20, `${rtts.length} PINGs answered during the flood`)
    assert.ok(p50 < 100, `median PING RTT of the healthy readers ${p50.toFixed(2)} ms (cut after ${cutAfter} broadcasts)`)

    slow.resume()
    await slow.closed
  } finally {
    await ts.stop()
  }
})

test.run()
