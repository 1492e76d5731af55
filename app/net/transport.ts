/**
 * What a session needs from its byte stream. A `net.Socket` satisfies it as it is (TCP); the
 * WebSocket listener wraps each accepted WebSocket in a `WebSocketTransport` (ws-transport.ts) that
 * implements it, so one session layer (session.ts, outbound.ts) serves both transports.
 *
 * The contract is the socket's: 'data' delivers received bytes, 'end' the peer's end of stream,
 * 'close' once when the transport is gone (after 'end' or 'error', or after destroy), 'drain' when
 * `writableLength` fell after `write` returned false. Writes between `cork()` and `uncork()` leave
 * together.
 */

/** Which listener a session came in on: a metric label, so keep the set closed. */
export type TransportKind = 'tcp' | 'ws'

type TransportEvent = 'data' | 'end' | 'error' | 'close' | 'drain'

export interface Transport {
  readonly remoteAddress?: string | undefined
  /** Bytes handed to `write` that the peer's connection has not taken yet. */
  readonly writableLength: number
  write(chunk: Uint8Array, callback?: (err?: Error | null) => void): boolean
  cork(): void
  uncork(): void
  /** Graceful end after what was written (and `chunk`, when given). */
  end(): unknown
  end(chunk: Uint8Array): unknown
  destroy(): unknown
  pause(): unknown
  resume(): unknown
  setNoDelay(noDelay?: boolean): unknown
  on(event: TransportEvent, listener: (...args: any[]) => void): unknown
  once(event: TransportEvent, listener: (...args: any[]) => void): unknown
  off(event: TransportEvent, listener: (...args: any[]) => void): unknown
  /**
   * Message-framed transports (WebSocket): every 'data' chunk is one message, and a frame must not
   * span messages. Undefined for a byte stream (TCP).
   */
  readonly messageFramed?: true
  /**
   * Message-framed transports: the ERROR code and message the connection ends with, for the close
   * frame (docs/PROTOCOL.md "WebSocket transport"). Called before `end` or `destroy`.
   */
  endWith?(wireCode: number, message: string): void
}
