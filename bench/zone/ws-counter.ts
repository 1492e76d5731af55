/**
 * A minimal WebSocket client (RFC 6455) for the Colyseus counters: it opens the connection, answers
 * pings, sends small binary messages and counts what it receives — without assembling messages.
 * It reads through net's `onread` into one shared buffer and only walks the frame headers, so the
 * generator's cost per received byte is little more than the kernel's copy. (The `ws` package
 * copies and concatenates every message; with 1,600 clients each receiving 20 patches of ~13 KB a
 * second that alone filled the generator's core.)
 *
 * Limits, all fine for a bench client of a Colyseus room: no extensions (no per-message deflate,
 * which Colyseus does not enable), server frames must be unmasked, control frames ≤ 125 bytes.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)
const MAX_HANDSHAKE_BYTES = 8192

const OPCODE_CONTINUATION = 0x0
const OPCODE_CLOSE = 0x8
const OPCODE_PING = 0x9
const OPCODE_PONG = 0xa

export interface WsCounterEvents {
  /** The first byte of each data message as it arrives (all the counters need to know of its content). */
  readonly onMessageStart: (firstByte: number) => void
  readonly onClose: (reason: string) => void
}

export class WsCounter {
  /** Bytes received after the handshake (frame headers included). */
  bytesIn = 0
  /** Complete data messages received. */
  messagesIn = 0
  private readonly socket: Socket
  private handshake: Buffer | null = Buffer.alloc(0)
  /** Frame header bytes gathered so far (a header can straddle reads). */
  private readonly header = Buffer.alloc(14)
  private headerFill = 0
  /** Payload bytes of the current frame still to come. */
  private remaining = 0
  private opcode = 0
  private fin = false
  /** Control frame payload (a ping's, to echo in the pong). */
  private control: Buffer | null = null
  private controlFill = 0
  /** Whether the next payload byte is the first of a data message. */
  private atMessageStart = false
  private readonly opened: Promise<void>
  readonly closed: Promise<void>
  private resolveOpen!: () => void
  private rejectOpen!: (err: Error) => void

  constructor(host: string, port: number, path: string, private readonly events: WsCounterEvents) {
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpen = resolve
      this.rejectOpen = reject
    })
    const key = randomBytes(16).toString('base64')
    this.socket = connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (n) => this.received(n) } })
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()))
    this.socket.once('connect', () => {
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
    this.socket.on('error', (err) => this.fail(err.message))
    this.socket.on('close', () => this.fail('connection closed'))
  }

  /** Resolves once the server accepted the upgrade. */
  open(): Promise<void> {
    return this.opened
  }

  /** One binary message (masked, as a client must). */
  send(payload: Buffer): void {
    if (this.socket.destroyed) return
    this.socket.write(this.frame(0x2, payload))
  }

  destroy(): void {
    this.socket.destroy()
  }

  private frame(opcode: number, payload: Buffer): Buffer {
    const length = payload.length
    const extended = length < 126 ? 0 : length < 65536 ? 2 : 8
    const out = Buffer.allocUnsafe(2 + extended + 4 + length)
    out[0] = 0x80 | opcode
    if (extended === 0) out[1] = 0x80 | length
    else if (extended === 2) {
      out[1] = 0x80 | 126
      out.writeUInt16BE(length, 2)
    } else {
      out[1] = 0x80 | 127
      out.writeBigUInt64BE(BigInt(length), 2)
    }
    const maskAt = 2 + extended
    // The mask only has to be unpredictable to intermediaries (RFC 6455 §10.3); Math.random serves a bench client.
    out.writeUInt32LE((Math.random() * 0x100000000) >>> 0, maskAt)
    for (let i = 0; i < length; i++) out[maskAt + 4 + i] = payload[i]! ^ out[maskAt + (i & 3)]!
    return out
  }

  private fail(reason: string): void {
    if (this.handshake !== null) this.rejectOpen(new Error(`WebSocket upgrade failed: ${reason}`))
    this.events.onClose(reason)
  }

  private received(n: number): boolean {
    let chunk = READ_BUFFER.subarray(0, n)
    if (this.handshake !== null) {
      const sofar: Buffer = Buffer.concat([this.handshake, chunk])
      const end = sofar.indexOf('\r\n\r\n')
      if (end < 0) {
        if (sofar.length > MAX_HANDSHAKE_BYTES) this.socketError('handshake reply too long')
        else this.handshake = sofar
        return true
      }
      const status = sofar.subarray(0, sofar.indexOf('\r\n')).toString('latin1')
      if (!/^HTTP\/1\.1 101 /.test(status)) {
        this.socketError(`server answered ${status}`)
        return true
      }
      this.handshake = null
      this.resolveOpen()
      chunk = Buffer.from(sofar.subarray(end + 4))
    }
    this.bytesIn += chunk.length
    this.walk(chunk)
    return true
  }

  private socketError(reason: string): void {
    this.fail(reason)
    this.socket.destroy()
  }

  /** Walk the frames of one chunk: headers parsed, data payloads skipped, control payloads kept. */
  private walk(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.remaining === 0 && this.control === null) {
        // Gather a header: 2 bytes, then the extended length.
        this.header[this.headerFill++] = chunk[offset++]!
        if (this.headerFill < 2) continue
        const len7 = this.header[1]! & 0x7f
        if ((this.header[1]! & 0x80) !== 0) {
          this.socketError('server sent a masked frame')
          return
        }
        const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0)
        if (this.headerFill < need) continue
        const length = len7 === 126 ? this.header.readUInt16BE(2) : len7 === 127 ? Number(this.header.readBigUInt64BE(2)) : len7
        this.headerFill = 0
        this.fin = (this.header[0]! & 0x80) !== 0
        const opcode = this.header[0]! & 0x0f
        if (opcode >= OPCODE_CLOSE) {
          this.opcode = opcode
          this.control = Buffer.alloc(length)
          this.controlFill = 0
          if (length === 0) this.endControl()
          continue
        }
        if (opcode !== OPCODE_CONTINUATION) this.atMessageStart = true
        this.remaining = length
        if (length === 0) this.endData()
        continue
      }
      if (this.control !== null) {
        const n = Math.min(this.control.length - this.controlFill, chunk.length - offset)
        chunk.copy(this.control, this.controlFill, offset, offset + n)
        this.controlFill += n
        offset += n
        if (this.controlFill === this.control.length) this.endControl()
        continue
      }
      if (this.atMessageStart) {
        this.atMessageStart = false
        this.events.onMessageStart(chunk[offset]!)
      }
      const n = Math.min(this.remaining, chunk.length - offset)
      this.remaining -= n
      offset += n
      if (this.remaining === 0) this.endData()
    }
  }

  private endData(): void {
    if (this.fin) this.messagesIn++
  }

  private endControl(): void {
    const payload = this.control!
    this.control = null
    if (this.opcode === OPCODE_PING) this.socket.write(this.frame(OPCODE_PONG, payload))
    else if (this.opcode === OPCODE_CLOSE) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
      this.events.onClose(`closed by the server (code ${code})`)
      this.socket.write(this.frame(OPCODE_CLOSE, payload.subarray(0, 2)))
      this.socket.end()
    }
  }
}
