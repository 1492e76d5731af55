/** Small statistics shared by the benches. */

/** The median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A growable Float64Array of samples (latencies, lags) that a bench records on its hot path. */
export class Samples {
  private data: Float64Array
  length = 0
  constructor(capacity = 1 << 16) {
    this.data = new Float64Array(capacity)
  }
  /** Grow now (not in the middle of the measurement) to hold at least n values. */
  reserve(n: number): void {
    if (n <= this.data.length) return
    const bigger = new Float64Array(n)
    bigger.set(this.data.subarray(0, this.length))
    this.data = bigger
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.length++] = value
  }
  clear(): void {
    this.length = 0
  }
  /** Sorted copy of the samples. */
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort()
  }
}
