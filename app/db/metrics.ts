/**
 * What the database part reports, as the interface it reports through: the telemetry part
 * implements it (app/telemetry/server-metrics.ts), `noopDatabaseMetrics` records nothing.
 * Operation names are a small fixed set (`account.find`, `players.flush`, …), never ids.
 */

/** A pool's occupancy, read at collection time. */
export interface PoolReading {
  readonly size: number
  readonly inUse: number
  readonly waiting: number
}

export interface DatabaseMetrics {
  /** One database operation by name, in seconds (failures included). */
  dbQueryDuration(operation: string, seconds: number): void
  dbQueryError(operation: string): void
  /** Register a pool's occupancy once; it is read at collection time, never per call. */
  observePool(pool: string, source: () => PoolReading): void
}

export const noopDatabaseMetrics: DatabaseMetrics = {
  dbQueryDuration() {},
  dbQueryError() {},
  observePool() {},
}
