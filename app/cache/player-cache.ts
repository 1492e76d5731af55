/**
 * Cache-aside for player records: `get` reads the player's shard; on a miss it loads from the
 * repository (one load for concurrent misses of one player), caches the record with a TTL and
 * returns it. Saving a player invalidates its entry. When the shard is down or its breaker is open
 * the read goes to the repository (counted as a fallback) and the write is skipped (counted).
 *
 * Invalidations that could not reach a down shard are remembered (bounded) and replayed when the
 * shard answers again; past the bound, every player entry on that shard is dropped instead, so a
 * recovered shard never serves a record older than the last save.
 */
import type { PlayerRecord } from '../game/stores.js'
import { scanAndUnlink } from './invalidation.js'
import { keys, PLAYER_PATTERN } from './keys.js'
import { decodePlayer, encodePlayer } from './player-codec.js'
import type { Shard, ShardSet } from './shards.js'
import { SingleFlight } from './single-flight.js'

/** Where a missed player comes from: the repository (app/db) or any AccountStore. */
export interface PlayerLoader {
  findById(id: number): Promise<PlayerRecord | undefined>
}

export interface PlayerCacheOptions {
  /** TTL of a cached record (CACHE_PLAYER_TTL_SECONDS). */
  readonly ttlSeconds: number
  /** Invalidations remembered per down shard before falling back to dropping all its players [MAX_OWED_INVALIDATIONS]. */
  readonly maxOwedInvalidations?: number
}

const MAX_OWED_INVALIDATIONS = 10_000

interface Owed {
  ids: Set<number>
  overflowed: boolean
}

export class PlayerCache {
  readonly ttlSeconds: number
  private readonly loads = new SingleFlight<number, PlayerRecord | undefined>()
  private readonly owed = new Map<number, Owed>()
  /** Shards being cleaned after an outage: reads skip them until the owed deletes are done. */
  private readonly recovering = new Set<number>()
  private readonly maxOwed: number
  private readonly unsubscribe: () => void

  constructor(
    private readonly shards: ShardSet,
    private readonly loader: PlayerLoader,
    options: PlayerCacheOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds
    this.maxOwed = options.maxOwedInvalidations ?? MAX_OWED_INVALIDATIONS
    this.unsubscribe = shards.onRecovered((shard) => void this.settleOwed(shard))
  }

  /** The player, from the cache or (on a miss, or with the shard unavailable) from the loader. */
  async get(playerId: number): Promise<PlayerRecord | undefined> {
    const key = keys.player(playerId)
    const shard = this.shards.shardFor(key)
    if (this.recovering.has(shard.index)) {
      shard.fellBack()
      return this.load(playerId, shard, false)
    }
    const outcome = await shard.command((client) => client.get(key))
    if (!outcome.ok) {
      shard.fellBack()
      return this.load(playerId, shard, false)
    }
    if (outcome.value !== null) {
      const record = decodePlayer(outcome.value)
      if (record) {
        shard.hit()
        return record
      }
    }
    shard.miss()
    return this.load(playerId, shard, true)
  }

  /** Cache a record (e.g. one just created or loaded elsewhere). False when the write was skipped. */
  async set(record: PlayerRecord): Promise<boolean> {
    const key = keys.player(record.id)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.set(key, encodePlayer(record), 'EX', this.ttlSeconds))
    if (!outcome.ok) shard.skippedWrite()
    return outcome.ok
  }

  /** Drop a player's entry (call on save). A load running now will not cache its older result. */
  async invalidate(playerId: number): Promise<void> {
    await this.invalidateMany([playerId])
  }

  /** Drop several entries: one UNLINK per shard. */
  async invalidateMany(playerIds: Iterable<number>): Promise<void> {
    const byShard = new Map<Shard, number[]>()
    for (const id of playerIds) {
      this.loads.markStale(id)
      const shard = this.shards.shardFor(keys.player(id))
      const list = byShard.get(shard)
      if (list) list.push(id)
      else byShard.set(shard, [id])
    }
    await Promise.all(
      [...byShard].map(async ([shard, ids]) => {
        const outcome = await shard.command((client) => client.unlink(...ids.map(keys.player)))
        if (outcome.ok) return
        shard.skippedWrite()
        this.owe(shard.index, ids)
      }),
    )
  }

  /** Player ids whose invalidation is owed to a down shard (tests, status). */
  owedInvalidations(shard: number): { readonly ids: readonly number[]; readonly overflowed: boolean } {
    const owed = this.owed.get(shard)
    return { ids: owed ? [...owed.ids] : [], overflowed: owed?.overflowed ?? false }
  }

  close(): void {
    this.unsubscribe()
  }

  private load(playerId: number, shard: Shard, fill: boolean): Promise<PlayerRecord | undefined> {
    return this.loads.run(playerId, async (isStale) => {
      const record = await this.loader.findById(playerId)
      if (record && fill && !isStale() && shard.available) await this.set(record)
      return record
    })
  }

  private owe(shard: number, ids: readonly number[]): void {
    let owed = this.owed.get(shard)
    if (!owed) this.owed.set(shard, (owed = { ids: new Set(), overflowed: false }))
    if (owed.overflowed) return
    for (const id of ids) owed.ids.add(id)
    if (owed.ids.size > this.maxOwed) {
      owed.ids.clear()
      owed.overflowed = true
    }
  }

  private async settleOwed(shard: Shard): Promise<void> {
    const owed = this.owed.get(shard.index)
    if (!owed || (owed.ids.size === 0 && !owed.overflowed) || this.recovering.has(shard.index)) return
    this.recovering.add(shard.index)
    try {
      const ids = [...owed.ids]
      const outcome = owed.overflowed
        ? await shard.exec((client) => scanAndUnlink(client, PLAYER_PATTERN))
        : await shard.command((client) => client.unlink(...ids.map(keys.player)))
      if (!outcome.ok) return // still owed; retried on the next recovery
      if (owed.overflowed) owed.overflowed = false
      for (const id of ids) owed.ids.delete(id)
    } finally {
      this.recovering.delete(shard.index)
    }
  }
}
