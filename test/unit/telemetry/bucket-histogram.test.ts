import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BucketHistogram, WindowedHistogram } from '../../../app/telemetry/bucket-histogram.js'

const test = suite('bucket histograms')

test('records into the bucket whose upper bound is inclusive, +Inf last', () => {
  const h = new BucketHistogram([1, 2, 5])
  for (const v of [0.5, 1, 1.5, 2, 3, 5, 6, 100]) h.record(v)
  assert.equal(Array.from(h.counts), [2, 2, 2, 2])
  assert.is(h.count, 8)
  assert.is(h.sum, 0.5 + 1 + 1.5 + 2 + 3 + 5 + 6 + 100)
  assert.is(h.min, 0.5)
  assert.is(h.max, 100)
  assert.throws(() => new BucketHistogram([1, 1]), RangeError)
})

test('quantiles interpolate like PromQL histogram_quantile', () => {
  const h = new BucketHistogram([0.005, 0.01, 0.02])
  for (let i = 0; i < 90; i++) h.record(0.001) // 90 in (0, 5 ms]
  for (let i = 0; i < 10; i++) h.record(0.015) // 10 in (10, 20 ms]
  // rank 95 of 100 lies in the (10, 20] bucket, half way through its 10 → 15 ms
  assert.ok(Math.abs(h.quantile(0.95)! - 0.015) < 1e-12)
  // rank 50 in the first bucket: 0 + 5 ms × 50/90
  assert.ok(Math.abs(h.quantile(0.5)! - 0.005 * (50 / 90)) < 1e-12)
  assert.is(new BucketHistogram([1]).quantile(0.95), undefined)
  const inf = new BucketHistogram([1, 2])
  inf.record(10)
  assert.is(inf.quantile(0.99), 2, 'a rank in +Inf returns the highest finite bound')
})

test('the window forgets slices as it rotates', () => {
  const w = new WindowedHistogram([0.01, 0.1], 3)
  w.record(0.05)
  w.rotate()
  w.record(0.005)
  assert.is(w.snapshot().count, 2)
  w.rotate()
  assert.is(w.snapshot().count, 2)
  w.rotate() // the slice holding 0.05 is reused
  assert.is(w.snapshot().count, 1)
  assert.is(w.snapshot().max, 0.005)
  w.rotate()
  assert.is(w.snapshot().count, 0)
  assert.is(w.snapshot().quantile(0.95), undefined)
})

test.run()
