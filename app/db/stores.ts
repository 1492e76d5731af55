/**
 * The PostgreSQL side of the game's stores, as one owner: the pool, the account store, the
 * write-behind sink and the repository. `open` connects (one `GS_ERR_DB_UNAVAILABLE` naming
 * `DATABASE_URL` when it cannot), applies migrations when `DB_MIGRATE_AT_START` is on, and wires
 * query durations and failures to `GameMetrics.dbQueryDuration` / `dbQueryError` and the pool's
 * occupancy to `observePool('postgres', …)`. `close` runs in a fixed order: final flush of
 * the sink, account store, then the pool (after the flush, never before). Idempotent.
 */
import type { Config } from '../config/index.js'
import { persistIntervals } from '../config/database-section.js'
import type { AccountStore, PlayerStateSink } from '../game/stores.js'
import type { Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import type { GameMetrics } from '../telemetry/metrics.js'
import { PostgresAccountStore } from './account-store.js'
import { migrate } from './migrate.js'
import { PlayerRepository } from './player-repository.js'
import { Database } from './pool.js'
import { WriteBehindPlayerSink } from './write-behind.js'

export interface PostgresStoresOptions {
  readonly logger?: Logger
  readonly metrics?: GameMetrics
}

export class PostgresStores {
  private closing: Promise<void> | undefined

  private constructor(
    readonly db: Database,
    readonly accounts: AccountStore,
    readonly playerSink: PlayerStateSink & WriteBehindPlayerSink,
    readonly players: PlayerRepository,
    private readonly logger: Logger,
  ) {}

  /** One trivial round trip (readiness); rejects when the database does not answer. */
  async ping(): Promise<void> {
    await this.db.sql`SELECT 1`
  }

  static async open(data: Config['data'], options: PostgresStoresOptions = {}): Promise<PostgresStores> {
    const logger = options.logger ?? silentLogger
    const metrics = options.metrics
    const db = await Database.fromConfig(data, {
      logger,
      ...(metrics ? { onQueryDuration: (op: string, seconds: number) => metrics.dbQueryDuration(op, seconds), onQueryError: (op: string) => metrics.dbQueryError(op) } : {}),
    })
    metrics?.observePool('postgres', () => db.poolReading())
    try {
      if (data.dbMigrateAtStart) {
        const result = await migrate(db, { logger })
        logger.info({ applied: result.applied, version: result.version }, 'database migrations checked at start')
      }
      const sink = new WriteBehindPlayerSink(db, {
        flushIntervalMs: persistIntervals(data.recoveryPointMs).flushMs,
        rowsPerStatement: data.dbFlushRowsPerStatement,
        maxDirtyPlayers: data.dbMaxDirtyPlayers,
        retryMaxMs: data.dbFlushRetryMaxMs,
        closeDeadlineMs: data.dbCloseDeadlineMs,
        logger,
      })
      const accounts = new PostgresAccountStore(db, { pending: (id) => sink.pending(id) })
      return new PostgresStores(db, accounts, sink, new PlayerRepository(db), logger)
    } catch (err) {
      await db.close(0)
      throw err
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    let failure: unknown
    try {
      await this.playerSink.close()
    } catch (err) {
      failure = err
      this.logger.error({ err }, 'write-behind could not persist everything at shutdown')
    }
    await this.accounts.close()
    await this.db.close()
    if (failure !== undefined) throw failure
  }
}
