/**
 * The PostgreSQL connection pool: postgres.js configured from the `data` config section
 * (`max`, `idle_timeout`, `connect_timeout`, `statement_timeout`), never wrapped in a second pool.
 * Every statement runs through `run(op, …)`, which times it under a fixed operation name (reported
 * through `DatabaseMetrics`) and maps failures to catalogue errors.
 *
 * `withTransaction(fn)` runs `fn` in BEGIN…COMMIT (ROLLBACK when it throws); calling
 * `withTransaction` on the executor it hands you nests as a SAVEPOINT.
 */
import postgres from 'postgres'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import { mapDatabaseError, mapIfDatabaseError, redactUrl, unavailableError } from './errors.js'
import { noopDatabaseMetrics, type DatabaseMetrics, type PoolReading } from './metrics.js'

/** The tagged-template part shared by the pool and transactions (no begin/end/listen). */
export type SqlTag = postgres.ISql

/** Where repositories run statements: the pool, a transaction or a savepoint. */
export interface Executor {
  /** Run the statement(s) of operation `op`, timed and with errors mapped. */
  run<T>(op: string, statement: (sql: SqlTag) => Promise<T>): Promise<T>
  /** A transaction (on the pool) or a savepoint (inside a transaction). */
  withTransaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>
  /** Whether this executor is inside a transaction. */
  readonly inTransaction: boolean
}

/**
 * The `data` config section fields the pool reads (its settings and their defaults are the config
 * table's: DB_POOL_MAX, DB_IDLE_TIMEOUT_SECONDS, DB_CONNECT_TIMEOUT_SECONDS, DB_STATEMENT_TIMEOUT_MS).
 */
export interface PoolSettings {
  readonly databaseUrl: string | undefined
  readonly dbPoolMax: number
  readonly dbIdleTimeoutSeconds: number
  readonly dbConnectTimeoutSeconds: number
  /** Server-side `statement_timeout` (0 = none): a stuck statement fails instead of hanging a flush. */
  readonly dbStatementTimeoutMs: number
}

export interface PoolExtras {
  readonly metrics?: DatabaseMetrics
  readonly logger?: Logger
  /** Name shown in `pg_stat_activity` [game-server]. */
  readonly applicationName?: string
}

/** What the pool has done so far (for metrics export; postgres.js keeps its connections itself). */
export interface DatabaseStats {
  readonly maxConnections: number
  /** Operations started and not yet finished (beyond `maxConnections` they queue in postgres.js). */
  readonly inFlight: number
  readonly completed: number
  readonly failed: number
}

class Timer {
  inFlight = 0
  completed = 0
  failed = 0

  constructor(
    private readonly url: string,
    private readonly metrics: DatabaseMetrics,
  ) {}

  async time<T>(op: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now()
    this.inFlight++
    try {
      const result = await work()
      this.completed++
      return result
    } catch (err) {
      this.failed++
      this.metrics.dbQueryError(op)
      throw mapDatabaseError(err, op, this.url)
    } finally {
      this.inFlight--
      this.metrics.dbQueryDuration(op, (performance.now() - started) / 1000)
    }
  }
}

class TransactionExecutor implements Executor {
  readonly inTransaction = true

  constructor(
    private readonly sql: postgres.TransactionSql,
    private readonly timer: Timer,
  ) {}

  run<T>(op: string, statement: (sql: SqlTag) => Promise<T>): Promise<T> {
    return this.timer.time(op, () => statement(this.sql))
  }

  async withTransaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return (await this.sql.savepoint((inner) => fn(new TransactionExecutor(inner, this.timer)))) as T
  }
}

export class DatabasePool implements Executor {
  readonly inTransaction = false
  readonly sql: postgres.Sql
  readonly url: string
  private readonly timer: Timer
  private readonly logger: Logger
  private readonly maxConnections: number
  private closing: Promise<void> | undefined

  private constructor(url: string, settings: PoolSettings, extras: PoolExtras) {
    this.url = url
    this.logger = extras.logger ?? silentLogger
    this.timer = new Timer(url, extras.metrics ?? noopDatabaseMetrics)
    this.maxConnections = settings.dbPoolMax
    this.sql = postgres(url, {
      max: settings.dbPoolMax,
      idle_timeout: settings.dbIdleTimeoutSeconds,
      connect_timeout: settings.dbConnectTimeoutSeconds,
      connection: { application_name: extras.applicationName ?? 'game-server', statement_timeout: settings.dbStatementTimeoutMs },
      onnotice: (notice) => this.logger.debug({ notice: notice.message }, 'postgres notice'),
    })
  }

  /**
   * Create the pool and prove the database answers (`SELECT 1`). An unset `DATABASE_URL` is a
   * `GS_ERR_CONFIG` naming it; a missing or unreachable server or database rejects once with
   * `GS_ERR_DB_UNAVAILABLE` naming `DATABASE_URL`; no retry loop.
   */
  static async connect(settings: PoolSettings, extras: PoolExtras = {}): Promise<DatabasePool> {
    const url = settings.databaseUrl
    if (!url) throw new GameServerError('GS_ERR_CONFIG', 'DATABASE_URL is not set; it must point at PostgreSQL (postgres://user@host:port/db)', { variable: 'DATABASE_URL' })
    const db = new DatabasePool(url, settings, extras)
    try {
      await db.sql`SELECT 1`
    } catch (err) {
      await db.sql.end({ timeout: 0 }).catch(() => {})
      throw unavailableError(url, err)
    }
    db.logger.info({ url: redactUrl(url) }, 'connected to PostgreSQL')
    return db
  }

  run<T>(op: string, statement: (sql: SqlTag) => Promise<T>): Promise<T> {
    return this.timer.time(op, () => statement(this.sql))
  }

  async withTransaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    try {
      return (await this.sql.begin((tx) => fn(new TransactionExecutor(tx, this.timer)))) as T
    } catch (err) {
      throw mapIfDatabaseError(err, 'transaction', this.url)
    }
  }

  /** One untimed round trip (readiness probes); rejects when the database does not answer. */
  async ping(): Promise<void> {
    await this.sql`SELECT 1`
  }

  /**
   * Occupancy for `DatabaseMetrics.observePool`: operations in flight up to `max` count as
   * connections in use, the rest as waiting (postgres.js queues them).
   */
  poolReading(): PoolReading {
    const inFlight = this.timer.inFlight
    return { size: this.maxConnections, inUse: Math.min(inFlight, this.maxConnections), waiting: Math.max(0, inFlight - this.maxConnections) }
  }

  stats(): DatabaseStats {
    return { maxConnections: this.maxConnections, inFlight: this.timer.inFlight, completed: this.timer.completed, failed: this.timer.failed }
  }

  /** Wait for running queries (up to `timeoutSeconds`), then close every connection. Idempotent. */
  close(timeoutSeconds = 5): Promise<void> {
    this.closing ??= this.sql.end({ timeout: timeoutSeconds })
    return this.closing
  }
}
