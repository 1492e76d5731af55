// `npm run migrate`: apply pending PostgreSQL migrations to DATABASE_URL and exit.
// Exit code 0 when the schema is current, 1 with one line naming the problem otherwise.
import { loadConfig } from '../config/index.js'
import { migrate } from '../db/migrate.js'
import { Database } from '../db/pool.js'
import { isGameServerError } from '../errors.js'
import { createLogger } from '../logger.js'

async function main(): Promise<void> {
  const config = loadConfig()
  const logger = createLogger({ level: config.server.logLevel, name: 'migrate' })
  const db = await Database.fromConfig(config.data, { logger, applicationName: 'game-migrate' })
  try {
    const result = await migrate(db, { logger })
    console.log(result.applied.length === 0 ? `schema is current (version ${result.version})` : `applied migrations ${result.applied.join(', ')}; schema version ${result.version}`)
  } finally {
    await db.close()
  }
}

main().catch((err: unknown) => {
  if (isGameServerError(err)) console.error(`migrate: ${err.code}: ${err.message}`)
  else console.error('migrate: unexpected failure', err)
  process.exitCode = 1
})
