import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { BucketHistogram } from '../../../app/telemetry/bucket-histogram.js'
import { FRAME_DURATION_BUCKETS_SECONDS } from '../../../app/telemetry/catalogue.js'
import type { MetricTotals } from '../../../app/telemetry/server-metrics.js'
import { computeReport } from '../../../app/telemetry/report.js'

const test = suite('performance report')

function totals(over: Partial<MetricTotals>, durations: number[]): MetricTotals {
  const frameProcessing = new BucketHistogram(FRAME_DURATION_BUCKETS_SECONDS)
  for (const d of durations) frameProcessing.record(d)
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, sessionsActive: 0, sessionsAccepted: 0, sessionsClosed: 0, violations: 0, framesShed: 0, slowClients: 0, batchBytesSaved: 0, frameProcessing, ...over }
}

test('rates are deltas over the interval, not totals', () => {
  const slowBefore = Array.from({ length: 1000 }, () => 0.05) // an old slow period…
  const previous = totals({ framesIn: 1_000_000, framesOut: 2_000_000, bytesIn: 5e8, bytesOut: 1e9, sessionsAccepted: 100, sessionsClosed: 10, violations: 3 }, slowBefore)
  const recent = Array.from({ length: 100 }, (_, i) => (i < 96 ? 0.0004 : 0.02))
  const current = totals(
    { framesIn: 1_050_000, framesOut: 2_100_000, bytesIn: 5e8 + 1_000_000, bytesOut: 1e9 + 4_000_000, sessionsActive: 88, sessionsAccepted: 110, sessionsClosed: 20, violations: 3 },
    [...slowBefore, ...recent],
  )
  const report = computeReport(previous, current, 10)
  assert.is(report.framesInPerSecond, 5000)
  assert.is(report.framesOutPerSecond, 10000)
  assert.is(report.bytesInPerSecond, 100_000)
  assert.is(report.bytesOutPerSecond, 400_000)
  assert.is(report.sessionsActive, 88)
  assert.is(report.sessionsAcceptedPerSecond, 1)
  assert.is(report.sessionsClosedPerSecond, 1)
  assert.is(report.violationsPerSecond, 0)
  assert.is(report.framesProcessed, 100)
  // p95 of the interval only (rank 95 of 100 is among the 96 fast frames), not of the old slow period
  assert.ok(report.frameProcessingP95Seconds! <= 0.0005, `p95 ${report.frameProcessingP95Seconds}`)
  assert.ok(report.frameProcessingP99Seconds! > 0.015, `p99 ${report.frameProcessingP99Seconds}`)
})

test('an empty interval has zero rates and no percentiles', () => {
  const t = totals({ framesIn: 7 }, [0.001])
  const report = computeReport(t, t, 5)
  assert.is(report.framesInPerSecond, 0)
  assert.is(report.framesProcessed, 0)
  assert.is(report.frameProcessingP95Seconds, undefined)
  assert.is(computeReport(t, t, 0).framesInPerSecond, 0)
})

test.run()
