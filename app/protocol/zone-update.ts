/**
 * ZONE_UPDATE (0x800A, docs/PROTOCOL.md §4.8): the positions of the players of one part of a zone
 * that moved since the zone's previous tick, encoded once per tick and sent as the same bytes to
 * everyone who sees that part (seq 0, player_id 0).
 *
 *   u16 zone · u16 count · count × (u32 player_id · u16 qx · u16 qy)
 *
 * Positions are zone-local and quantised to 2^-bits units, where bits is the largest whole number
 * with ZONE_SIZE × 2^bits ≤ 65536 (LOGIN_OK names it): x = zone × ZONE_SIZE + qx / 2^bits,
 * y = qy / 2^bits. A power-of-two step keeps every position that is a multiple of it exact (1/64
 * of a unit at the default ZONE_SIZE of 1000), and 8 bytes per mover replace a 26-byte PLAYER_MOVED
 * frame per mover and recipient.
 */
import { GameServerError } from '../errors.js'
import { HEADER_BYTES } from './header.js'

export const ZONE_UPDATE_PREFIX_BYTES = 4
export const ZONE_UPDATE_ENTRY_BYTES = 8
/** The largest ZONE_SIZE a u16 position can cover at a step of one unit. */
export const MAX_QUANTISED_ZONE_SIZE = 65536
const MAX_POSITION_BITS = 15

/** Fractional bits of a quantised position for a zone size (ZONE_SIZE × 2^bits ≤ 65536). */
export function positionBitsFor(zoneSize: number): number {
  if (!(zoneSize >= 1 && zoneSize <= MAX_QUANTISED_ZONE_SIZE)) throw new RangeError(`zone size ${zoneSize} is not in 1…${MAX_QUANTISED_ZONE_SIZE}`)
  return Math.min(MAX_POSITION_BITS, Math.floor(Math.log2(MAX_QUANTISED_ZONE_SIZE / zoneSize)))
}

/** A zone-local coordinate (0 ≤ local < ZONE_SIZE) as a u16 in steps of 2^-bits, rounded to nearest. */
export function quantise(local: number, bits: number): number {
  const q = Math.round(local * 2 ** bits)
  return q < 0 ? 0 : q > 0xffff ? 0xffff : q
}

/** Entries that fit one ZONE_UPDATE frame of at most `maxFrameBytes`. */
export function zoneUpdateCapacity(maxFrameBytes: number): number {
  return Math.min(0xffff, Math.floor((maxFrameBytes - HEADER_BYTES - ZONE_UPDATE_PREFIX_BYTES) / ZONE_UPDATE_ENTRY_BYTES))
}

/** Write one entry at `at` (the caller sized the frame). */
export function writeZoneUpdateEntry(target: Buffer, at: number, playerId: number, qx: number, qy: number): void {
  target[at] = playerId & 0xff
  target[at + 1] = (playerId >>> 8) & 0xff
  target[at + 2] = (playerId >>> 16) & 0xff
  target[at + 3] = playerId >>> 24
  target[at + 4] = qx & 0xff
  target[at + 5] = qx >>> 8
  target[at + 6] = qy & 0xff
  target[at + 7] = qy >>> 8
}

interface ZoneUpdateEntry {
  readonly playerId: number
  /** World coordinates. */
  readonly x: number
  readonly y: number
}

export interface ZoneUpdate {
  readonly zone: number
  readonly entries: readonly ZoneUpdateEntry[]
}

/** The geometry LOGIN_OK announces, needed to turn quantised positions into world coordinates. */
export interface ZoneGeometry {
  readonly zoneSize: number
  readonly positionBits: number
}

/** Encode a ZONE_UPDATE payload (tests and tools; the server writes frames in place). */
export function encodeZoneUpdate(update: ZoneUpdate, geometry: ZoneGeometry): Buffer {
  const payload = Buffer.allocUnsafe(ZONE_UPDATE_PREFIX_BYTES + update.entries.length * ZONE_UPDATE_ENTRY_BYTES)
  payload.writeUInt16LE(update.zone, 0)
  payload.writeUInt16LE(update.entries.length, 2)
  const origin = update.zone * geometry.zoneSize
  let at = ZONE_UPDATE_PREFIX_BYTES
  for (const entry of update.entries) {
    writeZoneUpdateEntry(payload, at, entry.playerId, quantise(entry.x - origin, geometry.positionBits), quantise(entry.y, geometry.positionBits))
    at += ZONE_UPDATE_ENTRY_BYTES
  }
  return payload
}

export function decodeZoneUpdate(payload: Buffer, geometry: ZoneGeometry): ZoneUpdate {
  if (payload.length < ZONE_UPDATE_PREFIX_BYTES) throw malformed({ bytes: payload.length })
  const zone = payload.readUInt16LE(0)
  const count = payload.readUInt16LE(2)
  if (payload.length !== ZONE_UPDATE_PREFIX_BYTES + count * ZONE_UPDATE_ENTRY_BYTES) throw malformed({ bytes: payload.length, count })
  const step = 2 ** -geometry.positionBits
  const origin = zone * geometry.zoneSize
  const entries: ZoneUpdateEntry[] = new Array(count)
  for (let i = 0, at = ZONE_UPDATE_PREFIX_BYTES; i < count; i++, at += ZONE_UPDATE_ENTRY_BYTES) {
    entries[i] = { playerId: payload.readUInt32LE(at), x: origin + payload.readUInt16LE(at + 4) * step, y: payload.readUInt16LE(at + 6) * step }
  }
  return { zone, entries }
}

function malformed(context: Record<string, unknown>): GameServerError {
  return new GameServerError('GS_ERR_PAYLOAD_MALFORMED', 'ZONE_UPDATE payload is malformed', context)
}
