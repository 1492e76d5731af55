/**
 * Protocol conformance, version 2 (docs/PROTOCOL.md §1, §2, §4.2, §4.4–§4.8) over TCP: the version
 * byte, LOGIN_OK's geometry, ZONE_UPDATE's layout and quantisation, the zone stream's frames (seq 0,
 * player_id 0, shared BATCHes), presence ordering (PLAYER_JOINED before entries, none after
 * PLAYER_LEFT), the view radius with enter/leave-view, and our own stream copies. Each test starts
 * its own server, so other tests' players are not in its zone.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { GameClient } from '../../app/client/game-client.js'
import type { ReceivedFrame } from '../../app/client/connection.js'
import type { Env } from '../../app/config/index.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeFrame } from '../../app/protocol/header.js'
import {
  ChatFlags,
  decodeAttackResult,
  decodeChatMessage,
  decodePlayerJoined,
  decodePlayerLeft,
  encodeChat,
  encodeLogin,
  encodeMove,
  encodeRegister,
  LeaveReason,
} from '../../app/protocol/messages.js'
import { FrameType, PROTOCOL_VERSION, WireError } from '../../app/protocol/types.js'
import { decodeZoneUpdate, positionBitsFor, ZONE_UPDATE_ENTRY_BYTES, ZONE_UPDATE_PREFIX_BYTES } from '../../app/protocol/zone-update.js'
import { type GameFixture, PASSWORD, type RawFrame, RawReader, rejected, startGame, uniqueUsername } from './game-support.js'

const test = suite('protocol version 2: versions, the zone stream, view (docs/PROTOCOL.md)')

/** TEST_ENV's world: 2 zones of 100 units, so position_bits is 9. */
const ZONE_SIZE = 100
const BITS = positionBitsFor(ZONE_SIZE)

async function withGame(env: Env, body: (game: GameFixture) => Promise<void>): Promise<void> {
  const game = await startGame(env)
  try {
    await body(game)
  } finally {
    await game.close()
  }
}

/** Every frame a client receives, in order (BATCH contents unpacked by the connection). */
function record(client: GameClient): ReceivedFrame[] {
  const frames: ReceivedFrame[] = []
  client.connection.onFrame((f) => frames.push(f))
  return frames
}

const zoneUpdates = (frames: readonly RawFrame[]): RawFrame[] => frames.filter((f) => f.type === FrameType.ZONE_UPDATE)

/** The cell of a zone-local position with VIEW_RADIUS r (§4.8: floor(zone_size / r) cells a side). */
function cellOf(x: number, y: number, radius: number): [number, number] {
  const columns = Math.max(1, Math.floor(ZONE_SIZE / radius))
  const size = ZONE_SIZE / columns
  const index = (v: number): number => Math.min(columns - 1, Math.max(0, Math.floor(v / size)))
  return [index(x), index(y)]
}

test('§4.2: the version byte — absent: the current version; higher: the server\'s; LOGIN_OK names position bits, zone size and view radius', async () => {
  await withGame({ VIEW_RADIUS: '12.5' }, async (game) => {
    const name = uniqueUsername('ver')
    const unversioned = await game.connect({ protocolVersion: null })
    const ok = await unversioned.register(name, PASSWORD)
    assert.equal([ok.protocolVersion, ok.positionBits, ok.zoneSize, ok.viewRadius], [PROTOCOL_VERSION, BITS, ZONE_SIZE, 12.5])
    assert.is(BITS, 9)
    const newer = await game.connect({ protocolVersion: 200 })
    assert.is((await newer.login(name, PASSWORD)).protocolVersion, PROTOCOL_VERSION)
    const byToken = await game.connect({ protocolVersion: 255 })
    assert.is((await byToken.loginWithToken(ok.token)).protocolVersion, PROTOCOL_VERSION)
  })
})

test('§4.2: version 1 is refused with UNSUPPORTED_VERSION and nothing happens (the connection stays open); version 0 is malformed', async () => {
  await withGame({}, async (game) => {
    const name = uniqueUsername('old')
    const old = await game.connect({ protocolVersion: 1 })
    assert.is(await rejected(old.register(name, PASSWORD)), WireError.UNSUPPORTED_VERSION)
    // Nothing happened: the name is still free, and the same connection can log in at version 2.
    const ok = await old.request(FrameType.REGISTER, encodeRegister({ username: name, password: PASSWORD }, 2), FrameType.LOGIN_OK)
    assert.is(old.session?.username, name)
    assert.is(ok.type, FrameType.LOGIN_OK)
    const token = old.session!.token

    const other = await game.connect({ protocolVersion: 1 })
    assert.is(await rejected(other.login(name, PASSWORD)), WireError.UNSUPPORTED_VERSION)
    assert.is(await rejected(other.loginWithToken(token)), WireError.UNSUPPORTED_VERSION)
    assert.is(old.connection.status, 'open', 'the refused token login did not take the player over')
    assert.is(other.connection.status, 'open')

    const violationsBefore = game.metrics.violations.get('malformed-payload') ?? 0
    const zero = await game.connect()
    for (const payload of [Buffer.concat([encodeRegister({ username: uniqueUsername('zero'), password: PASSWORD }, null), Buffer.from([0])]), Buffer.concat([encodeLogin({ mode: 'token', token }, null), Buffer.from([0])])]) {
      const reply = await zero.connection.request(payload[0] === 0 || payload.length > 50 ? FrameType.LOGIN : FrameType.REGISTER, payload)
      assert.is(reply.type, FrameType.ERROR)
      assert.is(decodeErrorPayload(reply.payload).code, WireError.MALFORMED_FRAME)
    }
    assert.is(game.metrics.violations.get('malformed-payload'), violationsBefore + 2, 'a tolerated violation each')
    assert.is(zero.connection.status, 'open')
  })
})

test('§4.8: ZONE_UPDATE layout — u16 zone, u16 count, entries of u32 id · u16 qx · u16 qy, zone-local, rounded to 2^-position_bits; seq 0, player_id 0', async () => {
  await withGame({}, async (game) => {
    const raw = new RawReader(game.handle.port)
    try {
      const observer = await raw.register(uniqueUsername('obs'))
      raw.socket.write(encodeFrame(FrameType.MOVE, 2, observer.playerId, encodeMove({ x: 150, y: 50 }))) // into zone 1
      await raw.until(() => raw.unpacked().some((f) => f.seq === 2))
      const mover = await game.player('mov')
      const moved = await mover.move(150.3, 77.7)
      assert.equal([moved.zone, moved.x, moved.y], [1, Math.fround(150.3), Math.fround(77.7)], 'the reply carries the accepted f32 values')
      const entryOf = (f: RawFrame): boolean => decodeZoneUpdate(f.payload, { zoneSize: ZONE_SIZE, positionBits: BITS }).entries.some((e) => e.playerId === mover.playerId)
      await raw.until(() => zoneUpdates(raw.unpacked()).some(entryOf))
      const frame = zoneUpdates(raw.unpacked()).find(entryOf)!
      assert.equal([frame.seq, frame.playerId], [0, 0])
      const count = frame.payload.readUInt16LE(2)
      assert.is(frame.size, 12 + ZONE_UPDATE_PREFIX_BYTES + count * ZONE_UPDATE_ENTRY_BYTES)
      assert.is(frame.payload.readUInt16LE(0), 1, 'zone')
      let at = ZONE_UPDATE_PREFIX_BYTES
      while (frame.payload.readUInt32LE(at) !== mover.playerId) at += ZONE_UPDATE_ENTRY_BYTES
      const qx = frame.payload.readUInt16LE(at + 4)
      const qy = frame.payload.readUInt16LE(at + 6)
      assert.equal([qx, qy], [Math.round((Math.fround(150.3) - 100) * 2 ** BITS), Math.round(Math.fround(77.7) * 2 ** BITS)])
      assert.equal([qx, qy], [25754, 39782])
      // The mover's own PLAYER_MOVED is its reply only: the observer got none.
      assert.is(raw.unpacked().filter((f) => f.type === FrameType.PLAYER_MOVED && f.seq === 0).length, 0)
    } finally {
      raw.socket.destroy()
    }
  })
})

test('§4.8: a tick with more movers than one frame holds sends several ZONE_UPDATE frames, each within MAX_FRAME_BYTES, every mover once', async () => {
  // MAX_FRAME_BYTES 128: 14 entries a frame. TICK_MS makes the moves of one round one batch, so one zone tick.
  await withGame({ MAX_FRAME_BYTES: '128', TICK_MS: '300' }, async (game) => {
    const raw = new RawReader(game.handle.port)
    try {
      await raw.register(uniqueUsername('o'))
      const movers = await Promise.all(Array.from({ length: 20 }, () => game.player('m')))
      let full = 0
      for (let round = 1; round <= 3 && full === 0; round++) {
        const before = zoneUpdates(raw.unpacked()).length
        await Promise.all(movers.map((m, i) => m.move(10 + i + round, 10 + round)))
        const ids = new Set(movers.map((m) => m.playerId))
        const entries = (): number[] => zoneUpdates(raw.unpacked()).slice(before).flatMap((f) => decodeZoneUpdate(f.payload, { zoneSize: ZONE_SIZE, positionBits: BITS }).entries.map((e) => e.playerId)).filter((id) => ids.has(id))
        await raw.until(() => entries().length >= 20)
        const frames = zoneUpdates(raw.unpacked()).slice(before)
        for (const f of frames) {
          assert.ok(f.size <= 128, `a ZONE_UPDATE of ${f.size} bytes`)
          assert.ok(f.payload.readUInt16LE(2) >= 1 && f.payload.readUInt16LE(2) <= 14)
        }
        assert.equal(entries().sort((a, b) => a - b), [...ids].sort((a, b) => a - b), 'every mover exactly once')
        full += frames.filter((f) => f.payload.readUInt16LE(2) === 14).length
      }
      assert.ok(full > 0, 'a tick of 20 movers filled a frame of 14 entries and split')
    } finally {
      raw.socket.destroy()
    }
  })
})

test('§1, §2, §4.5, §4.6: stream frames carry seq 0 and player_id 0, a tick\'s frames that pay are one shared BATCH with seq 0; presence carries the receiver\'s id; own stream copies are skipped by the client', async () => {
  await withGame({}, async (game) => {
    const raw = new RawReader(game.handle.port)
    try {
      const observer = await raw.register(uniqueUsername('o'))
      const talker = await game.player('talk')
      const target = await game.player('tgt')
      const talkerFrames = record(talker)
      await raw.until(() => raw.unpacked().some((f) => f.type === FrameType.PLAYER_JOINED && decodePlayerJoined(f.payload).playerId === target.playerId))
      for (const f of raw.unpacked().filter((f) => f.type === FrameType.PLAYER_JOINED)) assert.equal([f.seq, f.playerId], [0, observer.playerId], 'presence: seq 0, the receiver\'s player_id')

      // Eight chats sent in one write are processed together: one zone tick, well over BATCH_THRESHOLD_BYTES, compressible.
      const texts = Array.from({ length: 8 }, (_, i) => `message ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(3)}`.trim())
      const seqs = texts.map((t) => talker.connection.send(FrameType.CHAT, encodeChat(t)))
      const attack = await talker.attack(target.playerId)
      assert.is(attack.damage, 10)
      const isCopy = (f: RawFrame, type: number): boolean => f.type === type && f.seq === 0
      await raw.until(() => raw.unpacked().filter((f) => isCopy(f, FrameType.CHAT_MESSAGE)).length >= 8 && raw.unpacked().some((f) => isCopy(f, FrameType.ATTACK_RESULT)))
      const copies = raw.unpacked().filter((f) => isCopy(f, FrameType.CHAT_MESSAGE) || isCopy(f, FrameType.ATTACK_RESULT))
      for (const f of copies) assert.equal([f.seq, f.playerId], [0, 0], 'stream copies: seq 0, player_id 0')
      assert.equal(copies.filter((f) => f.type === FrameType.CHAT_MESSAGE).map((f) => decodeChatMessage(f.payload).text), texts, 'in the order accepted')
      const streamBatches = raw.frames.filter((f) => f.type === FrameType.BATCH && f.seq === 0)
      assert.ok(streamBatches.length >= 1, 'the tick\'s chat went out as a zone-stream BATCH')
      for (const b of streamBatches) assert.is(b.playerId, 0)
      assert.ok(copies.some((f) => f.batch?.seq === 0), 'copies inside a seq-0 BATCH')
      assert.equal(raw.frames.filter((f) => f.type === FrameType.BATCH && f.seq !== 0).map((f) => f.seq), raw.frames.filter((f) => f.type === FrameType.BATCH && f.seq !== 0).map((_, i) => i + 1), 'the connection\'s own BATCH numbering is untouched')
      assert.equal(decodeAttackResult(copies.find((f) => f.type === FrameType.ATTACK_RESULT)!.payload), attack)

      // The talker had replies (its seqs) and the stream copies (seq 0): the typed client keeps the copies out of its inbox.
      await talker.connection.ping()
      await target.next(FrameType.ATTACK_RESULT, (f) => decodeAttackResult(f.payload).attackerId === talker.playerId)
      const replies = talkerFrames.filter((f) => f.type === FrameType.CHAT_MESSAGE && seqs.includes(f.seq))
      assert.is(replies.length, 8)
      for (const f of replies) assert.is(f.playerId, talker.playerId)
      assert.is(talkerFrames.filter((f) => f.type === FrameType.CHAT_MESSAGE && f.seq === 0 && decodeChatMessage(f.payload).flags === 0).length, 8, 'the talker got its own stream copies too')
      assert.is(talker.pending(FrameType.CHAT_MESSAGE).filter((f) => (decodeChatMessage(f.payload).flags & ChatFlags.HISTORY) === 0).length, 0, 'none in the inbox')
      assert.is(talker.pending(FrameType.ATTACK_RESULT).length, 0)
    } finally {
      raw.socket.destroy()
    }
  })
})

test('§4.4, §4.7: crossing into another zone — the new zone\'s PLAYER_JOINED arrive before the mover\'s PLAYER_MOVED; the old zone sees PLAYER_LEFT (reason 1)', async () => {
  await withGame({}, async (game) => {
    const mover = await game.player('x')
    const oldNeighbour = await game.player('old')
    const resident = await game.player('res')
    await resident.move(150, 50)
    await oldNeighbour.untilView((v) => !v.has(resident.playerId))
    const frames = record(mover)
    const crossed = await mover.move(120, 50)
    assert.is(crossed.zone, 1)
    const joinedAt = frames.findIndex((f) => f.type === FrameType.PLAYER_JOINED && decodePlayerJoined(f.payload).playerId === resident.playerId)
    const movedAt = frames.findIndex((f) => f.type === FrameType.PLAYER_MOVED && f.seq !== 0)
    assert.ok(joinedAt >= 0 && joinedAt < movedAt, `PLAYER_JOINED (at ${joinedAt}) before PLAYER_MOVED (at ${movedAt})`)
    const left = await oldNeighbour.next(FrameType.PLAYER_LEFT, (f) => decodePlayerLeft(f.payload).playerId === mover.playerId)
    assert.equal(decodePlayerLeft(left.payload), { playerId: mover.playerId, zone: 0, reason: LeaveReason.ZONE_CHANGE })
    await resident.untilView((v) => v.get(mover.playerId)?.x === 120)
    assert.equal([...mover.view.keys()], [resident.playerId])
  })
})

test('§4.8 view radius: players enter and leave each other\'s view (PLAYER_JOINED, PLAYER_LEFT reason 2) as they move; no entries outside the view', async () => {
  const radius = 10
  await withGame({ VIEW_RADIUS: String(radius) }, async (game) => {
    const a = await game.player('a')
    const b = await game.player('b')
    await a.untilView((v) => v.has(b.playerId)) // both at the spawn point: in view
    assert.ok(b.view.has(a.playerId), 'the snapshot')
    const aFrames = record(a)

    await a.move(5, 5) // cell (0, 0): b at the centre is out of view, both ways
    await a.untilView((v) => !v.has(b.playerId))
    await b.untilView((v) => !v.has(a.playerId))
    const leftFrame = aFrames.find((f) => f.type === FrameType.PLAYER_LEFT)!
    assert.equal(decodePlayerLeft(leftFrame.payload), { playerId: b.playerId, zone: 0, reason: LeaveReason.OUT_OF_VIEW })

    const entered = a.nextPositionOf(b.playerId, (e) => e.source === 'joined')
    await b.move(15, 5) // cell (1, 0): next to a's
    assert.equal([(await entered).x, (await entered).y], [15, 5], 'PLAYER_JOINED carries where it stands')
    await b.untilView((v) => v.get(a.playerId)?.x === 5)
    await b.move(12, 9) // within the radius on both axes: always seen
    await a.untilView((v) => v.get(b.playerId)?.x === 12)

    const leaving = a.next(FrameType.PLAYER_LEFT, (f) => decodePlayerLeft(f.payload).playerId === b.playerId)
    await b.move(35, 5) // cell (3, 0): out of a's view
    assert.is(decodePlayerLeft((await leaving).payload).reason, LeaveReason.OUT_OF_VIEW)
    for (let i = 0; i < 5; i++) await b.move(36 + i, 5)
    await b.connection.ping()
    await new Promise((resolve) => setTimeout(resolve, 150)) // past every tick of b's moves (ZONE_TICK_MAX_MS 50)
    assert.is(a.view.has(b.playerId), false)
    assert.is(a.strayUpdates, 0, 'no ZONE_UPDATE entry for b after it left a\'s view')
    assert.ok(aFrames.filter((f) => f.type === FrameType.ZONE_UPDATE).every((f) => !decodeZoneUpdate(f.payload, { zoneSize: ZONE_SIZE, positionBits: BITS }).entries.some((e) => e.playerId === b.playerId && e.x >= 35)))
  })
})

test('§4.6 with a view radius: a respawn far from where the player died — PLAYER_LEFT (reason 2) for those who no longer see it, PLAYER_JOINED before PLAYER_RESPAWNED for those who now do', async () => {
  await withGame({ VIEW_RADIUS: '10', MAX_HP: '10', ATTACK_DAMAGE: '10', ATTACK_COOLDOWN_MS: '0', RESPAWN_MS: '100' }, async (game) => {
    const [victim, attacker, watcher, spawnWatcher] = await Promise.all(['v', 'a', 'w', 's'].map((p) => game.player(p)))
    await victim!.move(5, 5)
    await attacker!.move(6, 5)
    await watcher!.move(7, 5)
    await watcher!.untilView((v) => v.get(victim!.playerId)?.x === 5 && v.get(attacker!.playerId)?.x === 6)
    await spawnWatcher!.untilView((v) => v.size === 0) // alone at the spawn point (the centre)
    const watcherFrames = record(watcher!)
    const spawnFrames = record(spawnWatcher!)
    const victimFrames = record(victim!)
    assert.is((await attacker!.attack(victim!.playerId)).killed, true)
    await spawnWatcher!.nextPositionOf(victim!.playerId, (e) => e.source === 'respawned')
    assert.equal(spawnWatcher!.view.get(victim!.playerId), { playerId: victim!.playerId, username: victim!.session!.username, zone: 0, x: 50, y: 50, hp: 10 })
    const kinds = (frames: ReceivedFrame[], id: number): number[] => frames.filter((f) => (f.type === FrameType.PLAYER_JOINED || f.type === FrameType.PLAYER_LEFT || f.type === FrameType.PLAYER_RESPAWNED) && f.payload.readUInt32LE(0) === id).map((f) => f.type)
    assert.equal(kinds(spawnFrames, victim!.playerId), [FrameType.PLAYER_JOINED, FrameType.PLAYER_RESPAWNED])
    await watcher!.untilView((v) => !v.has(victim!.playerId))
    assert.equal(kinds(watcherFrames, victim!.playerId), [FrameType.PLAYER_LEFT], 'no PLAYER_RESPAWNED for those who do not see the spawn point')
    assert.is(decodePlayerLeft(watcherFrames.find((f) => f.type === FrameType.PLAYER_LEFT)!.payload).reason, LeaveReason.OUT_OF_VIEW)
    // The respawned player's own picture: the spawn point's players, not the corner's.
    await victim!.untilView((v) => v.size === 1 && v.has(spawnWatcher!.playerId))
    assert.equal([victim!.self!.x, victim!.self!.y, victim!.self!.hp], [50, 50, 10])
    assert.ok(kinds(victimFrames, victim!.playerId).includes(FrameType.PLAYER_RESPAWNED))
    for (const c of [victim!, attacker!, watcher!, spawnWatcher!]) assert.is(c.strayUpdates, 0)
  })
})

test('§4.7: over a busy zone with a view radius every entry follows its PLAYER_JOINED and none follows PLAYER_LEFT, and each picture ends exactly right', async () => {
  const radius = 10
  await withGame({ VIEW_RADIUS: String(radius) }, async (game) => {
    const players = await Promise.all(Array.from({ length: 12 }, () => game.player('w')))
    const positions = new Map<number, { x: number; y: number }>(players.map((p) => [p.playerId, { x: 50, y: 50 }]))
    let seed = 2026
    const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24
    for (let step = 0; step < 25; step++) {
      await Promise.all(players.map(async (p) => {
        const at = positions.get(p.playerId)!
        const next = { x: Math.min(98, Math.max(1, Math.round(at.x + (random() - 0.5) * 30) + 0.5)), y: Math.min(98, Math.max(1, Math.round(at.y + (random() - 0.5) * 30) + 0.25)) }
        await p.move(next.x, next.y)
        positions.set(p.playerId, next)
      }))
    }
    for (const viewer of players) {
      const mine = positions.get(viewer.playerId)!
      const [column, row] = cellOf(mine.x, mine.y, radius)
      const expected = players.filter((p) => {
        if (p === viewer) return false
        const there = positions.get(p.playerId)!
        const [c, r] = cellOf(there.x, there.y, radius)
        return Math.abs(c - column) <= 1 && Math.abs(r - row) <= 1
      })
      const matches = (v: ReadonlyMap<number, { x: number; y: number }>): boolean =>
        v.size === expected.length && expected.every((p) => v.get(p.playerId)?.x === positions.get(p.playerId)!.x && v.get(p.playerId)?.y === positions.get(p.playerId)!.y)
      await viewer.untilView(matches, 3000).catch(() => {
        assert.unreachable(`player ${viewer.playerId} at (${mine.x}, ${mine.y}) sees ${JSON.stringify([...viewer.view.values()].map((p) => [p.playerId, p.x, p.y]))}, expected ${JSON.stringify(expected.map((p) => [p.playerId, positions.get(p.playerId)]))}`)
      })
      assert.is(viewer.strayUpdates, 0, 'an entry or respawn for a player not in view')
    }
  })
})

test.run()
