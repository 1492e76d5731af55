/**
 * Shared setup of the db integration tests: a throwaway PostgreSQL from the harness, a pool on
 * it, and the migrations applied.
 */
import { migrate } from '../../app/db/migrate.js'
import type { DatabaseMetrics } from '../../app/db/metrics.js'
import { DatabasePool } from '../../app/db/pool.js'
import { loadConfig, type Env } from '../../app/config/index.js'
import type { PostgresServer } from '../../app/local/postgres-server.js'
import { Harness } from '../harness/index.js'

export interface DbFixture {
  readonly harness: Harness
  readonly server: PostgresServer
  readonly db: DatabasePool
  /** Durations reported by the pool, by operation. */
  readonly durations: Map<string, number[]>
}

/** The pool settings of the config table for `url`, with `env` overriding some (e.g. DB_POOL_MAX). */
export function poolSettings(url: string, env: Env = {}) {
  return loadConfig({ ...env, DATABASE_URL: url }).data
}

/** Counts durations by operation (what the pool reports through DatabaseMetrics). */
function durationRecorder(durations: Map<string, number[]>): DatabaseMetrics {
  return {
    dbQueryDuration(op, seconds) {
      const list = durations.get(op) ?? []
      list.push(seconds)
      durations.set(op, list)
    },
    dbQueryError() {},
    observePool() {},
  }
}

export async function startDb(env: Env = {}): Promise<DbFixture> {
  const harness = new Harness()
  try {
    const server = await harness.postgres()
    const durations = new Map<string, number[]>()
    const db = await DatabasePool.connect(poolSettings(server.url, { DB_POOL_MAX: '8', DB_CONNECT_TIMEOUT_SECONDS: '2', ...env }), { metrics: durationRecorder(durations) })
    harness.own({ stop: () => db.close(1) })
    await migrate(db)
    return { harness, server, db, durations }
  } catch (err) {
    await harness.close()
    throw err
  }
}

/** Resolves with the rejection of `promise` (fails if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; context?: Record<string, unknown>; message: string }> {
  try {
    await promise
  } catch (err) {
    return err as { code?: string; context?: Record<string, unknown>; message: string }
  }
  throw new Error('expected a rejection')
}
