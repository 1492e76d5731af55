/**
 * Our server over its WebSocket transport (docs/PROTOCOL.md §7) in the zone-replication workload:
 * the same frames as ours-transport.ts, in binary WebSocket messages (whole frames, several per
 * message), through the `ws` package — the same WebSocket implementation as the Colyseus clients
 * of colyseus-transport.ts, so the two servers are compared on one transport.
 *
 * Observers decode every frame of every message (BATCHes inflated): PLAYER_MOVED (protocol 1),
 * ZONE_UPDATE entries and PLAYER_JOINED (protocol 2, with LOGIN_OK's geometry), PLAYER_LEFT.
 * Counters count WebSocket messages and their bytes without decoding (as the Colyseus counters do).
 */
import WebSocket from 'ws'
import { unpackBatch } from '../../app/protocol/batch.js'
import { FrameDecoder, type FrameSink } from '../../app/protocol/decoder.js'
import { ABSOLUTE_MAX_FRAME_BYTES, HEADER_BYTES, writeHeader } from '../../app/protocol/header.js'
import { decodeLoginOk, encodeRegister } from '../../app/protocol/messages.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { decodeZoneUpdate, type ZoneGeometry } from '../../app/protocol/zone-update.js'
import type { ConnectionCounters, PositionSink, Role, TransportTarget, ZoneConnection, ZoneTransport } from './transport.js'

const MOVE_FRAME_BYTES = HEADER_BYTES + 8
const PASSWORD = 'bench-password'
/** REGISTER answered OVERLOADED (too many logins in flight server-wide) is retried this often. */
const REGISTER_ATTEMPTS = 20
const LOGIN_TIMEOUT_MS = 30_000
const BATCH_LIMITS = { maxFrameBytes: ABSOLUTE_MAX_FRAME_BYTES, maxInflatedBatchBytes: 262_144 }
/** Bytes of a server-to-client WebSocket frame header (unmasked; 2 up to 125 B of payload, 4 up to 64 KiB, else 10). */
const wsHeaderBytes = (payload: number): number => (payload < 126 ? 2 : payload < 65536 ? 4 : 10)

export class OursWebSocketTransport implements ZoneTransport {
  readonly label = 'ours (WebSocket: binary messages of whole frames, same sessions)'
  constructor(private readonly target: TransportTarget) {}

  async join(index: number, role: Role, sink: PositionSink | undefined): Promise<ZoneConnection> {
    const connection = new OursWebSocketConnection(`ws://${this.target.host}:${this.target.port}/ws`, role === 'observer' ? sink : undefined)
    try {
      await connection.opened
      await connection.register(`w${this.target.runId}_${index}`)
      return connection
    } catch (err) {
      await connection.close()
      throw err
    }
  }
}

interface PendingRegister {
  readonly username: string
  seq: number
  attempt: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

class OursWebSocketConnection implements ZoneConnection {
  readonly counters: ConnectionCounters = { bytesIn: 0, messagesIn: 0, movesRefused: 0, lastRefusalCode: 0 }
  failure: string | undefined
  key = 0
  readonly opened: Promise<void>
  private readonly ws: WebSocket
  private readonly closed: Promise<void>
  private readonly decoder = new FrameDecoder(ABSOLUTE_MAX_FRAME_BYTES)
  private geometry: ZoneGeometry | null = null
  private loggedIn = false
  private seq = 0
  private closing = false
  private pending: PendingRegister | undefined

  constructor(url: string, private readonly sink: PositionSink | undefined) {
    this.ws = new WebSocket(url, { perMessageDeflate: false })
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        this.ws.off('error', reject)
        resolve()
      })
      this.ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => this.ws.once('close', () => resolve()))
    this.ws.on('message', (data: Buffer) => this.received(data))
    this.ws.on('error', (err) => this.ended(err.message))
    this.ws.on('close', (code) => this.ended(`closed by the server (${code})`))
  }

  private received(data: Buffer): void {
    this.counters.bytesIn += data.length + wsHeaderBytes(data.length)
    this.counters.messagesIn++
    if (this.loggedIn && this.sink === undefined) return
    const result = this.decoder.push(data, this.frames)
    if (result === 'frame-too-small' || result === 'frame-too-large') {
      this.ended(`server sent a bad frame (${result})`)
      this.ws.terminate()
    }
  }

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

  private sendRegister(): void {
    const pending = this.pending
    if (pending === undefined || this.ws.readyState !== WebSocket.OPEN) return
    pending.attempt++
    pending.seq = this.nextSeq()
    const payload = encodeRegister({ username: pending.username, password: PASSWORD })
    const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
    writeHeader(frame, 0, frame.length, FrameType.REGISTER, pending.seq, 0)
    payload.copy(frame, HEADER_BYTES)
    this.ws.send(frame)
  }

  private settle(result: Error | undefined): void {
    const pending = this.pending
    if (pending === undefined) return
    this.pending = undefined
    if (result === undefined) pending.resolve()
    else pending.reject(result)
  }

  private readonly frames: FrameSink = {
    onFrame: (type, seq, _playerId, source, start, end) => {
      const now = performance.now()
      if (type !== FrameType.BATCH) {
        this.frame(type, seq, source.subarray(start, end), now)
        return true
      }
      for (const inner of unpackBatch(source.subarray(start, end), BATCH_LIMITS)) this.frame(inner.type, inner.seq, inner.payload, now)
      return true
    },
  }

  private frame(type: number, seq: number, payload: Buffer, now: number): void {
    if (!this.loggedIn) {
      this.loginReply(type, seq, payload)
      return
    }
    if (this.sink === undefined) return
    switch (type) {
      case FrameType.PLAYER_MOVED:
        // u32 player_id · u16 zone · f32 x · f32 y
        this.sink.position(payload.readUInt32LE(0), payload.readFloatLE(6), payload.readFloatLE(10), now)
        break
      case FrameType.PLAYER_JOINED:
        // u32 player_id · u16 zone · f32 x · f32 y · …
        this.sink.position(payload.readUInt32LE(0), payload.readFloatLE(6), payload.readFloatLE(10), now)
        break
      case FrameType.ZONE_UPDATE:
        if (this.geometry === null) break
        for (const entry of decodeZoneUpdate(payload, this.geometry).entries) this.sink.position(entry.playerId, entry.x, entry.y, now)
        break
      case FrameType.PLAYER_LEFT:
        this.sink.left(payload.readUInt32LE(0))
        break
      case FrameType.ERROR:
        this.counters.movesRefused++
        this.counters.lastRefusalCode = payload.readUInt16LE(0)
        break
    }
  }

  private loginReply(type: number, seq: number, payload: Buffer): void {
    const pending = this.pending
    if (pending === undefined || seq !== pending.seq) return
    if (type === FrameType.LOGIN_OK) {
      this.key = payload.readUInt32LE(0)
      try {
        const ok = decodeLoginOk(payload)
        this.geometry = { zoneSize: ok.zoneSize, positionBits: ok.positionBits }
      } catch {
        this.geometry = null // a server of protocol 1: positions come as PLAYER_MOVED
      }
      this.loggedIn = true
      this.settle(undefined)
    } else if (type === FrameType.ERROR) {
      const code = payload.readUInt16LE(0)
      if (code === WireError.OVERLOADED && pending.attempt < REGISTER_ATTEMPTS) setTimeout(() => this.sendRegister(), 20 * pending.attempt).unref()
      else this.settle(new Error(`REGISTER ${pending.username}: ERROR code ${code} ${payload.subarray(6).toString('utf8')}`))
    }
  }

  private ended(reason: string): void {
    if (!this.closing) this.failure ??= reason
    this.settle(new Error(`REGISTER: ${reason}`))
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1
    return this.seq
  }

  sendMove(x: number, y: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    const frame = Buffer.allocUnsafe(MOVE_FRAME_BYTES)
    writeHeader(frame, 0, MOVE_FRAME_BYTES, FrameType.MOVE, this.nextSeq(), this.key)
    frame.writeFloatLE(x, HEADER_BYTES)
    frame.writeFloatLE(y, HEADER_BYTES + 4)
    this.ws.send(frame)
  }

  keepAlive(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return
    const frame = Buffer.allocUnsafe(HEADER_BYTES)
    writeHeader(frame, 0, HEADER_BYTES, FrameType.PING, this.nextSeq(), this.key)
    this.ws.send(frame)
  }

  async close(): Promise<void> {
    this.closing = true
    this.ws.terminate()
    await this.closed
  }
}
