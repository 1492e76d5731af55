/**
 * Applies the versioned migrations. Safe to run again (applied versions are skipped) and from two
 * processes at once: a session advisory lock serialises runners, so the second waits and then
 * finds nothing to do. Each migration runs in its own transaction together with its
 * `schema_migrations` row, so a failed migration leaves no trace. An applied migration whose
 * source changed is refused (checksum).
 */
import { createHash } from 'node:crypto'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import { mapDatabaseError } from './errors.js'
import { migrations as allMigrations, type Migration } from './migrations/index.js'
import type { DatabasePool } from './pool.js'

/** Advisory lock key of the migration runner (any fixed bigint; "game" in ASCII). */
const MIGRATION_LOCK_KEY = 0x67616d65

export interface MigrationResult {
  /** Versions applied by this run, in order. */
  readonly applied: readonly number[]
  /** The schema version after the run. */
  readonly version: number
}

function checksum(migration: Migration): string {
  return createHash('sha256').update(migration.sql).digest('hex')
}

function validate(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new GameServerError('GS_ERR_DB_MIGRATION', `migration ${migration.name} has version ${migration.version}, expected ${index + 1}`, {
        version: migration.version,
      })
    }
  })
}

/** Groups listed in the error (the count says how many there are in all). */
const MAX_REPORTED_DUPLICATE_GROUPS = 50

/**
 * Before the case-insensitive unique index: usernames that differ only in case. Reported (error
 * context and message list every group, oldest account first), never merged: which account keeps
 * the name is an operator's decision.
 */
async function checkUsernameCaseDuplicates(sql: Awaited<ReturnType<DatabasePool['sql']['reserve']>>): Promise<void> {
  const groups = await sql<{ normalised: string; accounts: string; total: string }[]>`
    SELECT lower(username) AS normalised,
           string_agg(username || ' (id ' || id || ')', ', ' ORDER BY id) AS accounts,
           count(*) OVER () AS total
    FROM players GROUP BY lower(username) HAVING count(*) > 1
    ORDER BY lower(username) LIMIT ${MAX_REPORTED_DUPLICATE_GROUPS}`
  if (groups.length === 0) return
  const total = Number(groups[0]!.total)
  const duplicates = groups.map((g) => ({ name: g.normalised, accounts: g.accounts }))
  throw new GameServerError(
    'GS_ERR_USERNAME_DUPLICATES',
    `${total} username(s) exist in several cases; rename all but one account of each before migrating (nothing was changed): ${duplicates.map((d) => `${d.name}: ${d.accounts}`).join('; ')}`,
    { total, duplicates },
  )
}

export async function migrate(db: DatabasePool, options: { logger?: Logger; migrations?: readonly Migration[] } = {}): Promise<MigrationResult> {
  const logger = options.logger ?? silentLogger
  const migrations = options.migrations ?? allMigrations
  validate(migrations)
  let reserved
  try {
    reserved = await db.sql.reserve()
  } catch (err) {
    throw mapDatabaseError(err, 'migrate', db.url)
  }
  const applied: number[] = []
  try {
    await reserved`SET statement_timeout = 0` // a migration may legitimately take long (index builds)
    await reserved`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`
    try {
      await reserved`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`
      const rows = await reserved<{ version: number; checksum: string }[]>`SELECT version, checksum FROM schema_migrations ORDER BY version`
      const done = new Map(rows.map((row) => [row.version, row.checksum]))
      for (const migration of migrations) {
        const sum = checksum(migration)
        const recorded = done.get(migration.version)
        if (recorded !== undefined) {
          if (recorded !== sum) {
            throw new GameServerError('GS_ERR_DB_MIGRATION', `migration ${migration.version} (${migration.name}) was applied with different SQL; never edit a released migration`, {
              version: migration.version,
            })
          }
          continue
        }
        try {
          // a reserved connection has no begin(): the transaction is spelled out
          await reserved`BEGIN`
          if (migration.precheck === 'username-case-duplicates') await checkUsernameCaseDuplicates(reserved)
          await reserved.unsafe(migration.sql)
          await reserved`INSERT INTO schema_migrations (version, name, checksum) VALUES (${migration.version}, ${migration.name}, ${sum})`
          await reserved`COMMIT`
        } catch (err) {
          await reserved`ROLLBACK`.catch(() => {})
          const cause = mapDatabaseError(err, `migration ${migration.version}`, db.url)
          if (cause instanceof GameServerError && (cause.code === 'GS_ERR_DB_UNAVAILABLE' || cause.code === 'GS_ERR_USERNAME_DUPLICATES')) throw cause
          throw new GameServerError('GS_ERR_DB_MIGRATION', `migration ${migration.version} (${migration.name}) failed and was rolled back: ${(err as Error).message}`, {
            version: migration.version,
          }, { cause: err })
        }
        applied.push(migration.version)
        logger.info({ version: migration.version, name: migration.name }, 'applied migration')
      }
    } finally {
      await reserved`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {})
      await reserved`RESET statement_timeout`.catch(() => {})
    }
  } catch (err) {
    throw mapDatabaseError(err, 'migrate', db.url)
  } finally {
    reserved.release()
  }
  const version = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version
  return { applied, version }
}
