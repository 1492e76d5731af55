/**
 * Per-label slots for the pre-aggregated instruments: each label value gets its attribute object
 * once (on first use) and a plain number or BucketHistogram; recording is a Map lookup and an
 * addition. Label sets must be small and closed (frame types, reasons, shards, backends).
 */
import type { Attributes, ObservableResult } from '@opentelemetry/api'
import { BucketHistogram } from './bucket-histogram.js'
import type { HistogramSeries } from './histogram-producer.js'

/** One label value of a labelled counter: its attribute object (built once) and its total. */
interface CounterSlot {
  readonly attributes: Attributes
  value: number
}

/** A counter with one label; slots are created on first use (label sets are small and closed). */
export class LabelledCounter {
  readonly slots = new Map<string, CounterSlot>()
  // one-entry cache: a hot-path call site repeats its label (frameIn('PING'), frameIn('PING'), …)
  private lastValue: string | null = null
  private lastSlot: CounterSlot | null = null
  constructor(private readonly label: string) {}

  add(value: string, amount: number): void {
    if (value === this.lastValue) {
      this.lastSlot!.value += amount
      return
    }
    let slot = this.slots.get(value)
    if (slot === undefined) {
      slot = { attributes: { [this.label]: value }, value: 0 }
      this.slots.set(value, slot)
    }
    this.lastValue = value
    this.lastSlot = slot
    slot.value += amount
  }

  /** Several labels: `key` identifies the combination, `attributes` is used once, on first use. */
  addWith(key: string, attributes: () => Attributes, amount: number): void {
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = { attributes: attributes(), value: 0 }
      this.slots.set(key, slot)
    }
    slot.value += amount
  }

  total(): number {
    let sum = 0
    for (const slot of this.slots.values()) sum += slot.value
    return sum
  }

  observe(result: ObservableResult<Attributes>): void {
    for (const slot of this.slots.values()) result.observe(slot.value, slot.attributes)
  }
}

/** A histogram with one label, one pre-aggregated BucketHistogram per label value. */
export class LabelledHistogram {
  private readonly slots = new Map<string, HistogramSeries>()
  constructor(
    private readonly label: string,
    private readonly buckets: readonly number[],
  ) {}

  get(value: string): BucketHistogram {
    let slot = this.slots.get(value)
    if (slot === undefined) {
      slot = { attributes: { [this.label]: value }, histogram: new BucketHistogram(this.buckets) }
      this.slots.set(value, slot)
    }
    return slot.histogram
  }

  series(): Iterable<HistogramSeries> {
    return this.slots.values()
  }
}


/**
 * A counter over a closed set of label values known up front, indexed by position: the caller maps
 * its value to an index with a `switch` (pointer comparisons of interned strings), no lookup at all.
 * Every value is exported, zeros included, so rate() works from the first scrape.
 */
export class IndexedCounter {
  readonly counts: Float64Array
  private readonly attributes: Attributes[]
  constructor(label: string, values: readonly string[]) {
    this.counts = new Float64Array(values.length)
    this.attributes = values.map((v) => ({ [label]: v }))
  }

  observe(result: ObservableResult<Attributes>): void {
    for (let i = 0; i < this.counts.length; i++) result.observe(this.counts[i]!, this.attributes[i])
  }
}
