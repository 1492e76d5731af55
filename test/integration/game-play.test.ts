/** The game over real TCP on 127.0.0.1: accounts, moves, chat, attacks, PING, spoofing, logout. */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../app/errors.js'
import { ChatFlags, decodeAttackResult, decodeChatMessage, decodePlayerJoined, decodePlayerRespawned, encodeMove } from '../../app/protocol/messages.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { PASSWORD, startGame, uniqueUsername, type GameFixture } from './game-support.js'

const test = suite('game over TCP')
let game: GameFixture

test.before(async () => {
  game = await startGame({ MAX_HP: '20', ATTACK_DAMAGE: '10', ATTACK_COOLDOWN_MS: '0', RESPAWN_MS: '100', CHAT_HISTORY: '3', CHAT_MAX_CHARS: '20' })
})
test.after(async () => {
  await game.close()
})

async function rejectedWith(promise: Promise<unknown>, wireCode: number): Promise<void> {
  try {
    await promise
    assert.unreachable('request should have been rejected')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_REQUEST_REJECTED'), `expected a rejection, got ${String(err)}`)
    assert.is(err.context.wireCode, wireCode)
  }
}

test('register, login with password, re-login with the token on a new connection', async () => {
  const name = uniqueUsername('acc')
  const first = await game.connect()
  const registered = await first.register(name, PASSWORD)
  assert.ok(registered.playerId > 0)
  assert.is(registered.username, name)
  assert.is(registered.hp, 20)
  assert.is(registered.maxHp, 20)
  assert.is(registered.zone, 0)
  assert.ok(registered.token.length >= 32)
  await first.close()

  const second = await game.connect()
  const loggedIn = await second.login(name, PASSWORD)
  assert.is(loggedIn.playerId, registered.playerId)
  assert.is.not(loggedIn.token, registered.token)

  const third = await game.connect()
  const byToken = await third.loginWithToken(loggedIn.token)
  assert.is(byToken.playerId, registered.playerId)
  // The token login replaced the password login's connection.
  const kicked = await second.next(FrameType.ERROR, (f) => decodeErrorPayload(f.payload).code === WireError.ALREADY_LOGGED_IN)
  assert.ok(kicked)
  await second.connection.closed
})

test('wrong password, unknown user, taken name, bad token, invalid name: coded rejections', async () => {
  const owner = await game.player('dup')
  const name = owner.session!.username
  const client = await game.connect()
  await rejectedWith(client.login(name, 'wrong-password'), WireError.BAD_CREDENTIALS)
  await rejectedWith(client.login(uniqueUsername('ghost'), PASSWORD), WireError.BAD_CREDENTIALS)
  await rejectedWith(client.register(name, PASSWORD), WireError.ACCOUNT_EXISTS)
  await rejectedWith(client.loginWithToken('not-a-token'), WireError.TOKEN_INVALID)
  await rejectedWith(client.register('x', PASSWORD), WireError.BAD_CREDENTIALS)
  await rejectedWith(client.register(uniqueUsername('short'), 'short'), WireError.BAD_CREDENTIALS)
  await rejectedWith(client.move(1, 1), WireError.NOT_LOGGED_IN)
})

test('a move is seen by a neighbour in the same zone (its view, from the zone stream), and by the mover as its own entry', async () => {
  const a = await game.player('mover')
  const b = await game.player('watcher')
  assert.equal(b.view.get(a.playerId), { playerId: a.playerId, username: a.session!.username, zone: 0, x: 50, y: 50, hp: 20 }, 'b saw a join')
  const seen = b.nextPositionOf(a.playerId, (e) => e.source === 'update')
  const own = a.nextPositionOf(a.playerId, (e) => e.source === 'update')
  const moved = await a.move(55.25, 52)
  assert.equal(moved, { playerId: a.playerId, zone: 0, x: 55.25, y: 52 })
  assert.equal([(await seen).x, (await seen).y], [55.25, 52])
  assert.equal([(await own).x, (await own).y], [55.25, 52])
  assert.equal(b.view.get(a.playerId)!.x, 55.25)
  assert.is(b.pending(FrameType.PLAYER_MOVED).length, 0, 'PLAYER_MOVED is the mover\'s reply only')
  await rejectedWith(a.move(5000, 5), WireError.MOVE_REJECTED) // out of bounds
  assert.is(a.strayUpdates + b.strayUpdates, 0)
})

test('walking across the border changes zone: the old zone sees PLAYER_LEFT, the new one PLAYER_JOINED', async () => {
  const a = await game.player('walker')
  const oldNeighbour = await game.player('old')
  const crossed = await a.move(120, 50)
  assert.is(crossed.zone, 1)
  const left = await oldNeighbour.next(FrameType.PLAYER_LEFT, (f) => f.payload.readUInt32LE(0) === a.playerId)
  assert.is(left.payload.readUInt8(6), 1, 'reason: zone change')
  const b = await game.player('newcomer')
  const bMoved = await b.move(115, 50)
  assert.is(bMoved.zone, 1)
  const joined = await a.next(FrameType.PLAYER_JOINED, (f) => decodePlayerJoined(f.payload).playerId === b.playerId)
  assert.is(decodePlayerJoined(joined.payload).zone, 1)
  // The views: a forgot zone 0 when it crossed, and sees b in zone 1; the old neighbour no longer sees a.
  assert.equal(a.view.get(b.playerId)?.zone, 1)
  assert.ok([...a.view.values()].every((p) => p.zone === 1), 'only zone 1 players in view')
  assert.is(a.self!.zone, 1)
  assert.is(oldNeighbour.view.has(a.playerId), false)
})

test('chat reaches the zone; a later arrival gets the zone history (bounded, oldest first)', async () => {
  // Zone 1 so the other tests' chat does not interfere.
  const a = await game.player('talker')
  await a.move(150, 50)
  const b = await game.player('listener')
  await b.move(149, 50)
  for (const text of ['one', 'two', 'three', 'four']) {
    const echo = await a.chat(text)
    assert.is(echo.text, text)
    assert.is(echo.flags & ChatFlags.HISTORY, 0)
  }
  const live = await b.next(FrameType.CHAT_MESSAGE, (f) => decodeChatMessage(f.payload).text === 'four')
  assert.is(decodeChatMessage(live.payload).senderId, a.playerId)
  await rejectedWith(a.chat('x'.repeat(21)), WireError.CHAT_REJECTED)
  await rejectedWith(a.chat('   '), WireError.CHAT_REJECTED)

  const late = await game.player('late')
  await late.move(150, 51)
  const history = []
  for (let i = 0; i < 3; i++) history.push(decodeChatMessage((await late.next(FrameType.CHAT_MESSAGE, (f) => (decodeChatMessage(f.payload).flags & ChatFlags.HISTORY) !== 0 && decodeChatMessage(f.payload).zone === 1)).payload))
  assert.equal(history.map((m) => m.text), ['two', 'three', 'four'])
  assert.ok(history.every((m) => m.senderId === a.playerId && m.username === a.session!.username))
})

test('attacks: damage, range, kill, respawn with full HP; the zone sees the outcome', async () => {
  const a = await game.player('hitter')
  const b = await game.player('target')
  const first = await a.attack(b.playerId)
  assert.equal(first, { attackerId: a.playerId, targetId: b.playerId, damage: 10, targetHp: 10, killed: false })
  const seen = await b.next(FrameType.ATTACK_RESULT, (f) => decodeAttackResult(f.payload).targetId === b.playerId)
  assert.equal(decodeAttackResult(seen.payload), first)
  const kill = await a.attack(b.playerId)
  assert.is(kill.killed, true)
  assert.is(kill.targetHp, 0)
  await rejectedWith(a.attack(b.playerId), WireError.ATTACK_REJECTED) // target dead
  await rejectedWith(b.move(50, 51), WireError.MOVE_REJECTED) // dead players cannot move
  assert.is(a.view.get(b.playerId)!.hp, 0, 'the attacker sees the target dead')
  const respawned = await b.next(FrameType.PLAYER_RESPAWNED, (f) => decodePlayerRespawned(f.payload).playerId === b.playerId)
  assert.equal(decodePlayerRespawned(respawned.payload), { playerId: b.playerId, zone: 0, x: 50, y: 50, hp: 20 })
  await a.untilView((v) => v.get(b.playerId)?.hp === 20)
  await b.move(80, 50) // 30 units away, range is 5
  await rejectedWith(a.attack(b.playerId), WireError.ATTACK_REJECTED)
  await rejectedWith(a.attack(a.playerId), WireError.ATTACK_REJECTED)
})

test('PING gets PONG with the same seq and payload, before and after login', async () => {
  const client = await game.connect()
  assert.ok((await client.connection.ping(Buffer.from('hello'))) >= 0)
  await client.register(uniqueUsername('pinger'), PASSWORD)
  const seq = client.connection.nextSeq()
  const pong = client.connection.waitFor((f) => f.type === FrameType.PONG && f.seq === seq)
  client.connection.send(FrameType.PING, Buffer.from([1, 2, 3]), { seq })
  const frame = await pong
  assert.equal([...frame.payload], [1, 2, 3])
  assert.is(frame.playerId, client.playerId)
})

test('player_id spoofing is rejected, counted, and closes the session', async () => {
  const victim = await game.player('victim')
  const cheat = await game.player('cheat')
  const before = game.metrics.violations.get('player-id-mismatch') ?? 0
  const seq = cheat.connection.nextSeq()
  const answer = cheat.connection.waitFor((f) => f.type === FrameType.ERROR && f.seq === seq)
  cheat.connection.send(FrameType.MOVE, encodeMove({ x: 51, y: 51 }), { seq, playerId: victim.playerId })
  assert.is(decodeErrorPayload((await answer).payload).code, WireError.PLAYER_ID_MISMATCH)
  await cheat.connection.closed
  assert.is(game.metrics.violations.get('player-id-mismatch'), before + 1)
  // The victim did not move.
  assert.is(game.handle.game.world.get(victim.playerId)?.x, 50)
})

test('logout: LOGOUT_OK, the connection closes, the token no longer works', async () => {
  const client = await game.player('leaver')
  const token = client.session!.token
  await client.logout()
  await client.connection.closed
  const again = await game.connect()
  await rejectedWith(again.loginWithToken(token), WireError.TOKEN_INVALID)
})

test('hostile traffic (seeded random frames of every client type, random player_ids, raw garbage) does not break the server', async () => {
  let seed = 4242
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return (seed >>> 8) % n
  }
  const hostile = await Promise.all(Array.from({ length: 6 }, (_, i) => (i < 3 ? game.player('hostile') : game.connect())))
  for (let round = 0; round < 400; round++) {
    const client = hostile[rand(hostile.length)]!
    if (client.connection.status !== 'open') continue
    const payload = Buffer.from(Array.from({ length: rand(40) }, () => rand(256)))
    if (rand(20) === 0) {
      client.connection.sendRaw(payload) // raw bytes: may form a bad header
    } else {
      const type = [FrameType.MOVE, FrameType.CHAT, FrameType.ATTACK, FrameType.LOGIN, FrameType.REGISTER, FrameType.LOGOUT, 9, 0x8001][rand(8)]!
      const playerId = rand(4) === 0 ? rand(1000) : client.connection.playerId
      client.connection.send(type, payload, { playerId })
    }
    if (rand(25) === 0) await new Promise((r) => setImmediate(r))
  }
  // The server still serves a newcomer completely.
  const probe = await game.player('probe')
  assert.ok((await probe.connection.ping()) >= 0)
  assert.is((await probe.chat('still here')).text, 'still here')
  assert.is(game.handle.game.processor.stats().failed, 0, 'no handler threw')
})

test.run()
