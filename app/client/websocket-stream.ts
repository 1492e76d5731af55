/**
 * A WebSocket as the byte stream `ClientConnection` reads and writes (docs/PROTOCOL.md "WebSocket
 * transport"): runs on the standard WebSocket API, so the same client works in a browser, on
 * Node's global WebSocket, or on an injected implementation (the `ws` package, for a local
 * address). No node: imports: this file is part of the browser bundle.
 *
 * - Each binary message received is one 'data' chunk (whole frames, possibly several).
 * - Writes between cork() and uncork() leave as one message; a write outside cork is one message,
 *   so a frame never spans messages.
 * - pause() holds received messages until resume() (the browser API cannot stop reading).
 * - `closeCode` / `closeReason`: the server's close frame (4000 + wire error code when it closed
 *   after an ERROR, 1000 otherwise).
 */
import { GameServerError } from '../errors.js'

/** The part of the standard WebSocket API used here (browsers, Node ≥ 22, the `ws` package). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { readonly data: unknown }) => void) | null
  onerror: ((event: unknown) => void) | null
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

export type WebSocketFactory = (url: string) => WebSocketLike

type StreamEvent = 'data' | 'error' | 'close'
type Listener = (...args: any[]) => void

const OPEN = 1
/** Closed by the client: normal closure. */
const CLOSE_NORMAL = 1000

export class WebSocketStream {
  closeCode = 0
  closeReason = ''
  private readonly listeners = new Map<StreamEvent, Listener[]>()
  private corks = 0
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  private paused = false
  private held: Uint8Array[] = []
  private closed = false

  private constructor(private readonly ws: WebSocketLike) {
    ws.onmessage = (event) => this.message(event.data)
    ws.onerror = () => this.emit('error', new GameServerError('GS_ERR_CLIENT_CLOSED', 'WebSocket error', {}))
    ws.onclose = (event) => {
      this.closeCode = event.code
      this.closeReason = event.reason
      this.closed = true
      this.emit('close')
    }
  }

  /** Open `url`; rejects (GS_ERR_CLIENT_CLOSED / GS_ERR_CLIENT_TIMEOUT) if it does not open within `timeoutMs`. */
  static open(url: string, timeoutMs: number, factory: WebSocketFactory = defaultFactory): Promise<WebSocketStream> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike
      try {
        ws = factory(url)
      } catch (err) {
        reject(new GameServerError('GS_ERR_CLIENT_CLOSED', `WebSocket to ${url} failed`, { url }, { cause: err }))
        return
      }
      ws.binaryType = 'arraybuffer'
      const timer = setTimeout(() => {
        ws.onopen = ws.onerror = ws.onclose = null
        ws.close()
        reject(new GameServerError('GS_ERR_CLIENT_TIMEOUT', 'connect timed out', { url }))
      }, timeoutMs)
      ws.onerror = () => undefined
      ws.onclose = (event) => {
        clearTimeout(timer)
        reject(new GameServerError('GS_ERR_CLIENT_CLOSED', `WebSocket to ${url} closed before it opened (${event.code})`, { url, closeCode: event.code }))
      }
      ws.onopen = () => {
        clearTimeout(timer)
        ws.onopen = null
        resolve(new WebSocketStream(ws))
      }
    })
  }

  on(event: StreamEvent, listener: Listener): this {
    const list = this.listeners.get(event)
    if (list) list.push(listener)
    else this.listeners.set(event, [listener])
    return this
  }

  once(event: StreamEvent, listener: Listener): this {
    const wrapped: Listener = (...args) => {
      this.off(event, wrapped)
      listener(...args)
    }
    return this.on(event, wrapped)
  }

  off(event: StreamEvent, listener: Listener): this {
    const list = this.listeners.get(event)
    const index = list?.indexOf(listener) ?? -1
    if (index >= 0) list!.splice(index, 1)
    return this
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.pendingBytes
  }

  write(bytes: Uint8Array): boolean {
    if (this.corks > 0) {
      this.pending.push(bytes)
      this.pendingBytes += bytes.length
      return true
    }
    if (this.ws.readyState === OPEN) this.ws.send(bytes)
    return true
  }

  cork(): void {
    this.corks++
  }

  uncork(): void {
    if (this.corks === 0 || --this.corks > 0 || this.pending.length === 0) return
    const parts = this.pending
    this.pending = []
    let message: Uint8Array
    if (parts.length === 1) message = parts[0]!
    else {
      message = new Uint8Array(this.pendingBytes)
      let at = 0
      for (const part of parts) {
        message.set(part, at)
        at += part.length
      }
    }
    this.pendingBytes = 0
    if (this.ws.readyState === OPEN) this.ws.send(message)
  }

  /** Send what is corked, then close normally. */
  end(): void {
    this.corks = Math.min(this.corks, 1)
    this.uncork()
    this.ws.close(CLOSE_NORMAL)
  }

  destroy(): void {
    if (this.closed) return
    this.ws.close(CLOSE_NORMAL)
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    this.paused = false
    const held = this.held
    this.held = []
    for (const chunk of held) this.emit('data', chunk)
  }

  private message(data: unknown): void {
    if (typeof data === 'string') {
      this.emit('error', new GameServerError('GS_ERR_WS_TEXT_MESSAGE', 'the server sent a text message', {}))
      this.ws.close()
      return
    }
    const chunk = data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data as Uint8Array)
    if (this.paused) this.held.push(chunk)
    else this.emit('data', chunk)
  }

  private emit(event: StreamEvent, ...args: unknown[]): void {
    const list = this.listeners.get(event)
    if (list === undefined) return
    for (const listener of [...list]) listener(...args)
  }
}

function defaultFactory(url: string): WebSocketLike {
  const Constructor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket
  if (Constructor === undefined) throw new GameServerError('GS_ERR_CLIENT_CLOSED', 'no WebSocket implementation in this runtime', { url })
  return new Constructor(url)
}
