/**
 * The WebSocket transport (docs/PROTOCOL.md "WebSocket transport") on the net layer: the same
 * sessions as TCP behind a listener of its own — whole frames per message, several per message,
 * text and split frames refused with mapped close codes, origins, the message size bound, the
 * slow-client cut-off from the buffered amount, the frame rate limit and idle timeout, SHUTTING_DOWN
 * as a close code, static assets.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocket from 'ws'
import type { ClientConnection } from '../../app/client/connection.js'
import { MESSAGE_FRAMES } from '../../app/net/ws-listener.js'
import { WS_CLOSE_WIRE_ERROR_BASE } from '../../app/net/ws-transport.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeFrame } from '../../app/protocol/header.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { eventually } from '../harness/eventually.js'
import { BroadcastDispatcher, startServer, type TestServer } from '../harness/net-server.js'

const test = suite('net: WebSocket transport')
const WS_ENV = { WS_PORT: '0', WS_HOST: '127.0.0.1' }

let ts: TestServer
test.before(async () => {
  ts = await startServer(WS_ENV)
})
test.after(async () => {
  await ts.stop()
})

function url(server: TestServer = ts, path = '/ws'): string {
  return `ws://127.0.0.1:${server.webSocketAddress!.port}${path}`
}

interface RawClient {
  readonly ws: WebSocket
  readonly messages: Buffer[]
  readonly closed: Promise<{ code: number; reason: string }>
}

/** A `ws` client that records every message and the close frame (no Origin unless given). */
function raw(options: { origin?: string; target?: string } = {}): Promise<RawClient> {
  const ws = new WebSocket(options.target ?? url(), options.origin === undefined ? {} : { origin: options.origin })
  const messages: Buffer[] = []
  ws.on('message', (data) => messages.push(data as Buffer))
  ws.on('error', () => {})
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }))
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })))
    ws.once('error', reject)
  })
}

async function refusedStatus(options: { origin?: string; target?: string }): Promise<number> {
  try {
    const client = await raw(options)
    client.ws.close()
  } catch (err) {
    return (err as { status?: number }).status ?? -1
  }
  return 101
}

function frames(message: Buffer): { type: number; seq: number; payload: Buffer }[] {
  const out = []
  for (let at = 0; at < message.length;) {
    const size = message.readUInt16LE(at)
    out.push({ type: message.readUInt16LE(at + 2), seq: message.readUInt32LE(at + 4), payload: message.subarray(at + 12, at + size) })
    at += size
  }
  return out
}

test('PING over WebSocket: PONG with the same seq and payload; sessions count under the server', async () => {
  const client = await ts.connect({ transport: 'ws' })
  const rtt = await client.ping(Buffer.from('hello'))
  assert.ok(rtt >= 0)
  const echoed = await client.request(FrameType.CHAT, Buffer.from('echo'))
  assert.is(echoed.payload.toString(), 'echo')
  assert.ok(ts.server.activeSessions >= 1)
  await client.close()
})

test('a message may hold several whole frames; the replies come back as whole frames', async () => {
  const client = await raw()
  client.ws.send(Buffer.concat([encodeFrame(FrameType.PING, 1, 0, Buffer.from('a')), encodeFrame(FrameType.PING, 2, 0, Buffer.from('b')), encodeFrame(FrameType.PING, 3, 0)]))
  await eventually(() => client.messages.flatMap(frames).length === 3, 3000, 'three PONGs')
  assert.equal(client.messages.flatMap(frames).map((f) => [f.type, f.seq]), [[FrameType.PONG, 1], [FrameType.PONG, 2], [FrameType.PONG, 3]])
  client.ws.close()
})

test('a frame split across two messages: MALFORMED_FRAME, closed with 4000 + 1', async () => {
  const client = await raw()
  const frame = encodeFrame(FrameType.PING, 9, 0, Buffer.from('split'))
  client.ws.send(frame.subarray(0, 7))
  client.ws.send(frame.subarray(7))
  const closed = await client.closed
  assert.is(closed.code, WS_CLOSE_WIRE_ERROR_BASE + WireError.MALFORMED_FRAME)
  const error = client.messages.flatMap(frames).find((f) => f.type === FrameType.ERROR)!
  assert.is(decodeErrorPayload(error.payload).code, WireError.MALFORMED_FRAME)
  await eventually(() => (ts.metrics.violations.get('split-frame') ?? 0) >= 1, 2000, 'the split-frame violation')
})

test('a text message is refused: closed with 4000 + MALFORMED_FRAME', async () => {
  const client = await raw()
  client.ws.send('{"type":"ping"}')
  const closed = await client.closed
  assert.is(closed.code, WS_CLOSE_WIRE_ERROR_BASE + WireError.MALFORMED_FRAME)
  assert.match(closed.reason, /binary/)
})

test('a message over MESSAGE_FRAMES × MAX_FRAME_BYTES is refused by the listener (1009)', async () => {
  const client = await raw()
  client.ws.send(Buffer.alloc(MESSAGE_FRAMES * 16384 + 1))
  assert.is((await client.closed).code, 1009)
})

test('origins: none (native) and the listener\'s own are allowed; a foreign one is refused with 403 unless listed', async () => {
  const own = `http://127.0.0.1:${ts.webSocketAddress!.port}`
  assert.is(await refusedStatus({}), 101)
  assert.is(await refusedStatus({ origin: own }), 101)
  assert.is(await refusedStatus({ origin: 'https://evil.example' }), 403)
  assert.is(await refusedStatus({ origin: 'null' }), 403)
  assert.is(await refusedStatus({ target: url(ts, '/elsewhere') }), 404)
  const listed = await startServer({ ...WS_ENV, WS_ALLOWED_ORIGINS: 'https://game.example.com' })
  try {
    assert.is(await refusedStatus({ origin: 'https://game.example.com', target: url(listed) }), 101)
    assert.is(await refusedStatus({ origin: 'https://evil.example', target: url(listed) }), 403)
  } finally {
    await listed.stop()
  }
})

test('shutdown: ERROR SHUTTING_DOWN, then the close frame 4000 + 14', async () => {
  const own = await startServer(WS_ENV)
  const client = await raw({ target: url(own) })
  client.ws.send(encodeFrame(FrameType.PING, 1, 0))
  await eventually(() => client.messages.length > 0, 2000, 'the PONG')
  await own.stop()
  const closed = await client.closed
  assert.is(closed.code, WS_CLOSE_WIRE_ERROR_BASE + WireError.SHUTTING_DOWN)
  assert.ok(client.messages.flatMap(frames).some((f) => f.type === FrameType.ERROR && decodeErrorPayload(f.payload).code === WireError.SHUTTING_DOWN))
})

test('the session\'s limits apply as over TCP: frame rate (RATE_LIMITED, then closed 4000 + 6) and idle timeout (4000 + 20)', async () => {
  const own = await startServer({ ...WS_ENV, MAX_FRAMES_PER_SECOND: '5', MAX_VIOLATIONS: '2', IDLE_TIMEOUT_MS: '300' })
  try {
    const flooder = await raw({ target: url(own) })
    for (let seq = 1; seq <= 12; seq++) flooder.ws.send(encodeFrame(FrameType.PING, seq, 0))
    const flooded = await flooder.closed
    assert.is(flooded.code, WS_CLOSE_WIRE_ERROR_BASE + WireError.RATE_LIMITED)
    const received = flooder.messages.flatMap(frames)
    // the bucket's five, and a sixth if a token refilled (one per 200 ms) while a loaded machine read the twelve
    const pongs = received.filter((f) => f.type === FrameType.PONG).length
    assert.ok(pongs >= 5 && pongs <= 6, `${pongs} PONGs`)
    assert.ok(received.some((f) => f.type === FrameType.ERROR && decodeErrorPayload(f.payload).code === WireError.RATE_LIMITED))

    const idle = await raw({ target: url(own) })
    const started = performance.now()
    const closed = await idle.closed
    assert.is(closed.code, WS_CLOSE_WIRE_ERROR_BASE + WireError.IDLE_TIMEOUT)
    assert.ok(performance.now() - started >= 250, 'not before the idle timeout')
    assert.ok(idle.messages.flatMap(frames).some((f) => f.type === FrameType.ERROR && decodeErrorPayload(f.payload).code === WireError.IDLE_TIMEOUT))
  } finally {
    await own.stop()
  }
})

test('without WS_PORT there is no WebSocket listener', async () => {
  const plain = await startServer()
  try {
    assert.is(plain.webSocketAddress, null)
  } finally {
    await plain.stop()
  }
})

test('a WebSocket client that stops reading is cut off as slow; TCP and WebSocket readers keep every broadcast', async () => {
  const dispatcher = new BroadcastDispatcher(4)
  const server = await startServer({ ...WS_ENV, MAX_OUTBOUND_BYTES: String(512 * 1024), BATCH_THRESHOLD_BYTES: '100000000', MAX_BYTES_PER_SECOND: String(64 << 20) }, {}, dispatcher as never)
  dispatcher.server = server.server
  try {
    const slow = await raw({ target: url(server) })
    slow.ws.pause()
    const readers: ClientConnection[] = [await server.connect(), await server.connect({ transport: 'ws' }), await server.connect({ transport: 'ws' })]
    const received = readers.map(() => 0)
    readers.forEach((r, i) => r.onFrame((f) => {
      if (f.type === FrameType.CHAT_MESSAGE) received[i]!++
    }))
    const payload = Buffer.alloc(12_000, 0x37)
    let sent = 0
    const deadline = performance.now() + 20_000
    while (dispatcher.disconnects.length === 0) {
      if (performance.now() > deadline) throw new Error(`slow WebSocket reader not cut off after ${sent} broadcasts`)
      readers[0]!.send(FrameType.CHAT, payload)
      sent++
      await readers[0]!.ping(undefined, 5000)
    }
    assert.is(dispatcher.disconnects[0]!.reason, 'slow-client')
    assert.is(server.metrics.slowClients, 1)
    // one more broadcast after the cut-off reaches every reader
    readers[0]!.send(FrameType.CHAT, payload)
    sent++
    await eventually(() => received.every((n) => n === sent * 4), 5000, `every reader to get ${sent * 4} broadcasts (got ${received.join(', ')})`)
    for (const reader of readers) assert.ok((await reader.ping(undefined, 2000)) < 1000)
    slow.ws.terminate()
  } finally {
    await server.stop()
  }
})

test('GET serves the assets it was given; other paths 404, the upgrade path without Upgrade 426', async () => {
  const port = ts.webSocketAddress!.port
  assert.is((await fetch(`http://127.0.0.1:${port}/nothing`)).status, 404)
  assert.is((await fetch(`http://127.0.0.1:${port}/ws`)).status, 426)
})

test.run()
