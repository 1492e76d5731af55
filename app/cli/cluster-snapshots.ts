/**
 * `npm run cluster -- snapshots [--top N] [--json]` — the latest leaderboard snapshot of each board
 * from PostgreSQL (`DATABASE_URL`): when, by which member, under which fencing token, and its top N
 * entries (default 10). Exit 0 when every board has a snapshot, 3 when one has none yet.
 */
import type { Config } from '../config/index.js'
import { latestLeaderboardSnapshot, type StoredSnapshot } from '../db/leaderboard-snapshots.js'
import { DatabasePool } from '../db/pool.js'
import { SNAPSHOT_BOARDS } from '../processes/leaderboard-jobs.js'

export async function printSnapshots(config: Config, args: readonly string[]): Promise<number> {
  if (config.data.databaseUrl === undefined) {
    console.error('cluster snapshots: set DATABASE_URL to the PostgreSQL holding leaderboard_snapshots')
    return 2
  }
  const topAt = args.indexOf('--top')
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 10
  if (!Number.isInteger(top) || top < 1) {
    console.error('cluster snapshots: --top takes a positive integer')
    return 2
  }
  const db = await DatabasePool.connect({ ...config.data, dbPoolMax: 1 }, { applicationName: 'cluster-cli' })
  try {
    const latest: Record<string, StoredSnapshot | null> = {}
    for (const board of SNAPSHOT_BOARDS) latest[board] = (await latestLeaderboardSnapshot(db, board)) ?? null
    const complete = Object.values(latest).every((s) => s !== null)
    if (args.includes('--json')) {
      console.log(JSON.stringify({ boards: Object.fromEntries(Object.entries(latest).map(([board, s]) => [board, s && { ...s, entries: s.entries.slice(0, top) }])) }, null, 2))
      return complete ? 0 : 3
    }
    for (const [board, snapshot] of Object.entries(latest)) {
      if (snapshot === null) {
        console.log(`${board}: no snapshot yet`)
        continue
      }
      console.log(`${board}: snapshot ${snapshot.id} taken ${snapshot.takenAt.toISOString()} by ${snapshot.takenBy} (fencing token ${snapshot.fencingToken}), ${snapshot.entries.length} entries`)
      for (const e of snapshot.entries.slice(0, top)) console.log(`  ${String(e.rank).padStart(4)}  player ${String(e.playerId).padEnd(10)} ${e.score}`)
    }
    return complete ? 0 : 3
  } finally {
    await db.close(1)
  }
}
