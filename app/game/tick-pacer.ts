/**
 * When a zone ticks: latency-aware, like the sessions' flushing. A tick is requested by the first
 * change after the previous one, and runs
 *   - right after the code that made the change (a microtask: after the batch of frames being
 *     processed, before the sessions flush at the end of the turn, so the movers' replies and the
 *     tick leave in one write) when the zone's interval has passed since its last tick — a quiet
 *     zone answers within the same event-loop turn;
 *   - otherwise when the interval has passed (a timer).
 * The interval grows with the sessions the previous tick wrote to: recipients / writesPerSecond
 * seconds, at most maxMs. A tick's cost is mostly one write per recipient, so a zone's ticks stay
 * near `writesPerSecond` writes a second whatever its population, and a crowded zone sends more
 * per tick instead of collapsing; no change waits longer than maxMs.
 */
export interface TickPacerOptions {
  readonly maxMs: number
  readonly writesPerSecond: number
}

export class TickPacer {
  private scheduled = false
  private timer: NodeJS.Timeout | null = null
  private lastTickAt = Number.NEGATIVE_INFINITY
  private intervalMs = 0
  private closed = false
  private readonly onDue = (): void => {
    this.timer = null
    this.run()
  }

  constructor(
    private readonly options: TickPacerOptions,
    /** The tick; returns how many sessions it wrote to. */
    private readonly tick: () => number,
    private readonly onError: (err: unknown) => void,
    /** After each tick: the sessions it wrote to and the interval that now applies (metrics). */
    private readonly ticked: (recipients: number, nextIntervalMs: number) => void = () => {},
  ) {}

  /** Something changed: make sure a tick follows. */
  request(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    const wait = this.lastTickAt + this.intervalMs - performance.now()
    if (wait <= 0) {
      queueMicrotask(this.onDue)
    } else {
      this.timer = setTimeout(this.onDue, wait)
      this.timer.unref()
    }
  }

  /** Run a pending tick now (shutdown: nothing gathered is left unsent). */
  flush(): void {
    if (!this.scheduled) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.run()
  }

  close(): void {
    this.flush()
    this.closed = true
  }

  private run(): void {
    if (!this.scheduled) return // flushed already (a microtask of a tick run early)
    this.scheduled = false
    let recipients = 0
    try {
      recipients = this.tick()
    } catch (err) {
      this.onError(err)
    }
    this.lastTickAt = performance.now()
    this.intervalMs = Math.min(this.options.maxMs, (recipients * 1000) / this.options.writesPerSecond)
    this.ticked(recipients, this.intervalMs)
  }
}
