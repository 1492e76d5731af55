import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { bucketRange, HISTOGRAM_MAX_MICROS, HISTOGRAM_RELATIVE_ERROR, LatencyHistogram } from '../../../app/loadtest/histogram.js'
import { seededRandom } from '../../../app/random.js'

function exactPercentile(sorted: number[], q: number): number {
  const rank = Math.max(1, Math.ceil((q * sorted.length) / 100))
  return sorted[rank - 1]!
}

test('values below 128 µs are exact', () => {
  const h = new LatencyHistogram()
  for (let v = 0; v < 100; v++) h.recordMicros(v)
  assert.is(h.percentileMicros(50), 49)
  assert.is(h.percentileMicros(90), 89)
  assert.is(h.percentileMicros(99), 98)
  assert.is(h.percentileMicros(100), 99)
  assert.is(h.percentileMicros(0), 0)
  assert.is(h.count, 100)
})

test('percentiles of a known long-tailed sample are within the stated relative error', () => {
  const random = seededRandom(42)
  const h = new LatencyHistogram()
  const values: number[] = []
  for (let i = 0; i < 100_000; i++) {
    // log-normal-ish: most around 300 µs, a tail up to seconds
    const v = Math.round(Math.exp(5.7 + 1.3 * (random() + random() + random() - 1.5) * 2))
    values.push(v)
    h.recordMicros(v)
  }
  values.sort((a, b) => a - b)
  for (const q of [1, 10, 50, 75, 90, 99, 99.9, 99.99, 100]) {
    const exact = exactPercentile(values, q)
    const got = h.percentileMicros(q)
    assert.ok(got >= exact, `p${q}: ${got} below exact ${exact}`)
    assert.ok(got - exact <= Math.max(0, exact * HISTOGRAM_RELATIVE_ERROR), `p${q}: ${got} vs exact ${exact}`)
  }
  assert.is(h.maxMicros, values[values.length - 1])
  assert.is(h.minMicros, values[0])
  assert.is(h.sumMicros, values.reduce((a, b) => a + b, 0))
})

test('a fixed sample gives the hand-computed percentiles', () => {
  const h = new LatencyHistogram()
  // 1000 values: 900 × 1 ms, 90 × 5 ms, 9 × 20 ms, 1 × 100 ms
  for (let i = 0; i < 900; i++) h.recordMs(1)
  for (let i = 0; i < 90; i++) h.recordMs(5)
  for (let i = 0; i < 9; i++) h.recordMs(20)
  h.recordMs(100)
  const s = h.summaryMs()
  // 1000 µs lies in bucket [992, 1007]; 5000 in [4992, 5055]; 20000 in [19968, 20223]
  assert.is(s.p50Ms, 1.007)
  assert.is(s.p90Ms, 1.007)
  assert.is(s.p99Ms, 5.055)
  assert.is(s.p999Ms, 20.223)
  assert.is(s.maxMs, 100)
  assert.is(s.minMs, 1)
  assert.ok(Math.abs(s.meanMs - (900 + 450 + 180 + 100) / 1000) < 1e-9)
})

test('bucket ranges tile the value space without gaps', () => {
  let next = 0
  for (let i = 0; ; i++) {
    const [low, high] = bucketRange(i)
    assert.is(low, next, `bucket ${i}`)
    assert.ok(high >= low)
    next = high + 1
    if (next > HISTOGRAM_MAX_MICROS) break
  }
  assert.is(next, HISTOGRAM_MAX_MICROS + 1)
})

test('huge values are clamped and counted', () => {
  const h = new LatencyHistogram()
  h.recordMicros(HISTOGRAM_MAX_MICROS * 4)
  h.recordMicros(2 ** 35 + 12345)
  assert.is(h.clamped, 1)
  assert.is(h.percentileMicros(100), HISTOGRAM_MAX_MICROS)
  const p50 = h.percentileMicros(50)
  assert.ok(Math.abs(p50 - (2 ** 35 + 12345)) <= (2 ** 35) * HISTOGRAM_RELATIVE_ERROR)
})

test('merging snapshots equals recording everything in one histogram', () => {
  const random = seededRandom(7)
  const all = new LatencyHistogram()
  const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()]
  for (let i = 0; i < 30_000; i++) {
    const v = Math.floor(random() * 50_000)
    all.recordMicros(v)
    parts[i % 3]!.recordMicros(v)
  }
  const merged = new LatencyHistogram()
  for (const part of parts) merged.merge(JSON.parse(JSON.stringify(part.toJSON())))
  assert.equal(merged.toJSON(), all.toJSON())
  assert.equal(merged.summaryMs(), all.summaryMs())
})

test('empty histogram reports zeros and merging an empty one changes nothing', () => {
  const h = new LatencyHistogram()
  assert.is(h.percentileMs(99), 0)
  assert.equal(h.summaryMs(), { count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 })
  h.recordMicros(500)
  h.merge(new LatencyHistogram())
  assert.is(h.minMicros, 500)
  assert.is(h.count, 1)
})

test('a corrupt snapshot is rejected', () => {
  assert.throws(() => new LatencyHistogram().merge({ buckets: [999999, 1], count: 1, minMicros: 1, maxMicros: 1, sumMicros: 1, clamped: 0 }), /out of range/)
})

test.run()
