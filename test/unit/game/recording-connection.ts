/**
 * A `Connection` for driving the Game without sockets: it records every frame queued to it, the
 * zone stream's shared frames split (and BATCHes unpacked) as a client sees them, with the Buffer
 * they were shared in and when they were queued; closes after the third tolerated violation
 * (MAX_VIOLATIONS 3, as the tests configure it).
 */
import type { CloseReason, Connection, SharedFrames, ViolationKind } from '../../../app/net/connection.js'
import { decodeErrorPayload } from '../../../app/protocol/error-frame.js'
import { FrameType } from '../../../app/protocol/types.js'
import { splitFrames, type SplitFrame } from '../../harness/frames.js'

export interface Recorded extends SplitFrame {
  /** The Buffer it came in when it was queued as shared frames; null for the connection's own. */
  readonly shared: Buffer | null
  /** performance.now() when it was queued. */
  readonly at: number
}

const VIOLATIONS_TO_CLOSE = 3
let nextId = 1

export class RecordingConnection implements Connection {
  readonly id = nextId++
  playerId = 0
  readonly remoteAddress = '127.0.0.1'
  readonly sent: Recorded[] = []
  closedWith: CloseReason | null = null
  violationCount = 0

  get closed(): boolean {
    return this.closedWith !== null
  }

  send(type: number, seq: number, playerId: number, payload: Uint8Array = new Uint8Array(0)): boolean {
    if (this.closed) return false
    this.sent.push({ type, seq, playerId, payload: Buffer.from(payload), shared: null, at: performance.now() })
    return true
  }

  sendShared(frames: SharedFrames): boolean {
    if (this.closed) return false
    const at = performance.now()
    for (const frame of splitFrames(frames.bytes)) this.sent.push({ ...frame, shared: frames.bytes, at })
    return true
  }

  sendError(code: number, refSeq: number, message = ''): boolean {
    if (this.closed) return false
    const payload = Buffer.concat([Buffer.from([code & 0xff, code >> 8]), Buffer.alloc(4), Buffer.from(message)])
    this.sent.push({ type: FrameType.ERROR, seq: refSeq, playerId: this.playerId, payload, shared: null, at: performance.now() })
    return true
  }

  close(reason: CloseReason): void {
    this.closedWith ??= reason
  }

  violation(_kind: ViolationKind): boolean {
    if (++this.violationCount < VIOLATIONS_TO_CLOSE) return false
    this.close('protocol-violation')
    return true
  }

  /** The codes of the ERROR frames received. */
  errors(): number[] {
    return this.sent.filter((f) => f.type === FrameType.ERROR).map((f) => decodeErrorPayload(f.payload).code)
  }

  /** The frame answering `seq`. */
  reply(seq: number): Recorded | undefined {
    return this.sent.find((f) => f.seq === seq)
  }

  /** Frames received since the last call. */
  take(): Recorded[] {
    return this.sent.splice(0)
  }
}
