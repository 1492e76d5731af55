import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { CircuitBreaker, type BreakerState } from '../../../app/cache/circuit-breaker.js'

const test = suite('cache: circuit breaker')

function setup(failureThreshold = 3, openMs = 100) {
  let nowMs = 1000
  const changes: string[] = []
  const breaker = new CircuitBreaker({
    failureThreshold,
    openMs,
    now: () => nowMs,
    onStateChange: (from: BreakerState, to: BreakerState) => changes.push(`${from}→${to}`),
  })
  return { breaker, changes, advance: (ms: number) => (nowMs += ms) }
}

test('closed → open after N consecutive failures; a success in between resets the count', () => {
  const { breaker, changes } = setup(3)
  breaker.failure()
  breaker.failure()
  breaker.success()
  breaker.failure()
  breaker.failure()
  assert.is(breaker.state, 'closed')
  assert.ok(breaker.tryAcquire())
  breaker.failure()
  assert.is(breaker.state, 'open')
  assert.not.ok(breaker.tryAcquire(), 'open refuses calls')
  assert.equal(changes, ['closed→open'])
})

test('open → half-open after openMs admits exactly one probe; success closes', () => {
  const { breaker, changes, advance } = setup(1, 100)
  breaker.failure()
  advance(99)
  assert.not.ok(breaker.tryAcquire())
  assert.is(breaker.msUntilProbe, 1)
  advance(1)
  assert.ok(breaker.tryAcquire(), 'the probe')
  assert.is(breaker.state, 'half-open')
  assert.not.ok(breaker.tryAcquire(), 'only one probe at a time')
  breaker.success()
  assert.is(breaker.state, 'closed')
  assert.ok(breaker.tryAcquire())
  assert.equal(changes, ['closed→open', 'open→half-open', 'half-open→closed'])
})

test('a failed probe opens again for another openMs', () => {
  const { breaker, advance } = setup(2, 50)
  breaker.failure()
  breaker.failure()
  advance(50)
  assert.ok(breaker.tryAcquire())
  breaker.failure()
  assert.is(breaker.state, 'open')
  advance(49)
  assert.not.ok(breaker.tryAcquire())
  advance(1)
  assert.ok(breaker.tryAcquire())
})

test('trip() opens at once (unreachable at start-up)', () => {
  const { breaker } = setup(5)
  breaker.trip()
  assert.is(breaker.state, 'open')
  assert.not.ok(breaker.tryAcquire())
})

test('options are validated', () => {
  assert.throws(() => new CircuitBreaker({ failureThreshold: 0, openMs: 1000 }), RangeError)
  assert.throws(() => new CircuitBreaker({ failureThreshold: 5, openMs: -1 }), RangeError)
})

test.run()
