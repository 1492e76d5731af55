/**
 * Concurrent calls for one key share one in-flight promise (one database load for N concurrent
 * cache misses). The entry is removed when the promise settles, so the map holds only loads that
 * are running right now.
 */
export class SingleFlight<K, V> {
  private readonly inflight = new Map<K, { promise: Promise<V>; stale: boolean }>()

  /** Run `work` unless a call for `key` is already running; then share its result. */
  run(key: K, work: (isStale: () => boolean) => Promise<V>): Promise<V> {
    const running = this.inflight.get(key)
    if (running) return running.promise
    const entry = { promise: undefined as unknown as Promise<V>, stale: false }
    entry.promise = (async () => {
      try {
        return await work(() => entry.stale)
      } finally {
        this.inflight.delete(key)
      }
    })()
    this.inflight.set(key, entry)
    return entry.promise
  }

  /**
   * Mark a running call's result as stale (e.g. the record was saved while it was being loaded):
   * its callers still get the value, but `isStale()` tells the work not to cache it.
   */
  markStale(key: K): void {
    const running = this.inflight.get(key)
    if (running) running.stale = true
  }

  get size(): number {
    return this.inflight.size
  }
}
