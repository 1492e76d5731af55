/**
 * Protocol conformance: cases an outside client author, reading only docs/PROTOCOL.md, found
 * ambiguous or contradicted by the server. Each test names the section it pins down.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../app/config/index.js'
import { isGameServerError } from '../../app/errors.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeFrame } from '../../app/protocol/header.js'
import { decodePlayerJoined, decodePlayerLeft, encodeChat, encodeLogin, encodeMove } from '../../app/protocol/messages.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { unpackBatch } from '../../app/protocol/batch.js'
import { type ClientTransport, type GameFixture, PASSWORD, RawReader, rejected, startGame, uniqueUsername } from './game-support.js'

function errorOf(frame: { payload: Buffer }): { code: number; refSeq: number } {
  return decodeErrorPayload(frame.payload)
}

/** The server closed the connection within `ms` (a test that waited forever would hide a failure). */
async function closedBy(connection: { closed: Promise<unknown> }, ms = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${ms} ms`)), ms)))
  try {
    await Promise.race([connection.closed, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The port a fixture's clients of `transport` connect to. */
function portOf(fixture: GameFixture, transport: ClientTransport): number {
  return transport === 'ws' ? fixture.handle.webSocketPort! : fixture.handle.port
}

function countInner(frames: readonly { type: number; payload: Buffer }[], type: number): number {
  let n = 0
  for (const f of frames) {
    if (f.type !== FrameType.BATCH) continue
    for (const inner of unpackBatch(f.payload, { maxFrameBytes: 65535, maxInflatedBatchBytes: 1 << 20 })) if (inner.type === type) n++
  }
  return n
}


/** The same cases over each transport: a WebSocket message carries whole frames, and nothing else changes. */
for (const transport of ['tcp', 'ws'] as const) {
  const test = suite(`protocol conformance (docs/PROTOCOL.md) over ${transport}`)
  let game: GameFixture

  test.before(async () => {
    game = await startGame({}, undefined, transport)
  })
  test.after(async () => {
    await game.close()
  })

  test('§1: a PING before login with a non-zero player_id is spoofing: PLAYER_ID_MISMATCH, then closed', async () => {
    const client = await game.connect()
    const reply = client.connection.request(FrameType.PING, Buffer.from('hi'), { playerId: 7 })
    const frame = await reply
    assert.is(frame.type, FrameType.ERROR)
    assert.is(errorOf(frame).code, WireError.PLAYER_ID_MISMATCH)
    await closedBy(client.connection)
  })

  test('§1: precedence: a wrong player_id on an unknown type is PLAYER_ID_MISMATCH (closing), not UNKNOWN_TYPE', async () => {
    const client = await game.player('prec')
    const frame = await client.connection.request(0x77, undefined, { playerId: client.playerId + 1 })
    assert.is(errorOf(frame).code, WireError.PLAYER_ID_MISMATCH)
    await closedBy(client.connection)
  })

  test('§5: precedence: BATCH from a client beats a wrong player_id; before login NOT_LOGGED_IN beats a malformed payload; logged in, the payload layout beats the move rules', async () => {
    const batch = await game.player('precb')
    assert.is(errorOf(await batch.connection.request(FrameType.BATCH, undefined, { playerId: batch.playerId + 1 })).code, WireError.BATCH_FROM_CLIENT)
    await closedBy(batch.connection)
    const anonymous = await game.connect()
    assert.is(errorOf(await anonymous.connection.request(FrameType.MOVE, Buffer.from([1]))).code, WireError.NOT_LOGGED_IN, 'a one-byte MOVE before login')
    const player = await game.player('precm')
    assert.is(errorOf(await player.connection.request(FrameType.MOVE, Buffer.from([1]))).code, WireError.MALFORMED_FRAME, 'a one-byte MOVE after login')
  })

  test('§4.3: LOGOUT with a non-empty payload is malformed: MALFORMED_FRAME and the player stays logged in', async () => {
    const client = await game.player('logout')
    const frame = await client.connection.request(FrameType.LOGOUT, Buffer.from([0]))
    assert.is(frame.type, FrameType.ERROR)
    assert.is(errorOf(frame).code, WireError.MALFORMED_FRAME)
    const moved = await client.move(51, 50)
    assert.is(moved.playerId, client.playerId, 'still logged in')
    await client.logout()
  })

  test('§6: tolerated violations are one total per connection, whichever layer counts them', async () => {
    // MAX_VIOLATIONS is 3: unknown type (network layer), MOVE before login, malformed LOGIN (game)
    const client = await game.connect()
    const codes: number[] = []
    for (const [type, payload] of [[0x77, undefined], [FrameType.MOVE, encodeMove({ x: 1, y: 1 })], [FrameType.LOGIN, Buffer.from([9])]] as const) {
      codes.push(errorOf(await client.connection.request(type, payload)).code)
    }
    assert.equal(codes, [WireError.UNKNOWN_TYPE, WireError.NOT_LOGGED_IN, WireError.MALFORMED_FRAME])
    await closedBy(client.connection)
  })

  test('§5: a frame-size error carries ref_seq 0 (the header is not trusted past its size)', async () => {
    const raw = new RawReader(portOf(game, transport), transport)
    raw.socket.write(Buffer.from([5, 0, 4, 0, 9, 0, 0, 0, 0, 0, 0, 0]))
    await raw.until(() => raw.frames.length > 0)
    const error = decodeErrorPayload(raw.frames[0]!.payload)
    assert.equal([error.code, error.refSeq, raw.frames[0]!.seq], [WireError.MALFORMED_FRAME, 0, 0])
    await closedBy(raw)
  })

  test('§4.0: requests read in one turn are answered grouped by type (MOVE before CHAT), not in send order', async () => {
    const client = await game.player('order')
    const order: number[] = []
    client.connection.onFrame((f) => {
      if (f.seq !== 0) order.push(f.type)
    })
    const chat = client.connection.send(FrameType.CHAT, encodeChat('first in, last out'))
    const move = client.connection.send(FrameType.MOVE, encodeMove({ x: 52, y: 50 }))
    await client.connection.waitFor((f) => f.seq === Math.max(chat, move) || f.seq === Math.min(chat, move))
    await client.connection.ping()
    assert.equal(order.slice(0, 2), [FrameType.PLAYER_MOVED, FrameType.CHAT_MESSAGE])
  })

  test('§4.1: names need a letter or digit and are unique regardless of case; LOGIN takes any case', async () => {
    const client = await game.connect()
    for (const name of ['...', '---', '_._']) assert.is(await rejected(client.register(name, PASSWORD)), WireError.BAD_CREDENTIALS, name)
    const name = uniqueUsername('Mixed')
    const ok = await client.register(name, PASSWORD)
    const other = await game.connect()
    assert.is(await rejected(other.register(name.toUpperCase(), PASSWORD)), WireError.ACCOUNT_EXISTS)
    const again = await other.login(name.toLowerCase(), PASSWORD)
    assert.is(again.playerId, ok.playerId)
    assert.is(again.username, name)
  })

  test('§4.2: a token login returns the same token (its lifetime restarts)', async () => {
    const name = uniqueUsername('token')
    const first = await game.connect()
    const ok = await first.register(name, PASSWORD)
    await first.logout().catch(() => {})
    const relog = await game.connect()
    const password = await relog.login(name, PASSWORD)
    const other = await game.connect()
    const again = await other.loginWithToken(password.token)
    assert.is(again.token, password.token)
    assert.is.not(password.token, ok.token, 'a password login issues a new token')
  })

  test('§4.2: a takeover from another address: the old connection gets TAKEN_OVER; from the same address ALREADY_LOGGED_IN; observers see PLAYER_LEFT then PLAYER_JOINED', async () => {
    const name = uniqueUsername('taken')
    const victim = await game.connect()
    const ok = await victim.register(name, PASSWORD)
    const observer = await game.player('observer')
    const connectFrom = (localAddress: string) => game.connect({ localAddress })

    const sameAddress = await connectFrom('127.0.0.1')
    const notice1 = victim.connection.waitFor((f) => f.type === FrameType.ERROR && f.seq === 0)
    await sameAddress.loginWithToken(ok.token)
    assert.is(errorOf(await notice1).code, WireError.ALREADY_LOGGED_IN)
    await closedBy(victim.connection)

    const left = observer.next(FrameType.PLAYER_LEFT, (f) => decodePlayerLeft(f.payload).playerId === ok.playerId)
    const thief = await connectFrom('127.0.0.2')
    const notice2 = sameAddress.connection.waitFor((f) => f.type === FrameType.ERROR && f.seq === 0)
    const joined = observer.next(FrameType.PLAYER_JOINED, (f) => decodePlayerJoined(f.payload).playerId === ok.playerId)
    await thief.loginWithToken(ok.token)
    assert.is(errorOf(await notice2).code, WireError.TAKEN_OVER)
    assert.is(decodePlayerLeft((await left).payload).reason, 0)
    await joined
    await closedBy(sameAddress.connection)
  })

  test('§1: MAX_FRAME_BYTES below 128 is refused; at 128 no frame the server sends is larger', async () => {
    try {
      loadConfig({ MAX_FRAME_BYTES: '64' })
      assert.unreachable('64 must be refused')
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_CONFIG'))
    }
    const small = await startGame({ MAX_FRAME_BYTES: '128' }, undefined, transport)
    try {
      const name = `${uniqueUsername('w')}`.padEnd(32, 'x').slice(0, 32)
      const a = await small.connect()
      await a.register(name, PASSWORD)
      const raw = new RawReader(portOf(small, transport), transport)
      raw.socket.write(encodeFrame(FrameType.LOGIN, 1, 0, encodeLogin({ mode: 'password', username: name, password: PASSWORD })))
      await raw.until(() => raw.frames.some((f) => f.seq === 1))
      const loginOk = raw.frames.find((f) => f.seq === 1)!
      assert.is(loginOk.type, FrameType.LOGIN_OK)
      raw.socket.write(encodeFrame(FrameType.CHAT, 2, loginOk.payload.readUInt32LE(0), encodeChat('x'.repeat(100))))
      await raw.until(() => raw.frames.some((f) => f.seq === 2))
      for (const frame of raw.frames) assert.ok(frame.size <= 128, `frame type ${frame.type.toString(16)} of ${frame.size} bytes`)
      raw.socket.destroy()
    } finally {
      await small.close()
    }
  })

  test('§2: BATCH frames are never below BATCH_THRESHOLD_BYTES and carry seq 1, 2, 3, … per connection', async () => {
    // 2 KiB frames split a large zone snapshot into several BATCHes, with a tail
    const small = await startGame({ MAX_FRAME_BYTES: '2048' }, undefined, transport)
    try {
      const talker = await small.player('talker')
      for (let i = 0; i < 50; i++) await talker.chat(`message ${i}: ${'lorem ipsum dolor sit amet '.repeat(3)}`)
      const name = uniqueUsername('reader')
      const reg = await small.connect()
      await reg.register(name, PASSWORD)
      await reg.logout()
      const raw = new RawReader(portOf(small, transport), transport)
      raw.socket.write(encodeFrame(FrameType.LOGIN, 1, 0, encodeLogin({ mode: 'password', username: name, password: PASSWORD })))
      raw.socket.write(encodeFrame(FrameType.PING, 2, 0))
      await raw.until(() => raw.frames.filter((f) => f.type === FrameType.CHAT_MESSAGE).length + countInner(raw.frames, FrameType.CHAT_MESSAGE) >= 50, 5000)
      // The connection's own BATCHes (the zone stream's carry seq 0 and are numbered apart, §1).
      const batches = raw.frames.filter((f) => f.type === FrameType.BATCH && f.seq !== 0)
      assert.ok(batches.length >= 2, `expected a split snapshot, got ${batches.length} BATCH frames`)
      assert.equal(batches.map((b) => b.seq), batches.map((_, i) => i + 1))
      for (const batch of batches) assert.ok(batch.payload.readUInt32LE(4) >= 1024, `a BATCH of ${batch.payload.readUInt32LE(4)} original bytes`)
      raw.socket.destroy()
    } finally {
      await small.close()
    }
  })


  test.run()
}
