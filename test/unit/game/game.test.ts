/** The Game dispatcher over fake connections: login flow, violations, shedding, replacement, persistence. */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig, type Env } from '../../../app/config/index.js'
import { GameServerError } from '../../../app/errors.js'
import { Game } from '../../../app/game/game.js'
import { noopGameMetrics, type LoginResult } from '../../../app/game/metrics.js'
import { MemoryAccountStore } from '../../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../../app/game/memory-player-sink.js'
import { MemorySessionStore } from '../../../app/game/memory-session-store.js'
import { MemorySharedState } from '../../../app/game/memory-shared-state.js'
import type { AccountStore, PlayerStateSink } from '../../../app/game/stores.js'
import { silentLogger } from '../../../app/logger.js'
import { eventually } from '../../harness/eventually.js'
import type { InboundFrame, ViolationKind } from '../../../app/net/connection.js'
import { RecordingConnection } from './recording-connection.js'
import { decodeErrorPayload } from '../../../app/protocol/error-frame.js'
import { decodeLoginOk, decodePlayerMoved, encodeLogin, encodeMove, encodeRegister, type LoginOk } from '../../../app/protocol/messages.js'
import { FrameType, WireError } from '../../../app/protocol/types.js'

/** Violations the game reported through its connections, by kind (reset by each setup). */
let violations = new Map<ViolationKind, number>()
class FakeConnection extends RecordingConnection {
  override violation(kind: ViolationKind): boolean {
    violations.set(kind, (violations.get(kind) ?? 0) + 1)
    return super.violation(kind)
  }
}

function setup(env: Env = {}, stores: { accounts?: AccountStore; playerSink?: (accounts: MemoryAccountStore) => PlayerStateSink } = {}) {
  const config = loadConfig({ PASSWORD_HASH_COST: '1024', ZONE_SIZE: '100', ZONE_COUNT: '2', MAX_SPEED: '1000', MAX_VIOLATIONS: '3', ...env })
  const accounts = new MemoryAccountStore()
  const sessions = new MemorySessionStore({ ttlSeconds: 60 })
  const playerSink = stores.playerSink?.(accounts) ?? new MemoryPlayerStateSink(accounts)
  violations = new Map<ViolationKind, number>()
  const logins = new Map<LoginResult, number>()
  const metrics = { ...noopGameMetrics, loginFinished: (result: LoginResult) => void logins.set(result, (logins.get(result) ?? 0) + 1) }
  const shared = new MemorySharedState(config.game.chatHistory)
  const game = new Game({ config, stores: { accounts: stores.accounts ?? accounts, sessions, playerSink, shared }, logger: silentLogger, metrics })
  let seq = 0
  const send = (connection: FakeConnection, type: number, payload: Buffer = Buffer.alloc(0), playerId = connection.playerId): number => {
    const s = ++seq
    const frame: InboundFrame = { connection, type, seq: s, playerId, payload, receivedAt: performance.now() }
    game.dispatch(frame)
    return s
  }
  const register = async (name: string): Promise<{ connection: FakeConnection; ok: LoginOk }> => {
    const connection = new FakeConnection()
    const s = send(connection, FrameType.REGISTER, encodeRegister({ username: name, password: 'password123' }))
    await game.settle()
    const reply = connection.reply(s)
    assert.is(reply?.type, FrameType.LOGIN_OK)
    return { connection, ok: decodeLoginOk(reply!.payload) }
  }
  return { game, accounts, sessions, violations, logins, send, register, close: async () => { await game.close(); await sessions.close() } }
}

test('register → LOGIN_OK sets connection.playerId; a second login on the connection is ALREADY_LOGGED_IN', async () => {
  const t = setup()
  const { connection, ok } = await t.register('alice')
  assert.is(connection.playerId, ok.playerId)
  assert.is(t.game.world.size, 1)
  const s = t.send(connection, FrameType.LOGIN, encodeLogin({ mode: 'password', username: 'alice', password: 'password123' }))
  await t.game.settle()
  assert.is(decodeErrorPayload(connection.reply(s)!.payload).code, WireError.ALREADY_LOGGED_IN)
  await t.close()
})

test('frames before login: NOT_LOGGED_IN, counted, connection closed after MAX_VIOLATIONS', async () => {
  const t = setup()
  const connection = new FakeConnection()
  for (let i = 0; i < 3; i++) t.send(connection, FrameType.MOVE, encodeMove({ x: 1, y: 1 }))
  await nextTurn()
  assert.equal(connection.errors(), [WireError.NOT_LOGGED_IN, WireError.NOT_LOGGED_IN, WireError.NOT_LOGGED_IN])
  assert.is(t.violations.get('not-logged-in'), 3)
  assert.is(connection.closedWith, 'protocol-violation')
  await t.close()
})

test('malformed payloads are counted as violations and answered', async () => {
  const t = setup()
  const { connection } = await t.register('bob')
  const s = t.send(connection, FrameType.MOVE, Buffer.alloc(3))
  await nextTurn()
  assert.is(decodeErrorPayload(connection.reply(s)!.payload).code, WireError.MALFORMED_FRAME)
  assert.is(t.violations.get('malformed-payload'), 1)
  assert.is(connection.closedWith, null)
  await t.close()
})

test('a frame whose player_id differs from the logged-in player is rejected as spoofing and closes', async () => {
  const t = setup()
  const { connection, ok } = await t.register('carol')
  const s = t.send(connection, FrameType.MOVE, encodeMove({ x: 51, y: 51 }), ok.playerId + 1)
  await nextTurn()
  assert.is(decodeErrorPayload(connection.reply(s)!.payload).code, WireError.PLAYER_ID_MISMATCH)
  assert.is(t.violations.get('player-id-mismatch'), 1)
  assert.is(connection.closedWith, 'protocol-violation')
  assert.is(t.game.world.get(ok.playerId)?.x, 50, 'did not move')
  await t.close()
})

test('a newer login replaces the older connection and keeps the live state', async () => {
  const t = setup()
  const first = await t.register('dave')
  const moved = t.send(first.connection, FrameType.MOVE, encodeMove({ x: 60, y: 40 }))
  await nextTurn()
  assert.equal(decodePlayerMoved(first.connection.reply(moved)!.payload), { playerId: first.ok.playerId, zone: 0, x: 60, y: 40 })
  const second = new FakeConnection()
  const s = t.send(second, FrameType.LOGIN, encodeLogin({ mode: 'token', token: first.ok.token }))
  await t.game.settle()
  const ok = decodeLoginOk(second.reply(s)!.payload)
  assert.is(ok.playerId, first.ok.playerId)
  assert.equal([ok.x, ok.y], [60, 40], 'live position, not the stored spawn')
  assert.is(first.connection.closedWith, 'replaced')
  assert.ok(first.connection.errors().includes(WireError.ALREADY_LOGGED_IN))
  t.game.disconnected(first.connection, 'replaced') // the old socket closing later changes nothing
  assert.is(t.game.world.get(ok.playerId)?.connection, second)
  await t.close()
})

test('leaving persists the state to the sink; logging in again restores it', async () => {
  const t = setup()
  const { connection, ok } = await t.register('erin')
  t.send(connection, FrameType.MOVE, encodeMove({ x: 140, y: 30 }))
  await nextTurn()
  t.game.disconnected(connection, 'client-closed')
  connection.close('client-closed')
  await t.game.settle()
  const stored = await t.accounts.findById(ok.playerId)
  assert.equal({ ...stored!.position }, { zone: 1, x: 140, y: 30 })
  const again = new FakeConnection()
  const s = t.send(again, FrameType.LOGIN, encodeLogin({ mode: 'password', username: 'erin', password: 'password123' }))
  await t.game.settle()
  const back = decodeLoginOk(again.reply(s)!.payload)
  assert.equal([back.zone, back.x, back.y], [1, 140, 30])
  await t.close()
})

test('overload: a full inbound queue sheds with OVERLOADED; too many logins in flight too', async () => {
  const t = setup({ TICK_MS: '60000', BATCH_MAX_FRAMES: '1000', MAX_QUEUED_FRAMES: '2', MAX_PENDING_LOGINS: '1' })
  const a = new FakeConnection()
  const seqs = [1, 2, 3].map((i) => t.send(a, FrameType.REGISTER, encodeRegister({ username: `user${i}`, password: 'password123' })))
  assert.is(decodeErrorPayload(a.reply(seqs[2]!)!.payload).code, WireError.OVERLOADED, 'third frame shed')
  const b = new FakeConnection()
  const c = new FakeConnection()
  t.game.processor.drain()
  const sb = t.send(b, FrameType.REGISTER, encodeRegister({ username: 'userb', password: 'password123' }))
  const sc = t.send(c, FrameType.REGISTER, encodeRegister({ username: 'userc', password: 'password123' }))
  await t.game.settle()
  // a's first REGISTER is in flight (MAX_PENDING_LOGINS 1): b and c are refused OVERLOADED, a's
  // second is ALREADY_LOGGED_IN (a login is in progress on that connection).
  assert.is(a.reply(seqs[0]!)?.type, FrameType.LOGIN_OK)
  assert.is(decodeErrorPayload(a.reply(seqs[1]!)!.payload).code, WireError.ALREADY_LOGGED_IN)
  assert.ok([sb, sc].every((s, i) => decodeErrorPayload([b, c][i]!.reply(s)!.payload).code === WireError.OVERLOADED))
  await t.close()
})

test('seeded random frames from 20 connections: no handler throws; every request on an open connection gets exactly one reply', async () => {
  const t = setup({ MAX_VIOLATIONS: '1000', ATTACK_COOLDOWN_MS: '0', RESPAWN_MS: '0', CHAT_MAX_CHARS: '8' })
  let seed = 99
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const players = await Promise.all(Array.from({ length: 10 }, (_, i) => t.register(`fuzz${i}`)))
  const anonymous = Array.from({ length: 10 }, () => new FakeConnection())
  const connections = [...players.map((p) => p.connection), ...anonymous]
  const requests = new Map<FakeConnection, number[]>()
  const types = [FrameType.MOVE, FrameType.CHAT, FrameType.ATTACK, FrameType.LOGIN, FrameType.REGISTER]
  for (let i = 0; i < 3000; i++) {
    const connection = connections[rand(connections.length)]!
    const type = types[rand(types.length)]!
    let payload: Buffer
    switch (rand(3)) {
      case 0: payload = Buffer.from(Array.from({ length: rand(12) }, () => rand(256))); break
      case 1: payload = type === FrameType.MOVE ? encodeMove({ x: rand(250) - 25, y: rand(120) - 10 }) : type === FrameType.CHAT ? Buffer.from('x'.repeat(rand(12))) : Buffer.from([rand(256), rand(256), 0, 0]); break
      default: payload = type === FrameType.ATTACK ? Buffer.from(Uint32Array.of(players[rand(players.length)]!.ok.playerId).buffer) : encodeLogin({ mode: 'password', username: `fuzz${rand(12)}`, password: 'password123' })
    }
    const seq = t.send(connection, type, payload)
    requests.set(connection, [...(requests.get(connection) ?? []), seq])
    if (rand(50) === 0) await nextTurn()
  }
  await t.game.settle()
  assert.is(t.game.processor.stats().failed, 0, 'no handler threw')
  for (const [connection, seqs] of requests) {
    if (connection.closed) continue
    for (const seq of seqs) {
      const replies = connection.sent.filter((f) => f.seq === seq)
      assert.is(replies.length, 1, `exactly one reply to seq ${seq} (got ${replies.map((r) => r.type).join(',')})`)
    }
  }
  await t.close()
})

test('Game.close hands every online player to the sink and stops taking frames', async () => {
  const t = setup()
  const { connection, ok } = await t.register('frank')
  t.send(connection, FrameType.MOVE, encodeMove({ x: 77, y: 33 }))
  await nextTurn()
  await t.game.close()
  assert.equal({ ...(await t.accounts.findById(ok.playerId))!.position }, { zone: 0, x: 77, y: 33 })
  assert.is(t.game.world.size, 0)
  const s = t.send(connection, FrameType.MOVE, encodeMove({ x: 78, y: 33 }))
  assert.is(decodeErrorPayload(connection.reply(s)!.payload).code, WireError.OVERLOADED, 'a closed processor sheds')
  await t.close()
})

test('shutdown drain: logins hashing finish (LOGIN_OK), logins waiting for a slot get SHUTTING_DOWN', async () => {
  const t = setup({ PASSWORD_HASH_CONCURRENCY: '1' })
  const connections = [new FakeConnection(), new FakeConnection(), new FakeConnection()]
  const seqs = connections.map((c, i) => t.send(c, FrameType.REGISTER, encodeRegister({ username: `drainer${i}`, password: 'password123' })))
  await t.game.drain()
  assert.is(connections[0]!.reply(seqs[0]!)?.type, FrameType.LOGIN_OK, 'the running one finished')
  for (const i of [1, 2]) assert.is(decodeErrorPayload(connections[i]!.reply(seqs[i]!)!.payload).code, WireError.SHUTTING_DOWN)
  assert.is(t.game.loginFlow.queue.stats().refusedClosed, 2)
  await t.close()
})

test('a password login whose client left while it waited is dropped without hashing', async () => {
  const t = setup({ PASSWORD_HASH_CONCURRENCY: '1' })
  const first = new FakeConnection()
  const gone = new FakeConnection()
  t.send(first, FrameType.REGISTER, encodeRegister({ username: 'stays', password: 'password123' }))
  t.send(gone, FrameType.REGISTER, encodeRegister({ username: 'leaves', password: 'password123' }))
  await nextTurn()
  gone.close('client-closed')
  t.game.disconnected(gone, 'client-closed')
  await t.game.settle()
  assert.is(t.game.loginFlow.queue.stats().droppedStale, 1)
  assert.is(t.game.loginFlow.queue.stats().started, 1)
  assert.is(await t.accounts.findByUsername('leaves'), undefined, 'never registered')
  await t.close()
})

test('every REGISTER and LOGIN is counted once by result (gs_logins_total)', async () => {
  const t = setup({ LOGIN_ADDRESS_BURST: '2', LOGIN_ACCOUNT_BURST: '0' })
  const { connection } = await t.register('grace') // ok
  t.send(connection, FrameType.LOGIN, encodeLogin({ mode: 'password', username: 'grace', password: 'password123' })) // already logged in: failed
  const guesser = new FakeConnection()
  for (let i = 0; i < 3; i++) {
    t.send(guesser, FrameType.LOGIN, encodeLogin({ mode: 'password', username: 'grace', password: `wrong-${i}-guess` })) // failed, failed, throttled
    await t.game.settle()
  }
  t.send(new FakeConnection(), FrameType.LOGIN, encodeLogin({ mode: 'token', token: 'A'.repeat(43) })) // unknown token: failed
  await t.game.settle()
  assert.equal(Object.fromEntries(t.logins), { ok: 1, failed: 4, throttled: 1 })
  await t.close()
})

test('logins end refused at shutdown, abandoned when the client left, unavailable when a store is down', async () => {
  const down: AccountStore = {
    create: async () => { throw new GameServerError('GS_ERR_DB_UNAVAILABLE', 'down', { variable: 'DATABASE_URL' }) },
    findByUsername: async () => { throw new GameServerError('GS_ERR_DB_UNAVAILABLE', 'down', { variable: 'DATABASE_URL' }) },
    findById: async () => undefined,
    close: async () => {},
  }
  const t = setup({ PASSWORD_HASH_CONCURRENCY: '1' }, { accounts: down })
  const gone = new FakeConnection()
  t.send(new FakeConnection(), FrameType.REGISTER, encodeRegister({ username: 'nobody1', password: 'password123' })) // hashes, then the store is down
  t.send(gone, FrameType.REGISTER, encodeRegister({ username: 'nobody2', password: 'password123' })) // waits for the one hashing slot…
  await nextTurn()
  gone.close('client-closed') // …and its client leaves
  t.game.disconnected(gone, 'client-closed')
  await t.game.settle()
  assert.equal(Object.fromEntries(t.logins), { unavailable: 1, abandoned: 1 })
  t.send(new FakeConnection(), FrameType.REGISTER, encodeRegister({ username: 'nobody3', password: 'password123' }))
  t.send(new FakeConnection(), FrameType.REGISTER, encodeRegister({ username: 'nobody4', password: 'password123' })) // still waiting at shutdown
  await t.game.drain()
  assert.equal(Object.fromEntries(t.logins), { unavailable: 2, abandoned: 1, refused: 1 })
  await t.close()
})

test('regression: logouts and hand-overs in flight never refuse a login (MAX_PENDING_LOGINS counts logins only)', async () => {
  // a sink that holds every leaving player's hand-over until released: a slow database
  let releaseAll = (): void => {}
  const held = new Promise<void>((resolve) => (releaseAll = resolve))
  const t = setup({ MAX_PENDING_LOGINS: '2' }, {
    playerSink: (accounts) => {
      const sink = new MemoryPlayerStateSink(accounts)
      return { markDirty: (s) => sink.markDirty(s), release: async (s) => { await held; await sink.release(s) }, flush: () => sink.flush(), close: () => sink.close() }
    },
  })
  const leavers = [await t.register('leaver1'), await t.register('leaver2'), await t.register('leaver3')]
  for (const { connection } of leavers) {
    connection.close('client-closed')
    t.game.disconnected(connection, 'client-closed') // its hand-over waits on the sink
  }
  // (Game.settle would wait for the held hand-overs too: wait for this login's reply alone)
  const newcomer = new FakeConnection()
  const s = t.send(newcomer, FrameType.REGISTER, encodeRegister({ username: 'newcomer', password: 'password123' }))
  await eventually(() => newcomer.reply(s) !== undefined, 5000, 'the newcomer\'s reply')
  assert.is(newcomer.reply(s)!.type, FrameType.LOGIN_OK, 'before the fix: OVERLOADED, too many logins in progress')
  assert.is(t.logins.get('refused'), undefined)
  releaseAll()
  await t.close()
})

test.run()
