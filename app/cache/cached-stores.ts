/**
 * The game's storage interfaces with the player cache in front: `CachedAccountStore` answers
 * `findById` cache-aside and caches new accounts; `InvalidatingPlayerStateSink` drops a player's
 * cached record once its changed state is durable (release, flush), so the next load sees it.
 */
import type { AccountStore, NewAccount, PlayerRecord, PlayerState, PlayerStateSink } from '../game/stores.js'
import type { PlayerCache } from './player-cache.js'

export class CachedAccountStore implements AccountStore {
  constructor(
    private readonly inner: AccountStore,
    private readonly players: PlayerCache,
  ) {}

  async create(account: NewAccount): Promise<PlayerRecord> {
    const record = await this.inner.create(account)
    await this.players.set(record)
    return record
  }

  findByUsername(username: string): Promise<PlayerRecord | undefined> {
    return this.inner.findByUsername(username)
  }

  findById(id: number): Promise<PlayerRecord | undefined> {
    return this.players.get(id)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

export class InvalidatingPlayerStateSink implements PlayerStateSink {
  private dirty = new Set<number>()

  constructor(
    private readonly inner: PlayerStateSink,
    private readonly players: PlayerCache,
  ) {
    // Timed write-behind flushes make state durable without passing through flush()/release():
    // drop those players' cached records too, or a login elsewhere could load a stale record.
    inner.onDurable?.((ids) => {
      for (const id of ids) this.dirty.delete(id)
      void this.players.invalidateMany(ids).catch(() => {}) // failures are owed per shard and retried by the cache
    })
  }

  markDirty(state: PlayerState): void {
    this.inner.markDirty(state)
    this.dirty.add(state.id)
  }

  async release(finalState: PlayerState): Promise<void> {
    await this.inner.release(finalState)
    this.dirty.delete(finalState.id)
    await this.players.invalidate(finalState.id)
  }

  async flush(): Promise<void> {
    const ids = this.dirty
    this.dirty = new Set()
    await this.inner.flush()
    if (ids.size > 0) await this.players.invalidateMany(ids)
  }

  async close(): Promise<void> {
    await this.flush()
    await this.inner.close()
  }
}
