/**
 * Shared setup of the db integration tests: a throwaway PostgreSQL from the harness, a pool on
 * it, and the migrations applied.
 */
import { migrate } from '../../app/db/migrate.js'
import { Database, type DatabaseOptions } from '../../app/db/pool.js'
import type { PostgresServer } from '../../app/local/postgres-server.js'
import { Harness } from '../harness/index.js'

export interface DbFixture {
  readonly harness: Harness
  readonly server: PostgresServer
  readonly db: Database
  /** Durations reported by the pool, by operation. */
  readonly durations: Map<string, number[]>
}

export async function startDb(options: Partial<DatabaseOptions> = {}): Promise<DbFixture> {
  const harness = new Harness()
  try {
    const server = await harness.postgres()
    const durations = new Map<string, number[]>()
    const db = await Database.connect({
      url: server.url,
      maxConnections: 8,
      connectTimeoutSeconds: 2,
      onQueryDuration: (op, seconds) => {
        const list = durations.get(op) ?? []
        list.push(seconds)
        durations.set(op, list)
      },
      ...options,
    })
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
