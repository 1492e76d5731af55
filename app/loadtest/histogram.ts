/**
 * A compact HDR-style latency histogram with log-linear buckets over integer microseconds.
 *
 * Values below 2^SUB_BITS (128 µs) have one bucket each (exact). Above, each power of two
 * [2^m, 2^(m+1)) is split into 2^(SUB_BITS-1) = 64 equal sub-buckets, so any recorded value is
 * known to within 1/64 (1.6 %) of itself. Values up to 2^40 µs (~12.7 days) fit in 2,176 counters.
 *
 * Percentiles use the nearest-rank definition (the value at rank ceil(q·n)) and report the highest
 * value equivalent to the bucket holding that rank, clamped to the exact recorded min and max.
 * Histograms merge by adding counts (worker threads send `toJSON()` snapshots).
 */

const SUB_BITS = 7
const LINEAR_COUNT = 1 << SUB_BITS // 128 exact buckets
const HALF = LINEAR_COUNT >> 1 // 64 sub-buckets per power of two above
const MAX_EXPONENT = 40
const BUCKET_COUNT = LINEAR_COUNT + (MAX_EXPONENT - SUB_BITS) * HALF
/** Largest value that can be recorded (larger ones are clamped and counted in `clamped`). */
export const HISTOGRAM_MAX_MICROS = 2 ** MAX_EXPONENT - 1
/** Worst-case relative error of a reported value above 128 µs. */
export const HISTOGRAM_RELATIVE_ERROR = 1 / HALF

export interface HistogramSnapshot {
  /** Sparse counts: [bucketIndex, count, bucketIndex, count, …]. */
  readonly buckets: number[]
  readonly count: number
  readonly minMicros: number
  readonly maxMicros: number
  readonly sumMicros: number
  readonly clamped: number
}

export interface LatencySummaryMs {
  readonly count: number
  readonly minMs: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly maxMs: number
}

function bucketIndex(micros: number): number {
  if (micros < LINEAR_COUNT) return micros
  // Position of the highest set bit; values here are integers below 2^40.
  const msb = micros < 2 ** 32 ? 31 - Math.clz32(micros) : 63 - Math.clz32(Math.floor(micros / 2 ** 32))
  const sub = Math.floor(micros / 2 ** (msb - (SUB_BITS - 1))) // in [HALF, 2·HALF)
  return LINEAR_COUNT + (msb - SUB_BITS) * HALF + (sub - HALF)
}

/** [lowest, highest] integer micros that land in bucket `index`. */
export function bucketRange(index: number): [number, number] {
  if (index < LINEAR_COUNT) return [index, index]
  const offset = index - LINEAR_COUNT
  const m = SUB_BITS + Math.floor(offset / HALF)
  const sub = HALF + (offset % HALF)
  const shift = m - (SUB_BITS - 1)
  const low = sub * 2 ** shift
  return [low, low + 2 ** shift - 1]
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT)
  count = 0
  minMicros = Number.POSITIVE_INFINITY
  maxMicros = 0
  sumMicros = 0
  /** Values above HISTOGRAM_MAX_MICROS (recorded as the maximum). */
  clamped = 0

  /** Record one value in microseconds (rounded to an integer, negatives as 0). */
  recordMicros(value: number): void {
    let micros = Math.round(value)
    if (!(micros > 0)) micros = 0
    if (micros > HISTOGRAM_MAX_MICROS) {
      micros = HISTOGRAM_MAX_MICROS
      this.clamped++
    }
    this.counts[bucketIndex(micros)]!++
    this.count++
    this.sumMicros += micros
    if (micros < this.minMicros) this.minMicros = micros
    if (micros > this.maxMicros) this.maxMicros = micros
  }

  recordMs(ms: number): void {
    this.recordMicros(ms * 1000)
  }

  /** Nearest-rank percentile (q in [0, 100]) in microseconds; 0 when empty. */
  percentileMicros(q: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, q)) * this.count) / 100))
    let seen = 0
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(this.maxMicros, Math.max(this.minMicros, bucketRange(i)[1]))
    }
    return this.maxMicros
  }

  percentileMs(q: number): number {
    return this.percentileMicros(q) / 1000
  }

  summaryMs(): LatencySummaryMs {
    return {
      count: this.count,
      minMs: this.count === 0 ? 0 : this.minMicros / 1000,
      meanMs: this.count === 0 ? 0 : this.sumMicros / this.count / 1000,
      p50Ms: this.percentileMs(50),
      p90Ms: this.percentileMs(90),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: this.maxMicros / 1000,
    }
  }

  /** Add another histogram's counts into this one. */
  merge(other: LatencyHistogram | HistogramSnapshot): this {
    const snapshot = other instanceof LatencyHistogram ? other.toJSON() : other
    const buckets = snapshot.buckets
    for (let i = 0; i + 1 < buckets.length; i += 2) {
      const index = buckets[i]!
      if (!Number.isInteger(index) || index < 0 || index >= BUCKET_COUNT) throw new RangeError(`histogram bucket ${index} out of range`)
      this.counts[index]! += buckets[i + 1]!
    }
    if (snapshot.count > 0) {
      this.count += snapshot.count
      this.sumMicros += snapshot.sumMicros
      this.clamped += snapshot.clamped
      if (snapshot.minMicros < this.minMicros) this.minMicros = snapshot.minMicros
      if (snapshot.maxMicros > this.maxMicros) this.maxMicros = snapshot.maxMicros
    }
    return this
  }

  reset(): void {
    this.counts.fill(0)
    this.count = 0
    this.minMicros = Number.POSITIVE_INFINITY
    this.maxMicros = 0
    this.sumMicros = 0
    this.clamped = 0
  }

  toJSON(): HistogramSnapshot {
    const buckets: number[] = []
    for (let i = 0; i < BUCKET_COUNT; i++) if (this.counts[i]! > 0) buckets.push(i, this.counts[i]!)
    return { buckets, count: this.count, minMicros: this.count === 0 ? 0 : this.minMicros, maxMicros: this.maxMicros, sumMicros: this.sumMicros, clamped: this.clamped }
  }

  static from(snapshot: HistogramSnapshot): LatencyHistogram {
    return new LatencyHistogram().merge(snapshot)
  }
}
