/**
 * The inbound batch processor. Frames are queued and processed
 * grouped by type (in `typeOrder`, then any other type in first-seen order; arrival order within a
 * type):
 *
 *   - at once when BATCH_MAX_FRAMES are queued;
 *   - otherwise at the end of the event-loop turn they arrived in (setImmediate: after every socket
 *     read of this turn), so batching adds no fixed delay — or, with TICK_MS > 0, on a fixed tick.
 *
 * The queue is bounded (MAX_QUEUED_FRAMES): a frame arriving at a full queue is shed (`onShed`,
 * which answers it OVERLOADED) and counted. A handler that throws loses only its own frame.
 */
import type { Logger } from '../logger.js'
import type { InboundFrame } from '../net/connection.js'
import { frameTypeName } from '../protocol/types.js'
import type { GameMetrics } from './metrics.js'

export type FrameHandler = (frame: InboundFrame) => void

export interface BatchProcessorOptions {
  readonly batchMaxFrames: number
  /** 0: end of the event-loop turn; > 0: a fixed tick in ms. */
  readonly tickMs: number
  readonly maxQueuedFrames: number
  /** Handler per frame type; a frame of a type without a handler goes to `onUnhandled`. */
  readonly handlers: ReadonlyMap<number, FrameHandler>
  /** Types processed first, in this order (e.g. logins before moves). */
  readonly typeOrder: readonly number[]
  readonly onShed: (frame: InboundFrame) => void
  readonly onUnhandled: (frame: InboundFrame) => void
  readonly metrics: GameMetrics
  readonly logger: Logger
}

export interface BatchProcessorStats {
  queued: number
  processed: number
  batches: number
  shed: number
  failed: number
  /** Batches run because the queue reached batchMaxFrames / at the end of a turn / on a tick / by drain(). */
  byTrigger: { count: number; turn: number; tick: number; drain: number }
  processedByType: Record<string, number>
}

type Trigger = keyof BatchProcessorStats['byTrigger']

export class BatchProcessor {
  private queue: InboundFrame[] = []
  private spare: InboundFrame[] = []
  private readonly groups = new Map<number, InboundFrame[]>()
  private scheduled = false
  private processing = false
  private closed = false
  private readonly tickTimer: NodeJS.Timeout | null
  private readonly counters: BatchProcessorStats = {
    queued: 0, processed: 0, batches: 0, shed: 0, failed: 0,
    byTrigger: { count: 0, turn: 0, tick: 0, drain: 0 },
    processedByType: {},
  }
  private readonly onTurnEnd = (): void => {
    this.scheduled = false
    this.run('turn')
  }

  constructor(private readonly options: BatchProcessorOptions) {
    if (options.batchMaxFrames < 1 || options.maxQueuedFrames < 1) throw new RangeError('batchMaxFrames and maxQueuedFrames must be ≥ 1')
    for (const type of options.typeOrder) this.groups.set(type, [])
    if (options.tickMs > 0) {
      this.tickTimer = setInterval(() => this.run('tick'), options.tickMs)
      this.tickTimer.unref()
    } else {
      this.tickTimer = null
    }
  }

  get depth(): number {
    return this.queue.length
  }

  /** Queue one frame; false when it was shed (queue full or processor closed). */
  enqueue(frame: InboundFrame): boolean {
    if (this.closed || this.queue.length >= this.options.maxQueuedFrames) {
      this.counters.shed++
      this.options.metrics.framesShed(1)
      this.options.onShed(frame)
      return false
    }
    this.queue.push(frame)
    this.counters.queued++
    if (this.queue.length >= this.options.batchMaxFrames && !this.processing) {
      this.run('count')
    } else if (this.tickTimer === null && !this.scheduled) {
      this.scheduled = true
      setImmediate(this.onTurnEnd)
    }
    return true
  }

  /** Process everything queued now (shutdown). */
  drain(): void {
    while (this.queue.length > 0 && !this.processing) this.run('drain')
  }

  /** Stop the tick; frames enqueued afterwards are shed. Queued frames stay for `drain()`. */
  close(): void {
    this.closed = true
    if (this.tickTimer !== null) clearInterval(this.tickTimer)
  }

  stats(): BatchProcessorStats {
    return { ...this.counters, byTrigger: { ...this.counters.byTrigger }, processedByType: { ...this.counters.processedByType }, queued: this.queue.length }
  }

  private run(trigger: Trigger): void {
    if (this.processing || this.queue.length === 0) return
    this.processing = true
    const batch = this.queue
    this.queue = this.spare
    const { metrics } = this.options
    const frames = batch.length
    metrics.queueDepth(frames)
    const started = performance.now()
    try {
      for (const frame of batch) {
        let group = this.groups.get(frame.type)
        if (group === undefined) {
          group = []
          this.groups.set(frame.type, group)
        }
        group.push(frame)
      }
      for (const [type, group] of this.groups) {
        if (group.length === 0) continue
        this.processGroup(type, group)
        group.length = 0
      }
    } finally {
      batch.length = 0
      this.spare = batch
      this.processing = false
      this.counters.batches++
      this.counters.byTrigger[trigger]++
      metrics.batchProcessed(frames, (performance.now() - started) / 1000)
    }
    // Frames that arrived while this batch ran (a handler's synchronous sends never enqueue, but be safe).
    if (this.queue.length >= this.options.batchMaxFrames) this.run('count')
    else if (this.queue.length > 0 && this.tickTimer === null && !this.scheduled) {
      this.scheduled = true
      setImmediate(this.onTurnEnd)
    }
  }

  private processGroup(type: number, group: InboundFrame[]): void {
    const { metrics, logger } = this.options
    const handler = this.options.handlers.get(type)
    const name = frameTypeName(type)
    const counters = this.counters
    counters.processedByType[name] = (counters.processedByType[name] ?? 0) + group.length
    for (const frame of group) {
      const started = performance.now()
      try {
        if (handler === undefined) this.options.onUnhandled(frame)
        else handler(frame)
      } catch (err) {
        counters.failed++
        logger.error({ err, type: name, connectionId: frame.connection.id }, 'frame handler threw')
      }
      counters.processed++
      metrics.frameProcessed(name, (performance.now() - started) / 1000)
    }
  }
}
