/**
 * Consistent hashing over the K shards of `REDIS_URLS`. Each shard owns `virtualNodes` points on a
 * 32-bit ring; a key belongs to the first point at or after its hash. Adding a shard moves only the
 * keys that land on its new points (about 1/(K+1) of them), unlike `id % K` which moves most.
 *
 * Keys that must stay together (one leaderboard, one chat channel, one player's entries) carry a
 * hash tag, as in Redis Cluster: only the part between the first `{` and the next `}` is hashed,
 * so `gs:chat:{zone-1}` and `gs:chat-meta:{zone-1}` live on one shard.
 */

/** Points per shard on the ring: enough for an even spread of keys over a handful of shards. */
const VIRTUAL_NODES = 160

/** FNV-1a over the UTF-16 code units of `text`, then murmur3's fmix32 finaliser for avalanche. */
export function hash32(text: string, start = 0, end = text.length): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** The hash of a key's routing part: its `{tag}` when it has a non-empty one, else the whole key. */
export function keyHash(key: string): number {
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) return hash32(key, open + 1, close)
  }
  return hash32(key)
}

export interface ShardRingOptions {
  /** Points per shard on the ring; more points, better balance, larger table (default 160). */
  readonly virtualNodes?: number
}

export class ShardRing {
  /** The shard names in input order; `shardFor` returns indexes into this. */
  readonly names: readonly string[]
  private readonly points: Uint32Array
  private readonly owners: Uint16Array

  constructor(names: readonly string[], options: ShardRingOptions = {}) {
    if (names.length === 0) throw new RangeError('a shard ring needs at least one shard')
    if (names.length > 65535) throw new RangeError('too many shards')
    if (new Set(names).size !== names.length) throw new RangeError('shard names must be unique')
    const virtualNodes = options.virtualNodes ?? VIRTUAL_NODES
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1) throw new RangeError('virtualNodes must be a positive integer')
    this.names = Object.freeze([...names])
    const entries: Array<{ point: number; owner: number }> = []
    names.forEach((name, owner) => {
      for (let v = 0; v < virtualNodes; v++) entries.push({ point: hash32(`${name}#${v}`), owner })
    })
    // Ties (astronomically rare) go to the lower shard name so the ring does not depend on input order.
    entries.sort((a, b) => a.point - b.point || (names[a.owner]! < names[b.owner]! ? -1 : 1))
    this.points = Uint32Array.from(entries, (e) => e.point)
    this.owners = Uint16Array.from(entries, (e) => e.owner)
  }

  get size(): number {
    return this.names.length
  }

  /** Index (into `names`) of the shard that owns `key`. */
  shardFor(key: string): number {
    return this.ownerOf(keyHash(key))
  }

  /** The shard owning a precomputed hash. */
  ownerOf(hash: number): number {
    const points = this.points
    let lo = 0
    let hi = points.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (points[mid]! < hash) lo = mid + 1
      else hi = mid
    }
    return this.owners[lo === points.length ? 0 : lo]!
  }
}
