/**
 * One client session (pooled; see SessionPool): socket → FrameDecoder → checks → FrameDispatcher,
 * with PING answered here and every reply going through the session's Outbound. The socket is a
 * `Transport` (transport.ts): a TCP socket as it is, or a WebSocket (ws-transport.ts), whose
 * messages must hold whole frames and whose close frame names the ERROR the session closed for.
 *
 * Inbound checks, in order (docs/PROTOCOL.md §6):
 *   size < 12 or > max ............ ERROR MALFORMED_FRAME / FRAME_TOO_LARGE, close
 *   frame rate over the bucket .... ERROR RATE_LIMITED, frame dropped; close after maxViolations
 *   BATCH from the client ......... ERROR BATCH_FROM_CLIENT, close
 *   player_id ≠ session's ......... ERROR PLAYER_ID_MISMATCH, close (before login it must be 0;
 *                                   PING included)
 *   PING .......................... PONG (same seq, player_id, payload)
 *   unknown type .................. ERROR UNKNOWN_TYPE, frame dropped; close after maxViolations
 * Tolerated violations (rate, unknown type here; malformed payload and not-logged-in in the game,
 * through `Connection.violation`) are counted in one place, `countViolation`: the metric and one
 * total per connection (MAX_VIOLATIONS is a total, not per kind).
 * Byte rate over the bucket pauses reading until the bucket refills (TCP backpressure) and counts a
 * 'rate-bytes' violation.
 */
import type { Logger } from '../logger.js'
import type { BufferPool } from './buffer-pool.js'
import { FrameDecoder, type FrameSink } from '../protocol/decoder.js'
import { writeErrorPayload } from '../protocol/error-frame.js'
import { HEADER_BYTES } from '../protocol/header.js'
import { parseProxyV1 } from '../protocol/proxy-header.js'
import { FrameType, frameTypeName, isClientFrameType, WireError } from '../protocol/types.js'
import type { CloseReason, FrameDispatcher, SharedFrames, ViolationKind } from './connection.js'
import type { FlushScheduler } from './flush-scheduler.js'
import type { NetMetrics } from './metrics.js'
import type { SessionOptions } from './options.js'
import { Outbound, type OutboundOwner } from './outbound.js'
import { SessionConnection, type ConnectionTarget } from './session-connection.js'
import { TokenBucket } from './token-bucket.js'
import type { Transport } from './transport.js'

/** free: in the pool · open · draining: shutdown, no more reads, sends allowed · closing · closed */
export type SessionState = 'free' | 'open' | 'draining' | 'closing' | 'closed'

export interface SessionHost {
  readonly options: SessionOptions
  readonly dispatcher: FrameDispatcher
  readonly metrics: NetMetrics
  readonly logger: Logger
  readonly buffers: BufferPool
  readonly scheduler: FlushScheduler
  /** The socket is gone and the game was told; the host may return the session to its pool. */
  sessionEnded(session: Session, reason: CloseReason): void
}

export class Session implements FrameSink, OutboundOwner, ConnectionTarget {
  state: SessionState = 'free'
  connection: SessionConnection | null = null
  lastInboundMs = 0
  /** TRUST_PROXY_HEADER: bytes seen while waiting for a possible PROXY line; null once decided. */
  private proxyPending: Buffer | null = null
  /** performance.now() when the frame now held partially began to arrive; 0 between frames. */
  frameStartedMs = 0
  closeReason: CloseReason | null = null
  private socket: Transport | null = null
  /** The last ERROR this connection was sent (a WebSocket's close frame carries it); 0: none. */
  private lastErrorCode = 0
  private lastErrorMessage = ''
  private readonly decoder: FrameDecoder
  private readonly outbound: Outbound
  private readonly frameBucket = new TokenBucket()
  private readonly byteBucket = new TokenBucket()
  /** Room for an ERROR payload (≤ 256 B, ≤ max frame − header) in the shared scratch buffer. */
  private readonly errorPayloadBytes: number
  private violations = 0
  private nowMs = 0
  private graceTimer: NodeJS.Timeout | null = null
  private resumeTimer: NodeJS.Timeout | null = null
  private readonly onData = (chunk: Buffer): void => this.received(chunk)
  private readonly onEnd = (): void => this.close('client-closed')
  private readonly onError = (err: Error): void => this.failed(err)
  private readonly onClose = (): void => this.finish()
  private readonly onDrain = (): void => this.outbound.drained()
  private readonly onGraceOver = (): void => {
    this.graceTimer = null
    this.socket?.destroy()
  }
  private readonly onResume = (): void => {
    this.resumeTimer = null
    if (this.state === 'open') this.socket?.resume()
  }

  constructor(private readonly host: SessionHost) {
    const options = host.options
    this.decoder = new FrameDecoder(options.maxFrameBytes)
    this.outbound = new Outbound(options, host.buffers, host.scheduler, host.metrics, this)
    this.errorPayloadBytes = Math.min(options.maxFrameBytes - HEADER_BYTES, ERROR_SCRATCH_BYTES)
  }

  get acceptingSends(): boolean {
    return this.state === 'open' || this.state === 'draining'
  }

  get batchPlayerId(): number {
    return this.connection?.playerId ?? 0
  }

  get outboundBytes(): number {
    return this.outbound.queuedBytes
  }

  open(socket: Transport, id: number, nowMs: number): SessionConnection {
    const options = this.host.options
    this.state = 'open'
    this.socket = socket
    this.lastErrorCode = 0
    this.lastErrorMessage = ''
    this.closeReason = null
    this.violations = 0
    this.lastInboundMs = nowMs
    this.frameStartedMs = 0
    // A session reads a PROXY line on the TCP port only; a WebSocket's comes before its HTTP
    // request, so the listener reads it (WS_TRUST_PROXY_HEADER, ws-listener.ts) and the transport
    // already carries the address it named.
    this.proxyPending = options.trustProxyHeader && socket.messageFramed !== true ? EMPTY : null
    this.decoder.reset()
    this.frameBucket.configure(options.maxFramesPerSecond, options.maxFramesPerSecond, nowMs)
    this.byteBucket.configure(options.maxBytesPerSecond, options.maxBytesPerSecond, nowMs)
    // Outbound writes through the Transport subset of a socket (write, cork/uncork, writableLength, 'drain').
    this.outbound.attach(socket)
    const connection = new SessionConnection(id, socket.remoteAddress ?? '', this, this.host.metrics)
    this.connection = connection
    socket.setNoDelay(true)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
    this.host.metrics.sessionOpened()
    return connection
  }

  send(type: number, seq: number, playerId: number, payload: Uint8Array | undefined): boolean {
    if (!this.acceptingSends) return false
    const ok = this.outbound.enqueue(type, seq, playerId, payload, 0, payload === undefined ? 0 : payload.length)
    if (ok) this.host.metrics.frameOut(frameTypeName(type), HEADER_BYTES + (payload?.length ?? 0))
    return ok
  }

  sendShared(frames: SharedFrames): boolean {
    if (!this.acceptingSends) return false
    const ok = this.outbound.enqueueShared(frames.bytes, frames.frames)
    if (ok) this.host.metrics.frameOut(frames.typeName, frames.bytes.length)
    return ok
  }

  sendError(code: number, refSeq: number, message: string): boolean {
    if (this.state === 'closed' || this.state === 'free') return false
    const scratch = SHARED_ERROR_SCRATCH.subarray(0, this.errorPayloadBytes)
    const length = writeErrorPayload(scratch, code, refSeq, message)
    this.lastErrorCode = code
    this.lastErrorMessage = message
    const ok = this.outbound.enqueue(FrameType.ERROR, refSeq, this.connection?.playerId ?? 0, scratch, 0, length)
    if (ok) this.host.metrics.frameOut('ERROR', HEADER_BYTES + length)
    return ok
  }

  /** Shutdown phase 1: stop reading (nothing new is dispatched); sends still go out. */
  stopReading(): void {
    if (this.state !== 'open') return
    this.state = 'draining'
    this.socket?.pause()
  }

  /** Graceful: flush what is queued, end the socket; destroyed if not closed within closeGraceMs. Idempotent. */
  close(reason: CloseReason): void {
    if (this.state !== 'open' && this.state !== 'draining') return
    this.state = 'closing'
    this.closeReason = reason
    const socket = this.socket!
    // The close frame names the ERROR the connection is closed for (not an earlier, tolerated one).
    if (this.lastErrorCode !== 0 && reason !== 'logout' && reason !== 'client-closed') socket.endWith?.(this.lastErrorCode, this.lastErrorMessage)
    // Keep reading (and discarding) so the peer's FIN is seen and 'close' follows our end().
    socket.resume()
    this.graceTimer = setTimeout(this.onGraceOver, this.host.options.closeGraceMs)
    this.graceTimer.unref()
    this.outbound.beginClose()
  }

  /** Now: no flush. Idempotent. */
  destroy(reason: CloseReason): void {
    if (this.state === 'closed' || this.state === 'free') return
    if (this.closeReason === null || this.state !== 'closing') this.closeReason = reason
    this.state = 'closing'
    this.socket?.destroy()
  }

  /** Idle-timeout sweep (server): true when the session was closed for idleness. */
  closeIfIdle(nowMs: number, idleTimeoutMs: number): boolean {
    if (this.state !== 'open' || nowMs - this.lastInboundMs < idleTimeoutMs) return false
    this.host.metrics.ioEvent('timeout')
    this.sendError(WireError.IDLE_TIMEOUT, 0, `no frame for ${idleTimeoutMs} ms`)
    this.close('idle-timeout')
    return true
  }

  /** Frame-deadline sweep (server): true when the session was closed for a frame left incomplete. */
  closeIfFrameStalled(nowMs: number, deadlineMs: number): boolean {
    if (this.state !== 'open' || this.frameStartedMs === 0 || nowMs - this.frameStartedMs < deadlineMs) return false
    this.host.metrics.ioEvent('timeout')
    this.sendError(WireError.FRAME_TIMEOUT, 0, `frame not completed within ${deadlineMs} ms`)
    this.close('frame-timeout')
    return true
  }

  slowClient(): void {
    if (this.state === 'closed' || this.state === 'free') return
    this.host.metrics.slowClientDisconnected()
    this.destroy('slow-client')
  }

  outboundDrained(): void {
    if (this.state === 'closing') this.socket?.end()
  }

  onFrame(type: number, seq: number, playerId: number, source: Buffer, payloadStart: number, payloadEnd: number): boolean {
    if (this.state !== 'open') return false
    const metrics = this.host.metrics
    metrics.frameIn(frameTypeName(type), HEADER_BYTES + payloadEnd - payloadStart)
    if (!this.frameBucket.take(1, this.nowMs)) return this.tolerate('rate-frames', WireError.RATE_LIMITED, seq, 'frame rate limit exceeded', 'rate-limited')
    const connection = this.connection!
    if (type === FrameType.BATCH) return this.violate('batch-from-client', WireError.BATCH_FROM_CLIENT, seq, 'BATCH is server-to-client only')
    if (playerId !== connection.playerId) {
      // Before login the session's id is 0, so a PING carrying any other id is spoofing too.
      return this.violate('player-id-mismatch', WireError.PLAYER_ID_MISMATCH, seq, 'player_id does not match the session')
    }
    if (type === FrameType.PING) {
      if (this.outbound.enqueue(FrameType.PONG, seq, playerId, source, payloadStart, payloadEnd)) {
        metrics.frameOut('PONG', HEADER_BYTES + payloadEnd - payloadStart)
      }
      return this.state === 'open'
    }
    if (!isClientFrameType(type)) return this.tolerate('unknown-type', WireError.UNKNOWN_TYPE, seq, `unknown frame type ${type}`, 'protocol-violation')
    try {
      this.host.dispatcher.dispatch({ connection, type, seq, playerId, payload: source.subarray(payloadStart, payloadEnd), receivedAt: this.nowMs })
    } catch (err) {
      this.host.logger.error({ err, connectionId: connection.id, type }, 'dispatcher threw; closing session')
      this.sendError(WireError.INTERNAL, seq, 'internal error')
      this.close('protocol-violation')
    }
    return this.state === 'open'
  }

  private received(chunk: Buffer): void {
    if (this.state !== 'open') return
    const now = performance.now()
    this.nowMs = now
    this.lastInboundMs = now
    const metrics = this.host.metrics
    metrics.ioEvent('read')
    metrics.bytesIn(chunk.length)
    const waitMs = this.byteBucket.consume(chunk.length, now)
    if (waitMs > 0 && this.resumeTimer === null) {
      metrics.violation('rate-bytes')
      this.socket!.pause()
      this.resumeTimer = setTimeout(this.onResume, waitMs)
      this.resumeTimer.unref()
    }
    let data = chunk
    if (this.proxyPending !== null) {
      const relayed = this.proxyHeader(chunk)
      if (relayed === null) return
      data = relayed
    }
    const result = this.decoder.push(data, this)
    if (result === 'ok' && this.decoder.bufferedBytes > 0 && this.socket?.messageFramed === true) {
      this.violate('split-frame', WireError.MALFORMED_FRAME, 0, 'a frame must not span WebSocket messages')
      return
    }
    // Slow-drip defence: every byte refreshes the idle timer, so a frame's own deadline runs from
    // its first byte (a frame that began in an earlier chunk keeps its start).
    if (this.decoder.bufferedBytes === 0) this.frameStartedMs = 0
    else if (this.frameStartedMs === 0) this.frameStartedMs = now
    if (result === 'frame-too-small') this.violate(result, WireError.MALFORMED_FRAME, 0, `frame size ${this.decoder.violationSize} < 12`)
    else if (result === 'frame-too-large') this.violate(result, WireError.FRAME_TOO_LARGE, 0, `frame size ${this.decoder.violationSize} > ${this.decoder.maxFrameBytes}`)
  }

  /**
   * The first bytes of a connection when PROXY headers are trusted: hold them until it is clear
   * whether a PROXY line opens the stream; returns what the frame decoder gets next, or null while
   * undecided (or after closing on a malformed line).
   */
  private proxyHeader(chunk: Buffer): Buffer | null {
    const seen = this.proxyPending!.length === 0 ? chunk : Buffer.concat([this.proxyPending!, chunk])
    const parsed = parseProxyV1(seen)
    if (parsed.kind === 'incomplete') {
      this.proxyPending = Buffer.from(seen)
      return null
    }
    this.proxyPending = null
    if (parsed.kind === 'absent') return seen
    if (parsed.kind === 'invalid') {
      this.violate('malformed-payload', WireError.MALFORMED_FRAME, 0, `bad PROXY header: ${parsed.reason}`)
      return null
    }
    if (parsed.source !== null) this.connection!.relayedFrom(parsed.source)
    return seen.subarray(parsed.consumed)
  }

  /** A closing violation: count it, answer with ERROR, close. Returns false (stop decoding). */
  private violate(kind: ViolationKind, code: number, refSeq: number, message: string): false {
    this.host.metrics.violation(kind)
    this.sendError(code, refSeq, message)
    this.close('protocol-violation')
    return false
  }

  /** A tolerated violation seen here: ERROR, drop the frame, count it; closed at maxViolations. */
  private tolerate(kind: ViolationKind, code: number, refSeq: number, message: string, reason: CloseReason): boolean {
    this.sendError(code, refSeq, message)
    return !this.countViolation(kind, reason) && this.state === 'open'
  }

  /**
   * One tolerated violation against this connection, whichever layer saw it: the metric, and one
   * total per connection (not one per kind); true when it reached maxViolations and the session is closing.
   */
  countViolation(kind: ViolationKind, reason: CloseReason): boolean {
    this.host.metrics.violation(kind)
    if (++this.violations < this.host.options.maxViolations) return false
    this.close(reason)
    return true
  }

  private failed(err: Error): void {
    this.host.metrics.ioEvent('error')
    if (this.state === 'open' || this.state === 'draining') this.closeReason = 'socket-error'
    this.host.logger.debug({ err, connectionId: this.connection?.id }, 'socket error')
  }

  private finish(): void {
    if (this.state === 'closed' || this.state === 'free') return
    const reason = this.closeReason ?? 'client-closed'
    this.state = 'closed'
    const socket = this.socket!
    socket.off('data', this.onData)
    socket.off('end', this.onEnd)
    socket.off('error', this.onError)
    socket.off('close', this.onClose)
    socket.off('drain', this.onDrain)
    // A late 'error' after close must not become an uncaught exception.
    socket.on('error', ignore)
    this.socket = null
    if (this.graceTimer !== null) clearTimeout(this.graceTimer)
    if (this.resumeTimer !== null) clearTimeout(this.resumeTimer)
    this.graceTimer = null
    this.resumeTimer = null
    this.outbound.detach()
    this.decoder.reset()
    const connection = this.connection!
    connection.detach()
    this.host.metrics.sessionClosed(reason)
    try {
      this.host.dispatcher.disconnected(connection, reason)
    } catch (err) {
      this.host.logger.error({ err, connectionId: connection.id }, 'dispatcher.disconnected threw')
    }
    this.host.sessionEnded(this, reason)
  }

  /** Back to the pool: drop the last connection's references. */
  recycle(): void {
    this.state = 'free'
    this.connection = null
    this.closeReason = null
  }
}

function ignore(): void {}

const EMPTY = Buffer.alloc(0)
const ERROR_SCRATCH_BYTES = 256
/** Shared by all sessions: Outbound.enqueue copies the payload synchronously (saves 256 B + a Buffer per session). */
const SHARED_ERROR_SCRATCH = Buffer.alloc(ERROR_SCRATCH_BYTES)
