import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { TokenBucket } from '../../../app/net/token-bucket.js'

test('starts full: burst tokens can be taken at once, the next one is refused', () => {
  const bucket = new TokenBucket()
  bucket.configure(10, 5, 0)
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(1, 0), `token ${i + 1}`)
  assert.not.ok(bucket.take(1, 0))
})

test('refills continuously at the rate and never above the burst', () => {
  const bucket = new TokenBucket()
  bucket.configure(10, 5, 0) // 1 token per 100 ms
  for (let i = 0; i < 5; i++) bucket.take(1, 0)
  assert.not.ok(bucket.take(1, 99))
  assert.ok(bucket.take(1, 100.5))
  assert.not.ok(bucket.take(1, 150))
  // A long pause refills to the burst only.
  for (let i = 0; i < 5; i++) assert.ok(bucket.take(1, 60_000), `after a pause, token ${i + 1}`)
  assert.not.ok(bucket.take(1, 60_000))
})

test('take is all or nothing', () => {
  const bucket = new TokenBucket()
  bucket.configure(1000, 100, 0)
  assert.not.ok(bucket.take(101, 0))
  assert.ok(bucket.take(100, 0), 'a refused take consumed nothing')
})

test('consume goes into debt and returns the ms until the balance is back at zero', () => {
  const bucket = new TokenBucket()
  bucket.configure(1024, 1024, 0) // bytes: 1.024 per ms
  assert.is(bucket.consume(1000, 0), 0)
  assert.is(bucket.consume(536, 0), 500, '512 B of debt at 1.024 B/ms')
  assert.is(bucket.consume(0, 250), 250, 'half the wait left after 250 ms')
  assert.is(bucket.consume(0, 500), 0)
})

test('regression: an out-of-order timestamp moved the clock back, so the next refill counted the same time twice', () => {
  const bucket = new TokenBucket()
  bucket.configure(10, 1, 1000)
  assert.ok(bucket.take(1, 1000))
  assert.not.ok(bucket.take(1, 500))
  assert.not.ok(bucket.take(1, 1050), 'time did not count twice')
  assert.ok(bucket.take(1, 1100))
})

test('configure rejects non-positive rate or burst', () => {
  const bucket = new TokenBucket()
  assert.throws(() => bucket.configure(0, 1, 0), RangeError)
  assert.throws(() => bucket.configure(1, 0, 0), RangeError)
  assert.throws(() => bucket.configure(Number.NaN, 1, 0), RangeError)
})

test.run()
