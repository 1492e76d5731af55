import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { malformed } from './assert-malformed.js'
import { isGameServerError } from '../../../app/errors.js'
import { encodeFrame } from '../../../app/protocol/header.js'
import { FrameType } from '../../../app/protocol/types.js'
import {
  decodeZoneUpdate,
  encodeZoneUpdate,
  MAX_QUANTISED_ZONE_SIZE,
  positionBitsFor,
  quantise,
  zoneUpdateCapacity,
  ZONE_UPDATE_ENTRY_BYTES,
  ZONE_UPDATE_PREFIX_BYTES,
} from '../../../app/protocol/zone-update.js'

test('position bits: the largest whole number with zone_size × 2^bits ≤ 65536 (capped at 15)', () => {
  const cases: [number, number][] = [[1000, 6], [1024, 6], [1025, 5], [2048, 5], [2049, 4], [100, 9], [MAX_QUANTISED_ZONE_SIZE, 0], [1, 15], [2, 15], [3, 14]]
  for (const [zoneSize, bits] of cases) assert.is(positionBitsFor(zoneSize), bits, `zone size ${zoneSize}`)
  for (const bad of [0, 0.5, MAX_QUANTISED_ZONE_SIZE + 1, Number.NaN]) assert.throws(() => positionBitsFor(bad), RangeError)
})

test('quantise rounds to the nearest step and clamps to u16', () => {
  assert.is(quantise(502.5, 6), 32160)
  assert.is(quantise(10.25, 6), 656)
  assert.is(quantise(1 / 128, 6), 1) // a half step rounds up
  assert.is(quantise(1 / 129, 6), 0)
  assert.is(quantise(-3, 6), 0)
  assert.is(quantise(1024, 6), 0xffff)
})

test('the worked example of docs/PROTOCOL.md §4.8 is what the codec produces, and decodes back', () => {
  const geometry = { zoneSize: 1000, positionBits: 6 }
  const update = { zone: 0, entries: [{ playerId: 42, x: 502.5, y: 500 }, { playerId: 7, x: 10.25, y: 3 }] }
  const frame = encodeFrame(FrameType.ZONE_UPDATE, 0, 0, encodeZoneUpdate(update, geometry))
  assert.is(frame.toString('hex'), '20000a800000000000000000' + '0000' + '0200' + '2a000000' + 'a07d' + '007d' + '07000000' + '9002' + 'c000')
  assert.equal(decodeZoneUpdate(frame.subarray(12), geometry), update)
})

test('positions are zone-local: zone × zone_size is added back; steps of 2^-bits are exact', () => {
  const geometry = { zoneSize: 2048, positionBits: positionBitsFor(2048) }
  const update = { zone: 3, entries: [{ playerId: 1, x: 3 * 2048 + 1414 + 31 / 32, y: 2047 + 1 / 32 }, { playerId: 0xfffffffe, x: 3 * 2048, y: 0 }] }
  const payload = encodeZoneUpdate(update, geometry)
  assert.is(payload.length, ZONE_UPDATE_PREFIX_BYTES + 2 * ZONE_UPDATE_ENTRY_BYTES)
  assert.is(payload.readUInt16LE(0), 3)
  assert.is(payload.readUInt16LE(2), 2)
  assert.is(payload.readUInt16LE(8), (1414 * 32) + 31)
  assert.equal(decodeZoneUpdate(payload, geometry), update)
  // A position between steps comes back rounded to the nearest step.
  const rounded = decodeZoneUpdate(encodeZoneUpdate({ zone: 0, entries: [{ playerId: 5, x: 100.005, y: 99.995 }] }, { zoneSize: 1000, positionBits: 6 }), { zoneSize: 1000, positionBits: 6 })
  assert.equal(rounded.entries[0], { playerId: 5, x: 100, y: 100 })
})

test('capacity: entries that fit one frame (2,046 at the default MAX_FRAME_BYTES of 16384: 12 + 4 + 2,046 × 8 = 16,384)', () => {
  assert.is(zoneUpdateCapacity(16384), 2046)
  assert.is(zoneUpdateCapacity(128), 14)
  assert.is(12 + ZONE_UPDATE_PREFIX_BYTES + zoneUpdateCapacity(128) * ZONE_UPDATE_ENTRY_BYTES <= 128, true)
})

test('malformed: shorter than the prefix, or a length that does not match the count', () => {
  const geometry = { zoneSize: 1000, positionBits: 6 }
  const good = encodeZoneUpdate({ zone: 1, entries: [{ playerId: 1, x: 1001, y: 1 }] }, geometry)
  malformed(() => decodeZoneUpdate(Buffer.alloc(3), geometry))
  malformed(() => decodeZoneUpdate(good.subarray(0, good.length - 1), geometry))
  malformed(() => decodeZoneUpdate(Buffer.concat([good, Buffer.alloc(8)]), geometry))
  let seed = 777
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.alloc(next() % 40)
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff
    try {
      decodeZoneUpdate(bytes, geometry)
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_PAYLOAD_MALFORMED'), String(err))
    }
  }
})

test.run()
