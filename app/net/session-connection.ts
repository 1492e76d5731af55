/**
 * The `Connection` the game sees: one small handle per accepted socket, forwarding to the pooled
 * Session while the socket is open. After close the handle is cut loose, so a stale reference held
 * by game code can never send into the next connection that reuses the pooled Session.
 */
import type { WireErrorCode } from '../protocol/types.js'
import type { CloseReason, Connection, SharedFrames, ViolationKind } from './connection.js'
import type { NetMetrics } from './metrics.js'

export interface ConnectionTarget {
  readonly acceptingSends: boolean
  send(type: number, seq: number, playerId: number, payload: Uint8Array | undefined): boolean
  sendShared(frames: SharedFrames): boolean
  sendError(code: number, refSeq: number, message: string): boolean
  close(reason: CloseReason): void
  countViolation(kind: ViolationKind, reason: CloseReason): boolean
}

export class SessionConnection implements Connection {
  playerId = 0
  private target: ConnectionTarget | null
  private address: string

  constructor(
    readonly id: number,
    remoteAddress: string,
    target: ConnectionTarget,
    private readonly metrics: NetMetrics,
  ) {
    this.target = target
    this.address = remoteAddress
  }

  get remoteAddress(): string {
    return this.address
  }

  /** The client's address from a trusted PROXY header (before any frame was dispatched). */
  relayedFrom(address: string): void {
    this.address = address
  }

  get closed(): boolean {
    return this.target === null || !this.target.acceptingSends
  }

  send(type: number, seq: number, playerId: number, payload?: Uint8Array): boolean {
    const target = this.target
    return target !== null && target.acceptingSends && target.send(type, seq, playerId, payload)
  }

  sendShared(frames: SharedFrames): boolean {
    const target = this.target
    return target !== null && target.acceptingSends && target.sendShared(frames)
  }

  sendError(code: WireErrorCode, refSeq: number, message = ''): boolean {
    const target = this.target
    return target !== null && target.acceptingSends && target.sendError(code, refSeq, message)
  }

  close(reason: CloseReason): void {
    this.target?.close(reason)
  }

  violation(kind: ViolationKind): boolean {
    const target = this.target
    if (target !== null) return target.countViolation(kind, 'protocol-violation')
    this.metrics.violation(kind) // a frame processed after its connection closed still counts
    return true
  }

  /** Called by the session when the socket is gone. */
  detach(): void {
    this.target = null
  }
}
