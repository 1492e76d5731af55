/** A token bucket refilled continuously at `ratePerSecond`, holding at most `burst` tokens. */
export class TokenBucket {
  private ratePerMs = 0
  private burst = 0
  private tokens = 0
  private lastMs = 0

  configure(ratePerSecond: number, burst: number, nowMs: number): void {
    if (!(ratePerSecond > 0) || !(burst > 0)) throw new RangeError('rate and burst must be positive')
    this.ratePerMs = ratePerSecond / 1000
    this.burst = burst
    this.tokens = burst
    this.lastMs = nowMs
  }

  /** Take `n` tokens if available (all or nothing). */
  take(n: number, nowMs: number): boolean {
    this.refill(nowMs)
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  /**
   * Take `n` tokens even into debt; returns how many ms until the balance is back to zero
   * (0 when there was enough).
   */
  consume(n: number, nowMs: number): number {
    this.refill(nowMs)
    this.tokens -= n
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.ratePerMs)
  }

  /** Timestamps older than the last one (a cached `now`) add nothing and do not move the clock back. */
  private refill(nowMs: number): void {
    const elapsed = nowMs - this.lastMs
    if (!(elapsed > 0)) return
    this.lastMs = nowMs
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.ratePerMs)
  }
}
