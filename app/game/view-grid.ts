/**
 * Interest management: a zone divided into square cells at least VIEW_RADIUS wide (floor(ZONE_SIZE /
 * VIEW_RADIUS) columns and as many rows). A player sees the
 * players of its own cell and of the eight around it (everyone within the radius on both axes, some
 * up to twice as far), so what a move costs depends on the players near it, not on the zone's
 * population. Without a radius (or one as large as the zone) the zone is one cell and everyone
 * sees everyone.
 *
 * The grid only answers geometry; the Zone (zone.ts) keeps players in cells and sends the
 * enter/leave-view frames when a player's cell changes.
 */
import type { SharedFrames } from '../net/connection.js'
import type { Player } from './player.js'

export class Cell {
  readonly players = new Set<Player>()
  /** The cells whose players see this one (and that this one's players see): the 3 × 3 around it, itself included. */
  neighbours: readonly Cell[] = []
  /** Zone tick scratch: stream frames (with headers) and movers gathered for this cell. */
  readonly events: Buffer[] = []
  readonly movers: Player[] = []
  dirty = false
  /** This tick's encoded frames while the cell is dirty; null otherwise. */
  encoded: SharedFrames | null = null
  /** This tick, while the cell is dirty: its one mover when that is all it has (no events); else null. */
  soleMover: Player | null = null
  /** The last tick whose frames this cell's players were given. */
  viewedAt = 0

  constructor(readonly column: number, readonly row: number) {}

  /** Whether the players of `other` see this cell's (symmetric). */
  sees(other: Cell): boolean {
    return Math.abs(this.column - other.column) <= 1 && Math.abs(this.row - other.row) <= 1
  }
}

export class ViewGrid {
  readonly columns: number
  private readonly cells: Cell[]
  private readonly cellSize: number

  /** `viewRadius` 0 (or ≥ the zone): one cell. */
  constructor(zoneSize: number, viewRadius: number) {
    // Cells at least as wide as the radius, so the 3 × 3 around a player covers the radius.
    this.columns = viewRadius > 0 ? Math.max(1, Math.floor(zoneSize / viewRadius)) : 1
    this.cellSize = zoneSize / this.columns
    this.cells = []
    for (let row = 0; row < this.columns; row++) {
      for (let column = 0; column < this.columns; column++) this.cells.push(new Cell(column, row))
    }
    for (const cell of this.cells) {
      const around: Cell[] = []
      for (let row = Math.max(0, cell.row - 1); row <= Math.min(this.columns - 1, cell.row + 1); row++) {
        for (let column = Math.max(0, cell.column - 1); column <= Math.min(this.columns - 1, cell.column + 1); column++) {
          around.push(this.cells[row * this.columns + column]!)
        }
      }
      cell.neighbours = around
    }
  }

  /** The cell of a zone-local position (clamped into the zone). */
  cellAt(localX: number, localY: number): Cell {
    if (this.columns === 1) return this.cells[0]!
    return this.cells[this.index(localY) * this.columns + this.index(localX)]!
  }

  private index(local: number): number {
    const i = Math.floor(local / this.cellSize)
    return i < 0 ? 0 : i >= this.columns ? this.columns - 1 : i
  }
}
