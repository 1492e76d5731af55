import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { hash32, keyHash, ShardRing } from '../../../app/cache/ring.js'

const test = suite('cache: consistent-hash shard ring')
const KEYS = 100_000
const keys = Array.from({ length: KEYS }, (_, i) => `gs:player:{${i}}`)
const names = (k: number) => Array.from({ length: k }, (_, i) => `redis://cache-${i}:6379`)

test('K → K+1 shards moves at most 1/(K+1) + 5 % of 100,000 keys, and only onto the new shard', () => {
  for (let k = 1; k <= 8; k++) {
    const before = new ShardRing(names(k))
    const after = new ShardRing(names(k + 1))
    let moved = 0
    for (const key of keys) {
      const a = before.shardFor(key)
      const b = after.shardFor(key)
      if (a !== b) {
        moved++
        assert.is(b, k, `a moved key goes to the new shard (K=${k})`)
      }
    }
    const bound = KEYS * (1 / (k + 1) + 0.05)
    assert.ok(moved <= bound, `K=${k}: moved ${moved} > ${Math.round(bound)}`)
    assert.ok(moved > 0, `K=${k}: the new shard takes some keys`)
  }
})

test('modulo placement would move most keys (the reference the ring is judged against)', () => {
  let moved = 0
  for (let i = 0; i < KEYS; i++) if (i % 3 !== i % 4) moved++
  assert.ok(moved > KEYS / 2)
})

test('distribution: every shard holds within 25 % of the mean for K = 2..8', () => {
  for (let k = 2; k <= 8; k++) {
    const ring = new ShardRing(names(k))
    const counts = new Array<number>(k).fill(0)
    for (const key of keys) counts[ring.shardFor(key)]!++
    const mean = KEYS / k
    for (const [shard, count] of counts.entries()) {
      assert.ok(Math.abs(count - mean) / mean < 0.25, `K=${k} shard ${shard}: ${count} vs mean ${mean}`)
    }
  }
})

test('hash tags keep related keys on one shard', () => {
  const ring = new ShardRing(names(5))
  for (let i = 0; i < 1000; i++) {
    const channel = `zone-${i}`
    const shard = ring.shardFor(`gs:chat:{${channel}}`)
    assert.is(ring.shardFor(`gs:chat-meta:{${channel}}`), shard)
    assert.is(ring.shardFor(`{${channel}}`), shard)
  }
  assert.is(keyHash('a{b}c'), hash32('b'))
  assert.is(keyHash('a{}c'), hash32('a{}c'), 'an empty tag hashes the whole key')
  assert.is(keyHash('a{bc'), hash32('a{bc'), 'an unclosed tag hashes the whole key')
})

test('placement depends on shard names, not on their order', () => {
  const a = new ShardRing(['x', 'y', 'z'])
  const b = new ShardRing(['z', 'x', 'y'])
  for (const key of keys.slice(0, 5000)) assert.is(a.names[a.shardFor(key)], b.names[b.shardFor(key)])
})

test('constructor validates its input', () => {
  assert.throws(() => new ShardRing([]), RangeError)
  assert.throws(() => new ShardRing(['a', 'a']), RangeError)
  assert.throws(() => new ShardRing(['a'], { virtualNodes: 0 }), RangeError)
})

test.run()
