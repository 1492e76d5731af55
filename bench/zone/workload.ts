/**
 * The zone-replication workload, the same for every server: P players in one zone (or room), each
 * walking and sending its position MOVE_RATE times a second on an absolute schedule.
 *
 * Every position a player sends is unique within the last MOVE_RING moves of that player, so an
 * observer that receives a position — as an entry of our ZONE_UPDATE, a PLAYER_JOINED or a Colyseus
 * schema patch — maps it back to the move that produced it and so to that move's send time, without any
 * extra field on the wire. The move number n is carried in the fractional parts of the position:
 *
 *   x = walkX + (n mod 32) / 32,   y = walkY + ((n >> 5) mod 32) / 32
 *
 * where walkX, walkY are integers (a bounded random walk of ±1 unit per move). With the integer
 * part below 2^18 every such value is exact in float32 (18 + 5 bits ≤ 24), which is what Colyseus
 * carries. Our ZONE_UPDATE carries zone-local positions quantised to 2^-position_bits with
 * ZONE_SIZE × 2^position_bits ≤ 65536 (docs/PROTOCOL.md §4.8), exact for these values while
 * position_bits ≥ 5: so a zone is at most MAX_ZONE_SIDE = 2048 units wide (zoneSideFor).
 */

/** The Colyseus room type of the workload (colyseus-server.ts defines it, colyseus-transport.ts joins it). */
export const COLYSEUS_ROOM_NAME = 'zone'

/** Moves remembered per player; an update older than this many moves would alias (100 s at 10/s). */
export const MOVE_RING = 1024
/** Largest integer coordinate that keeps x and y exact in float32 with 5 fractional bits. */
export const MAX_COORDINATE = 2 ** 18 - 2
/** Largest zone side whose quantised positions (u16 in steps of 2^-position_bits) keep 5 fractional bits: 2048 × 2^5 = 65536. */
export const MAX_ZONE_SIDE = 2048

/** `packed`: everybody within a 100 × 100 square (a crowded town square; everyone observes everyone). `spread`: uniform over the whole zone (see zoneSideFor). */
export type Layout = 'packed' | 'spread'
export const LAYOUTS: readonly Layout[] = ['packed', 'spread']

/** One player every 400 square units in the spread layout: about 78 players within a view radius of 100. */
const SPREAD_UNITS_PER_PLAYER = 400
const PACKED_SQUARE = 100
const PACKED_ZONE_SIDE = 1000

/**
 * The zone's side in world units for a layout and a player count (one square zone): 1000 packed;
 * spread, one player per 400 square units (1,415 at 5,000 players). Throws when the zone would be
 * wider than MAX_ZONE_SIDE (over 10,485 players spread), where our quantised positions could not
 * carry the move number exactly.
 */
export function zoneSideFor(layout: Layout, players: number): number {
  if (layout === 'packed') return PACKED_ZONE_SIDE
  const side = Math.max(PACKED_ZONE_SIDE, Math.ceil(Math.sqrt(players * SPREAD_UNITS_PER_PLAYER)))
  if (side > MAX_ZONE_SIDE) {
    throw new RangeError(`${players} players spread need a zone of ${side} units; at most ${MAX_ZONE_SIDE} keeps positions exact to 1/32 unit (ZONE_UPDATE quantisation), i.e. at most ${Math.floor((MAX_ZONE_SIDE * MAX_ZONE_SIDE) / SPREAD_UNITS_PER_PLAYER)} players`)
  }
  return side
}

/** The area players walk in: [min, max] on both axes (integers). */
export interface WalkArea {
  readonly min: number
  readonly max: number
}

export function walkAreaFor(layout: Layout, zoneSide: number): WalkArea {
  if (layout === 'packed') {
    const min = Math.floor((zoneSide - PACKED_SQUARE) / 2)
    return { min, max: min + PACKED_SQUARE - 1 }
  }
  return { min: 1, max: zoneSide - 2 }
}

/** The position of move `n` for a walker at integer (walkX, walkY). */
export function encodePosition(walkX: number, walkY: number, n: number): { x: number; y: number } {
  return { x: walkX + (n & 31) / 32, y: walkY + ((n >> 5) & 31) / 32 }
}

/** n mod MOVE_RING from a received position; -1 when the position was not made by encodePosition. */
export function moveSlotOf(x: number, y: number): number {
  const lo = (x - Math.floor(x)) * 32
  const hi = (y - Math.floor(y)) * 32
  if (!Number.isInteger(lo) || !Number.isInteger(hi)) return -1
  return lo | (hi << 5)
}

/** A bounded random walk on integer coordinates, one step of -1, 0 or +1 per axis per move. */
export class Walker {
  x: number
  y: number
  constructor(private readonly area: WalkArea, private readonly random: () => number) {
    this.x = area.min + Math.floor(random() * (area.max - area.min + 1))
    this.y = area.min + Math.floor(random() * (area.max - area.min + 1))
  }

  step(): void {
    this.x = this.clamp(this.x + Math.floor(this.random() * 3) - 1)
    this.y = this.clamp(this.y + Math.floor(this.random() * 3) - 1)
  }

  private clamp(v: number): number {
    return v < this.area.min ? this.area.min + 1 : v > this.area.max ? this.area.max - 1 : v
  }
}
