// The sink's bookkeeping against a scripted executor (the real PostgreSQL runs in
// test/integration/db-write-behind.test.ts): merge-back of failed batches, newer state winning,
// retry until durable, flush covering everything marked before it.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { Executor, SqlTag } from '../../../app/db/pool.js'
import { loadConfig } from '../../../app/config/index.js'
import { WriteBehindPlayerSink, writeBehindOptions } from '../../../app/db/write-behind.js'
import { GameServerError } from '../../../app/errors.js'
import type { PlayerState } from '../../../app/game/stores.js'
import { eventually } from '../../harness/eventually.js'

/** Records what each bulk write carried; fails while `down` is set; can hold a write open. */
class ScriptedExecutor implements Executor {
  readonly inTransaction = false
  readonly stored = new Map<number, number>() // id → experience
  writes = 0
  down = false
  private gate: Promise<void> | undefined
  private openGate: (() => void) | undefined
  entered: (() => void) | undefined

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve))
  }
  release(): void {
    this.openGate?.()
    this.gate = undefined
  }

  async run<T>(_op: string, statement: (sql: SqlTag) => Promise<T>): Promise<T> {
    // capture the parameters the statement would bind, without a server
    let params: unknown[] = []
    const fake = ((_strings: TemplateStringsArray, ...values: unknown[]) => {
      params = values
      return Promise.resolve({ count: (values[0] as number[]).length })
    }) as unknown as SqlTag
    const result = await statement(fake)
    this.writes++
    this.entered?.()
    if (this.gate) await this.gate
    if (this.down) throw new GameServerError('GS_ERR_DB_UNAVAILABLE', 'down', {})
    const [ids, , experience] = params as number[][]
    ids!.forEach((id, i) => this.stored.set(id, experience![i]!))
    return result
  }

  withTransaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return fn(this)
  }
}

const state = (id: number, experience: number): PlayerState => ({ id, level: 1, experience, position: { zone: 0, x: 0, y: 0 }, hp: 1 })
const options = { ...writeBehindOptions(loadConfig({}).data), flushIntervalMs: 3_600_000, retryBaseMs: 1, retryMaxMs: 5, closeDeadlineMs: 200 }

test('a failed flush keeps the state and retries until durable', async () => {
  const db = new ScriptedExecutor()
  const sink = new WriteBehindPlayerSink(db, options)
  sink.markDirty(state(1, 10))
  db.down = true
  const flushing = sink.flush()
  await eventually(() => sink.stats().failedAttempts >= 3, 5000, '3 failed attempts', 1)
  assert.is(db.stored.size, 0)
  assert.is(sink.pending(1)?.experience, 10, 'still pending while down')
  db.down = false
  await flushing
  assert.is(db.stored.get(1), 10)
  assert.is(sink.pending(1), undefined)
  await sink.close()
})

test('state marked while a write is in flight wins over the in-flight state when that write fails', async () => {
  const db = new ScriptedExecutor()
  const sink = new WriteBehindPlayerSink(db, options)
  sink.markDirty(state(1, 1))
  sink.markDirty(state(2, 1))
  db.hold()
  db.down = true
  const entered = new Promise<void>((resolve) => (db.entered = resolve))
  const flushing = sink.flush()
  await entered
  sink.markDirty(state(1, 2)) // newer than the in-flight 1
  assert.is(sink.pending(1)?.experience, 2)
  assert.is(sink.pending(2)?.experience, 1, 'in-flight state is visible to loads')
  db.entered = undefined
  db.release() // the held write now fails: the database is down
  await eventually(() => sink.stats().failedAttempts >= 1, 5000, 'a failed attempt', 1)
  assert.is(sink.pending(1)?.experience, 2, 'the failed batch did not overwrite the newer mark')
  assert.is(sink.pending(2)?.experience, 1, 'the failed batch was put back')
  db.down = false
  await flushing
  await sink.flush()
  assert.is(db.stored.get(1), 2, 'the newest acknowledged state is what ends up stored')
  assert.is(db.stored.get(2), 1)
  await sink.close()
})

test('flush covers everything marked before the call, also when a flush is already running', async () => {
  const db = new ScriptedExecutor()
  const sink = new WriteBehindPlayerSink(db, { ...options, rowsPerStatement: 2 })
  for (let id = 1; id <= 5; id++) sink.markDirty(state(id, id))
  db.hold()
  const entered = new Promise<void>((resolve) => (db.entered = resolve))
  const first = sink.flush()
  await entered
  db.entered = undefined
  sink.markDirty(state(6, 6))
  const second = sink.flush()
  const third = sink.flush() // shares the flush waiting to start: no extra statement
  db.release()
  await Promise.all([first, second, third])
  assert.equal([...db.stored.keys()].sort(), [1, 2, 3, 4, 5, 6])
  assert.is(db.writes, 4, 'three statements of ≤ 2 rows, then one for the late mark')
  await sink.close()
})

test('durable listeners hear the ids of every committed statement, interval flushes included', async () => {
  const db = new ScriptedExecutor()
  const sink = new WriteBehindPlayerSink(db, { ...options, flushIntervalMs: 5, rowsPerStatement: 2 })
  const heard: number[][] = []
  sink.onDurable((ids) => void heard.push([...ids]))
  sink.onDurable(() => {
    throw new Error('a broken listener does not break the flush')
  })
  for (let id = 1; id <= 3; id++) sink.markDirty(state(id, id))
  await eventually(() => heard.flat().length >= 3, 5000, 'the interval to flush', 2)
  assert.equal(heard, [[1, 2], [3]])
  await sink.close()
})

test('close gives up at the deadline with the unsaved count; marks after close are refused', async () => {
  const db = new ScriptedExecutor()
  const sink = new WriteBehindPlayerSink(db, options)
  sink.markDirty(state(1, 1))
  sink.markDirty(state(2, 1))
  db.down = true
  try {
    await sink.close()
    assert.unreachable('close must reject')
  } catch (err) {
    assert.is((err as GameServerError).code, 'GS_ERR_DB_WRITE_BEHIND_CLOSED')
    assert.is((err as GameServerError).context.unsaved, 2)
  }
  assert.throws(() => sink.markDirty(state(3, 1)), (e: GameServerError) => e.code === 'GS_ERR_DB_WRITE_BEHIND_CLOSED')
})

test.run()
