/**
 * The PostgreSQL connection pool: postgres.js configured from the `data` config section
 * (`max`, `idle_timeout`, `connect_timeout`), never wrapped in a second pool. Every statement runs
 * through `run(op, …)`, which times it under a fixed operation name (reported to
 * `onQueryDuration`, e.g. `GameMetrics.dbQueryDuration`) and maps failures to catalogue errors.
 *
 * `withTransaction(fn)` runs `fn` in BEGIN…COMMIT (ROLLBACK when it throws); calling
 * `withTransaction` on the executor it hands you nests as a SAVEPOINT.
 */
import postgres from 'postgres'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import { mapDatabaseError, mapIfDatabaseError, redactUrl, unavailableError } from './errors.js'

/** The tagged-template part shared by the pool and transactions (no begin/end/listen). */
export type SqlTag = postgres.ISql

/** Reports the duration of one operation, in seconds (failures included). */
export type QueryDurationSink = (op: string, seconds: number) => void

/** Where repositories run statements: the pool, a transaction or a savepoint. */
export interface Executor {
  /** Run the statement(s) of operation `op`, timed and with errors mapped. */
  run<T>(op: string, statement: (sql: SqlTag) => Promise<T>): Promise<T>
  /** A transaction (on the pool) or a savepoint (inside a transaction). */
  withTransaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>
  /** Whether this executor is inside a transaction. */
  readonly inTransaction: boolean
}

export interface DatabaseOptions {
  readonly url: string
  readonly maxConnections?: number
  readonly idleTimeoutSeconds?: number
  readonly connectTimeoutSeconds?: number
  /** Server-side `statement_timeout` (0 = none; default 30 s): a stuck statement fails instead of hanging a flush. */
  readonly statementTimeoutMs?: number
  readonly onQueryDuration?: QueryDurationSink
  /** Called once per failed operation, by name (e.g. `GameMetrics.dbQueryError`). */
  readonly onQueryError?: (op: string) => void
  readonly logger?: Logger
  /** Name shown in `pg_stat_activity`. */
  readonly applicationName?: string
}

/** The `data` config section fields the pool reads. */
export interface DatabaseConfig {
  readonly databaseUrl: string | undefined
  readonly dbPoolMax: number
  readonly dbIdleTimeoutSeconds: number
  readonly dbConnectTimeoutSeconds: number
  readonly dbStatementTimeoutMs: number
}

const noopDuration: QueryDurationSink = () => {}

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
    private readonly onQueryDuration: QueryDurationSink,
    private readonly onQueryError: (op: string) => void,
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
      this.onQueryError(op)
      throw mapDatabaseError(err, op, this.url)
    } finally {
      this.inFlight--
      this.onQueryDuration(op, (performance.now() - started) / 1000)
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

export class Database implements Executor {
  readonly inTransaction = false
  readonly sql: postgres.Sql
  readonly url: string
  private readonly timer: Timer
  private readonly logger: Logger
  private readonly maxConnections: number
  private closing: Promise<void> | undefined

  private constructor(options: DatabaseOptions) {
    this.url = options.url
    this.logger = options.logger ?? silentLogger
    this.timer = new Timer(options.url, options.onQueryDuration ?? noopDuration, options.onQueryError ?? (() => {}))
    this.maxConnections = options.maxConnections ?? 10
    this.sql = postgres(options.url, {
      max: this.maxConnections,
      idle_timeout: options.idleTimeoutSeconds ?? 30,
      connect_timeout: options.connectTimeoutSeconds ?? 5,
      connection: { application_name: options.applicationName ?? 'game-server', statement_timeout: options.statementTimeoutMs ?? 30_000 },
      onnotice: (notice) => this.logger.debug({ notice: notice.message }, 'postgres notice'),
    })
  }

  /**
   * Create the pool and prove the database answers (`SELECT 1`). A missing or unreachable server
   * or database rejects once with `GS_ERR_DB_UNAVAILABLE` naming `DATABASE_URL`; no retry loop.
   */
  static async connect(options: DatabaseOptions): Promise<Database> {
    const db = new Database(options)
    try {
      await db.sql`SELECT 1`
    } catch (err) {
      await db.sql.end({ timeout: 0 }).catch(() => {})
      throw unavailableError(options.url, err)
    }
    db.logger.info({ url: redactUrl(options.url) }, 'connected to PostgreSQL')
    return db
  }

  /** `connect` from the `data` config section; an unset `DATABASE_URL` is a `GS_ERR_CONFIG` naming it. */
  static fromConfig(config: DatabaseConfig, extra: Pick<DatabaseOptions, 'onQueryDuration' | 'onQueryError' | 'logger' | 'applicationName'> = {}): Promise<Database> {
    if (!config.databaseUrl) {
      return Promise.reject(new GameServerError('GS_ERR_CONFIG', 'DATABASE_URL is not set; it must point at PostgreSQL (postgres://user@host:port/db)', { variable: 'DATABASE_URL' }))
    }
    return Database.connect({
      url: config.databaseUrl,
      maxConnections: config.dbPoolMax,
      idleTimeoutSeconds: config.dbIdleTimeoutSeconds,
      connectTimeoutSeconds: config.dbConnectTimeoutSeconds,
      statementTimeoutMs: config.dbStatementTimeoutMs,
      ...extra,
    })
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

  /**
   * Occupancy for `GameMetrics.observePool`: operations in flight
   * up to `max` count as connections in use, the rest as waiting (postgres.js queues them).
   */
  poolReading(): { size: number; inUse: number; waiting: number } {
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
