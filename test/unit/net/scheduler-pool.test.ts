/** FlushScheduler (one end-of-turn run for every registered session) and SessionPool bounds. */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FlushScheduler, type IdleFlushMode } from '../../../app/net/flush-scheduler.js'
import { SessionPool } from '../../../app/net/session-pool.js'
import type { Session } from '../../../app/net/session.js'

const scheduler = suite('net/flush-scheduler')

for (const mode of ['microtask', 'immediate'] as IdleFlushMode[]) {
  scheduler(`${mode}: every target registered in a turn is flushed once, after the current code, before the next timer`, async () => {
    const errors: unknown[] = []
    const s = new FlushScheduler(mode, (err) => errors.push(err))
    const order: string[] = []
    const target = (name: string) => ({ flushIdle: () => order.push(name) })
    s.add(target('a'))
    s.add(target('b'))
    order.push('sync')
    const timer = new Promise<void>((resolve) => setTimeout(() => {
      order.push('timer')
      resolve()
    }, 0))
    await timer
    assert.equal(order.slice(0, 3), ['sync', 'a', 'b'])
    assert.is(order.length, 4)
    assert.equal(errors, [])
  })
}

scheduler('a target that throws is reported and does not keep the others from flushing', async () => {
  const errors: unknown[] = []
  const s = new FlushScheduler('microtask', (err) => errors.push(err))
  let flushed = 0
  s.add({ flushIdle: () => flushed++ })
  s.add({
    flushIdle: () => {
      throw new Error('boom')
    },
  })
  s.add({ flushIdle: () => flushed++ })
  await new Promise((r) => setImmediate(r))
  assert.is(flushed, 2)
  assert.is(errors.length, 1)
  // The next turn works as usual.
  s.add({ flushIdle: () => flushed++ })
  await new Promise((r) => setImmediate(r))
  assert.is(flushed, 3)
})

scheduler('a target added while the run is in progress is flushed in a later run, not lost', async () => {
  const s = new FlushScheduler('microtask', (err) => {
    throw err
  })
  let late = 0
  s.add({ flushIdle: () => s.add({ flushIdle: () => late++ }) })
  await new Promise((r) => setImmediate(r))
  assert.is(late, 1)
})

scheduler.run()

const pool = suite('net/session-pool')

/** Just the part of Session the pool touches. */
class FakeSession {
  state = 'closed'
  recycled = 0
  recycle(): void {
    this.recycled++
    this.state = 'free'
  }
}
function fakeSession(): Session & { recycled: number } {
  return new FakeSession() as unknown as Session & { recycled: number }
}

pool('reuses released sessions, keeps at most maxFree, counts created / reused / dropped', () => {
  const p = new SessionPool(2, fakeSession)
  const a = p.acquire()
  const b = p.acquire()
  const c = p.acquire()
  for (const s of [a, b, c]) {
    s.state = 'closed'
    p.release(s)
  }
  assert.equal(p.stats(), { free: 2, created: 3, reused: 0, dropped: 1 })
  assert.is((a as ReturnType<typeof fakeSession>).recycled, 1, 'recycled on release')
  const again = p.acquire()
  assert.ok(again === b || again === a)
  assert.equal(p.stats(), { free: 1, created: 3, reused: 1, dropped: 1 })
})

pool('releasing a session that is not closed throws (it still owns a socket)', () => {
  const p = new SessionPool(2, fakeSession)
  const s = p.acquire()
  s.state = 'open'
  assert.throws(() => p.release(s))
  assert.is(p.stats().free, 0)
})

pool.run()
