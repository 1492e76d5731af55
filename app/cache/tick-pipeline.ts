/**
 * Explicit pipelining for independent callers (REDIS_PIPELINING=tick): single commands issued in
 * one synchronous run (e.g. the handlers of one batch of frames) are queued and flushed at
 * `process.nextTick` as one `pipeline()` — one write, one round trip per shard. A lone command is
 * sent as it is (a pipeline of one only adds work). Measured against ioredis auto-pipelining, which
 * defers to `setImmediate`, in BENCHMARKS.md.
 *
 * `commander` stands in for the client inside `Shard.command(op)`: each method call queues that
 * command and returns a promise of its own reply. Every flushed batch has its own timeout, so a
 * stalled shard fails these calls like any other command.
 */
import type { Redis } from 'ioredis'

interface Queued {
  readonly name: string
  readonly args: unknown[]
  readonly resolve: (value: unknown) => void
  readonly reject: (err: unknown) => void
}

type Dynamic = Record<string, (...args: unknown[]) => unknown>

export class TickPipeline {
  /** A `Redis`-shaped object whose commands go through the batch; only single commands, no `multi()`. */
  readonly commander: Redis
  private queue: Queued[] = []
  private scheduled = false

  constructor(
    private readonly client: Redis,
    private readonly commandTimeoutMs: number,
  ) {
    this.commander = new Proxy(
      {},
      {
        get: (_target, name) => (typeof name === 'string' ? (...args: unknown[]) => this.enqueue(name, args) : undefined),
      },
    ) as Redis
  }

  /** Commands queued and not yet written. */
  get queued(): number {
    return this.queue.length
  }

  private enqueue(name: string, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ name, args, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        process.nextTick(() => this.flush())
      }
    })
  }

  private flush(): void {
    this.scheduled = false
    const calls = this.queue
    this.queue = []
    if (calls.length === 0) return
    const client = this.client as unknown as Dynamic
    if (calls.length === 1) {
      const call = calls[0]!
      try {
        ;(client[call.name]!(...call.args) as Promise<unknown>).then(call.resolve, call.reject)
      } catch (err) {
        call.reject(err)
      }
      return
    }
    const timer = setTimeout(() => {
      const err = new Error(`Command timed out (pipeline of ${calls.length})`)
      for (const call of calls) call.reject(err)
    }, this.commandTimeoutMs)
    timer.unref()
    try {
      const pipeline = this.client.pipeline() as unknown as Dynamic
      for (const call of calls) pipeline[call.name]!(...call.args)
      ;(pipeline.exec!() as Promise<[Error | null, unknown][] | null>).then(
        (replies) => {
          clearTimeout(timer)
          calls.forEach((call, i) => {
            const reply = replies?.[i]
            if (!reply) call.reject(new Error('pipeline returned no reply'))
            else if (reply[0]) call.reject(reply[0])
            else call.resolve(reply[1])
          })
        },
        (err: unknown) => {
          clearTimeout(timer)
          for (const call of calls) call.reject(err)
        },
      )
    } catch (err) {
      clearTimeout(timer)
      for (const call of calls) call.reject(err)
    }
  }
}
