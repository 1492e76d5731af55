/**
 * Admission for password logins. scrypt runs on libuv's threadpool, whose queue can neither be
 * bounded nor cancelled: work handed to it runs even after its client left, and process exit waits
 * for all of it. So password logins wait here instead, in JS, with at most `concurrency` hashing
 * at once (≤ the threadpool size):
 *
 *   - the queue is bounded (`maxQueued`): beyond it a login is refused at once (GS_ERR_OVERLOADED);
 *   - a login whose client has gone (`stale()`) or that waited longer than `maxWaitMs` is dropped
 *     when its turn comes, without hashing (GS_ERR_OVERLOADED);
 *   - `close()` (shutdown) refuses the waiting ones (GS_ERR_SHUTTING_DOWN); running ones finish.
 *   - fair across clients: waiting logins are queued per key (the client address) and a free slot
 *     goes to the next key in turn, so one address with a hundred logins waiting (a password-guessing
 *     flood) delays another address's login by at most one turn, not by its whole queue.
 */
import { GameServerError } from '../errors.js'

export interface LoginQueueOptions {
  readonly concurrency: number
  readonly maxQueued: number
  readonly maxWaitMs: number
  /** Monotonic clock in ms (tests). */
  readonly now?: () => number
}

interface Job {
  readonly task: () => Promise<unknown>
  readonly stale: () => boolean
  readonly enqueuedAtMs: number
  readonly resolve: (value: unknown) => void
  readonly reject: (err: unknown) => void
}

export interface LoginQueueStats {
  readonly running: number
  readonly waiting: number
  readonly started: number
  readonly refusedFull: number
  readonly droppedStale: number
  readonly droppedTimeout: number
  readonly refusedClosed: number
}

export class LoginQueue {
  /** Waiting jobs per key; the Map's order is the turn order (a served key moves to the end). */
  private readonly waiting = new Map<string, Job[]>()
  private waitingCount = 0
  private running = 0
  private closed = false
  private readonly now: () => number
  private readonly counters = { started: 0, refusedFull: 0, droppedStale: 0, droppedTimeout: 0, refusedClosed: 0 }

  constructor(private readonly options: LoginQueueOptions) {
    if (!(options.concurrency >= 1) || !(options.maxQueued >= 1) || !(options.maxWaitMs > 0)) throw new RangeError('concurrency, maxQueued ≥ 1 and maxWaitMs > 0 required')
    this.now = options.now ?? (() => performance.now())
  }

  /** Run `task` when a slot is free. `stale()` true at that moment drops it unrun. */
  run<T>(task: () => Promise<T>, stale: () => boolean = () => false, key = ''): Promise<T> {
    if (this.closed) {
      this.counters.refusedClosed++
      return Promise.reject(new GameServerError('GS_ERR_SHUTTING_DOWN', 'the server is shutting down', {}))
    }
    if (this.running + this.waitingCount >= this.options.maxQueued) {
      this.counters.refusedFull++
      return Promise.reject(new GameServerError('GS_ERR_OVERLOADED', 'too many logins waiting', { waiting: this.waitingCount, running: this.running }))
    }
    return new Promise<T>((resolve, reject) => {
      let queue = this.waiting.get(key)
      if (queue === undefined) this.waiting.set(key, (queue = []))
      queue.push({ task, stale, enqueuedAtMs: this.now(), resolve: resolve as (value: unknown) => void, reject })
      this.waitingCount++
      this.pump()
    })
  }

  /** Refuse every waiting login (SHUTTING_DOWN) and any new one; running ones finish. Idempotent. */
  close(): void {
    this.closed = true
    const refused = [...this.waiting.values()].flat()
    this.waiting.clear()
    this.waitingCount = 0
    this.counters.refusedClosed += refused.length
    for (const job of refused) job.reject(new GameServerError('GS_ERR_SHUTTING_DOWN', 'the server is shutting down', {}))
  }

  stats(): LoginQueueStats {
    return { running: this.running, waiting: this.waitingCount, ...this.counters }
  }

  /** The oldest job of the key whose turn it is; that key goes to the back of the turn order. */
  private nextInTurn(): Job {
    const [key, queue] = this.waiting.entries().next().value as [string, Job[]]
    const job = queue.shift()!
    this.waiting.delete(key)
    if (queue.length > 0) this.waiting.set(key, queue)
    this.waitingCount--
    return job
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waitingCount > 0) {
      const job = this.nextInTurn()
      if (job.stale()) {
        this.counters.droppedStale++
        job.reject(new GameServerError('GS_ERR_OVERLOADED', 'the client left before its login was processed', { reason: 'stale' }))
        continue
      }
      const waitedMs = this.now() - job.enqueuedAtMs
      if (waitedMs > this.options.maxWaitMs) {
        this.counters.droppedTimeout++
        job.reject(new GameServerError('GS_ERR_OVERLOADED', `login waited ${Math.round(waitedMs)} ms for a hashing slot`, { reason: 'timeout', waitedMs }))
        continue
      }
      this.running++
      this.counters.started++
      let settled: Promise<unknown>
      try {
        settled = job.task()
      } catch (err) {
        settled = Promise.reject(err)
      }
      settled.then(job.resolve, job.reject).finally(() => {
        this.running--
        this.pump()
      })
    }
  }
}
