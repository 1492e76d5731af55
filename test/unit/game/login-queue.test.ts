import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { LoginQueue } from '../../../app/game/login-queue.js'

function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

async function rejectsWith(promise: Promise<unknown>, code: 'GS_ERR_OVERLOADED' | 'GS_ERR_SHUTTING_DOWN'): Promise<void> {
  try {
    await promise
    assert.unreachable('should reject')
  } catch (err) {
    assert.ok(isGameServerError(err, code), String(err))
  }
}

test('at most `concurrency` tasks run; the rest wait in FIFO order', async () => {
  const queue = new LoginQueue({ concurrency: 2, maxQueued: 10, maxWaitMs: 60_000 })
  const gates = [deferred(), deferred(), deferred(), deferred()]
  const started: number[] = []
  const runs = gates.map((gate, i) => queue.run(async () => { started.push(i); await gate.promise; return i }))
  assert.equal(started, [0, 1])
  assert.equal({ running: queue.stats().running, waiting: queue.stats().waiting }, { running: 2, waiting: 2 })
  gates[1]!.resolve()
  assert.is(await runs[1], 1)
  await new Promise((r) => setImmediate(r))
  assert.equal(started, [0, 1, 2], 'the freed slot went to the oldest waiting task')
  for (const gate of gates) gate.resolve()
  assert.equal(await Promise.all(runs), [0, 1, 2, 3])
  assert.is(queue.stats().started, 4)
})

test('bounded: beyond maxQueued (running + waiting) a task is refused at once', async () => {
  const queue = new LoginQueue({ concurrency: 1, maxQueued: 2, maxWaitMs: 60_000 })
  const gate = deferred()
  const a = queue.run(() => gate.promise)
  const b = queue.run(async () => 'b')
  await rejectsWith(queue.run(async () => 'c'), 'GS_ERR_OVERLOADED')
  assert.is(queue.stats().refusedFull, 1)
  gate.resolve()
  await a
  assert.is(await b, 'b')
})

test('stale and timed-out tasks are dropped unrun when their turn comes', async () => {
  let now = 0
  const queue = new LoginQueue({ concurrency: 1, maxQueued: 10, maxWaitMs: 100, now: () => now })
  const gate = deferred()
  let ran = 0
  const first = queue.run(() => gate.promise)
  const stale = queue.run(async () => void ran++, () => true)
  const late = queue.run(async () => void ran++)
  now = 150
  const fresh = queue.run(async () => void ran++)
  gate.resolve()
  await first
  await rejectsWith(stale, 'GS_ERR_OVERLOADED')
  await rejectsWith(late, 'GS_ERR_OVERLOADED')
  await fresh
  assert.is(ran, 1, 'only the fresh task ran')
  assert.equal([queue.stats().droppedStale, queue.stats().droppedTimeout], [1, 1])
})

test('close refuses the waiting and new tasks with SHUTTING_DOWN; the running one finishes', async () => {
  const queue = new LoginQueue({ concurrency: 1, maxQueued: 10, maxWaitMs: 60_000 })
  const gate = deferred()
  const running = queue.run(async () => { await gate.promise; return 'done' })
  const waiting = queue.run(async () => 'never')
  queue.close()
  await rejectsWith(waiting, 'GS_ERR_SHUTTING_DOWN')
  await rejectsWith(queue.run(async () => 'new'), 'GS_ERR_SHUTTING_DOWN')
  gate.resolve()
  assert.is(await running, 'done')
  assert.is(queue.stats().refusedClosed, 2)
})

test('a task that throws synchronously rejects and frees its slot', async () => {
  const queue = new LoginQueue({ concurrency: 1, maxQueued: 10, maxWaitMs: 60_000 })
  const boom = queue.run(() => { throw new Error('boom') })
  try {
    await boom
    assert.unreachable()
  } catch (err) {
    assert.is((err as Error).message, 'boom')
  }
  assert.is(await queue.run(async () => 7), 7)
})

test('fair across keys: one address with many logins waiting delays another address by one turn, not its whole queue', async () => {
  const queue = new LoginQueue({ concurrency: 1, maxQueued: 1000, maxWaitMs: 60_000 })
  const order: string[] = []
  const job = (name: string) => () => new Promise<void>((resolve) => setImmediate(() => { order.push(name); resolve() }))
  const all: Promise<void>[] = []
  for (let i = 0; i < 10; i++) all.push(queue.run(job(`attacker${i}`), () => false, '10.6.6.6'))
  all.push(queue.run(job('honest'), () => false, '192.0.2.7'))
  await Promise.all(all)
  assert.ok(order.indexOf('honest') <= 2, `honest served at turn ${order.indexOf('honest')}: ${order.join(',')}`)
})

test.run()
