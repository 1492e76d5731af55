/**
 * The typed client's picture of its zone (docs/PROTOCOL.md §4.7–§4.8, the six client rules) against
 * a scripted server on loopback: the frames are written by the test, byte for byte, so every rule is
 * exercised whatever the real server does.
 */
import { once } from 'node:events'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../../app/client/game-client.js'
import { isGameServerError } from '../../../app/errors.js'
import { encodeBatch } from '../../../app/protocol/batch.js'
import { encodeErrorPayload } from '../../../app/protocol/error-frame.js'
import { encodeFrame } from '../../../app/protocol/header.js'
import {
  ChatFlags,
  decodeChatMessage,
  encodeAttackResult,
  encodeChatMessage,
  encodeLoginOk,
  encodePlayerJoined,
  encodePlayerLeft,
  encodePlayerMoved,
  encodePlayerRespawned,
  LeaveReason,
  type LoginOk,
} from '../../../app/protocol/messages.js'
import { FrameType, WireError } from '../../../app/protocol/types.js'
import { encodeZoneUpdate } from '../../../app/protocol/zone-update.js'
import { eventually } from '../../harness/eventually.js'

const ME = 10
const GEOMETRY = { zoneSize: 1000, positionBits: 6 }
const LOGIN: LoginOk = { playerId: ME, zone: 0, x: 500, y: 500, hp: 100, maxHp: 100, tokenTtlSeconds: 7200, token: 't'.repeat(43), username: 'me', protocolVersion: 2, ...GEOMETRY, viewRadius: 0 }

interface ClientFrame {
  readonly type: number
  readonly seq: number
  readonly payload: Buffer
}

/** One scripted connection: the test reads the client's frames and writes the server's. */
class Script {
  private pending = Buffer.alloc(0)
  private readonly frames: ClientFrame[] = []
  private wake: (() => void) | null = null
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk])
      while (this.pending.length >= 12 && this.pending.length >= this.pending.readUInt16LE(0)) {
        const size = this.pending.readUInt16LE(0)
        this.frames.push({ type: this.pending.readUInt16LE(2), seq: this.pending.readUInt32LE(4), payload: Buffer.from(this.pending.subarray(12, size)) })
        this.pending = this.pending.subarray(size)
      }
      this.wake?.()
    })
    socket.on('error', () => {})
  }

  async request(type: number): Promise<ClientFrame> {
    await eventually(() => this.frames.length > 0, 2000, `a frame of type ${type} from the client`)
    const frame = this.frames.shift()!
    assert.is(frame.type, type)
    return frame
  }

  write(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames))
  }
}

/** A client connected to a fresh scripted server; both closed after `body`, whatever it throws. */
async function withScriptedClient(body: (server: Awaited<ReturnType<typeof scripted>>, client: GameClient) => Promise<void>): Promise<void> {
  const server = await scripted()
  const client = await GameClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 })
  try {
    await body(server, client)
  } finally {
    await client.close()
    await server.close()
  }
}

async function scripted(): Promise<{ server: Server; port: number; accepted: () => Promise<Script>; close: () => Promise<void> }> {
  const server = createServer()
  const sockets: Socket[] = []
  server.on('connection', (s) => sockets.push(s))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    server,
    port,
    accepted: async () => {
      await eventually(() => sockets.length > 0, 2000, 'the client to connect')
      return new Script(sockets.shift()!)
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}

const zoneUpdate = (zone: number, entries: { playerId: number; x: number; y: number }[]): Buffer => encodeFrame(FrameType.ZONE_UPDATE, 0, 0, encodeZoneUpdate({ zone, entries }, GEOMETRY))
const joined = (playerId: number, zone: number, x: number, y: number, hp = 100, username = `p${playerId}`): Buffer => encodeFrame(FrameType.PLAYER_JOINED, 0, ME, encodePlayerJoined({ playerId, zone, x, y, hp, username }))
const left = (playerId: number, zone: number, reason: number = LeaveReason.OUT_OF_VIEW): Buffer => encodeFrame(FrameType.PLAYER_LEFT, 0, ME, encodePlayerLeft({ playerId, zone, reason }))
const chat = (senderId: number, seq: number, text: string, flags = 0): Buffer => encodeFrame(FrameType.CHAT_MESSAGE, seq, seq === 0 && flags === 0 ? 0 : ME, encodeChatMessage({ senderId, zone: 0, flags, sentAtMs: 1, username: `p${senderId}`, text }))

async function loggedIn(script: Promise<Script>, client: GameClient, login: LoginOk = LOGIN, snapshot: Buffer[] = []): Promise<Script> {
  const registered = client.register('me', 'password1')
  const s = await script
  const register = await s.request(FrameType.REGISTER)
  assert.is(register.payload.at(-1), 2, 'REGISTER ends with the protocol version byte')
  // LOGIN_OK and the zone snapshot in one BATCH, as the server packs them: the view must exist before the snapshot is applied.
  s.write(encodeBatch([encodeFrame(FrameType.LOGIN_OK, register.seq, login.playerId, encodeLoginOk(login)), ...snapshot], { compress: true, seq: 1, playerId: login.playerId }))
  await registered
  return s
}

test('the snapshot after LOGIN_OK (same BATCH) fills the view; ZONE_UPDATE entries move players, ours moves `self`, strays are counted', async () => {
  await withScriptedClient(async (server, client) => {
    const s = await loggedIn(server.accepted(), client, LOGIN, [joined(11, 0, 10, 10, 90, 'bob'), joined(12, 0, 20, 20)])
    assert.equal([...client.view.keys()].sort(), [11, 12])
    assert.equal(client.view.get(11), { playerId: 11, username: 'bob', zone: 0, x: 10, y: 10, hp: 90 })

    const seen = client.nextPositionOf(11)
    s.write(zoneUpdate(0, [{ playerId: 11, x: 502.5, y: 500 }, { playerId: ME, x: 1, y: 2 }, { playerId: 99, x: 3, y: 3 }]))
    const event = await seen
    assert.equal({ ...event, receivedAt: 0 }, { playerId: 11, zone: 0, x: 502.5, y: 500, source: 'update', receivedAt: 0 })
    await eventually(() => client.self?.x === 1, 2000, 'our own entry')
    assert.equal([client.self!.x, client.self!.y], [1, 2])
    assert.is(client.strayUpdates, 1, 'an entry for a player not in view is ignored and counted')
    assert.is(client.view.has(99), false)
    // next(type) still sees ZONE_UPDATE frames: they go to the inbox like every push.
    assert.is((await client.next(FrameType.ZONE_UPDATE)).payload.readUInt16LE(2), 3)
  })
})

test('PLAYER_JOINED replaces, PLAYER_LEFT removes (ignored when absent), no entries count after LEFT; BATCH with seq 0 handled in order', async () => {
  await withScriptedClient(async (server, client) => {
    const s = await loggedIn(server.accepted(), client, LOGIN, [joined(11, 0, 10, 10), joined(12, 0, 20, 20)])
    s.write(joined(11, 0, 5, 6, 50, 'bob2'), left(12, 0), left(77, 0))
    await client.untilView((v) => !v.has(12) && v.get(11)?.hp === 50)
    assert.equal(client.view.get(11), { playerId: 11, username: 'bob2', zone: 0, x: 5, y: 6, hp: 50 })
    assert.is(client.view.size, 1)
    // A zone-stream BATCH (seq 0, player_id 0): the entry is applied, then the player leaves.
    const moved = client.nextPositionOf(11, (e) => e.x === 7)
    s.write(encodeBatch([zoneUpdate(0, [{ playerId: 11, x: 7, y: 8 }]), ...Array.from({ length: 40 }, () => zoneUpdate(0, [{ playerId: ME, x: 7, y: 8 }])), left(11, 0, LeaveReason.DISCONNECTED)], { compress: true, seq: 0, playerId: 0 }))
    assert.is((await moved).y, 8)
    await client.untilView((v) => v.size === 0)
    assert.is(client.strayUpdates, 0)
    s.write(zoneUpdate(0, [{ playerId: 12, x: 1, y: 1 }]))
    await eventually(() => client.strayUpdates === 1, 2000, 'the stray entry')
  })
})

test('respawns and hits update hit points; our own live stream copies stay out of the inbox, history and others\' copies do not', async () => {
  await withScriptedClient(async (server, client) => {
    const s = await loggedIn(server.accepted(), client, LOGIN, [joined(11, 0, 10, 10)])
    const attack = client.attack(11)
    const request = await s.request(FrameType.ATTACK)
    const result = encodeAttackResult({ attackerId: ME, targetId: 11, damage: 100, targetHp: 0, killed: true })
    s.write(encodeFrame(FrameType.ATTACK_RESULT, request.seq, ME, result))
    assert.is((await attack).killed, true)
    assert.is(client.view.get(11)!.hp, 0)
    s.write(
      encodeFrame(FrameType.ATTACK_RESULT, 0, 0, result), // our own stream copy
      encodeFrame(FrameType.ATTACK_RESULT, 0, 0, encodeAttackResult({ attackerId: 11, targetId: ME, damage: 10, targetHp: 90, killed: false })),
      chat(ME, 0, 'mine, live'),
      chat(ME, 0, 'mine, history', ChatFlags.HISTORY),
      chat(11, 0, 'theirs'),
      encodeFrame(0x8123, 0, 0, Buffer.from('a later pushed type')),
      encodeFrame(FrameType.PLAYER_RESPAWNED, 0, ME, encodePlayerRespawned({ playerId: 11, zone: 0, x: 500, y: 500, hp: 100 })),
    )
    const respawn = await client.nextPositionOf(11, (e) => e.source === 'respawned')
    assert.equal([respawn.x, respawn.y], [500, 500])
    assert.is(client.view.get(11)!.hp, 100)
    assert.is(client.self!.hp, 90)
    assert.equal(client.pending(FrameType.CHAT_MESSAGE).map((f) => decodeChatMessage(f.payload).text), ['mine, history', 'theirs'])
    assert.equal(client.pending(FrameType.ATTACK_RESULT).map((f) => f.payload.readUInt32LE(0)), [11])
    assert.is(client.pending(0x8123).length, 1, 'an unknown pushed type changes nothing (it waits in the inbox)')
  })
})

test('our zone changes: the new zone\'s PLAYER_JOINED (before our PLAYER_MOVED) are kept, the old zone\'s players forgotten', async () => {
  await withScriptedClient(async (server, client) => {
    const s = await loggedIn(server.accepted(), client, LOGIN, [joined(11, 0, 990, 10), joined(12, 0, 20, 20)])
    const move = client.move(1005, 10)
    const request = await s.request(FrameType.MOVE)
    s.write(joined(13, 1, 1010, 10), encodeFrame(FrameType.PLAYER_MOVED, request.seq, ME, encodePlayerMoved({ playerId: ME, zone: 1, x: 1005, y: 10 })))
    assert.equal(await move, { playerId: ME, zone: 1, x: 1005, y: 10 })
    assert.equal([...client.view.keys()], [13])
    assert.equal([client.self!.zone, client.self!.x], [1, 1005])
    s.write(zoneUpdate(1, [{ playerId: 13, x: 1500.25, y: 999.984375 }]))
    const at = await client.nextPositionOf(13)
    assert.equal([at.zone, at.x, at.y], [1, 1500.25, 999.984375])
  })
})

test('trackView false: no view and no waits on it; inboxCapacity 0 keeps nothing', async () => {
  const server = await scripted()
  const client = await GameClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 2000, trackView: false, inboxCapacity: 0 })
  try {
    const s = await loggedIn(server.accepted(), client, LOGIN, [joined(11, 0, 10, 10)])
    const marker = client.next(FrameType.CHAT_MESSAGE) // a live waiter still sees pushes
    s.write(zoneUpdate(0, [{ playerId: 11, x: 1, y: 1 }]), chat(11, 0, 'after the update'))
    await marker
    assert.is(client.view.size, 0)
    assert.is(client.self, null)
    assert.is(client.session!.playerId, ME)
    assert.is(client.pending().length, 0)
    assert.throws(() => client.nextPositionOf(11))
  } finally {
    await client.close()
    await server.close()
  }
})

test('a LOGIN_OK naming a version this client does not speak: the request rejects and the client closes the connection', async () => {
  const server = await scripted()
  const client = await GameClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 })
  try {
    await loggedIn(server.accepted(), client, { ...LOGIN, protocolVersion: 3 })
    assert.unreachable('the login should have been refused by the client')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_CLIENT_CLOSED'), String(err))
    assert.is(err.context.protocolVersion, 3)
    await client.connection.closed
  } finally {
    await server.close()
  }
})

test('a malformed ZONE_UPDATE closes the connection with the decode error', async () => {
  const server = await scripted()
  const client = await GameClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 })
  try {
    const s = await loggedIn(server.accepted(), client)
    const waiting = client.nextPositionOf(11)
    s.write(encodeFrame(FrameType.ZONE_UPDATE, 0, 0, Buffer.from([0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0])))
    await client.connection.closed
    assert.ok(isGameServerError(client.connection.error, 'GS_ERR_PAYLOAD_MALFORMED'))
    try {
      await waiting
      assert.unreachable('the wait should reject')
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_CLIENT_CLOSED'), String(err))
    }
  } finally {
    await server.close()
  }
})

test('closed by the server after an ERROR with ref_seq 0: waiting requests reject with its wire code as the reason', async () => {
  const server = await scripted()
  const client = await GameClient.connect({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 })
  try {
    const registered = client.register('me', 'password1')
    const s = await server.accepted()
    await s.request(FrameType.REGISTER)
    s.write(encodeFrame(FrameType.ERROR, 0, 0, encodeErrorPayload(WireError.TOO_MANY_CONNECTIONS, 0, 'too many connections from your address')))
    s.socket.end()
    try {
      await registered
      assert.unreachable('the register should reject')
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_CLIENT_CLOSED'), String(err))
      assert.is(err.context.wireCode, WireError.TOO_MANY_CONNECTIONS)
    }
    assert.is(client.connection.serverCloseCode, WireError.TOO_MANY_CONNECTIONS)
  } finally {
    await server.close()
  }
})

test.run()
