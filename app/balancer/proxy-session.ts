/**
 * One proxied client: connect to a backend picked by the pool (a failed or timed-out connect
 * tries another, up to `retries` more), then pipe both directions with stream backpressure
 * (`pipe` pauses the source when the destination's write returns false and resumes on 'drain').
 *
 * - Half-close: both sockets are allowHalfOpen; a FIN from one side is passed on as `end()` to the
 *   other, and the session ends when both sockets closed.
 * - Any socket error (or an idle timeout, drain deadline, shutdown) destroys both sockets.
 * - The backend's connection counter is taken at the pick and released exactly once.
 * - No backend available: the client receives an ERROR frame NO_BACKEND and is closed.
 * - PROXY header (`sendProxyHeader`): the backend connection starts with a PROXY v1 line naming the
 *   client's address, so the game server throttles and reports per real client.
 * - Response probe (`responseTimeoutMs` > 0): once connected, the balancer sends the backend a PING
 *   of its own (seq 0, player_id 0) and waits for its PONG before piping. A backend that accepts
 *   connections but is hung (SIGSTOP, a stuck event loop) is found within that bound and the next
 *   backend is tried, instead of the client hanging until a health check notices. The PONG is
 *   consumed here, so the client's byte stream is exactly the backend's answers to the client.
 *   Anything else first (e.g. SERVER_FULL) also counts as a failed connect: another is tried.
 */
import { connect, type Socket } from 'node:net'
import { encodeErrorPayload } from '../protocol/error-frame.js'
import { encodeFrame } from '../protocol/header.js'
import { encodeProxyV1 } from '../protocol/proxy-header.js'
import { FrameType, WireError } from '../protocol/types.js'
import type { Backend } from './backend.js'
import type { ProxyCloseReason } from './metrics.js'

export type ProxySessionState = 'connecting' | 'open' | 'closed'

export interface ProxySessionHost {
  readonly connectTimeoutMs: number
  /** Open each backend connection with a PROXY v1 line naming the client (BALANCER_SEND_PROXY_HEADER). */
  readonly sendProxyHeader: boolean
  readonly responseTimeoutMs: number
  readonly retries: number
  readonly idleTimeoutMs: number
  /** Time a refused client has to read the NO_BACKEND frame before it is destroyed. */
  readonly closeGraceMs: number
  /** What a client gets when no backend takes it (the NO_BACKEND frame; an HTTP 503 on the WebSocket front). */
  readonly noBackendReply: Buffer
  /** The backend port this front connects to (its game port, or its WebSocket port). */
  backendPort(backend: Backend): number
  pick(exclude: ReadonlySet<Backend>): Backend | undefined
  connectFailed(session: ProxySession, backend: Backend, error: Error): void
  opened(session: ProxySession): void
  noBackend(session: ProxySession, attempts: number): void
  /** Called exactly once per session; `wasOpen` when it had been connected to a backend. */
  ended(session: ProxySession, reason: ProxyCloseReason, wasOpen: boolean): void
}

/**
 * Copy `from` → `to` with backpressure: pause the source while the destination's buffer is
 * above its high-water mark (write() returned false), resume on 'drain'; pass a FIN on as end().
 * (What stream.pipe does, without its per-chunk bookkeeping.)
 */
function forward(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause()
  })
  to.on('drain', () => from.resume())
  from.on('end', () => {
    if (!to.destroyed) to.end()
  })
  from.resume()
}

/**
 * Backend → client reads land in one buffer shared by every session (`onread`): no Buffer and no
 * stream bookkeeping per read. Safe because each read is written out before the next read starts,
 * and when a write cannot complete at once (the kernel took part of it, or earlier data is still
 * queued) the pending write keeps this buffer and the next reads get a fresh one.
 */
const READ_BUFFER_BYTES = 65536
let sharedReadBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)
const currentReadBuffer = (): Buffer => sharedReadBuffer

export const NO_BACKEND_FRAME = encodeFrame(FrameType.ERROR, 0, 0, encodeErrorPayload(WireError.NO_BACKEND, 0, 'no healthy backend'))
/** The balancer's own PING to a fresh backend connection, and the PONG it must get back first. */
const PROBE_PAYLOAD = Buffer.from('balancer-probe')
const PROBE_FRAME = encodeFrame(FrameType.PING, 0, 0, PROBE_PAYLOAD)
const PROBE_ANSWER = encodeFrame(FrameType.PONG, 0, 0, PROBE_PAYLOAD)

export class ProxySession {
  state: ProxySessionState = 'connecting'
  backend: Backend | null = null
  readonly acceptedAt = performance.now()
  connectedAt = 0
  /** Idle sweep bookkeeping: activity seen at the last sweep, and since when it has not changed. */
  idleMark = -1
  idleSince = 0
  private upstream: Socket | null = null
  private readonly tried = new Set<Backend>()
  private connectTimer: NodeJS.Timeout | null = null
  /** While probing: the backend's bytes so far (the PONG may arrive in pieces); null otherwise. */
  private probeBytes: Buffer | null = null
  private probeDone: ((err: Error | null) => void) | null = null
  private closeReason: ProxyCloseReason | null = null
  private released = false
  private endedReported = false

  constructor(
    private readonly host: ProxySessionHost,
    readonly client: Socket,
  ) {
    client.on('error', () => this.destroy('client-error'))
    client.on('close', () => this.socketClosed())
    this.connectNext()
  }

  get bytesFromClient(): number {
    return this.client.bytesRead
  }

  get bytesToClient(): number {
    return this.client.bytesWritten
  }

  /** Destroy both sockets now (error, idle timeout, drain deadline, shutdown). Idempotent. */
  destroy(reason: ProxyCloseReason): void {
    this.closeReason ??= reason
    this.clearConnectTimer()
    this.upstream?.destroy()
    this.client.destroy()
    this.finish()
  }

  private connectNext(): void {
    if (this.state !== 'connecting' || this.client.destroyed) return
    const backend = this.tried.size <= this.host.retries ? this.host.pick(this.tried) : undefined
    if (backend === undefined) {
      this.refuse()
      return
    }
    this.tried.add(backend)
    this.backend = backend
    this.released = false
    backend.acquire()
    const upstream = connect({
      host: backend.host,
      port: this.host.backendPort(backend),
      noDelay: true,
      allowHalfOpen: true,
      onread: { buffer: currentReadBuffer, callback: this.fromBackend },
    })
    this.upstream = upstream
    const failed = (err: Error): void => {
      if (this.upstream !== upstream || this.state !== 'connecting') return
      this.clearConnectTimer()
      upstream.destroy()
      this.upstream = null
      this.releaseBackend()
      this.host.connectFailed(this, backend, err)
      this.connectNext()
    }
    this.connectTimer = setTimeout(() => failed(new Error(`connect timed out after ${this.host.connectTimeoutMs} ms`)), this.host.connectTimeoutMs)
    this.connectTimer.unref()
    upstream.once('error', failed)
    upstream.once('connect', () => {
      if (this.upstream !== upstream || this.state !== 'connecting') return
      this.clearConnectTimer()
      // first, before the probe and the client's bytes: whom this connection is for
      if (this.host.sendProxyHeader) upstream.write(encodeProxyV1(this.client.remoteAddress, this.client.remotePort, this.client.localAddress, this.client.localPort))
      if (this.host.responseTimeoutMs <= 0) {
        upstream.off('error', failed)
        this.pipe(upstream)
        return
      }
      this.probeBytes = Buffer.alloc(0)
      this.probeDone = (err) => {
        this.probeBytes = null
        this.probeDone = null
        this.clearConnectTimer()
        if (err !== null) return failed(err)
        upstream.off('error', failed)
        this.pipe(upstream)
      }
      this.connectTimer = setTimeout(() => this.probeDone?.(new Error(`backend accepted but did not answer a PING within ${this.host.responseTimeoutMs} ms`)), this.host.responseTimeoutMs)
      this.connectTimer.unref()
      upstream.write(PROBE_FRAME)
    })
  }

  private pipe(upstream: Socket): void {
    this.state = 'open'
    this.connectedAt = performance.now()
    upstream.on('error', () => this.destroy('backend-error'))
    upstream.on('close', () => {
      this.releaseBackend()
      // The backend is gone; the client keeps reading what is in flight, then gets our FIN (pipe).
      // If it never closes its side, the idle timeout (or close grace) ends it.
      if (!this.client.destroyed) this.client.setTimeout(this.host.closeGraceMs, () => this.destroy('closed'))
      this.finish()
    })
    forward(this.client, upstream)
    // Backend → client: reads arrive in `fromBackend` (onread); drain resumes, FIN is passed on.
    this.client.on('drain', () => upstream.resume())
    upstream.on('end', () => {
      if (!this.client.destroyed) this.client.end()
    })
    this.host.opened(this)
  }

  /** Bytes moved in either direction so far (the proxy's idle sweep compares it between sweeps). */
  get activity(): number {
    return this.client.bytesRead + this.client.bytesWritten
  }

  /** onread callback: forward `bytes` bytes of the shared buffer to the client; false pauses reading. */
  private readonly fromBackend = (bytes: number, buffer: Buffer): boolean => {
    if (this.probeBytes !== null) return this.probeRead(buffer.subarray(0, bytes))
    const client = this.client
    if (client.destroyed) return false
    const writable = client.write(buffer.subarray(0, bytes))
    if (client.writableLength > 0) sharedReadBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)
    return writable
  }

  /** Bytes while probing: wait for the whole PONG; pass on what follows it once piping. */
  private probeRead(chunk: Buffer): boolean {
    const seen = Buffer.concat([this.probeBytes!, chunk])
    const n = Math.min(seen.length, PROBE_ANSWER.length)
    if (!seen.subarray(0, n).equals(PROBE_ANSWER.subarray(0, n))) {
      const type = seen.length >= 4 ? seen.readUInt16LE(2) : -1
      this.probeDone!(new Error(`backend answered frame type ${type} instead of the probe's PONG`))
      return false
    }
    if (seen.length < PROBE_ANSWER.length) {
      this.probeBytes = seen
      return true
    }
    const rest = seen.subarray(PROBE_ANSWER.length)
    this.probeDone!(null)
    if (rest.length > 0 && !this.client.destroyed) this.client.write(Buffer.from(rest))
    return true
  }

  private refuse(): void {
    this.state = 'closed'
    this.closeReason = 'closed'
    this.host.noBackend(this, this.tried.size)
    const client = this.client
    client.setTimeout(this.host.closeGraceMs, () => client.destroy())
    client.on('end', () => client.destroy())
    client.resume()
    client.end(this.host.noBackendReply)
  }

  private socketClosed(): void {
    // Client gone while connecting, or the session is over.
    if (this.state === 'connecting') {
      this.destroy('client-error')
      return
    }
    if (this.upstream !== null && !this.upstream.destroyed) {
      // A client that closed without error ended its side already; the backend follows by pipe's end().
      // Give the backend a grace period to finish, then cut.
      const upstream = this.upstream
      upstream.setTimeout(this.host.closeGraceMs, () => upstream.destroy())
      return
    }
    this.finish()
  }

  private releaseBackend(): void {
    if (this.released || this.backend === null) return
    this.released = true
    this.backend.release()
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer)
    this.connectTimer = null
  }

  private finish(): void {
    if (this.endedReported) return
    if (!this.client.destroyed) return
    if (this.upstream !== null && !this.upstream.destroyed) return
    this.endedReported = true
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    this.releaseBackend()
    this.host.ended(this, this.closeReason ?? 'closed', wasOpen)
  }
}
