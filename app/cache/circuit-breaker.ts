/**
 * A per-shard circuit breaker: `closed` lets every call through and counts consecutive failures;
 * after `failureThreshold` of them it turns `open` and refuses calls for `openMs`; then the next
 * call is a single `half-open` probe: success closes the breaker, failure opens it again.
 */

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker (CACHE_BREAKER_FAILURES). */
  readonly failureThreshold: number
  /** How long an open breaker refuses calls before it lets one probe through (CACHE_BREAKER_OPEN_MS). */
  readonly openMs: number
  /** Clock (tests). */
  readonly now?: () => number
  readonly onStateChange?: (from: BreakerState, to: BreakerState) => void
}

export class CircuitBreaker {
  readonly failureThreshold: number
  readonly openMs: number
  private currentState: BreakerState = 'closed'
  private consecutiveFailures = 0
  private openedAtMs = 0
  private probeInFlight = false
  private readonly now: () => number
  private readonly onStateChange: ((from: BreakerState, to: BreakerState) => void) | undefined

  constructor(options: CircuitBreakerOptions) {
    this.failureThreshold = options.failureThreshold
    this.openMs = options.openMs
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) throw new RangeError('failureThreshold must be a positive integer')
    if (!(this.openMs >= 0)) throw new RangeError('openMs must be ≥ 0')
    this.now = options.now ?? Date.now
    this.onStateChange = options.onStateChange
  }

  get state(): BreakerState {
    return this.currentState
  }

  /** Milliseconds until an open breaker admits its probe (0 when it would now). */
  get msUntilProbe(): number {
    return this.currentState === 'open' ? Math.max(0, this.openedAtMs + this.openMs - this.now()) : 0
  }

  /**
   * Whether a call may go ahead now. A caller that gets `true` must report `success()` or
   * `failure()`: in `half-open` that call is the one probe.
   */
  tryAcquire(): boolean {
    switch (this.currentState) {
      case 'closed':
        return true
      case 'open':
        if (this.now() - this.openedAtMs < this.openMs) return false
        this.transition('half-open')
        this.probeInFlight = true
        return true
      case 'half-open':
        if (this.probeInFlight) return false
        this.probeInFlight = true
        return true
    }
  }

  success(): void {
    this.consecutiveFailures = 0
    if (this.currentState !== 'closed') {
      this.probeInFlight = false
      this.transition('closed')
    }
  }

  failure(): void {
    this.consecutiveFailures++
    if (this.currentState === 'half-open' || (this.currentState === 'closed' && this.consecutiveFailures >= this.failureThreshold)) {
      this.trip()
    }
  }

  /** Open now (e.g. the shard was unreachable at start-up). */
  trip(): void {
    this.probeInFlight = false
    this.openedAtMs = this.now()
    if (this.currentState !== 'open') this.transition('open')
  }

  private transition(to: BreakerState): void {
    const from = this.currentState
    this.currentState = to
    this.onStateChange?.(from, to)
  }
}
