/**
 * Zone replication through the Game over recording connections: the zone stream (one encoding per
 * tick, the same bytes to every viewer), view radius presence, ordering, tick pacing and the
 * protocol version of the login exchange.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig, type Env } from '../../../app/config/index.js'
import { Game } from '../../../app/game/game.js'
import { MemoryAccountStore } from '../../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../../app/game/memory-player-sink.js'
import { MemorySessionStore } from '../../../app/game/memory-session-store.js'
import { MemorySharedState } from '../../../app/game/memory-shared-state.js'
import { silentLogger } from '../../../app/logger.js'
import { decodeErrorPayload } from '../../../app/protocol/error-frame.js'
import { decodeChatMessage, decodeLoginOk, decodePlayerJoined, decodePlayerLeft, encodeChat, encodeLogin, encodeMove, encodeRegister, LeaveReason, type LoginOk } from '../../../app/protocol/messages.js'
import { FrameType, PROTOCOL_VERSION, WireError } from '../../../app/protocol/types.js'
import { decodeZoneUpdate } from '../../../app/protocol/zone-update.js'
import { eventually } from '../../harness/eventually.js'
import { RecordingConnection, type Recorded } from './recording-connection.js'

function setup(env: Env = {}) {
  const config = loadConfig({ PASSWORD_HASH_COST: '1024', ZONE_SIZE: '1000', ZONE_COUNT: '2', MAX_SPEED: '100000', ...env })
  const accounts = new MemoryAccountStore()
  const sessions = new MemorySessionStore({ ttlSeconds: 60 })
  const game = new Game({ config, stores: { accounts, sessions, playerSink: new MemoryPlayerStateSink(accounts), shared: new MemorySharedState(config.game.chatHistory) }, logger: silentLogger })
  let seq = 0
  const send = (connection: RecordingConnection, type: number, payload: Buffer = Buffer.alloc(0)): number => {
    const s = ++seq
    game.dispatch({ connection, type, seq: s, playerId: connection.playerId, payload, receivedAt: performance.now() })
    return s
  }
  const join = async (name: string, x: number, y: number): Promise<{ connection: RecordingConnection; ok: LoginOk }> => {
    const connection = new RecordingConnection()
    const s = send(connection, FrameType.REGISTER, encodeRegister({ username: name, password: 'password123' }))
    await game.settle()
    const reply = connection.sent.find((f) => f.seq === s)!
    assert.is(reply.type, FrameType.LOGIN_OK, `${name} registered`)
    const ok = decodeLoginOk(reply.payload)
    connection.playerId = ok.playerId
    send(connection, FrameType.MOVE, encodeMove({ x, y }))
    await turn()
    return { connection, ok }
  }
  /** Let the batch processor and a quiet zone's tick run. */
  const turn = async (): Promise<void> => {
    await game.settle()
    await sleep(1)
  }
  return { game, config, send, join, turn, close: async () => { await game.close(); await sessions.close() } }
}

function entriesOf(frames: readonly Recorded[], ok: LoginOk) {
  return frames.filter((f) => f.type === FrameType.ZONE_UPDATE).flatMap((f) => decodeZoneUpdate(f.payload, ok).entries)
}

test('LOGIN_OK names protocol version 2, the position step, the zone size and the view radius', async () => {
  const t = setup({ VIEW_RADIUS: '100' })
  const { ok } = await t.join('ann', 10, 10)
  assert.equal({ v: ok.protocolVersion, bits: ok.positionBits, size: ok.zoneSize, r: ok.viewRadius }, { v: PROTOCOL_VERSION, bits: 6, size: 1000, r: 100 })
  await t.close()
})

test('the login exchange negotiates the version: absent and newer get 2, older is UNSUPPORTED_VERSION and nothing happens', async () => {
  const t = setup()
  const connection = new RecordingConnection()
  const old = t.send(connection, FrameType.REGISTER, encodeRegister({ username: 'ann', password: 'password123' }, 1))
  await t.game.settle()
  const refused = connection.sent.find((f) => f.seq === old)!
  assert.is(refused.type, FrameType.ERROR)
  assert.is(decodeErrorPayload(refused.payload).code, WireError.UNSUPPORTED_VERSION)
  assert.is(t.game.world.size, 0)
  const newer = t.send(connection, FrameType.REGISTER, encodeRegister({ username: 'ann', password: 'password123' }, 9))
  await t.game.settle()
  assert.is(decodeLoginOk(connection.sent.find((f) => f.seq === newer)!.payload).protocolVersion, 2)
  const other = new RecordingConnection()
  const absent = t.send(other, FrameType.LOGIN, encodeLogin({ mode: 'password', username: 'ann', password: 'password123' }, null))
  await t.game.settle()
  assert.is(decodeLoginOk(other.sent.find((f) => f.seq === absent)!.payload).protocolVersion, 2)
  await t.close()
})

test('a move: the reply at once to the mover, then one ZONE_UPDATE encoded once — the same bytes for every viewer, seq 0, player_id 0', async () => {
  const t = setup()
  const a = await t.join('ann', 100, 100)
  const b = await t.join('bob', 200, 200)
  const c = await t.join('cat', 300, 300)
  for (const p of [a, b, c]) p.connection.take()
  const s = t.send(a.connection, FrameType.MOVE, encodeMove({ x: 101.5, y: 100.25 }))
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 102.015625, y: 100.5 }))
  await t.game.settle()
  const reply = a.connection.sent.find((f) => f.seq === s)
  assert.is(reply?.type, FrameType.PLAYER_MOVED, 'the reply does not wait for the tick')
  await t.turn()
  const seen = [a, b, c].map((p) => p.connection.take().filter((f) => f.type === FrameType.ZONE_UPDATE))
  for (const frames of seen) {
    assert.is(frames.length, 1)
    assert.is(frames[0]!.seq, 0)
    assert.is(frames[0]!.playerId, 0)
    assert.equal(entriesOf(frames, a.ok), [{ playerId: a.ok.playerId, x: 102.015625, y: 100.5 }], 'one entry per mover: its position at the tick, exact to 1/64')
  }
  assert.ok(seen[1]![0]!.shared !== null && seen[1]![0]!.shared === seen[2]![0]!.shared, 'the same Buffer queued to both viewers')
  await t.close()
})

test('a player alone in view gets its move\'s reply and no tick; with someone in view, both get the entry', async () => {
  const t = setup({ VIEW_RADIUS: '100' })
  const a = await t.join('ann', 50, 50)
  const far = await t.join('bob', 900, 900)
  await sleep(60)
  a.connection.take()
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 51, y: 50 }))
  await sleep(60)
  assert.equal(a.connection.take().map((f) => f.type), [FrameType.PLAYER_MOVED], 'only the reply')
  assert.equal(far.connection.take().filter((f) => f.type === FrameType.ZONE_UPDATE), [])
  const c = await t.join('cat', 60, 60)
  await sleep(60)
  a.connection.take()
  c.connection.take()
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 52, y: 50 }))
  await sleep(60)
  for (const viewer of [a, c]) assert.equal(entriesOf(viewer.connection.take(), a.ok).map((e) => e.playerId), [a.ok.playerId])
  await t.close()
})

test('chat: the reply to the sender at once, the stream copy (seq 0, player_id 0) to everyone with the tick', async () => {
  const t = setup()
  const a = await t.join('ann', 100, 100)
  const b = await t.join('bob', 200, 200)
  a.connection.take()
  b.connection.take()
  const s = t.send(a.connection, FrameType.CHAT, encodeChat('hello'))
  await t.turn()
  const mine = a.connection.take().filter((f) => f.type === FrameType.CHAT_MESSAGE)
  assert.equal(mine.map((f) => [f.seq, f.playerId]), [[s, a.ok.playerId], [0, 0]])
  const theirs = b.connection.take().filter((f) => f.type === FrameType.CHAT_MESSAGE)
  assert.equal(theirs.map((f) => [f.seq, f.playerId, decodeChatMessage(f.payload).text]), [[0, 0, 'hello']])
  await t.close()
})

test('view radius: presence when a player walks into and out of view, JOINED before its entries and none after LEFT', async () => {
  const t = setup({ VIEW_RADIUS: '100' })
  const a = await t.join('ann', 50, 50)
  const b = await t.join('bob', 550, 550)
  const bFrames = b.connection.take()
  assert.not.ok(bFrames.some((f) => f.type === FrameType.PLAYER_JOINED && decodePlayerJoined(f.payload).playerId === a.ok.playerId), 'bob does not see ann far away')
  a.connection.take()
  // ann moves far away within her cell: bob hears nothing
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 60, y: 60 }))
  await t.turn()
  assert.equal(entriesOf(b.connection.take(), b.ok), [])
  // ann walks next to bob
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 540, y: 540 }))
  await t.turn()
  const seenByBob = b.connection.take()
  const joinedAt = seenByBob.findIndex((f) => f.type === FrameType.PLAYER_JOINED && decodePlayerJoined(f.payload).playerId === a.ok.playerId)
  const entryAt = seenByBob.findIndex((f) => f.type === FrameType.ZONE_UPDATE)
  assert.ok(joinedAt >= 0 && entryAt > joinedAt, `JOINED (${joinedAt}) before the entry (${entryAt})`)
  assert.equal(decodePlayerJoined(seenByBob[joinedAt]!.payload).x, 540)
  assert.equal(entriesOf(seenByBob, b.ok).map((e) => e.playerId), [a.ok.playerId])
  assert.ok(a.connection.take().some((f) => f.type === FrameType.PLAYER_JOINED && decodePlayerJoined(f.payload).playerId === b.ok.playerId), 'ann now sees bob')
  // ann walks away again: LEFT (out of view) both ways, then no entries of hers
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 50, y: 900 }))
  await t.turn()
  const after = b.connection.take()
  const left = after.filter((f) => f.type === FrameType.PLAYER_LEFT).map((f) => decodePlayerLeft(f.payload))
  assert.equal(left, [{ playerId: a.ok.playerId, zone: 0, reason: LeaveReason.OUT_OF_VIEW }])
  assert.equal(entriesOf(after, b.ok), [])
  assert.equal(a.connection.take().filter((f) => f.type === FrameType.PLAYER_LEFT).map((f) => decodePlayerLeft(f.payload).playerId), [b.ok.playerId])
  await t.close()
})

test('a player who moves and disconnects in the same tick: LEFT, and no entry of it afterwards', async () => {
  const t = setup()
  const a = await t.join('ann', 100, 100)
  const b = await t.join('bob', 200, 200)
  await sleep(20)
  b.connection.take()
  // All in one synchronous run: the move is processed (the tick is only requested), then ann leaves.
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 110, y: 100 }))
  t.game.processor.drain()
  t.game.disconnected(a.connection, 'client-closed')
  await sleep(80) // past the tick that would have carried the move (at most ZONE_TICK_MAX_MS)
  const frames = b.connection.take()
  assert.equal(frames.filter((f) => f.type === FrameType.PLAYER_LEFT).map((f) => decodePlayerLeft(f.payload).playerId), [a.ok.playerId])
  assert.equal(entriesOf(frames, b.ok).filter((e) => e.playerId === a.ok.playerId), [], 'no entry for ann')
  assert.ok(a.connection.sent.some((f) => f.type === FrameType.PLAYER_MOVED), 'the move itself was accepted')
  await t.close()
})

test('ticks: a quiet zone ticks within the turn; the interval then grows with the recipients (ZONE_TICK_WRITES_PER_SECOND)', async () => {
  const t = setup({ ZONE_TICK_WRITES_PER_SECOND: '100', ZONE_TICK_MAX_MS: '1000' })
  const a = await t.join('ann', 100, 100)
  const b = await t.join('bob', 200, 200)
  await sleep(60)
  b.connection.take()
  // The first move after a pause goes out at once.
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 101, y: 100 }))
  await t.game.settle()
  await Promise.resolve()
  assert.is(entriesOf(b.connection.take(), b.ok).length, 1, 'ticked within the turn of the move')
  // That tick wrote to 2 sessions: the next one waits 2 / 100 s = 20 ms.
  const sentAt = performance.now()
  t.send(a.connection, FrameType.MOVE, encodeMove({ x: 102, y: 100 }))
  await t.game.settle()
  await eventually(() => b.connection.sent.some((f) => f.type === FrameType.ZONE_UPDATE), 1000, 'the zone tick', 1)
  const waited = b.connection.sent.find((f) => f.type === FrameType.ZONE_UPDATE)!.at - sentAt
  // 20 ms (2 recipients ÷ 100 writes/s), neither 0 nor the 1,000 ms bound; generous above for a
  // loaded machine, and a little below (Node's timers count from the loop's cached clock).
  assert.ok(waited >= 16 && waited < 300, `waited ${waited.toFixed(1)} ms for the tick (interval 20 ms)`)
  assert.is(t.game.world.zone(0).players.size, 2)
  await t.close()
})

test.run()
