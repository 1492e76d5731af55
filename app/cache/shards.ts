/**
 * The K Redis shards of `REDIS_URLS`: one ioredis client per shard with short timeouts and no
 * offline queue (a command to a lost shard fails at once instead of piling up), a circuit breaker
 * per shard, and per-shard counters. Callers get an `Outcome` instead of an exception, so a shard
 * that is down or slow turns into a fallback (reads) or a skipped write, never a failed game call.
 *
 * A shard unreachable at start-up does not stop the server: its breaker starts open, the set says
 * `degraded` (log line + `status()`), and ioredis keeps reconnecting in the background; once the
 * breaker's probe succeeds the shard is used again and `onRecovered` listeners run.
 */
import { Redis, ReplyError } from 'ioredis'
import { withDeadline } from '../deadline.js'
import { GameServerError } from '../errors.js'
import { silentLogger, type Logger } from '../logger.js'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'
import { noopCacheMetrics, type CacheMetrics } from './metrics.js'
import { ShardRing } from './ring.js'
import { TickPipeline } from './tick-pipeline.js'

export interface ShardStats {
  hits: number
  misses: number
  /** Commands that failed or timed out, plus calls refused by an open breaker. */
  errors: number
  timeouts: number
  /** Calls refused without touching the network because the breaker was open. */
  shortCircuited: number
  /** Reads answered by the fallback (database) because the shard was unavailable. */
  fallbacks: number
  /** Writes dropped because the shard was unavailable. */
  skippedWrites: number
}

type FailureReason = 'breaker-open' | 'timeout' | 'connection' | 'reply-error' | 'closed'
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: FailureReason; readonly error?: unknown }

/** Settings from the config table (`cacheOptionsFrom` in cache.ts); tests spread them and override a few. */
export interface ShardSetOptions {
  /** redis:// URLs, one per shard (REDIS_URLS). */
  readonly urls: readonly string[]
  readonly commandTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly maxReconnectDelayMs: number
  readonly breakerFailures: number
  readonly breakerOpenMs: number
  /**
   * `tick`: single commands of one synchronous run go out as one explicit pipeline per shard
   * (tick-pipeline.ts); `auto`: ioredis auto-pipelining; `off`: every command on its own.
   */
  readonly pipelining: Pipelining
  /** Points per shard on the hash ring [ring.ts]. */
  readonly virtualNodes?: number
  readonly metrics?: CacheMetrics
  readonly logger?: Logger
}

type CacheHealth = 'ok' | 'degraded' | 'down'
type Pipelining = 'tick' | 'auto' | 'off'

export interface ShardStatus {
  readonly index: number
  readonly name: string
  readonly connection: string
  readonly breaker: BreakerState
  readonly stats: Readonly<ShardStats>
}

export interface CacheStatus {
  readonly health: CacheHealth
  readonly shards: readonly ShardStatus[]
}

/** `host:port/db` of a redis URL: a stable ring name without the password. */
export function shardName(url: string): string {
  const parsed = new URL(url)
  const db = parsed.pathname.replace(/^\//, '') || '0'
  return `${parsed.hostname}:${parsed.port || '6379'}/${db}`
}

export class Shard {
  readonly label: string
  readonly stats: ShardStats = { hits: 0, misses: 0, errors: 0, timeouts: 0, shortCircuited: 0, fallbacks: 0, skippedWrites: 0 }
  private probeTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    readonly index: number,
    readonly name: string,
    readonly client: Redis,
    readonly breaker: CircuitBreaker,
    private readonly metrics: CacheMetrics,
    private readonly logger: Logger,
    private readonly tick?: TickPipeline,
  ) {
    this.label = String(index)
  }

  /**
   * Like `exec` for an `op` that issues exactly one command (no `multi()`, no loops): with
   * `pipelining: 'tick'` it joins the shard's pipeline of this synchronous run.
   */
  command<T>(op: (client: Redis) => Promise<T>): Promise<Outcome<T>> {
    const tick = this.tick
    return tick ? this.exec(() => op(tick.commander)) : this.exec(op)
  }

  /** Run `op` against this shard unless its breaker refuses; failures feed the breaker. */
  async exec<T>(op: (client: Redis) => Promise<T>): Promise<Outcome<T>> {
    if (this.closed) return { ok: false, reason: 'closed' }
    if (!this.breaker.tryAcquire()) {
      this.stats.shortCircuited++
      this.countError()
      return { ok: false, reason: 'breaker-open' }
    }
    try {
      const value = await op(this.client)
      this.breaker.success()
      return { ok: true, value }
    } catch (error) {
      if (error instanceof ReplyError) {
        // The shard answered: a bad command is our bug, not the shard's health.
        this.breaker.success()
        this.countError()
        this.logger.error({ err: error, shard: this.label }, 'cache command rejected by redis')
        return { ok: false, reason: 'reply-error', error }
      }
      const timeout = error instanceof Error && /timed out/i.test(error.message)
      if (timeout) this.stats.timeouts++
      this.countError()
      this.breaker.failure()
      return { ok: false, reason: this.closed ? 'closed' : timeout ? 'timeout' : 'connection', error }
    }
  }

  hit(): void {
    this.stats.hits++
    this.metrics.cacheHit(this.label)
  }

  miss(): void {
    this.stats.misses++
    this.metrics.cacheMiss(this.label)
  }

  fellBack(): void {
    this.stats.fallbacks++
  }

  skippedWrite(): void {
    this.stats.skippedWrites++
  }

  get available(): boolean {
    return !this.closed && this.breaker.state === 'closed'
  }

  status(): ShardStatus {
    return { index: this.index, name: this.name, connection: this.client.status, breaker: this.breaker.state, stats: { ...this.stats } }
  }

  /** While open, probe with a PING once the breaker admits it (no traffic needed to recover). */
  scheduleProbe(): void {
    if (this.closed || this.breaker.state !== 'open') return
    clearTimeout(this.probeTimer)
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined
      if (this.breaker.state !== 'open') return
      if (this.breaker.msUntilProbe > 0) return this.scheduleProbe()
      void this.exec((client) => client.ping())
    }, this.breaker.msUntilProbe + 1)
    this.probeTimer.unref()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.probeTimer)
    this.client.disconnect()
  }

  private countError(): void {
    this.stats.errors++
    this.metrics.cacheError(this.label)
  }
}

export class ShardSet {
  readonly ring: ShardRing
  readonly shards: readonly Shard[]
  private readonly recoveredListeners = new Set<(shard: Shard) => void>()
  private readonly logger: Logger
  private closed = false

  private constructor(options: ShardSetOptions) {
    if (options.urls.length === 0) throw new RangeError('a shard set needs at least one redis URL')
    this.logger = (options.logger ?? silentLogger).child({ component: 'cache' })
    const names = options.urls.map(shardName)
    const duplicate = names.find((name, i) => names.indexOf(name) !== i)
    if (duplicate !== undefined) {
      throw new GameServerError('GS_ERR_CONFIG', `REDIS_URLS lists the shard ${duplicate} more than once`, { variable: 'REDIS_URLS', shard: duplicate })
    }
    this.ring = new ShardRing(names, options.virtualNodes === undefined ? {} : { virtualNodes: options.virtualNodes })
    const metrics = options.metrics ?? noopCacheMetrics
    const maxReconnectDelayMs = options.maxReconnectDelayMs
    this.shards = options.urls.map((url, index) => {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: options.connectTimeoutMs,
        commandTimeout: options.commandTimeoutMs,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        enableAutoPipelining: options.pipelining === 'auto',
        autoResubscribe: false,
        retryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
      })
      const label = String(index)
      let shard: Shard | undefined
      const breaker = new CircuitBreaker({
        failureThreshold: options.breakerFailures,
        openMs: options.breakerOpenMs,
        onStateChange: (from, to) => {
          if (to === 'open') {
            if (from === 'closed') this.logger.warn({ shard: label, name: names[index] }, 'cache shard unavailable: breaker open, reads fall back, writes are skipped')
            shard?.scheduleProbe()
          } else if (to === 'closed' && shard) {
            this.logger.info({ shard: label, name: names[index] }, 'cache shard answers again: breaker closed')
            for (const listener of this.recoveredListeners) listener(shard)
          }
        },
      })
      // Connection errors surface as failed commands and breaker transitions; keep the event quiet.
      client.on('error', (err: Error) => this.logger.debug({ shard: label, err: err.message }, 'redis connection error'))
      // A reconnected client: probe as soon as the breaker allows instead of waiting for traffic.
      client.on('ready', () => shard?.scheduleProbe())
      const tick = options.pipelining === 'tick' ? new TickPipeline(client, options.commandTimeoutMs) : undefined
      shard = new Shard(index, names[index]!, client, breaker, metrics, this.logger, tick)
      return shard
    })
  }

  /**
   * Connect every shard, waiting at most the connect timeout for each. Unreachable shards do not
   * fail this: they start with an open breaker and the set reports `degraded` (or `down`).
   */
  static async open(options: ShardSetOptions): Promise<ShardSet> {
    const set = new ShardSet(options)
    const waitMs = options.connectTimeoutMs + 200
    await Promise.all(
      set.shards.map(async (shard) => {
        const connected = shard.client.connect().then(
          () => true,
          () => false,
        )
        const ready = (await withDeadline(connected, waitMs)) && (await connected)
        if (!ready) shard.breaker.trip()
      }),
    )
    const status = set.status()
    if (status.health === 'ok') set.logger.info({ shards: set.shards.length }, 'cache connected to every shard')
    else {
      const down = status.shards.filter((s) => s.breaker !== 'closed').map((s) => `${s.index}=${s.name}`)
      set.logger.warn({ health: status.health, down }, `cache ${status.health}: ${down.length}/${set.shards.length} shard(s) unreachable at start-up; running without them until they answer`)
    }
    return set
  }

  shardFor(key: string): Shard {
    return this.shards[this.ring.shardFor(key)]!
  }

  /** Called when a shard's breaker closes again after it was open (e.g. to drop stale entries). */
  onRecovered(listener: (shard: Shard) => void): () => void {
    this.recoveredListeners.add(listener)
    return () => this.recoveredListeners.delete(listener)
  }

  status(): CacheStatus {
    const shards = this.shards.map((s) => s.status())
    const up = shards.filter((s) => s.breaker === 'closed').length
    const health: CacheHealth = up === shards.length ? 'ok' : up === 0 ? 'down' : 'degraded'
    return { health, shards }
  }

  /** Totals of every shard's counters. */
  totals(): ShardStats {
    const total: ShardStats = { hits: 0, misses: 0, errors: 0, timeouts: 0, shortCircuited: 0, fallbacks: 0, skippedWrites: 0 }
    for (const shard of this.shards) for (const key of Object.keys(total) as (keyof ShardStats)[]) total[key] += shard.stats[key]
    return total
  }

  /** Disconnect every shard now. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.recoveredListeners.clear()
    for (const shard of this.shards) shard.close()
  }
}
