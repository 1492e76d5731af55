import { Writable } from 'node:stream'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseBottlenecks } from '../../../app/balancer/bottleneck-poller.js'
import { createLogger } from '../../../app/logger.js'
import { WindowedHistogram } from '../../../app/telemetry/bucket-histogram.js'
import { FRAME_DURATION_BUCKETS_SECONDS } from '../../../app/telemetry/catalogue.js'
import { BottleneckDetector } from '../../../app/telemetry/detector.js'
import { THRESHOLDS } from '../../../app/telemetry/thresholds.js'

const test = suite('bottleneck detector')

function capture(): { lines: { msg: string; bottleneck?: string }[]; logger: ReturnType<typeof createLogger> } {
  const lines: { msg: string; bottleneck?: string }[] = []
  const destination = new Writable({
    write(chunk, _e, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: createLogger({ level: 'info', destination }) }
}

const frameThreshold = THRESHOLDS.filter((t) => t.name === 'frame-processing-p95')

test('p95 over 10 ms raises only after `for`, clears once the window slid past the slow frames', () => {
  const window = new WindowedHistogram(FRAME_DURATION_BUCKETS_SECONDS, 10) // 10 × 100 ms
  const { lines, logger } = capture()
  const detector = new BottleneckDetector({
    thresholds: frameThreshold,
    sources: { frameProcessingP95Seconds: () => window.snapshot().quantile(0.95) },
    windowMs: 1000,
    intervalMs: 100,
    logger,
    forSecondsOverride: 0.5,
  })
  let now = 0
  const tick = (record: () => void): void => {
    record()
    detector.evaluate(now)
    window.rotate()
    now += 100
  }
  const fast = (): void => {
    for (let i = 0; i < 100; i++) window.record(0.0005)
  }
  const slow = (): void => {
    for (let i = 0; i < 100; i++) window.record(i < 85 ? 0.0005 : 0.03) // 15 % at 30 ms → p95 > 10 ms even after one fast slice
  }
  tick(fast)
  assert.is(detector.state('frame-processing-p95')!.status, 'ok')
  assert.ok(detector.state('frame-processing-p95')!.value! < 0.001)
  for (let i = 0; i < 5; i++) tick(slow) // crossed at t=100…500 → pending (for = 500 ms)
  assert.is(detector.state('frame-processing-p95')!.status, 'pending')
  assert.is(detector.active().length, 0)
  tick(slow) // t=600: held 500 ms
  assert.is(detector.state('frame-processing-p95')!.status, 'active')
  assert.ok(lines.some((l) => l.msg === 'bottleneck raised' && l.bottleneck === 'frame-processing-p95'))
  const snapshot = detector.snapshot()
  assert.equal(parseBottlenecks(JSON.parse(JSON.stringify(snapshot))), ['frame-processing-p95'], 'the balancer reads the names from GET /bottlenecks')
  assert.is(snapshot.active.length, 1)
  assert.is(snapshot.active[0]!.severity, 'warning')
  assert.ok(snapshot.active[0]!.value > 0.01)
  // fast again: the slow slices leave the 1 s window one by one; with 5 % or fewer slow frames p95 is fast
  let cleared = -1
  for (let i = 0; i < 12 && cleared < 0; i++) {
    tick(fast)
    if (detector.state('frame-processing-p95')!.status === 'ok') cleared = i
  }
  assert.ok(cleared >= 3 && cleared <= 10, `cleared after ${cleared + 1} fast slices`)
  assert.ok(lines.some((l) => l.msg === 'bottleneck cleared' && l.bottleneck === 'frame-processing-p95'))
  assert.is(lines.filter((l) => l.msg === 'bottleneck raised').length, 1, 'one transition, no flapping')
})

test('a short spike shorter than `for` never raises', () => {
  let value: number | undefined = 0.5
  const detector = new BottleneckDetector({ thresholds: THRESHOLDS.filter((t) => t.name === 'host-cpu'), sources: { hostCpuRatio: () => value }, windowMs: 1000, intervalMs: 100 })
  detector.evaluate(0)
  value = 0.95
  detector.evaluate(1000)
  detector.evaluate(30_000)
  value = 0.5
  detector.evaluate(31_000)
  value = 0.95
  detector.evaluate(32_000)
  assert.is(detector.state('host-cpu')!.status, 'pending', 'the 60 s `for` restarted')
  detector.evaluate(92_000)
  assert.is(detector.state('host-cpu')!.status, 'active')
  value = undefined
  detector.evaluate(93_000)
  assert.is(detector.state('host-cpu')!.status, 'ok', 'no reading clears')
})

test('rate thresholds compare the per-second increase over the window', () => {
  let total = 0
  const detector = new BottleneckDetector({
    thresholds: THRESHOLDS.filter((t) => t.name === 'cache-errors'),
    sources: { cacheErrorsTotal: () => total },
    windowMs: 10_000,
    intervalMs: 1000,
    forSecondsOverride: 0,
  })
  for (let t = 0; t <= 10_000; t += 1000) {
    detector.evaluate(t)
    total += 0.5 // 0.5 errors/s
  }
  assert.ok(Math.abs(detector.state('cache-errors')!.value! - 0.5) < 1e-9)
  assert.is(detector.state('cache-errors')!.status, 'ok')
  for (let t = 11_000; t <= 25_000; t += 1000) {
    total += 3 // 3 errors/s
    detector.evaluate(t)
  }
  assert.ok(Math.abs(detector.state('cache-errors')!.value! - 3) < 0.35, `rate ${detector.state('cache-errors')!.value}`)
  assert.is(detector.state('cache-errors')!.status, 'active')
})

test('a failing source is logged and treated as no reading', () => {
  const { lines, logger } = capture()
  const detector = new BottleneckDetector({
    thresholds: THRESHOLDS.filter((t) => t.name === 'pool-waiters'),
    sources: { poolWaiters: () => { throw new Error('boom') } },
    windowMs: 1000,
    intervalMs: 100,
    logger,
  })
  detector.evaluate(0)
  assert.is(detector.state('pool-waiters')!.value, undefined)
  assert.ok(lines.some((l) => l.msg === 'reading failed'))
  assert.throws(() => new BottleneckDetector({ thresholds: [], sources: {}, windowMs: 50, intervalMs: 100 }), RangeError)
})

test.run()
