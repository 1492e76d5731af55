import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { malformed } from './assert-malformed.js'
import { isGameServerError } from '../../../app/errors.js'
import { encodeFrame } from '../../../app/protocol/header.js'
import * as m from '../../../app/protocol/messages.js'
import { PROTOCOL_VERSION } from '../../../app/protocol/types.js'

test('REGISTER and LOGIN (password, token) round-trip, with UTF-8 and the protocol version byte', () => {
  const creds = { username: 'alice_01', password: 'pässwörd ✓' }
  const version = PROTOCOL_VERSION
  assert.equal(m.decodeRegister(m.encodeRegister(creds)), { ...creds, version })
  assert.equal(m.decodeLogin(m.encodeLogin({ mode: 'password', ...creds })), { mode: 'password', ...creds, version })
  assert.equal(m.decodeLogin(m.encodeLogin({ mode: 'token', token: 'abc-_XYZ' })), { mode: 'token', token: 'abc-_XYZ', version })
  assert.equal(m.decodeLogin(m.encodeLogin({ mode: 'token', token: 'T' }, 9)), { mode: 'token', token: 'T', version: 9 })
})

test('the version byte is optional (absent → undefined), 0 is malformed, and encoders refuse values outside 1…255', () => {
  const creds = { username: 'ab', password: 'c' }
  assert.equal(m.decodeRegister(m.encodeRegister(creds, null)), { ...creds, version: undefined })
  assert.equal(m.decodeLogin(m.encodeLogin({ mode: 'password', ...creds }, null)), { mode: 'password', ...creds, version: undefined })
  assert.equal(m.decodeLogin(m.encodeLogin({ mode: 'token', token: 'T' }, null)), { mode: 'token', token: 'T', version: undefined })
  malformed(() => m.decodeRegister(Buffer.from([2, 0x61, 0x62, 1, 0x63, 0])))
  malformed(() => m.decodeLogin(Buffer.from([1, 1, 0x54, 0])))
  malformed(() => m.decodeLogin(Buffer.from([1, 1, 0x54, 2, 2]))) // one byte too many
  for (const bad of [0, 256, 1.5]) assert.throws(() => m.encodeRegister(creds, bad), RangeError)
})

test('byte layouts are the documented ones', () => {
  assert.equal([...m.encodeRegister({ username: 'ab', password: 'c' })], [2, 0x61, 0x62, 1, 0x63, PROTOCOL_VERSION])
  assert.equal([...m.encodeLogin({ mode: 'token', token: 'T' })], [1, 1, 0x54, PROTOCOL_VERSION])
  assert.equal([...m.encodeLogin({ mode: 'password', username: 'a', password: 'b' }, 3)], [0, 1, 0x61, 1, 0x62, 3])
  const move = m.encodeMove({ x: 1.5, y: -2 })
  assert.is(move.length, 8)
  assert.is(move.readFloatLE(0), 1.5)
  assert.is(move.readFloatLE(4), -2)
  assert.equal([...m.encodeAttack({ targetId: 0x01020304 })], [4, 3, 2, 1])
  const moved = m.encodePlayerMoved({ playerId: 7, zone: 3, x: 1, y: 2 })
  assert.is(moved.length, 14)
  assert.is(moved.readUInt32LE(0), 7)
  assert.is(moved.readUInt16LE(4), 3)
})

test('server messages round-trip', () => {
  const loginOk = { playerId: 42, zone: 1, x: 150.5, y: 50.25, hp: 90, maxHp: 100, tokenTtlSeconds: 7200, token: 'tok'.repeat(10), username: 'bob', protocolVersion: 2, positionBits: 6, zoneSize: 1000, viewRadius: 62.5 }
  assert.equal(m.decodeLoginOk(m.encodeLoginOk(loginOk)), loginOk)
  const moved = { playerId: 1, zone: 0, x: 3.25, y: 4.5 }
  assert.equal(m.decodePlayerMoved(m.encodePlayerMoved(moved)), moved)
  const chat = { senderId: 9, zone: 2, flags: m.ChatFlags.HISTORY, sentAtMs: 1_790_000_000_123, username: 'carol', text: 'héllo 👋' }
  assert.equal(m.decodeChatMessage(m.encodeChatMessage(chat)), chat)
  const attack = { attackerId: 1, targetId: 2, damage: 10, targetHp: 0, killed: true }
  assert.equal(m.decodeAttackResult(m.encodeAttackResult(attack)), attack)
  const joined = { playerId: 5, zone: 1, x: 10, y: 20, hp: 100, username: 'dave' }
  assert.equal(m.decodePlayerJoined(m.encodePlayerJoined(joined)), joined)
  const left = { playerId: 5, zone: 1, reason: m.LeaveReason.ZONE_CHANGE }
  assert.equal(m.decodePlayerLeft(m.encodePlayerLeft(left)), left)
  const respawned = { playerId: 5, zone: 1, x: 150, y: 50, hp: 100 }
  assert.equal(m.decodePlayerRespawned(m.encodePlayerRespawned(respawned)), respawned)
  assert.is(m.decodeChat(m.encodeChat('plain text ✓')), 'plain text ✓')
})

test('LOGIN_OK layout: the version, position bits, zone size and view radius follow the username', () => {
  const ok = m.encodeLoginOk({ playerId: 1, zone: 0, x: 0, y: 0, hp: 1, maxHp: 1, tokenTtlSeconds: 1, token: 'tk', username: 'ann', protocolVersion: 2, positionBits: 6, zoneSize: 1000, viewRadius: 0 })
  const tail = 22 + 1 + 2 + 1 + 3 // fixed fields, str8 token, str8 username
  assert.is(ok.length, tail + 1 + 1 + 4 + 4)
  assert.equal([ok[tail], ok[tail + 1]], [2, 6])
  assert.is(ok.readUInt32LE(tail + 2), 1000)
  assert.is(ok.readFloatLE(tail + 6), 0)
  malformed(() => m.decodeLoginOk(ok.subarray(0, tail))) // a version 1 LOGIN_OK
  malformed(() => m.decodeLoginOk(Buffer.concat([ok, Buffer.from([0])])))
})

test('chat text is cut on a character boundary to fit', () => {
  const encoded = m.encodeChatMessage({ senderId: 1, zone: 0, flags: 0, sentAtMs: 0, username: 'u', text: 'aé👋' }, 4)
  assert.is(m.decodeChatMessage(encoded).text, 'aé') // 'a' + 2-byte 'é' = 3 bytes; the 4-byte emoji does not fit
})

test('malformed payloads: truncated, trailing bytes, bad mode, bad UTF-8, non-finite floats', () => {
  malformed(() => m.decodeRegister(Buffer.from([5, 0x61])))
  malformed(() => m.decodeRegister(Buffer.from([1, 0x61, 1, 0x62, 2, 0xff]))) // a byte after the version
  malformed(() => m.decodeLogin(Buffer.from([2, 1, 0x61])))
  malformed(() => m.decodeLogin(Buffer.alloc(0)))
  malformed(() => m.decodeMove(Buffer.alloc(7)))
  malformed(() => m.decodeMove(Buffer.alloc(9)))
  const nan = Buffer.alloc(8)
  nan.writeFloatLE(Number.NaN, 0)
  malformed(() => m.decodeMove(nan))
  const inf = Buffer.alloc(8)
  inf.writeFloatLE(Number.POSITIVE_INFINITY, 4)
  malformed(() => m.decodeMove(inf))
  malformed(() => m.decodeAttack(Buffer.alloc(3)))
  malformed(() => m.decodeChat(Buffer.from([0xc3, 0x28])))
  malformed(() => m.decodeRegister(Buffer.from([2, 0xc3, 0x28, 0])))
})

test('decoders never throw anything but GS_ERR_PAYLOAD_MALFORMED on arbitrary bytes (seeded)', () => {
  let seed = 12345
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16
  const decoders = [m.decodeRegister, m.decodeLogin, m.decodeMove, m.decodeAttack, m.decodeChat, m.decodeLoginOk, m.decodePlayerMoved, m.decodeChatMessage, m.decodeAttackResult, m.decodePlayerJoined, m.decodePlayerLeft, m.decodePlayerRespawned]
  for (let i = 0; i < 5_000; i++) {
    const bytes = Buffer.alloc(next() % 40)
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff
    for (const decode of decoders) {
      try {
        decode(bytes)
      } catch (err) {
        if (!isGameServerError(err, 'GS_ERR_PAYLOAD_MALFORMED')) throw err
      }
    }
  }
})

test('the worked examples of docs/PROTOCOL.md §1.3 are what the codecs produce', () => {
  const hex = (b: Buffer): string => b.toString('hex')
  assert.is(hex(encodeFrame(7, 1, 0, m.encodeRegister({ username: 'ann', password: 'password' }))), '1a0007000100000000000000' + '03616e6e' + '0870617373776f7264' + '02')
  // Without the (optional) version byte: 25 bytes, the server's current version.
  assert.is(hex(encodeFrame(7, 1, 0, m.encodeRegister({ username: 'ann', password: 'password' }, null))), '190007000100000000000000' + '03616e6e' + '0870617373776f7264')
  assert.is(hex(encodeFrame(1, 2, 42, m.encodeMove({ x: 502.5, y: 500 }))), '14000100020000002a000000' + '0040fb43' + '0000fa43')
  assert.is(hex(encodeFrame(4, 3, 0, Buffer.from('hi'))), '0e0004000300000000000000' + '6869')
})

test.run()
