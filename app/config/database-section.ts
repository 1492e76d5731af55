/**
 * PostgreSQL pool, migration and write-behind settings (app/db). Spread into the `data` section
 * next to `DATABASE_URL`, so they read as `config.data.dbPoolMax` and so on.
 */
import { boolean, integer } from './schema.js'

export const databaseVariables = {
  dbPoolMax: integer('DB_POOL_MAX', 10, 'Largest number of PostgreSQL connections of one process (postgres.js `max`).', { min: 1, max: 1000 }),
  dbIdleTimeoutSeconds: integer('DB_IDLE_TIMEOUT_SECONDS', 30, 'Close a pooled PostgreSQL connection idle this long (0 keeps them).', { min: 0 }),
  dbConnectTimeoutSeconds: integer('DB_CONNECT_TIMEOUT_SECONDS', 5, 'Give up connecting to PostgreSQL after this long.', { min: 1, max: 600 }),
  dbStatementTimeoutMs: integer('DB_STATEMENT_TIMEOUT_MS', 30000, 'PostgreSQL `statement_timeout` of the pool\'s connections (0 = none); migrations run without it.', { min: 0 }),
  migrateWaitSeconds: integer('MIGRATE_WAIT_SECONDS', 0, '`npm run migrate`: keep trying this long while PostgreSQL cannot be reached (a line on stderr per attempt), then fail; 0 fails at once. The appliance and the stack set it for their migration job, which starts as soon as the database reports healthy — before its name may resolve or its port answer on the network.', { min: 0, max: 3600 }),
  dbMigrateAtStart: boolean('DB_MIGRATE_AT_START', false, 'Apply pending migrations when the game server starts (same as `npm run migrate`).'),
  recoveryPointMs: integer('RECOVERY_POINT_MS', 1000, 'Recovery point objective of player state: a crash (SIGKILL, power loss) loses at most the acknowledged changes of this last window. The game hands changed players to the write-behind every quarter of it and the write-behind flushes every half; larger values mean fewer, bigger writes.', { min: 40 }),
  dbFlushRowsPerStatement: integer('DB_FLUSH_ROWS_PER_STATEMENT', 5000, 'Write-behind: most players written by one bulk UPDATE.', { min: 1, max: 100000 }),
  dbMaxDirtyPlayers: integer('DB_MAX_DIRTY_PLAYERS', 100000, 'Write-behind: most distinct players waiting to be written; marking one more is refused (GS_ERR_DB_WRITE_BEHIND_FULL).', { min: 1 }),
  dbFlushRetryMaxMs: integer('DB_FLUSH_RETRY_MAX_MS', 5000, 'Write-behind: cap of the exponential backoff between failed flush attempts.', { min: 10 }),
  leaderboardSnapshotIntervalMs: integer('LEADERBOARD_SNAPSHOT_INTERVAL_MS', 60000, 'Cluster leader only, with DATABASE_URL and REDIS_URLS set: copy the top of each leaderboard (kills, experience) to `leaderboard_snapshots` this often; 0 turns snapshots off.', { min: 0 }),
  leaderboardSnapshotTop: integer('LEADERBOARD_SNAPSHOT_TOP', 100, 'Entries per board in one leaderboard snapshot.', { min: 1, max: 10000 }),
  leaderboardSnapshotRetention: integer('LEADERBOARD_SNAPSHOT_RETENTION', 1440, 'Snapshots kept per board; the leader deletes older ones (every LEADERBOARD_SNAPSHOT_INTERVAL_MS).', { min: 1 }),
  dbCloseDeadlineMs: integer('DB_CLOSE_DEADLINE_MS', 10000, 'Write-behind: at shutdown, keep retrying the final flush this long.', { min: 0 }),
} as const

/**
 * The two timers in series between an acknowledged change and its commit, derived from the one
 * setting: the game hands dirty players to the sink every quarter of RECOVERY_POINT_MS and the
 * write-behind flushes every half, which leaves a quarter for the UPDATE statement itself
 * (docs/DATABASE.md "Recovery point").
 */
export function persistIntervals(recoveryPointMs: number): { readonly handOverMs: number; readonly flushMs: number } {
  return { handOverMs: Math.max(10, Math.floor(recoveryPointMs / 4)), flushMs: Math.max(10, Math.floor(recoveryPointMs / 2)) }
}
