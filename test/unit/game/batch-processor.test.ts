import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BatchProcessor, type BatchProcessorOptions, type FrameHandler } from '../../../app/game/batch-processor.js'
import { silentLogger } from '../../../app/logger.js'
import type { Connection, InboundFrame } from '../../../app/net/connection.js'
import { FrameType } from '../../../app/protocol/types.js'
import { noopGameMetrics, type GameMetrics } from '../../../app/game/metrics.js'
import { eventually } from '../../harness/eventually.js'

const connection = { id: 1, playerId: 0, remoteAddress: '', closed: false, send: () => true, sendShared: () => true, sendError: () => true, close: () => {}, violation: () => false } as Connection

function frame(type: number, seq: number): InboundFrame {
  return { connection, type, seq, playerId: 0, payload: Buffer.alloc(0), receivedAt: 0 }
}

function harness(overrides: Partial<BatchProcessorOptions> = {}) {
  const log: string[] = []
  const shed: number[] = []
  const handler = (name: string): FrameHandler => (f) => void log.push(`${name}${f.seq}`)
  const metricsSeen = { batches: [] as number[], shed: 0, processed: 0 }
  const metrics: GameMetrics = {
    ...noopGameMetrics,
    batchProcessed: (n) => void metricsSeen.batches.push(n),
    framesShed: (n) => void (metricsSeen.shed += n),
    frameProcessed: () => void metricsSeen.processed++,
  }
  const processor = new BatchProcessor({
    batchMaxFrames: 100,
    tickMs: 0,
    maxQueuedFrames: 1000,
    handlers: new Map([[FrameType.LOGIN, handler('L')], [FrameType.MOVE, handler('M')], [FrameType.CHAT, handler('C')], [FrameType.ATTACK, handler('A')]]),
    typeOrder: [FrameType.LOGIN, FrameType.MOVE, FrameType.ATTACK, FrameType.CHAT],
    onShed: (f) => void shed.push(f.seq),
    onUnhandled: (f) => void log.push(`?${f.seq}`),
    metrics,
    logger: silentLogger,
    ...overrides,
  })
  return { processor, log, shed, metricsSeen }
}

test('frames of one turn are processed at the end of the turn, grouped by type in typeOrder, arrival order within a type', async () => {
  const { processor, log, metricsSeen } = harness()
  processor.enqueue(frame(FrameType.CHAT, 1))
  processor.enqueue(frame(FrameType.MOVE, 2))
  processor.enqueue(frame(FrameType.CHAT, 3))
  processor.enqueue(frame(FrameType.LOGIN, 4))
  processor.enqueue(frame(FrameType.ATTACK, 5))
  processor.enqueue(frame(FrameType.MOVE, 6))
  processor.enqueue(frame(FrameType.LOGOUT, 7))
  assert.equal(log, [], 'nothing processed synchronously below the threshold')
  assert.is(processor.depth, 7)
  await nextTurn()
  assert.equal(log, ['L4', 'M2', 'M6', 'A5', 'C1', 'C3', '?7'])
  assert.equal(metricsSeen.batches, [7])
  assert.is(metricsSeen.processed, 7)
  assert.is(processor.stats().byTrigger.turn, 1)
  processor.close()
})

test('the 100th queued frame triggers processing at once (count trigger)', async () => {
  const { processor, log } = harness()
  for (let i = 1; i <= 99; i++) processor.enqueue(frame(FrameType.MOVE, i))
  assert.is(log.length, 0)
  processor.enqueue(frame(FrameType.MOVE, 100))
  assert.is(log.length, 100, 'processed synchronously')
  assert.is(processor.depth, 0)
  processor.enqueue(frame(FrameType.MOVE, 101))
  await nextTurn()
  assert.is(log.length, 101)
  const stats = processor.stats()
  assert.is(stats.byTrigger.count, 1)
  assert.is(stats.byTrigger.turn, 1)
  assert.is(stats.processed, 101)
  processor.close()
})

test('no added delay: processed within the same turn as a setImmediate scheduled after the frames', async () => {
  const { processor, log } = harness()
  processor.enqueue(frame(FrameType.MOVE, 1))
  const seenAtImmediate = await new Promise<number>((resolve) => setImmediate(() => resolve(log.length)))
  assert.is(seenAtImmediate, 1)
  processor.close()
})

test('tick mode: frames wait for the tick (or the count trigger)', async () => {
  const { processor, log } = harness({ tickMs: 30 })
  const started = performance.now()
  processor.enqueue(frame(FrameType.MOVE, 1))
  await nextTurn()
  assert.is(log.length, 0, 'not at the end of the turn in tick mode')
  await eventually(() => log.length > 0, 5000, 'the tick')
  assert.ok(performance.now() - started >= 25, 'processed on the tick')
  for (let i = 0; i < 100; i++) processor.enqueue(frame(FrameType.MOVE, i))
  assert.is(log.length, 101, 'count trigger also in tick mode')
  processor.close()
})

test('bounded queue: beyond maxQueuedFrames frames are shed, answered and counted', async () => {
  const { processor, log, shed, metricsSeen } = harness({ tickMs: 60_000, batchMaxFrames: 1000, maxQueuedFrames: 5 })
  for (let i = 1; i <= 8; i++) processor.enqueue(frame(FrameType.CHAT, i))
  assert.equal(shed, [6, 7, 8])
  assert.is(metricsSeen.shed, 3)
  assert.is(processor.stats().shed, 3)
  processor.drain()
  assert.equal(log, ['C1', 'C2', 'C3', 'C4', 'C5'])
  processor.enqueue(frame(FrameType.CHAT, 9))
  assert.is(processor.depth, 1, 'room again after processing')
  processor.close()
  processor.enqueue(frame(FrameType.CHAT, 10))
  assert.equal(shed, [6, 7, 8, 10], 'a closed processor sheds')
  processor.drain()
  assert.equal(log.at(-1), 'C9', 'drain still processes what was queued before close')
})

test('a throwing handler loses only its own frame', async () => {
  const { processor, log } = harness({
    handlers: new Map<number, FrameHandler>([[FrameType.MOVE, (f) => { if (f.seq === 2) throw new Error('boom'); log.push(`M${f.seq}`) }]]),
  })
  for (let i = 1; i <= 3; i++) processor.enqueue(frame(FrameType.MOVE, i))
  await nextTurn()
  assert.equal(log, ['M1', 'M3'])
  assert.is(processor.stats().failed, 1)
  processor.close()
})

test.run()
