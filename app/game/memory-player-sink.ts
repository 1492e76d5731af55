/**
 * PlayerStateSink for the in-memory stores: every change is applied to the MemoryAccountStore at
 * once, so `flush()` and `release()` have nothing left to wait for.
 */
import type { MemoryAccountStore } from './memory-account-store.js'
import type { PlayerState, PlayerStateSink } from './stores.js'

export class MemoryPlayerStateSink implements PlayerStateSink {
  /** Changes applied / dropped (unknown player or closed). */
  applied = 0
  dropped = 0
  private closed = false

  constructor(private readonly accounts: MemoryAccountStore) {}

  markDirty(state: PlayerState): void {
    if (!this.closed && this.accounts.applyState(state)) this.applied++
    else this.dropped++
  }

  async release(finalState: PlayerState): Promise<void> {
    this.markDirty(finalState)
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true
  }
}
