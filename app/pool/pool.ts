/**
 * A typed generic resource pool (row 16.2.1; the seed's ConnectionPool). A small state machine that
 * moves resources between `idle` and `borrowed` and hands them to FIFO waiters (the shape of
 * porsager/postgres's connection queues), with:
 *
 * - min/max size; `min` kept (replenished) in the background, `max` never exceeded;
 * - async acquire with a timeout and an AbortSignal; FIFO waiters, bounded by `maxWaiters`;
 * - validate-on-borrow (a resource that fails validation is destroyed and another one is tried);
 * - idle eviction after `idleTimeoutMs` (never below `min`);
 * - `await using lease = await pool.acquire()` releases on scope exit (Symbol.asyncDispose);
 * - stats for metrics; idempotent `close()`.
 */
import { GameServerError } from '../errors.js'

// Node 20.4+ defines Symbol.asyncDispose; older runtimes get the well-known registry symbol.
;(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('nodejs.asyncDispose')

export interface PoolFactory<T> {
  create(): Promise<T>
  destroy(resource: T): void | Promise<void>
  /** Checked before every borrow of an idle resource; false destroys it. */
  validate?(resource: T): boolean | Promise<boolean>
}

export interface PoolOptions<T> {
  readonly factory: PoolFactory<T>
  /** Resources kept even when idle [0]. */
  readonly min?: number
  /** Resources at most, idle + borrowed + being created [10]. */
  readonly max?: number
  /** Default acquire timeout [5000] (the seed's 5 s). */
  readonly acquireTimeoutMs?: number
  /** Idle resources above `min` are destroyed after this long [30000] (the seed's 30 s). */
  readonly idleTimeoutMs?: number
  /** How often idle eviction and min replenishment run [min(1000, idleTimeoutMs)]. */
  readonly evictionIntervalMs?: number
  /** Callers allowed to wait at once; beyond it acquire fails with GS_ERR_POOL_EXHAUSTED [1000]. */
  readonly maxWaiters?: number
  /** Background failures (replenish, destroy); never thrown. */
  readonly onError?: (err: unknown) => void
}

export interface AcquireOptions {
  readonly timeoutMs?: number
  readonly signal?: AbortSignal
}

export interface Lease<T> extends AsyncDisposable {
  readonly resource: T
  /** Give the resource back (idempotent). */
  release(): Promise<void>
  /** Destroy the resource instead of giving it back (it is broken). */
  destroy(): Promise<void>
}

export type PoolStatus = 'open' | 'closing' | 'closed'

export interface PoolStats {
  readonly status: PoolStatus
  readonly size: number
  readonly idle: number
  readonly borrowed: number
  /** Being created or validated for a waiter. */
  readonly pending: number
  readonly waiting: number
  readonly created: number
  readonly destroyed: number
  readonly acquired: number
  readonly timeouts: number
  readonly aborts: number
  readonly exhausted: number
  readonly validationFailures: number
  readonly createFailures: number
  readonly evicted: number
  /** Sum and maximum of acquire waiting times, ms (mean = totalWaitMs / acquired). */
  readonly totalWaitMs: number
  readonly maxWaitMs: number
}

interface Waiter<T> {
  readonly since: number
  readonly resolve: (lease: Lease<T>) => void
  readonly reject: (err: Error) => void
  cleanup(): void
}

interface IdleEntry<T> {
  readonly resource: T
  readonly since: number
}

type Counters = { -readonly [K in 'created' | 'destroyed' | 'acquired' | 'timeouts' | 'aborts' | 'exhausted' | 'validationFailures' | 'createFailures' | 'evicted' | 'totalWaitMs' | 'maxWaitMs']: number }

export class Pool<T> {
  readonly min: number
  readonly max: number
  private readonly factory: PoolFactory<T>
  private readonly acquireTimeoutMs: number
  private readonly idleTimeoutMs: number
  private readonly maxWaiters: number
  private readonly onError: (err: unknown) => void
  private readonly idle: IdleEntry<T>[] = []
  private readonly borrowed = new Set<T>()
  private readonly waiters: Waiter<T>[] = []
  private pending = 0
  private status: PoolStatus = 'open'
  private readonly timer: NodeJS.Timeout
  private readonly counters: Counters = { created: 0, destroyed: 0, acquired: 0, timeouts: 0, aborts: 0, exhausted: 0, validationFailures: 0, createFailures: 0, evicted: 0, totalWaitMs: 0, maxWaitMs: 0 }

  constructor(options: PoolOptions<T>) {
    this.factory = options.factory
    this.min = options.min ?? 0
    this.max = options.max ?? 10
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 5000
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30000
    this.maxWaiters = options.maxWaiters ?? 1000
    this.onError = options.onError ?? (() => {})
    if (!Number.isInteger(this.min) || this.min < 0) throw new RangeError('min must be a non-negative integer')
    if (!Number.isInteger(this.max) || this.max < 1 || this.max < this.min) throw new RangeError('max must be an integer ≥ max(1, min)')
    if (!(this.acquireTimeoutMs > 0) || !(this.idleTimeoutMs > 0)) throw new RangeError('timeouts must be positive')
    const intervalMs = options.evictionIntervalMs ?? Math.min(1000, this.idleTimeoutMs)
    this.timer = setInterval(() => this.maintain(), intervalMs)
    this.timer.unref()
    this.replenish()
  }

  get size(): number {
    return this.idle.length + this.borrowed.size + this.pending
  }

  acquire(options: AcquireOptions = {}): Promise<Lease<T>> {
    if (this.status !== 'open') return Promise.reject(new GameServerError('GS_ERR_POOL_CLOSED', 'pool is closed', {}))
    const signal = options.signal
    if (signal?.aborted) {
      this.counters.aborts++
      return Promise.reject(new GameServerError('GS_ERR_POOL_ABORTED', 'acquire aborted', {}, { cause: signal.reason }))
    }
    if (this.waiters.length >= this.maxWaiters) {
      this.counters.exhausted++
      return Promise.reject(new GameServerError('GS_ERR_POOL_EXHAUSTED', 'too many waiters', { maxWaiters: this.maxWaiters }))
    }
    const timeoutMs = options.timeoutMs ?? this.acquireTimeoutMs
    return new Promise<Lease<T>>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.removeWaiter(waiter)) return
        this.counters.aborts++
        reject(new GameServerError('GS_ERR_POOL_ABORTED', 'acquire aborted', {}, { cause: signal?.reason }))
      }
      const timer = setTimeout(() => {
        if (!this.removeWaiter(waiter)) return
        this.counters.timeouts++
        reject(new GameServerError('GS_ERR_POOL_TIMEOUT', `no resource within ${timeoutMs} ms`, { timeoutMs, size: this.size, max: this.max }))
      }, timeoutMs)
      const waiter: Waiter<T> = {
        since: performance.now(),
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
      this.dispatch()
    })
  }

  /** Borrow, run `fn`, give back (destroy when `fn` throws a non-recoverable error is the caller's choice). */
  async use<R>(fn: (resource: T) => Promise<R> | R, options?: AcquireOptions): Promise<R> {
    await using lease = await this.acquire(options)
    return await fn(lease.resource)
  }

  stats(): PoolStats {
    return { status: this.status, size: this.size, idle: this.idle.length, borrowed: this.borrowed.size, pending: this.pending, waiting: this.waiters.length, ...this.counters }
  }

  /** Refuse new acquires, fail waiters, destroy idle resources; borrowed ones are destroyed on release. */
  async close(): Promise<void> {
    if (this.status !== 'open') return
    this.status = 'closing'
    clearInterval(this.timer)
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup()
      waiter.reject(new GameServerError('GS_ERR_POOL_CLOSED', 'pool closed while waiting', {}))
    }
    await Promise.all(this.idle.splice(0).map((entry) => this.destroyResource(entry.resource)))
    this.status = 'closed'
  }

  private removeWaiter(waiter: Waiter<T>): boolean {
    const index = this.waiters.indexOf(waiter)
    if (index < 0) return false
    this.waiters.splice(index, 1)
    waiter.cleanup()
    return true
  }

  /** Serve waiters from idle resources, else create while below max. */
  private dispatch(): void {
    while (this.status === 'open' && this.waiters.length > this.pending) {
      const entry = this.idle.pop()
      if (entry !== undefined) {
        this.pending++
        void this.check(entry.resource)
      } else if (this.size < this.max) {
        this.pending++
        void this.createFor()
      } else {
        return
      }
    }
  }

  private async check(resource: T): Promise<void> {
    let valid = true
    try {
      valid = this.factory.validate ? await this.factory.validate(resource) : true
    } catch (err) {
      this.onError(err)
      valid = false
    }
    this.pending--
    if (valid) {
      this.assign(resource)
    } else {
      this.counters.validationFailures++
      await this.destroyResource(resource)
    }
    this.dispatch()
  }

  private async createFor(): Promise<void> {
    let resource: T
    try {
      resource = await this.factory.create()
    } catch (err) {
      this.pending--
      this.counters.createFailures++
      const waiter = this.waiters.shift()
      if (waiter !== undefined) {
        waiter.cleanup()
        waiter.reject(new GameServerError('GS_ERR_POOL_INVALID', 'could not create a pool resource', {}, { cause: err }))
      } else {
        this.onError(err)
      }
      this.dispatch()
      return
    }
    this.pending--
    this.counters.created++
    this.assign(resource)
    this.dispatch()
  }

  /** Hand to the longest-waiting caller, or park as idle. */
  private assign(resource: T): void {
    if (this.status !== 'open') {
      void this.destroyResource(resource)
      return
    }
    const waiter = this.waiters.shift()
    if (waiter === undefined) {
      this.idle.push({ resource, since: performance.now() })
      return
    }
    waiter.cleanup()
    const waitedMs = performance.now() - waiter.since
    this.counters.acquired++
    this.counters.totalWaitMs += waitedMs
    if (waitedMs > this.counters.maxWaitMs) this.counters.maxWaitMs = waitedMs
    this.borrowed.add(resource)
    waiter.resolve(this.lease(resource))
  }

  private lease(resource: T): Lease<T> {
    let done = false
    const finish = async (destroy: boolean): Promise<void> => {
      if (done) return
      done = true
      this.borrowed.delete(resource)
      if (destroy || this.status !== 'open') {
        await this.destroyResource(resource)
        this.replenish()
      } else {
        this.assign(resource)
      }
      this.dispatch()
    }
    return {
      resource,
      release: () => finish(false),
      destroy: () => finish(true),
      [Symbol.asyncDispose]: () => finish(false),
    }
  }

  private async destroyResource(resource: T): Promise<void> {
    this.counters.destroyed++
    try {
      await this.factory.destroy(resource)
    } catch (err) {
      this.onError(err)
    }
  }

  private maintain(): void {
    const now = performance.now()
    // idle is ordered oldest first (released resources are pushed at the end)
    while (this.idle.length > 0 && this.size > this.min && now - this.idle[0]!.since >= this.idleTimeoutMs) {
      const entry = this.idle.shift()!
      this.counters.evicted++
      void this.destroyResource(entry.resource)
    }
    this.replenish()
  }

  /** Create resources in the background until `min` is reached. */
  private replenish(): void {
    while (this.status === 'open' && this.size < this.min) {
      this.pending++
      void this.factory.create().then(
        (resource) => {
          this.pending--
          this.counters.created++
          this.assign(resource)
          this.dispatch()
        },
        (err) => {
          this.pending--
          this.counters.createFailures++
          this.onError(err)
        },
      )
      // Background creations are not for a specific waiter; let dispatch account for them.
    }
  }
}
