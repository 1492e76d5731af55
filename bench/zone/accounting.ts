/**
 * Observer latency and "seen vs sent" accounting, shared by every transport.
 *
 * MoveLog holds, for every player, the send time of its last MOVE_RING moves. An observer that
 * receives a position maps it to the move that produced it (workload.ts) and from there to its
 * send time.
 *
 * A move counts as **seen** by an observer once the observer holds a position of that player at
 * least as new: servers that coalesce (Colyseus sends the latest state per patch) deliver only the
 * newest of several moves, and the older ones are superseded at that moment, so their latency is
 * measured to the arrival of the newer position. Each move is also classified as delivered
 * **exactly** (its own position arrived) or **coalesced** (a newer one arrived first).
 *
 * Only moves sent inside the measurement window count, and only those the observer should see:
 * all other players' moves, or with a view radius those sent while the mover was within the radius
 * of the observer (decided at send time from the generator's own positions).
 */
import { Samples } from '../stats.js'
import { MOVE_RING } from './workload.js'

const RING_MASK = MOVE_RING - 1

/** Nearest-rank percentile (p in 0–1) of sorted samples; NaN when empty. */
export function percentileOf(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

/** The measurement window on the performance.now() timeline; moves sent inside it count. */
export class Window {
  start = Number.POSITIVE_INFINITY
  end = Number.POSITIVE_INFINITY
  contains(t: number): boolean {
    return t >= this.start && t < this.end
  }
}

/** Send times of every player's recent moves (one process-wide log). */
export class MoveLog {
  private readonly sentAt: Float64Array
  /** Moves sent so far by each player; the next move's number. */
  readonly sent: Int32Array

  constructor(readonly players: number) {
    this.sentAt = new Float64Array(players * MOVE_RING)
    this.sent = new Int32Array(players)
  }

  /** Record the next move of `player`; returns its number n. */
  record(player: number, at: number): number {
    const n = this.sent[player]!
    this.sentAt[player * MOVE_RING + (n & RING_MASK)] = at
    this.sent[player] = n + 1
    return n
  }

  /** The newest move number of `player` whose slot (n mod MOVE_RING) is `slot`; -1 when none was sent yet. */
  newestWithSlot(player: number, slot: number): number {
    const latest = this.sent[player]! - 1
    if (latest < 0) return -1
    const n = latest - ((latest - slot) & RING_MASK)
    return n
  }

  sentAtOf(player: number, n: number): number {
    return this.sentAt[player * MOVE_RING + (n & RING_MASK)]!
  }
}

export interface ObserverTotals {
  /** Moves this observer should have seen (sent in the window, by others, within the view radius when set). */
  expected: number
  /** Of those, seen (an equal or newer position arrived) before the drain ended. */
  seen: number
  /** Of the seen ones, delivered with their own position (the rest were coalesced into a newer one). */
  exact: number
  /** Position updates received whose move was sent in the window (including ones outside the view radius). */
  updates: number
  /** Updates that carried nothing new (an older or the same move again). */
  stale: number
  /** Updates about players outside the view radius at send time (only counted with a view radius). */
  outsideView: number
  /** Leave events (a player left the zone, or later the view). */
  leaves: number
}

/** One observing player: what it has seen of every other player. */
export class ObserverTracker {
  private readonly lastSeen: Int32Array
  /** Bit per (player, move slot): this observer should see that move (set at send time). */
  private readonly expectedBits: Uint8Array
  readonly totals: ObserverTotals = { expected: 0, seen: 0, exact: 0, updates: 0, stale: 0, outsideView: 0, leaves: 0 }
  /** Expected moves not seen yet. */
  pending = 0

  constructor(
    readonly self: number,
    private readonly log: MoveLog,
    private readonly window: Window,
    private readonly latencies: Samples,
  ) {
    this.lastSeen = new Int32Array(log.players).fill(-1)
    this.expectedBits = new Uint8Array(Math.ceil((log.players * MOVE_RING) / 8))
  }

  /** At send time: whether this observer should see move n of `player` (false for its own moves). */
  expect(player: number, n: number, expected: boolean, inWindow: boolean): void {
    const bit = player * MOVE_RING + (n & RING_MASK)
    if (expected && player !== this.self) {
      this.expectedBits[bit >> 3]! |= 1 << (bit & 7)
      if (inWindow) {
        this.totals.expected++
        this.pending++
      }
    } else {
      this.expectedBits[bit >> 3]! &= ~(1 << (bit & 7))
    }
  }

  /** A position of `player` for the move with `slot` arrived at `now`. */
  position(player: number, slot: number, now: number): void {
    if (player === this.self || slot < 0) return
    const n = this.log.newestWithSlot(player, slot)
    if (n < 0) return
    const last = this.lastSeen[player]!
    const inWindow = this.window.contains(this.log.sentAtOf(player, n))
    if (inWindow) this.totals.updates++
    if (n <= last) {
      if (inWindow) this.totals.stale++
      return
    }
    // Everything from the last seen move up to n is seen now; older than the ring cannot be told apart.
    const from = Math.max(last + 1, n - MOVE_RING + 1)
    for (let k = from; k <= n; k++) {
      const sentAt = this.log.sentAtOf(player, k)
      if (!this.window.contains(sentAt)) continue
      const bit = player * MOVE_RING + (k & RING_MASK)
      if ((this.expectedBits[bit >> 3]! & (1 << (bit & 7))) === 0) {
        if (k === n) this.totals.outsideView++
        continue
      }
      this.totals.seen++
      this.pending--
      if (k === n) this.totals.exact++
      this.latencies.push(now - sentAt)
    }
    this.lastSeen[player] = n
  }

  /** The server said `player` is gone from this observer's zone or view. */
  left(player: number): void {
    if (player !== this.self) this.totals.leaves++
  }
}
