/**
 * One player of the workload speaking our protocol (docs/PROTOCOL.md, version 2), whatever carries
 * the bytes: REGISTER → LOGIN_OK (which names the zone geometry, retried on OVERLOADED), MOVE and
 * PING frames, and — for an observer — every position the zone stream tells it: each ZONE_UPDATE
 * entry and each PLAYER_JOINED is a position (`sink.position`), each PLAYER_LEFT a view exit
 * (`sink.left`), BATCHes (per-connection and zone-stream ones alike) inflated as the reference
 * client does. The transports (ours-transport.ts over TCP, ours-ws-transport.ts over WebSocket)
 * only move bytes and count what they receive.
 *
 * The workload's positions carry the move number in their last 5 fractional bits (workload.ts), so
 * the quantised positions must be exact to 1/32 of a unit: position_bits ≥ 5, i.e. ZONE_SIZE ≤ 2048
 * (workload.ts keeps zones that small; a LOGIN_OK naming fewer bits fails the join).
 */
import { unpackBatch } from '../../app/protocol/batch.js'
import { FrameDecoder, type FrameSink } from '../../app/protocol/decoder.js'
import { ABSOLUTE_MAX_FRAME_BYTES, HEADER_BYTES, writeHeader } from '../../app/protocol/header.js'
import { decodeLoginOk, encodeRegister } from '../../app/protocol/messages.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { ZONE_UPDATE_ENTRY_BYTES, ZONE_UPDATE_PREFIX_BYTES } from '../../app/protocol/zone-update.js'
import type { ConnectionCounters, PositionSink, ZoneConnection } from './transport.js'

const MOVE_FRAME_BYTES = HEADER_BYTES + 8
const PASSWORD = 'bench-password'
/** REGISTER answered OVERLOADED (too many logins in flight server-wide) is retried this often. */
const REGISTER_ATTEMPTS = 20
const LOGIN_TIMEOUT_MS = 30_000
const BATCH_LIMITS = { maxFrameBytes: ABSOLUTE_MAX_FRAME_BYTES, maxInflatedBatchBytes: 262_144 }
/** The workload's move number lives in 5 fractional bits of each coordinate (workload.ts). */
const WORKLOAD_FRACTION_BITS = 5

/** Where the player's frames go: one write per frame, while the connection is open. */
export interface FrameWriter {
  readonly open: boolean
  write(frame: Buffer): void
}

/** What the player waits for during REGISTER. */
interface PendingRegister {
  readonly username: string
  seq: number
  attempt: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

export class OursPlayer {
  readonly counters: ConnectionCounters = { bytesIn: 0, messagesIn: 0, movesRefused: 0, lastRefusalCode: 0 }
  failure: string | undefined
  key = 0
  /** Set by close(): an end after it is not a failure. */
  closing = false
  /** ZONE_SIZE and the size of a position step (2^-position_bits), from LOGIN_OK. */
  private zoneSize = 0
  private positionStep = 0
  private loggedIn = false
  private seq = 0
  private pending: PendingRegister | undefined
  /** One decoder for the connection's whole life: the login reply and the zone traffic share the stream. */
  private readonly decoder = new FrameDecoder(ABSOLUTE_MAX_FRAME_BYTES)
  private frames: FrameSink = this.loginFrames()

  /**
   * `countFrames`: count every top-level frame in `counters.messagesIn` (a byte stream; a
   * message-framed transport counts its messages itself).
   */
  constructor(private readonly writer: FrameWriter, private readonly sink: PositionSink | undefined, private readonly countFrames: boolean) {}

  /** A counter that has logged in needs nothing decoded any more (message-framed transports may skip `receive`). */
  get onlyCounting(): boolean {
    return this.loggedIn && this.sink === undefined
  }

  /** Bytes from the server; false when they held a malformed frame (the player has failed: close the connection). */
  receive(bytes: Buffer): boolean {
    const result = this.decoder.push(bytes, this.frames)
    if (result !== 'frame-too-small' && result !== 'frame-too-large') return true
    this.ended(`server sent a bad frame (${result})`)
    return false
  }

  /** REGISTER a new account; resolves once LOGIN_OK arrived (OVERLOADED is retried with back-off). */
  register(username: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(new Error(`REGISTER ${username}: no LOGIN_OK within ${LOGIN_TIMEOUT_MS} ms`)), LOGIN_TIMEOUT_MS)
      this.pending = {
        username,
        seq: 0,
        attempt: 0,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      }
      this.sendRegister()
    })
  }

  /** The connection ended (an error, or the server closed it). */
  ended(reason: string): void {
    if (!this.closing) this.failure ??= reason
    this.settle(new Error(`REGISTER: ${reason}`))
  }

  sendMove(x: number, y: number): void {
    if (!this.writer.open) return
    const frame = Buffer.allocUnsafe(MOVE_FRAME_BYTES)
    writeHeader(frame, 0, MOVE_FRAME_BYTES, FrameType.MOVE, this.nextSeq(), this.key)
    frame.writeFloatLE(x, HEADER_BYTES)
    frame.writeFloatLE(y, HEADER_BYTES + 4)
    this.writer.write(frame)
  }

  keepAlive(): void {
    if (!this.writer.open) return
    const frame = Buffer.allocUnsafe(HEADER_BYTES)
    writeHeader(frame, 0, HEADER_BYTES, FrameType.PING, this.nextSeq(), this.key)
    this.writer.write(frame)
  }

  private sendRegister(): void {
    const pending = this.pending
    if (pending === undefined || !this.writer.open) return
    pending.attempt++
    pending.seq = this.nextSeq()
    const payload = encodeRegister({ username: pending.username, password: PASSWORD })
    const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
    writeHeader(frame, 0, frame.length, FrameType.REGISTER, pending.seq, 0)
    payload.copy(frame, HEADER_BYTES)
    this.writer.write(frame)
  }

  private settle(result: Error | undefined): void {
    const pending = this.pending
    if (pending === undefined) return
    this.pending = undefined
    if (result === undefined) pending.resolve()
    else pending.reject(result)
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1
    return this.seq
  }

  private loginFrames(): FrameSink {
    return {
      onFrame: (type, seq, _playerId, source, start, end) => {
        if (type !== FrameType.BATCH) {
          this.loginReply(type, seq, source, start, end)
          return true
        }
        // LOGIN_OK usually travels in a BATCH with the zone snapshot that follows it (the snapshot is not needed here).
        for (const inner of unpackBatch(source.subarray(start, end), BATCH_LIMITS)) this.loginReply(inner.type, inner.seq, inner.payload, 0, inner.payload.length)
        return true
      },
    }
  }

  private loginReply(type: number, seq: number, source: Buffer, start: number, end: number): void {
    const pending = this.pending
    if (pending === undefined || seq !== pending.seq) return
    if (type === FrameType.LOGIN_OK) {
      const ok = decodeLoginOk(source.subarray(start, end))
      if (ok.positionBits < WORKLOAD_FRACTION_BITS) {
        this.settle(new Error(`LOGIN_OK: position_bits ${ok.positionBits} (ZONE_SIZE ${ok.zoneSize}) cannot carry the workload's 1/32-unit positions exactly; keep ZONE_SIZE ≤ 2048`))
        return
      }
      this.key = ok.playerId
      this.zoneSize = ok.zoneSize
      this.positionStep = 2 ** -ok.positionBits
      this.loggedIn = true
      // From here on the zone traffic goes to the steady-state sink.
      this.frames = this.sink === undefined ? this.countFrame : this.observeFrame
      this.settle(undefined)
    } else if (type === FrameType.ERROR) {
      const code = source.readUInt16LE(start)
      if (code === WireError.OVERLOADED && pending.attempt < REGISTER_ATTEMPTS) setTimeout(() => this.sendRegister(), 20 * pending.attempt).unref()
      else this.settle(new Error(`REGISTER ${pending.username}: ERROR code ${code} ${source.subarray(start + 6, end).toString('utf8')}`))
    }
  }

  private readonly countFrame: FrameSink = {
    onFrame: (type, _seq, _playerId, source, start) => {
      if (this.countFrames) this.counters.messagesIn++
      if (type === FrameType.ERROR) this.refused(source.readUInt16LE(start))
      return true
    },
  }

  private readonly observeFrame: FrameSink = {
    onFrame: (type, _seq, _playerId, source, start, end) => {
      if (this.countFrames) this.counters.messagesIn++
      const now = performance.now()
      if (type !== FrameType.BATCH) {
        this.observe(type, source, start, now)
        return true
      }
      for (const inner of unpackBatch(source.subarray(start, end), BATCH_LIMITS)) {
        this.observe(inner.type, inner.payload, 0, now)
      }
      return true
    },
  }

  /** After login the player sends only MOVEs: every ERROR refuses one. */
  private refused(code: number): void {
    this.counters.movesRefused++
    this.counters.lastRefusalCode = code
  }

  /** One (inner) frame; payload at `source[start…]`. */
  private observe(type: number, source: Buffer, start: number, now: number): void {
    switch (type) {
      case FrameType.ZONE_UPDATE: {
        // u16 zone · u16 count · count × (u32 player_id · u16 qx · u16 qy), zone-local, in position steps
        const origin = source.readUInt16LE(start) * this.zoneSize
        const count = source.readUInt16LE(start + 2)
        const step = this.positionStep
        for (let i = 0, at = start + ZONE_UPDATE_PREFIX_BYTES; i < count; i++, at += ZONE_UPDATE_ENTRY_BYTES) {
          this.sink!.position(source.readUInt32LE(at), origin + source.readUInt16LE(at + 4) * step, source.readUInt16LE(at + 6) * step, now)
        }
        break
      }
      case FrameType.PLAYER_JOINED:
        // u32 player_id · u16 zone · f32 x · f32 y · … (the player entered the view where it stands)
        this.sink!.position(source.readUInt32LE(start), source.readFloatLE(start + 6), source.readFloatLE(start + 10), now)
        break
      case FrameType.PLAYER_LEFT:
        this.sink!.left(source.readUInt32LE(start))
        break
      case FrameType.ERROR:
        this.refused(source.readUInt16LE(start))
        break
    }
  }
}

/**
 * A ZoneConnection of our server over some byte transport (TCP, WebSocket): the player speaks the
 * protocol; a subclass opens the transport, feeds `player.receive`, and ends it in `destroy()`.
 */
export abstract class OursConnection implements ZoneConnection {
  abstract readonly player: OursPlayer
  /** Resolves once the transport is connected (rejects when it cannot be). */
  abstract readonly connected: Promise<void>
  /** Resolves once the transport has ended. */
  protected abstract readonly closed: Promise<void>
  /** End the transport now. */
  protected abstract destroy(): void

  get key(): number {
    return this.player.key
  }

  get counters(): ConnectionCounters {
    return this.player.counters
  }

  get failure(): string | undefined {
    return this.player.failure
  }

  sendMove(x: number, y: number): void {
    this.player.sendMove(x, y)
  }

  keepAlive(): void {
    this.player.keepAlive()
  }

  async close(): Promise<void> {
    this.player.closing = true
    this.destroy()
    await this.closed
  }
}

/** Connect `connection`, then register `username`; on failure the connection is closed and the error rethrown. */
export async function joinAs<C extends OursConnection>(connection: C, username: string): Promise<C> {
  try {
    await connection.connected
    await connection.player.register(username)
    return connection
  } catch (err) {
    await connection.close()
    throw err
  }
}
