import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LatencyHistogram } from '../../../app/loadtest/histogram.js'
import { quantilesOf, type IntervalSample } from '../../../app/loadtest/interval.js'
import { summarize, timelineOf } from '../../../app/loadtest/report.js'
import { IntervalMerger } from '../../../app/loadtest/runner.js'
import { sampleOf } from './samples.js'

const sample = (second: number, rttsMs: number[]): IntervalSample => sampleOf(second, rttsMs, 'move', { connected: 1 })

const rtts = (second: number, generator: number): number[] => [1 + second, 2 + generator, 10 * (second + 1)]

test('seconds are released once every generator reported them, in order, with counts added', () => {
  const released: number[] = []
  const merger = new IntervalMerger(2, (s) => released.push(s.second))
  merger.add(sample(0, rtts(0, 0)))
  merger.add(sample(1, rtts(1, 0)))
  assert.equal(released, [])
  merger.add(sample(0, rtts(0, 1)))
  assert.equal(released, [0])
  merger.add(sample(1, rtts(1, 1)))
  assert.equal(released, [0, 1])
  assert.is(merger.merged[0]!.answered, 6)
  assert.is(merger.merged[0]!.connected, 2)
})

test('a lagging generator: released at its end, its late samples still count in the totals', () => {
  const merger = new IntervalMerger(2)
  merger.add(sample(0, [1]))
  merger.generatorFinished() // the other one finished without reporting second 0 yet…
  assert.is(merger.merged.length, 1)
  merger.add(sample(0, [5, 6])) // …and its sample arrives late
  assert.is(merger.merged[0]!.answered, 3)
  assert.is(LatencyHistogram.from(merger.totals.histogram).count, 3)
})

test('long runs: old seconds are compacted to percentiles, totals and summary stay exact', () => {
  const merger = new IntervalMerger(2, undefined, 3)
  const reference: IntervalSample[] = []
  for (let second = 0; second < 10; second++) {
    const a = sample(second, rtts(second, 0))
    const b = sample(second, rtts(second, 1))
    const both = sample(second, [...rtts(second, 0), ...rtts(second, 1)])
    both.connected = 2
    reference.push(both)
    merger.add(a)
    merger.add(b)
  }
  merger.flush()
  const merged = merger.merged
  assert.is(merged.length, 10)
  for (const [i, s] of merged.entries()) {
    const compacted = i < 10 - 3 // all but the 3 newest
    assert.is(s.quantiles !== undefined, compacted, `second ${i}`)
    if (compacted) {
      assert.is(LatencyHistogram.from(s.histogram).count, 0)
      assert.is(s.byAction.move.histogram, undefined)
      assert.equal(s.quantiles, quantilesOf(reference[i]!.histogram))
    }
  }
  assert.equal(summarize(merged, 10, merger.totals), summarize(reference, 10))
  assert.equal(timelineOf(merged), timelineOf(reference))
})

test.run()
