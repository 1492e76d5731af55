/**
 * The versioned migrations, in order. A migration is never edited once released (the runner
 * checks a checksum); change the schema with a new file and a new version.
 */
import players from './001-players.js'
import gameLog from './002-game-log.js'
import leaderboardSnapshots from './003-leaderboard-snapshots.js'
import usernameCaseInsensitive from './004-username-case-insensitive.js'

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
  /**
   * A check the runner makes inside the migration's transaction before its SQL, by name (see
   * app/db/migrate.ts): it reports data the migration cannot take instead of failing obscurely.
   */
  readonly precheck?: 'username-case-duplicates'
}

export const migrations: readonly Migration[] = [players, gameLog, leaderboardSnapshots, usernameCaseInsensitive]
