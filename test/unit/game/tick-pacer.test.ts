/** The zone tick pacer: within the turn when due, then an interval from the recipients, capped. */
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TickPacer } from '../../../app/game/tick-pacer.js'
import { eventually } from '../../harness/eventually.js'

test('the interval is recipients ÷ writes per second, at most maxMs; a request during it waits for its end', async () => {
  const ticks: number[] = []
  const intervals: number[] = []
  let recipients = 0
  const pacer = new TickPacer({ maxMs: 30, writesPerSecond: 100 }, () => (ticks.push(performance.now()), recipients), () => {}, (_r, next) => intervals.push(next))
  recipients = 1
  pacer.request()
  await Promise.resolve()
  assert.is(ticks.length, 1, 'the first request ticks in a microtask')
  assert.equal(intervals, [10], '1 recipient ÷ 100/s = 10 ms')
  recipients = 1000 // 10 s at 100 writes/s: capped
  pacer.request()
  pacer.request() // one tick for both
  await Promise.resolve()
  assert.is(ticks.length, 1, 'inside the interval: not yet')
  await eventually(() => ticks.length >= 2, 2000, 'the second tick', 1)
  // Node's timers count from the event loop's cached clock, which may lag performance.now() by a
  // millisecond or two: allow that much below the 10 ms interval.
  assert.ok(ticks[1]! - ticks[0]! >= 7, `the second tick ${(ticks[1]! - ticks[0]!).toFixed(1)} ms after the first (interval 10 ms)`)
  assert.equal(intervals, [10, 30], 'capped at maxMs')
  await sleep(50)
  assert.is(ticks.length, 2, 'two requests, one tick')
  pacer.close()
})

test('flush runs a pending tick now; after close nothing is scheduled', async () => {
  let ticks = 0
  const pacer = new TickPacer({ maxMs: 1000, writesPerSecond: 1 }, () => (ticks++, 100), () => {})
  pacer.request()
  await Promise.resolve()
  pacer.request() // waits up to 1,000 ms
  pacer.flush()
  assert.is(ticks, 2)
  pacer.close()
  pacer.request()
  await sleep(5)
  assert.is(ticks, 2)
})

test('a tick that throws is reported and the pacer goes on', async () => {
  const errors: unknown[] = []
  let calls = 0
  const pacer = new TickPacer({ maxMs: 5, writesPerSecond: 1000 }, () => {
    calls++
    if (calls === 1) throw new Error('boom')
    return 0
  }, (err) => errors.push(err))
  pacer.request()
  await Promise.resolve()
  pacer.request()
  await sleep(10)
  assert.is(errors.length, 1)
  assert.is(calls, 2)
  pacer.close()
})

test.run()
