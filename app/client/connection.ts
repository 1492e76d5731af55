/**
 * A client-side connection to the game server (tests, the typed game client, the load generator,
 * the browser playground): connect over TCP or WebSocket, send frames (coalesced per event-loop
 * turn with cork/uncork: one write, or one WebSocket message), receive frames with BATCH frames
 * unpacked transparently, wait for frames by seq or type, measure RTT with PING, close.
 */
import { connect as netConnect } from 'node:net'
import { GameServerError } from '../errors.js'
import { unpackBatch } from '../protocol/batch.js'
import { FrameDecoder, type FrameSink } from '../protocol/decoder.js'
import { ABSOLUTE_MAX_FRAME_BYTES, encodeFrame } from '../protocol/header.js'
import { decodeErrorPayload } from '../protocol/error-frame.js'
import { FrameType } from '../protocol/types.js'
import { WebSocketStream, type WebSocketFactory } from './websocket-stream.js'

/** How long a request waits for its reply, and a connect for the socket. */
const REPLY_TIMEOUT_MS = 5000

/** Largest BATCH body this client inflates unless told otherwise: a decompression-bomb guard sized like the server's MAX_INFLATED_BATCH_BYTES default (raise it with the server's). */
const MAX_INFLATED_BATCH_BYTES = 262144

export interface ClientConnectionOptions {
  readonly host: string
  readonly port: number
  /** Largest frame accepted from the server [65535]. */
  readonly maxFrameBytes?: number
  /** Bound on a BATCH's inflated body [262144]. */
  readonly maxInflatedBatchBytes?: number
  readonly connectTimeoutMs?: number
  /** Local address to connect from, e.g. 127.0.0.2 (tests of per-address limits on loopback). */
  readonly localAddress?: string
  /** Default for request()/waitFor()/ping() [5000]. */
  readonly timeoutMs?: number
  /** `ws`: the server's WebSocket listener (host:port is then WS_PORT's) [tcp]. */
  readonly transport?: 'tcp' | 'ws'
  /** WebSocket: the upgrade path [/ws]. */
  readonly path?: string
  /** WebSocket: the whole URL (e.g. `wss://game.example.com/ws` behind TLS); overrides host, port and path. */
  readonly url?: string
  /** WebSocket: how to open one [the runtime's global WebSocket]. */
  readonly webSocket?: WebSocketFactory
}

/** What the connection reads and writes: a TCP socket, or a WebSocket as a stream (websocket-stream.ts). */
interface ClientStream {
  on(event: 'data' | 'error' | 'close', listener: (...args: any[]) => void): unknown
  once(event: 'close', listener: () => void): unknown
  write(bytes: Uint8Array): unknown
  cork(): void
  uncork(): void
  end(): unknown
  destroy(): unknown
  pause(): unknown
  resume(): unknown
}

export interface ReceivedFrame {
  readonly type: number
  readonly seq: number
  readonly playerId: number
  readonly payload: Buffer
  /** performance.now() when it arrived. */
  readonly receivedAt: number
  /** True when it came inside a BATCH. */
  readonly batched: boolean
}

export type ClientStatus = 'open' | 'closing' | 'closed'
export type FrameMatch = number | readonly number[] | ((frame: ReceivedFrame) => boolean)

export interface ClientStats {
  framesIn: number
  framesOut: number
  batchesIn: number
  bytesIn: number
  bytesOut: number
}

interface Waiter {
  readonly match: (frame: ReceivedFrame) => boolean
  readonly resolve: (frame: ReceivedFrame) => void
  readonly reject: (err: Error) => void
  readonly timer: NodeJS.Timeout
}

export class ClientConnection {
  /** player_id put into outgoing frames (set by the game client after login). */
  playerId = 0
  status: ClientStatus = 'open'
  /** Why the connection failed, when it did. */
  error: Error | null = null
  /**
   * The wire code of the last ERROR the server pushed with ref_seq 0 (SERVER_FULL,
   * TOO_MANY_CONNECTIONS, IDLE_TIMEOUT, TAKEN_OVER, SHUTTING_DOWN, …): the server's reason when it
   * then closes the connection. Requests failed by the close carry it as `context.wireCode`.
   */
  serverCloseCode: number | null = null
  readonly stats: ClientStats = { framesIn: 0, framesOut: 0, batchesIn: 0, bytesIn: 0, bytesOut: 0 }
  /** Resolves once the socket is closed (never rejects). */
  readonly closed: Promise<void>
  private readonly socket: ClientStream
  private readonly decoder: FrameDecoder
  private readonly maxInflatedBatchBytes: number
  private readonly timeoutMs: number
  private readonly listeners = new Set<(frame: ReceivedFrame) => void>()
  private readonly waiters = new Set<Waiter>()
  private seq = 0
  private corked = false
  private readonly uncork = (): void => {
    this.corked = false
    this.socket.uncork()
  }

  private constructor(socket: ClientStream, options: ClientConnectionOptions) {
    this.socket = socket
    this.decoder = new FrameDecoder(options.maxFrameBytes ?? ABSOLUTE_MAX_FRAME_BYTES)
    this.maxInflatedBatchBytes = options.maxInflatedBatchBytes ?? MAX_INFLATED_BATCH_BYTES
    this.timeoutMs = options.timeoutMs ?? REPLY_TIMEOUT_MS
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (chunk: Buffer) => this.received(chunk))
    socket.on('error', (err) => (this.error ??= err))
    socket.on('close', () => this.ended())
  }

  static connect(options: ClientConnectionOptions): Promise<ClientConnection> {
    if (options.transport === 'ws' || options.url !== undefined) {
      const url = options.url ?? `ws://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}${options.path ?? '/ws'}`
      return WebSocketStream.open(url, options.connectTimeoutMs ?? REPLY_TIMEOUT_MS, options.webSocket).then((stream) => new ClientConnection(stream, options))
    }
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: options.host, port: options.port, noDelay: true, ...(options.localAddress ? { localAddress: options.localAddress } : {}) })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new GameServerError('GS_ERR_CLIENT_TIMEOUT', 'connect timed out', { host: options.host, port: options.port }))
      }, options.connectTimeoutMs ?? REPLY_TIMEOUT_MS)
      socket.once('error', (err) => {
        clearTimeout(timer)
        reject(new GameServerError('GS_ERR_CLIENT_CLOSED', `connect failed: ${err.message}`, { host: options.host, port: options.port }, { cause: err }))
      })
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        resolve(new ClientConnection(socket, options))
      })
    })
  }

  /** The next sequence number (1, 2, …; wraps at 2^32). */
  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0
    return this.seq
  }

  /** Send one frame; returns its seq. Frames sent in one turn leave in one write. */
  send(type: number, payload?: Uint8Array, options: { seq?: number; playerId?: number } = {}): number {
    const seq = options.seq ?? this.nextSeq()
    this.sendRaw(encodeFrame(type, seq, options.playerId ?? this.playerId, payload))
    this.stats.framesOut++
    return seq
  }

  /** Write bytes as they are (tests of malformed input). */
  sendRaw(bytes: Uint8Array): void {
    if (this.status !== 'open') throw new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection is closed', {})
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(this.uncork)
    }
    this.stats.bytesOut += bytes.length
    this.socket.write(bytes)
  }

  /** Subscribe to every received frame (BATCH contents included, BATCH frames themselves not). */
  onFrame(listener: (frame: ReceivedFrame) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** The first frame (from now on) that matches: a type, one of several types, or a predicate. */
  waitFor(match: FrameMatch, timeoutMs: number = this.timeoutMs): Promise<ReceivedFrame> {
    const test = typeof match === 'function' ? match : typeof match === 'number' ? (f: ReceivedFrame) => f.type === match : (f: ReceivedFrame) => match.includes(f.type)
    return new Promise((resolve, reject) => {
      if (this.status === 'closed') {
        reject(this.closedError())
        return
      }
      const waiter: Waiter = {
        match: test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new GameServerError('GS_ERR_CLIENT_TIMEOUT', `no matching frame within ${timeoutMs} ms`, { timeoutMs }))
        }, timeoutMs),
      }
      this.waiters.add(waiter)
    })
  }

  /**
   * Send a frame and await the answer: by default the first frame carrying the same seq (the
   * server's replies and ERROR frames echo it); with `expect`, the first frame of those types.
   */
  request(type: number, payload?: Uint8Array, options: { expect?: FrameMatch; timeoutMs?: number; playerId?: number } = {}): Promise<ReceivedFrame> {
    const seq = this.nextSeq()
    const answer = this.waitFor(options.expect ?? ((f) => f.seq === seq), options.timeoutMs)
    this.send(type, payload, { seq, ...(options.playerId === undefined ? {} : { playerId: options.playerId }) })
    return answer
  }

  /** Round-trip time of one PING in ms. */
  async ping(payload?: Uint8Array, timeoutMs: number = this.timeoutMs): Promise<number> {
    const seq = this.nextSeq()
    const started = performance.now()
    const pong = this.waitFor((f) => f.type === FrameType.PONG && f.seq === seq, timeoutMs)
    this.send(FrameType.PING, payload, { seq })
    return (await pong).receivedAt - started
  }

  /** End our side and wait for the socket to close (destroyed after `timeoutMs`). Idempotent. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.status === 'open') {
      this.status = 'closing'
      this.socket.end()
      const timer = setTimeout(() => this.socket.destroy(), timeoutMs)
      timer.unref()
      await this.closed
      clearTimeout(timer)
    }
    await this.closed
  }

  /** WebSocket: the close frame's code (4000 + wire error code after an ERROR); null over TCP or while open. */
  get closeCode(): number | null {
    return this.socket instanceof WebSocketStream && this.socket.closeCode !== 0 ? this.socket.closeCode : null
  }

  /** Close now. */
  destroy(): void {
    this.socket.destroy()
  }

  /** Stop reading (a slow reader); `resume()` to read again. */
  pause(): void {
    this.socket.pause()
  }

  resume(): void {
    this.socket.resume()
  }

  private received(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length
    const result = this.decoder.push(chunk, this.sink)
    if (result === 'frame-too-small' || result === 'frame-too-large') {
      this.fail(new GameServerError(result === 'frame-too-small' ? 'GS_ERR_FRAME_TOO_SMALL' : 'GS_ERR_FRAME_TOO_LARGE', `server sent a frame of ${this.decoder.violationSize} bytes`, { size: this.decoder.violationSize }))
    }
  }

  private readonly sink: FrameSink = {
    onFrame: (type, seq, playerId, source, start, end) => {
      if (this.status === 'closed') return false
      const receivedAt = performance.now()
      const payload = source.subarray(start, end)
      if (type !== FrameType.BATCH) {
        this.deliver({ type, seq, playerId, payload, receivedAt, batched: false })
        return true
      }
      let inner
      try {
        inner = unpackBatch(payload, { maxFrameBytes: this.decoder.maxFrameBytes, maxInflatedBatchBytes: this.maxInflatedBatchBytes })
      } catch (err) {
        this.fail(err as Error)
        return false
      }
      this.stats.batchesIn++
      for (const frame of inner) this.deliver({ ...frame, receivedAt, batched: true })
      return true
    },
  }

  private fail(err: Error): void {
    this.error ??= err
    this.socket.destroy()
  }

  private deliver(frame: ReceivedFrame): void {
    this.stats.framesIn++
    if (frame.type === FrameType.ERROR && frame.seq === 0) {
      try {
        this.serverCloseCode = decodeErrorPayload(frame.payload).code
      } catch {
        // a malformed ERROR names no reason; the frame still reaches the listeners below
      }
    }
    for (const waiter of this.waiters) {
      if (waiter.match(frame)) {
        this.waiters.delete(waiter)
        clearTimeout(waiter.timer)
        waiter.resolve(frame)
      }
    }
    for (const listener of this.listeners) listener(frame)
  }

  private closedError(): GameServerError {
    const context = this.serverCloseCode === null ? {} : { wireCode: this.serverCloseCode }
    return new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', context, this.error ? { cause: this.error } : undefined)
  }

  private ended(): void {
    this.status = 'closed'
    const err = this.closedError()
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(err)
    }
    this.waiters.clear()
  }
}
