/**
 * Request/reply matching for the load generator's hot path: one frame listener per connection and
 * a map by seq, instead of a waiter (closure + timer) per request; timeouts are swept by one shared
 * unref'd timer every 100 ms. A reply is the first frame carrying the request's seq (docs/PROTOCOL.md
 * §4.0: the direct reply or ERROR echoes it; pushes carry seq 0).
 */
import type { ClientConnection, ReceivedFrame } from '../client/connection.js'
import { GameServerError } from '../errors.js'

interface Pending {
  readonly resolve: (frame: ReceivedFrame) => void
  readonly reject: (err: Error) => void
  readonly deadline: number
  readonly timeoutMs: number
}

const SWEEP_MS = 100
const live = new Set<RequestTracker>()
let sweeper: NodeJS.Timeout | null = null

function sweepAll(): void {
  const now = performance.now()
  for (const tracker of live) tracker.sweep(now)
}

export class RequestTracker {
  private readonly pending = new Map<number, Pending>()
  private closed = false

  constructor(private readonly conn: ClientConnection) {
    conn.onFrame((frame) => {
      if (frame.seq === 0) return
      const waiting = this.pending.get(frame.seq)
      if (waiting === undefined) return
      this.pending.delete(frame.seq)
      waiting.resolve(frame)
    })
    void conn.closed.then(() => this.close())
    live.add(this)
    if (sweeper === null) {
      sweeper = setInterval(sweepAll, SWEEP_MS)
      sweeper.unref()
    }
  }

  /** Send a frame and resolve with the first frame carrying its seq. */
  request(type: number, payload: Uint8Array | undefined, timeoutMs: number): Promise<ReceivedFrame> {
    if (this.closed || this.conn.status !== 'open') return Promise.reject(new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', {}))
    const seq = this.conn.nextSeq()
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs })
      try {
        this.conn.send(type, payload, { seq })
      } catch (err) {
        this.pending.delete(seq)
        reject(err as Error)
      }
    })
  }

  sweep(now: number): void {
    for (const [seq, waiting] of this.pending) {
      if (waiting.deadline > now) continue
      this.pending.delete(seq)
      waiting.reject(new GameServerError('GS_ERR_CLIENT_TIMEOUT', `no reply within ${waiting.timeoutMs} ms`, { timeoutMs: waiting.timeoutMs, seq }))
    }
  }

  /** Reject what is pending and stop tracking. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    live.delete(this)
    if (live.size === 0 && sweeper !== null) {
      clearInterval(sweeper)
      sweeper = null
    }
    const err = new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', {})
    for (const waiting of this.pending.values()) waiting.reject(err)
    this.pending.clear()
  }
}

const trackers = new WeakMap<ClientConnection, RequestTracker>()

/** The tracker of a connection (created on first use). */
export function trackerFor(conn: ClientConnection): RequestTracker {
  let tracker = trackers.get(conn)
  if (tracker === undefined) {
    tracker = new RequestTracker(conn)
    trackers.set(conn, tracker)
  }
  return tracker
}
