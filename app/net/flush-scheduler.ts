/**
 * Latency-aware flushing: a session that becomes non-empty while idle (nothing in flight) registers
 * here, and every registered session is flushed once at the end of the current event-loop turn, so
 * all frames queued during the turn leave together in one write and none waits for the flush timer.
 *
 * `microtask` flushes after the current I/O callback (one socket read and everything it triggered
 * synchronously); `immediate` flushes once per loop iteration, after every socket read of that
 * iteration (ioredis's auto-pipelining uses setImmediate). `immediate` is the default: on a quiet machine it
 * needed 1.0–1.5 µs CPU per PONG at 100 × 16 where `microtask` needed 1.7–1.9 (BENCHMARKS.md).
 */
export type IdleFlushMode = 'microtask' | 'immediate'

export interface IdleFlushable {
  flushIdle(): void
}

export class FlushScheduler {
  readonly mode: IdleFlushMode
  private pending: IdleFlushable[] = []
  private spare: IdleFlushable[] = []
  private scheduled = false
  private readonly run = (): void => {
    this.scheduled = false
    const due = this.pending
    this.pending = this.spare
    this.spare = due
    for (let i = 0; i < due.length; i++) {
      try {
        due[i]!.flushIdle()
      } catch (err) {
        this.onError(err)
      }
    }
    due.length = 0
  }

  constructor(mode: IdleFlushMode, private readonly onError: (err: unknown) => void) {
    this.mode = mode
  }

  add(target: IdleFlushable): void {
    this.pending.push(target)
    if (this.scheduled) return
    this.scheduled = true
    if (this.mode === 'microtask') queueMicrotask(this.run)
    else setImmediate(this.run)
  }
}
