/**
 * The seam between transport (app/net) and game logic (app/game).
 *
 * The net layer owns sockets, decoding, PING/PONG, send buffers, BATCH packing, rate limits and
 * protocol violations. Every other well-formed inbound frame is handed to a `FrameDispatcher`
 * (the game's batch processor). Game code answers through the `Connection` it was given.
 */
import type { WireErrorCode } from '../protocol/types.js'

/** Why a session ended; a metric label, so keep the set small and closed. */
export type CloseReason =
  | 'client-closed'
  | 'logout'
  | 'idle-timeout'
  | 'protocol-violation'
  | 'rate-limited'
  | 'slow-client'
  | 'server-full'
  | 'shutdown'
  | 'socket-error'
  | 'replaced' // the same player logged in elsewhere
  | 'frame-timeout' // a frame was started and not completed within FRAME_DEADLINE_MS
  | 'address-limit' // refused at connect: MAX_CONNECTIONS_PER_ADDRESS from its address

/** Kinds of protocol violation (a metric label): the net layer's own and the game's (payloads, login). */
export type ViolationKind =
  | 'frame-too-small'
  | 'frame-too-large'
  | 'split-frame' // WebSocket: a message ended inside a frame
  | 'batch-from-client'
  | 'player-id-mismatch'
  | 'unknown-type'
  | 'malformed-payload'
  | 'not-logged-in'
  | 'rate-frames'
  | 'rate-bytes'

export interface Connection {
  /** Unique per accepted socket for the life of the process (never reused, unlike the pooled object). */
  readonly id: number
  /** 0 until login; afterwards every inbound frame's player_id must equal it. */
  playerId: number
  readonly remoteAddress: string
  readonly closed: boolean
  /**
   * Queue one frame for this connection. The payload is copied into the send buffer, so the caller
   * may reuse it. Returns false when the connection is closed or was just cut off as a slow client.
   */
  send(type: number, seq: number, playerId: number, payload?: Uint8Array): boolean
  /**
   * Queue frames encoded once for many connections (a zone tick's), by reference: never copied,
   * packed or compressed per connection, so `frames.bytes` must not change afterwards. Counted
   * against the connection's outbound cap like any other frame. False as for `send`.
   */
  sendShared(frames: SharedFrames): boolean
  /** Queue an ERROR frame (see docs/PROTOCOL.md) answering the frame with `refSeq`. */
  sendError(code: WireErrorCode, refSeq: number, message?: string): boolean
  /** Flush what is queued, then close. Idempotent. */
  close(reason: CloseReason): void
  /**
   * Count one tolerated protocol violation of `kind` (the caller already answered it): the metric
   * and the connection's one total, shared by every kind and layer; true when MAX_VIOLATIONS was
   * reached and the connection is closing (or was already closed).
   */
  violation(kind: ViolationKind): boolean
}

/** Complete frames encoded once and sent as the same bytes to many connections. */
export interface SharedFrames {
  readonly bytes: Buffer
  /** How many frames `bytes` holds (top-level frames: a BATCH counts once). */
  readonly frames: number
  /** The metric label they are counted under (one count per connection they are sent to). */
  readonly typeName: string
}

/**
 * One inbound frame. `payload` is a view into a buffer that stays valid until the dispatcher has
 * processed it (the net layer never reuses the memory of a frame it handed over).
 */
export interface InboundFrame {
  readonly connection: Connection
  readonly type: number
  readonly seq: number
  readonly playerId: number
  readonly payload: Buffer
  /** `performance.now()` when the frame was decoded (queueing delay, processing time). */
  readonly receivedAt: number
}

export interface FrameDispatcher {
  /** Called for every well-formed inbound frame except PING (answered by the net layer). */
  dispatch(frame: InboundFrame): void
  /** Called once when a connection closes, for any reason, after its last frame was dispatched. */
  disconnected(connection: Connection, reason: CloseReason): void
  /**
   * Optional, for graceful shutdown: process every frame dispatched so far (and send the replies).
   * The server calls it after it stopped reading from every session and before it flushes and
   * closes them, so no frame it accepted is left unanswered. Without it the server waits one
   * event-loop turn.
   */
  drain?(): void | Promise<void>
}
