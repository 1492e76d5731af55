// `npm run migrate`: apply pending PostgreSQL migrations to DATABASE_URL and exit.
// Exit codes (app/cli/command.ts): 0 the schema is current, 2 DATABASE_URL unset or invalid, 1 with
// one line naming the problem otherwise (database down, a migration refused).
import type { Config } from '../config/index.js'
import { migrate } from '../db/migrate.js'
import { DatabasePool } from '../db/pool.js'
import { GameServerError, isGameServerError } from '../errors.js'
import { createLogger, type Logger } from '../logger.js'
import { commandLine, exitCodeFor, loadConfigOrExit } from './command.js'

const USAGE = `usage: npm run migrate [-- --help]

Applies the pending PostgreSQL migrations to DATABASE_URL (docs/DATABASE.md) and exits: safe to
run again and from several processes at once. With MIGRATE_WAIT_SECONDS it keeps trying that long
while the database cannot be reached. Exit codes: 0 the schema is current, 1 a migration failed or
the database is unreachable, 2 DATABASE_URL is unset or invalid.`

async function main(): Promise<void> {
  commandLine('migrate', USAGE)
  const config = loadConfigOrExit('migrate')
  if (config.data.databaseUrl === undefined) throw new GameServerError('GS_ERR_CONFIG', 'DATABASE_URL is not set: it names the PostgreSQL database to migrate (postgres://user:password@host:port/database)', { variable: 'DATABASE_URL' })
  const logger = createLogger({ level: config.server.logLevel, name: 'migrate' })
  const db = await connectWaiting(config.data, logger)
  try {
    const result = await migrate(db, { logger })
    console.log(result.applied.length === 0 ? `schema is current (version ${result.version})` : `applied migrations ${result.applied.join(', ')}; schema version ${result.version}`)
  } finally {
    await db.close()
  }
}

/** Between attempts while PostgreSQL cannot be reached (MIGRATE_WAIT_SECONDS). */
const RETRY_MS = 1000

/**
 * Connect, retrying for MIGRATE_WAIT_SECONDS while the database is unreachable (one stderr line per
 * failed attempt); any other error, or the last attempt's, is thrown as it is.
 */
async function connectWaiting(settings: Config['data'], logger: Logger): Promise<DatabasePool> {
  const until = Date.now() + settings.migrateWaitSeconds * 1000
  for (;;) {
    try {
      return await DatabasePool.connect(settings, { logger, applicationName: 'game-migrate' })
    } catch (err) {
      const unreachable = isGameServerError(err) && err.code === 'GS_ERR_DB_UNAVAILABLE'
      if (!unreachable || Date.now() + RETRY_MS > until) throw err
      console.error(`migrate: waiting for PostgreSQL (${Math.ceil((until - Date.now()) / 1000)} s left of MIGRATE_WAIT_SECONDS): ${err.message}`)
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
    }
  }
}

main().catch((err: unknown) => {
  if (isGameServerError(err)) console.error(`migrate: ${err.code}: ${err.message}`)
  else console.error('migrate: unexpected failure', err)
  process.exitCode = exitCodeFor(err)
})
