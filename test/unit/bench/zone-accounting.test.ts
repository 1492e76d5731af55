/**
 * The zone-replication bench's own logic (bench/zone/): positions that carry the move number,
 * "seen / exact / coalesced" accounting with a view radius, and the minimal WebSocket client of
 * the Colyseus counters against the `ws` server Colyseus itself uses.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocketServer } from 'ws'
import { MoveLog, ObserverTracker, Window } from '../../../bench/zone/accounting.js'
import { eventually } from '../../harness/eventually.js'
import { Samples } from '../../../bench/stats.js'
import { WsCounter } from '../../../bench/zone/ws-counter.js'
import { encodePosition, MAX_COORDINATE, MAX_ZONE_SIDE, MOVE_RING, moveSlotOf, zoneSideFor } from '../../../bench/zone/workload.js'
import { decodeZoneUpdate, encodeZoneUpdate, positionBitsFor } from '../../../app/protocol/zone-update.js'

const positions = suite('bench/zone: positions carry the move number')

positions('every move slot survives float32 at the largest coordinate, and foreign positions are refused', () => {
  for (const walk of [0, 1, 517, MAX_COORDINATE]) {
    for (let n = 0; n < MOVE_RING; n += 7) {
      const { x, y } = encodePosition(walk, walk, n)
      assert.is(moveSlotOf(Math.fround(x), Math.fround(y)), n % MOVE_RING, `walk ${walk}, move ${n}`)
    }
  }
  assert.is(moveSlotOf(500.3, 500.3), -1, 'a spawn position is not a move')
})

positions('zones stay small enough for ZONE_UPDATE to carry every move slot exactly (position_bits ≥ 5), and a larger one is refused', () => {
  assert.is(zoneSideFor('packed', 1600), 1000)
  assert.is(zoneSideFor('spread', 5000), 1415)
  assert.is(zoneSideFor('spread', 10_485), MAX_ZONE_SIDE)
  assert.throws(() => zoneSideFor('spread', 10_486), RangeError)
  for (const side of [1000, 1415, MAX_ZONE_SIDE]) {
    const geometry = { zoneSize: side, positionBits: positionBitsFor(side) }
    assert.ok(geometry.positionBits >= 5, `zone ${side}: ${geometry.positionBits} bits`)
    for (let n = 0; n < MOVE_RING; n += 13) {
      const { x, y } = encodePosition(side - 2, side - 2, n)
      const [entry] = decodeZoneUpdate(encodeZoneUpdate({ zone: 0, entries: [{ playerId: 1, x, y }] }, geometry), geometry).entries
      assert.is(moveSlotOf(entry!.x, entry!.y), n % MOVE_RING, `zone ${side}, move ${n}`)
    }
  }
})

const tracking = suite('bench/zone: observer accounting')

function rig(players: number) {
  const log = new MoveLog(players)
  const window = new Window()
  const latencies = new Samples(16)
  const tracker = new ObserverTracker(0, log, window, latencies)
  /** Player p sends a move at time t, expected by the observer unless told otherwise. */
  const send = (p: number, t: number, expected = true): number => {
    const n = log.record(p, t)
    tracker.expect(p, n, expected, window.contains(t))
    return n
  }
  const see = (p: number, n: number, at: number): void => {
    const { x, y } = encodePosition(10, 20, n)
    tracker.position(p, moveSlotOf(x, y), at)
  }
  return { log, window, latencies, tracker, send, see }
}

tracking('a coalesced move counts as seen when the newer position arrives, with its own (longer) latency', () => {
  const r = rig(2)
  r.window.start = 0
  const a = r.send(1, 10)
  const b = r.send(1, 30)
  r.see(1, b, 50) // the server sent only the latest state
  assert.equal({ ...r.tracker.totals }, { expected: 2, seen: 2, exact: 1, updates: 1, stale: 0, outsideView: 0, leaves: 0 })
  assert.equal([...r.latencies.sorted()], [20, 40])
  assert.is(r.tracker.pending, 0)
  r.see(1, a, 60)
  assert.is(r.tracker.totals.stale, 1, 'an older position after a newer one carries nothing new')
})

tracking('moves outside the window, the observer\'s own and those outside the view radius are not expected', () => {
  const r = rig(3)
  const early = r.send(1, 5) // before the window
  r.window.start = 10
  const own = r.send(0, 11)
  const far = r.send(2, 12, false)
  const near = r.send(1, 13)
  r.window.end = 20
  const late = r.send(1, 25)
  r.see(1, early, 14)
  r.see(0, own, 15)
  r.see(2, far, 16)
  assert.is(r.tracker.pending, 1, 'only the near move is still owed')
  r.see(1, late, 30) // a move sent after the window: not an update of the window, but it covers the near one
  assert.equal({ ...r.tracker.totals }, { expected: 1, seen: 1, exact: 0, updates: 1, stale: 0, outsideView: 1, leaves: 0 })
  assert.equal([...r.latencies.sorted()], [30 - 13])
  assert.ok(near > early)
})

tracking('a position maps to the newest move with its slot (the ring wraps)', () => {
  const r = rig(2)
  r.window.start = 0
  let last = 0
  for (let i = 0; i < MOVE_RING + 5; i++) last = r.send(1, i)
  assert.is(r.log.newestWithSlot(1, last % MOVE_RING), last)
  assert.is(r.log.newestWithSlot(1, (last - 1) % MOVE_RING), last - 1)
  assert.is(r.log.newestWithSlot(1, (last + 1) % MOVE_RING), last + 1 - MOVE_RING)
})

const ws = suite('bench/zone: the counters\' WebSocket client')

ws('counts whole messages of every length class, answers pings, and its messages arrive intact', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const received: Buffer[] = []
  let pongs = 0
  server.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => received.push(data))
    socket.on('pong', () => pongs++)
    socket.send(Buffer.of(10, 1, 2)) // a small first message, like Colyseus's JOIN_ROOM
    socket.ping()
    socket.send(Buffer.alloc(300, 7)) // 16-bit length
    socket.send(Buffer.alloc(70_000, 8)) // 64-bit length, spans many reads
    socket.send(Buffer.alloc(0))
  })
  const firstBytes: number[] = []
  const counter = new WsCounter('127.0.0.1', port, '/room?sessionId=x', { onMessageStart: (b) => firstBytes.push(b), onClose: () => undefined })
  try {
    await counter.open()
    await eventually(() => counter.messagesIn >= 4 && pongs >= 1, 5000, 'four messages and a pong', 10)
    assert.is(counter.messagesIn, 4)
    assert.equal(firstBytes, [10, 7, 8])
    assert.is(counter.bytesIn, 2 + 3 + 2 + 0 + 4 + 300 + 10 + 70_000 + 2 + 0, 'payloads and frame headers (the ping\'s 2 bytes included)')
    assert.is(pongs, 1)
    counter.send(Buffer.from('move'))
    counter.send(Buffer.alloc(200, 3))
    await eventually(() => received.length >= 2, 5000, 'two messages at the server', 10)
    assert.equal(received.map((b) => b.toString('hex')), [Buffer.from('move').toString('hex'), Buffer.alloc(200, 3).toString('hex')])
  } finally {
    counter.destroy()
    await counter.closed
    server.close()
  }
})

positions.run()
tracking.run()
ws.run()
