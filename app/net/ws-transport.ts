/**
 * One accepted WebSocket as a session `Transport` (transport.ts): the session, its decoder, rate
 * limits and Outbound run unchanged on it.
 *
 * - Inbound: each binary message is one 'data' chunk; a frame must not span messages (the session
 *   checks, `messageFramed`). A text message is refused: close 4001 (4000 + MALFORMED_FRAME).
 * - Outbound: writes between cork() and uncork() leave as ONE binary message (Outbound's flush of a
 *   send chunk, or of several buffers); a write outside cork is one message. A message therefore
 *   holds one or more whole frames.
 * - Backpressure: `writableLength` is ws's `bufferedAmount` (bytes the TCP socket under it has not
 *   taken) plus what waits for uncork, so the slow-client cut-off and the one-write-in-flight rule
 *   work as on TCP; 'drain' is the TCP socket's.
 * - Closing: `end()` sends a close frame whose code is 1000, or 4000 + the wire error code of the
 *   last ERROR the session sent (`endWith`), with the error's message as the reason (≤ 123 bytes).
 */
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'
import { GameServerError } from '../errors.js'
import { WireError } from '../protocol/types.js'
import type { Transport } from './transport.js'

/** Normal closure (RFC 6455 §7.4.1). */
const WS_CLOSE_NORMAL = 1000
/** Close codes 4000–4999 are the application's: 4000 + the ERROR frame's wire code. */
export const WS_CLOSE_WIRE_ERROR_BASE = 4000
/** A close frame's reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123
const OPEN = 1

export class WebSocketTransport extends EventEmitter implements Transport {
  readonly messageFramed = true as const
  readonly remoteAddress: string | undefined
  private corks = 0
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private pendingCallbacks: ((err?: Error | null) => void)[] = []
  private closeCode = WS_CLOSE_NORMAL
  private closeReason = ''
  private ended = false

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    /** The client's address: the socket's, or the one a trusted PROXY line named (ws-listener.ts). */
    remoteAddress: string | undefined = socket.remoteAddress,
  ) {
    super()
    this.remoteAddress = remoteAddress
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) this.emit('data', data as Buffer)
      else this.refuseText()
    })
    ws.on('error', (err: Error) => this.emit('error', err))
    ws.on('close', () => {
      this.emit('end')
      this.emit('close')
    })
    socket.on('drain', () => this.emit('drain'))
  }

  get writableLength(): number {
    return this.ws.bufferedAmount + this.pendingBytes
  }

  write(chunk: Uint8Array, callback?: (err?: Error | null) => void): boolean {
    if (this.ended || this.ws.readyState !== OPEN) {
      if (callback) queueMicrotask(() => callback(new GameServerError('GS_ERR_CLIENT_CLOSED', 'WebSocket is closing', {})))
      return true
    }
    if (this.corks > 0) {
      // Held until uncork (then copied into one message): writableLength counts it meanwhile, so
      // Outbound keeps the chunk until the callback, as it does for a corked socket.
      this.pending.push(chunk)
      this.pendingBytes += chunk.length
      if (callback) this.pendingCallbacks.push(callback)
      return true
    }
    this.ws.send(chunk, { binary: true }, callback)
    return this.ws.bufferedAmount < this.socket.writableHighWaterMark
  }

  cork(): void {
    this.corks++
  }

  uncork(): void {
    if (this.corks === 0 || --this.corks > 0 || this.pending.length === 0) return
    const message = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)
    const callbacks = this.pendingCallbacks
    this.pending = []
    this.pendingBytes = 0
    this.pendingCallbacks = []
    if (this.ended || this.ws.readyState !== OPEN) {
      const err = new GameServerError('GS_ERR_CLIENT_CLOSED', 'WebSocket is closing', {})
      for (const callback of callbacks) queueMicrotask(() => callback(err))
      return
    }
    this.ws.send(message, { binary: true }, callbacks.length === 0 ? undefined : (err) => {
      for (const callback of callbacks) callback(err)
    })
  }

  endWith(wireCode: number, message: string): void {
    this.closeCode = WS_CLOSE_WIRE_ERROR_BASE + wireCode
    this.closeReason = closeReason(message)
  }

  end(chunk?: Uint8Array): this {
    if (chunk !== undefined) this.write(chunk)
    if (this.ended) return this
    this.corks = 0
    this.uncork()
    this.ended = true
    this.ws.close(this.closeCode, this.closeReason)
    return this
  }

  destroy(): this {
    this.ended = true
    this.ws.terminate()
    return this
  }

  pause(): this {
    this.ws.pause()
    return this
  }

  resume(): this {
    this.ws.resume()
    return this
  }

  setNoDelay(noDelay = true): this {
    this.socket.setNoDelay(noDelay)
    return this
  }

  private refuseText(): void {
    this.endWith(WireError.MALFORMED_FRAME, 'text messages are not accepted: the protocol is binary')
    this.emit('error', new GameServerError('GS_ERR_WS_TEXT_MESSAGE', 'a WebSocket client sent a text message', { remoteAddress: this.remoteAddress }))
    this.end()
  }
}

/** Truncate to what a close frame carries, on a character boundary. */
function closeReason(message: string): string {
  let reason = message
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1)
  return reason
}
