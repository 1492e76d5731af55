/**
 * Pre-aggregated explicit-bucket histograms for the hot path. Recording is a bucket scan and three
 * number updates — no allocation, no attribute hashing (an OTel `Histogram.record` costs ~0.5 µs a
 * call here, too much per frame). `BucketHistogram` is cumulative and exported through an OTel
 * `MetricProducer` (histogram-producer.ts); `WindowedHistogram` keeps the last N slices for the
 * bottleneck detector and estimates quantiles exactly like PromQL's `histogram_quantile`, from the
 * same buckets, so the in-process detector and the Prometheus alert rule agree.
 */

export class BucketHistogram {
  readonly bounds: Float64Array
  /** counts[i] = values ≤ bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  min = Infinity
  max = -Infinity

  constructor(bounds: readonly number[] | Float64Array) {
    this.bounds = bounds instanceof Float64Array ? bounds : Float64Array.from(bounds)
    for (let i = 1; i < this.bounds.length; i++) {
      if (!(this.bounds[i]! > this.bounds[i - 1]!)) throw new RangeError('histogram bounds must be strictly increasing')
    }
    this.counts = new Float64Array(this.bounds.length + 1)
  }

  record(value: number): void {
    const bounds = this.bounds
    const n = bounds.length
    let i = 0
    while (i < n && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
  }

  reset(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
    this.min = Infinity
    this.max = -Infinity
  }

  /** Add another histogram with the same bounds into this one. */
  add(other: BucketHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!
    this.sum += other.sum
    this.count += other.count
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
  }

  /** Quantile estimate (PromQL histogram_quantile semantics); undefined when empty. */
  quantile(q: number): number | undefined {
    return bucketQuantile(q, this.bounds, this.counts, this.count)
  }
}

/**
 * PromQL's histogram_quantile: find the bucket holding rank q·count and interpolate linearly inside
 * it (lower bound 0 for the first bucket); a rank in the +Inf bucket returns the highest finite bound.
 */
function bucketQuantile(q: number, bounds: Float64Array, counts: Float64Array, total: number): number | undefined {
  if (total <= 0 || bounds.length === 0) return undefined
  const rank = q * total
  let cumulative = 0
  for (let i = 0; i < counts.length; i++) {
    const inBucket = counts[i]!
    if (cumulative + inBucket >= rank && inBucket > 0) {
      if (i === bounds.length) return bounds[bounds.length - 1]
      const upper = bounds[i]!
      const lower = i === 0 ? 0 : bounds[i - 1]!
      return lower + (upper - lower) * ((rank - cumulative) / inBucket)
    }
    cumulative += inBucket
  }
  return bounds[bounds.length - 1]
}

/**
 * The last `slices` intervals of a histogram. The owner calls `rotate()` once per interval (the
 * detector's evaluation tick), so recording never reads the clock.
 */
export class WindowedHistogram {
  private readonly ring: BucketHistogram[]
  private current: BucketHistogram
  private index = 0
  private readonly merged: BucketHistogram

  constructor(bounds: readonly number[], readonly slices: number) {
    if (!Number.isInteger(slices) || slices < 1) throw new RangeError('slices must be a positive integer')
    this.ring = Array.from({ length: slices }, () => new BucketHistogram(bounds))
    this.current = this.ring[0]!
    this.merged = new BucketHistogram(bounds)
  }

  record(value: number): void {
    this.current.record(value)
  }

  /** Start a new slice, dropping the oldest. */
  rotate(): void {
    this.index = (this.index + 1) % this.ring.length
    this.current = this.ring[this.index]!
    this.current.reset()
  }

  /** The whole window merged (a reused object: read it before the next call). */
  snapshot(): BucketHistogram {
    this.merged.reset()
    for (const slice of this.ring) this.merged.add(slice)
    return this.merged
  }
}
