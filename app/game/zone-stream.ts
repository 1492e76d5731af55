/**
 * The bytes of a zone tick for one cell, encoded once for everyone who sees the cell
 * (docs/PROTOCOL.md §4.8): the stream copies of chat and attack frames in the order they were
 * accepted, then ZONE_UPDATE frames with every mover's quantised position. All carry seq 0 and
 * player_id 0, so the same Buffer is correct for every recipient. When the whole is at least
 * BATCH_THRESHOLD_BYTES and zlib brings it below BATCH_MAX_RATIO, it is compressed here, once per
 * tick, into BATCH frames with seq 0 — instead of once per recipient by each session.
 */
import type { SharedFrames } from '../net/connection.js'
import { packBatches } from '../protocol/batch.js'
import { HEADER_BYTES, writeHeader } from '../protocol/header.js'
import { FrameType, frameTypeName } from '../protocol/types.js'
import {
  quantise,
  writeZoneUpdateEntry,
  ZONE_UPDATE_ENTRY_BYTES,
  ZONE_UPDATE_PREFIX_BYTES,
  zoneUpdateCapacity,
} from '../protocol/zone-update.js'
import type { Player } from './player.js'
import type { Cell } from './view-grid.js'

export interface ZoneStreamOptions {
  readonly maxFrameBytes: number
  readonly positionBits: number
  /** BATCH_THRESHOLD_BYTES, BATCH_MAX_RATIO, COMPRESSION_LEVEL: as for the sessions' own batches. */
  readonly batchThresholdBytes: number
  readonly batchMaxRatio: number
  readonly compressionLevel: number
}

export class ZoneStream {
  private readonly capacity: number

  constructor(private readonly options: ZoneStreamOptions) {
    this.capacity = zoneUpdateCapacity(options.maxFrameBytes)
  }

  /**
   * What the players of one cell get in a tick: the encoded frames of the changed cells around it
   * (`encoded` set), as they are when only one changed, else joined into one buffer.
   */
  join(around: readonly Cell[]): SharedFrames {
    let only: SharedFrames | null = null
    let count = 0
    let bytes = 0
    let frames = 0
    for (let i = 0; i < around.length; i++) {
      const encoded = around[i]!.encoded
      if (encoded === null) continue
      only = encoded
      count++
      bytes += encoded.bytes.length
      frames += encoded.frames
    }
    if (count === 1) return only!
    const out = Buffer.allocUnsafe(bytes)
    let at = 0
    for (let i = 0; i < around.length; i++) {
      const encoded = around[i]!.encoded
      if (encoded !== null) at += encoded.bytes.copy(out, at)
    }
    return { bytes: out, frames, typeName: only!.typeName }
  }

  /** A whole stream frame (header seq 0, player_id 0) around `payload`. */
  frame(type: number, payload: Uint8Array): Buffer {
    const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
    writeHeader(frame, 0, frame.length, type, 0, 0)
    frame.set(payload, HEADER_BYTES)
    return frame
  }

  /** Encode one cell's tick. `events` are whole frames; `movers` are players of zone `zone` (positions read now). */
  encode(zone: number, zoneSize: number, events: readonly Buffer[], movers: readonly Player[]): SharedFrames {
    let bytes = 0
    for (let i = 0; i < events.length; i++) bytes += events[i]!.length
    const updates = Math.ceil(movers.length / this.capacity)
    bytes += updates * (HEADER_BYTES + ZONE_UPDATE_PREFIX_BYTES) + movers.length * ZONE_UPDATE_ENTRY_BYTES
    const out = Buffer.allocUnsafe(bytes)
    let at = 0
    for (let i = 0; i < events.length; i++) at += events[i]!.copy(out, at)
    const bits = this.options.positionBits
    const origin = zone * zoneSize
    for (let first = 0; first < movers.length; first += this.capacity) {
      const count = Math.min(this.capacity, movers.length - first)
      const size = HEADER_BYTES + ZONE_UPDATE_PREFIX_BYTES + count * ZONE_UPDATE_ENTRY_BYTES
      writeHeader(out, at, size, FrameType.ZONE_UPDATE, 0, 0)
      out.writeUInt16LE(zone, at + HEADER_BYTES)
      out.writeUInt16LE(count, at + HEADER_BYTES + 2)
      let entry = at + HEADER_BYTES + ZONE_UPDATE_PREFIX_BYTES
      for (let i = first; i < first + count; i++) {
        const player = movers[i]!
        writeZoneUpdateEntry(out, entry, player.id, quantise(player.x - origin, bits), quantise(player.y, bits))
        entry += ZONE_UPDATE_ENTRY_BYTES
      }
      at += size
    }
    const frames = events.length + updates
    if (bytes >= this.options.batchThresholdBytes) {
      const packed = packBatches(out, bytes, {
        maxFrameBytes: this.options.maxFrameBytes,
        maxRatio: this.options.batchMaxRatio,
        level: this.options.compressionLevel,
        minBytes: this.options.batchThresholdBytes,
        seq: 0,
        playerId: 0,
      })
      if (packed !== null) {
        return { bytes: packed.bytes, frames, typeName: 'BATCH' }
      }
    }
    return { bytes: out, frames, typeName: updates > 0 ? 'ZONE_UPDATE' : frameTypeName(out.readUInt16LE(2)) }
  }
}
