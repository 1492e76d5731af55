import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { Pool, type PoolFactory } from '../../../app/pool/pool.js'
import { BufferPool } from '../../../app/pool/buffer-pool.js'

interface Res {
  id: number
  healthy: boolean
}

function factory(overrides: Partial<PoolFactory<Res>> = {}) {
  let next = 0
  const destroyed: number[] = []
  const f: PoolFactory<Res> & { destroyed: number[] } = {
    destroyed,
    create: async () => ({ id: ++next, healthy: true }),
    destroy: (r) => {
      destroyed.push(r.id)
    },
    validate: (r) => r.healthy,
    ...overrides,
  }
  return f
}

const pools: Pool<Res>[] = []
function pool(options: ConstructorParameters<typeof Pool<Res>>[0]): Pool<Res> {
  const p = new Pool<Res>(options)
  pools.push(p)
  return p
}
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms))

const test = suite('Pool')
test.after.each(async () => {
  for (const p of pools.splice(0)) await p.close()
})

test('reuses a released resource and never exceeds max', async () => {
  const p = pool({ factory: factory(), max: 2 })
  const a = await p.acquire()
  await a.release()
  const b = await p.acquire()
  assert.is(b.resource.id, a.resource.id)
  const c = await p.acquire()
  assert.is.not(c.resource.id, b.resource.id)
  assert.is(p.stats().size, 2)
  assert.is(p.stats().borrowed, 2)
})

test('waiters are served first in, first out', async () => {
  const p = pool({ factory: factory(), max: 1 })
  const first = await p.acquire()
  const order: string[] = []
  const w1 = p.acquire().then((l) => (order.push('w1'), l))
  const w2 = p.acquire().then((l) => (order.push('w2'), l))
  const w3 = p.acquire().then((l) => (order.push('w3'), l))
  assert.is(p.stats().waiting, 3)
  await first.release()
  const l1 = await w1
  await l1.release()
  const l2 = await w2
  await l2.release()
  await (await w3).release()
  assert.equal(order, ['w1', 'w2', 'w3'])
})

test('acquire times out with GS_ERR_POOL_TIMEOUT and is counted', async () => {
  const p = pool({ factory: factory(), max: 1 })
  await p.acquire()
  try {
    await p.acquire({ timeoutMs: 20 })
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_POOL_TIMEOUT'))
  }
  assert.is(p.stats().timeouts, 1)
  assert.is(p.stats().waiting, 0)
})

test('acquire honours an AbortSignal, before and while waiting', async () => {
  const p = pool({ factory: factory(), max: 1 })
  await p.acquire()
  try {
    await p.acquire({ signal: AbortSignal.abort() })
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_POOL_ABORTED'))
  }
  const controller = new AbortController()
  const waiting = p.acquire({ signal: controller.signal })
  controller.abort()
  try {
    await waiting
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_POOL_ABORTED'))
  }
  assert.is(p.stats().aborts, 2)
  assert.is(p.stats().waiting, 0)
})

test('validate-on-borrow destroys an invalid idle resource and hands out a fresh one', async () => {
  const f = factory()
  const p = pool({ factory: f, max: 2 })
  const a = await p.acquire()
  a.resource.healthy = false
  await a.release()
  const b = await p.acquire()
  assert.is.not(b.resource.id, a.resource.id)
  assert.equal(f.destroyed, [a.resource.id])
  assert.is(p.stats().validationFailures, 1)
})

test('idle resources above min are evicted after idleTimeoutMs; min is kept and replenished', async () => {
  const f = factory()
  const p = pool({ factory: f, min: 1, max: 3, idleTimeoutMs: 30, evictionIntervalMs: 10 })
  const leases = await Promise.all([p.acquire(), p.acquire(), p.acquire()])
  for (const l of leases) await l.release()
  assert.is(p.stats().idle, 3)
  await tick(120)
  assert.is(p.stats().size, 1)
  assert.is(p.stats().evicted, 2)
  const l = await p.acquire()
  await l.destroy()
  await tick(40)
  assert.is(p.stats().size, 1, 'replenished to min after a destroy')
})

test('min resources are created in the background at start', async () => {
  const p = pool({ factory: factory(), min: 2, max: 4 })
  await tick(5)
  assert.is(p.stats().idle, 2)
})

test('await using releases the lease at scope exit', async () => {
  const p = pool({ factory: factory(), max: 1 })
  {
    await using lease = await p.acquire()
    assert.is(p.stats().borrowed, 1)
    assert.ok(lease.resource.id > 0)
  }
  assert.is(p.stats().borrowed, 0)
  assert.is(p.stats().idle, 1)
  const value = await p.use((r) => r.id * 10)
  assert.is(value, 10)
  assert.is(p.stats().borrowed, 0)
})

test('release is idempotent', async () => {
  const p = pool({ factory: factory(), max: 1 })
  const l = await p.acquire()
  await l.release()
  await l.release()
  assert.is(p.stats().idle, 1)
})

test('a failing create rejects the waiter with GS_ERR_POOL_INVALID', async () => {
  const p = pool({ factory: factory({ create: async () => Promise.reject(new Error('down')) }), max: 1 })
  try {
    await p.acquire()
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_POOL_INVALID'))
  }
  assert.is(p.stats().createFailures, 1)
  assert.is(p.stats().size, 0)
})

test('the waiter queue is bounded', async () => {
  const p = pool({ factory: factory(), max: 1, maxWaiters: 1 })
  await p.acquire()
  const waiting = p.acquire({ timeoutMs: 50 }).catch((e) => e)
  try {
    await p.acquire()
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_POOL_EXHAUSTED'))
  }
  assert.ok(isGameServerError(await waiting, 'GS_ERR_POOL_TIMEOUT'))
})

test('close fails waiters, destroys idle and later-released resources, refuses acquires', async () => {
  const f = factory()
  const p = pool({ factory: f, max: 2 })
  const a = await p.acquire()
  const b = await p.acquire()
  await b.release()
  const waiting = p.acquire().catch((e) => e)
  await p.close()
  assert.ok(isGameServerError(await waiting, 'GS_ERR_POOL_CLOSED'))
  assert.equal(f.destroyed, [b.resource.id])
  await a.release()
  assert.equal(f.destroyed, [b.resource.id, a.resource.id])
  try {
    await p.acquire()
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_POOL_CLOSED'))
  }
  await p.close()
})

test('constructor validates sizes', () => {
  assert.throws(() => new Pool({ factory: factory(), min: 3, max: 2 }), RangeError)
  assert.throws(() => new Pool({ factory: factory(), max: 0 }), RangeError)
})

test.run()

const buffers = suite('BufferPool')
buffers('reuses buffers up to maxFree and drops foreign sizes', () => {
  const p = new BufferPool({ bufferBytes: 64, maxFree: 1 })
  const a = p.take()
  const b = p.take()
  p.give(a)
  p.give(b)
  p.give(Buffer.alloc(10))
  assert.is(p.take(), a)
  assert.equal(p.stats(), { bufferBytes: 64, free: 0, created: 2, reused: 1, dropped: 2 })
})
buffers.run()
