import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { LoginThrottle, type LoginThrottleOptions } from '../../../app/game/login-throttle.js'

function setup(options: Partial<LoginThrottleOptions> = {}) {
  let now = 0
  const throttle = new LoginThrottle({ addressBurst: 3, addressPerMinute: 6, accountBurst: 5, accountPerMinute: 12, knownAddressMs: 60_000, maxTracked: 100, now: () => now, ...options })
  return { throttle, advance: (ms: number) => (now += ms) }
}

function scope(fn: () => unknown): string | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_LOGIN_THROTTLED'))
    return err.context.scope as string
  }
}

test('an address is throttled after its burst of failures and gets one attempt back per refill period', () => {
  const { throttle, advance } = setup()
  for (let i = 0; i < 3; i++) throttle.failed(throttle.admit('10.0.0.1', `victim${i}`))
  assert.is(scope(() => throttle.admit('10.0.0.1', 'other')), 'address')
  assert.is(scope(() => throttle.admit('10.0.0.2', 'other')), undefined, 'other addresses are not affected')
  advance(10_000) // 6 per minute
  assert.is(scope(() => throttle.admit('10.0.0.1', 'other')), undefined)
})

test('successful logins cost nothing: many at once behind one NAT address all pass', () => {
  const { throttle } = setup()
  const tickets = Array.from({ length: 50 }, (_, i) => throttle.admit('10.0.0.1', `player${i}`))
  for (const t of tickets) throttle.succeeded(t)
  assert.is(scope(() => throttle.admit('10.0.0.1', 'one-more')), undefined)
})

test('a wave of guesses in flight when the bucket empties drives it into debt: the attacker waits longer', () => {
  const { throttle, advance } = setup() // 3 burst, 6 per minute
  const wave = Array.from({ length: 12 }, () => throttle.admit('10.0.0.1', 'victim'))
  for (const t of wave) throttle.failed(t)
  advance(60_000) // 6 back: still 3 short of one token (3 − 12 + 6 = −3)
  assert.is(scope(() => throttle.admit('10.0.0.1', 'victim')), 'address')
  advance(40_000)
  assert.is(scope(() => throttle.admit('10.0.0.1', 'victim')), undefined)
})

test('an account attacked from many addresses is throttled for new addresses, never for an address that logged in before', () => {
  const { throttle } = setup()
  throttle.succeeded(throttle.admit('192.0.2.7', 'victim')) // the victim's home address
  for (let i = 0; i < 5; i++) throttle.failed(throttle.admit(`10.0.0.${i}`, 'victim'))
  assert.is(scope(() => throttle.admit('10.0.1.1', 'victim')), 'account')
  assert.is(scope(() => throttle.admit('192.0.2.7', 'victim')), undefined, 'known address skips the account bucket')
})

test('one attacking address can never keep an account throttled: the address refills slower than the account', () => {
  const { throttle, advance } = setup({ addressBurst: 3, addressPerMinute: 6, accountBurst: 3, accountPerMinute: 12 })
  let victimRefused = 0
  for (let second = 0; second < 600; second++) {
    advance(1000)
    try {
      throttle.failed(throttle.admit('10.6.6.6', 'victim'))
    } catch {}
    if (second > 60 && second % 10 === 0) {
      try {
        throttle.succeeded(throttle.admit(`172.16.0.${second % 250}`, 'victim'), null)
      } catch {
        victimRefused++
      }
    }
  }
  assert.is(victimRefused, 0)
})

test('a throttled attempt tells when to retry; abandoned attempts (server-side failures) cost nothing', () => {
  const { throttle } = setup()
  for (let i = 0; i < 5; i++) throttle.abandoned(throttle.admit('10.0.0.1', 'victim'))
  for (let i = 0; i < 3; i++) throttle.failed(throttle.admit('10.0.0.1', 'victim'))
  try {
    throttle.admit('10.0.0.1', 'victim')
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_LOGIN_THROTTLED'))
    assert.is(err.context.retryAfterMs, 10_000)
  }
})

test('maps are bounded; an address rate at or above the account rate is a configuration error', () => {
  const { throttle } = setup({ maxTracked: 10 })
  for (let i = 0; i < 100; i++) throttle.failed(throttle.admit(`10.0.${i}.1`, `account${i}`))
  assert.ok(throttle.stats().trackedAddresses <= 10 && throttle.stats().trackedAccounts <= 10)
  try {
    new LoginThrottle({ addressBurst: 3, addressPerMinute: 12, accountBurst: 5, accountPerMinute: 12, knownAddressMs: 1, maxTracked: 1 })
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_CONFIG'))
  }
})

test.run()
