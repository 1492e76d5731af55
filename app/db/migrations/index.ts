/**
 * The versioned migrations, in order. A migration is never edited once released (the runner
 * checks a checksum); change the schema with a new file and a new version.
 */
import players from './001-players.js'
import gameLog from './002-game-log.js'
import leaderboardSnapshots from './003-leaderboard-snapshots.js'

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

export const migrations: readonly Migration[] = [players, gameLog, leaderboardSnapshots]
