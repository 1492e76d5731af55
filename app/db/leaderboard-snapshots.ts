/**
 * Leaderboard snapshots in PostgreSQL (table `leaderboard_snapshots`, migration 003): the cluster
 * leader copies the top N of each Redis leaderboard here. Every write is fenced: in the same
 * transaction it raises the resource's row in `cluster_fences` to its fencing token, and is refused
 * (`GS_ERR_FENCED_WRITE_REJECTED`, nothing written) when that row already holds a larger token — a
 * deposed leader that wakes up late cannot write after its successor. The fence row is locked by
 * the upsert until COMMIT, so two leaders' writes are serialised and the check cannot race.
 */
import { GameServerError } from '../errors.js'
import type { Executor } from './pool.js'

/** A leader's write credentials: the fenced resource, its election token and its member id. */
export interface Fence {
  readonly resource: string
  readonly token: number
  readonly holder: string
}

/** The fence resource of snapshot writes and pruning of one cluster (CLUSTER_NAME). */
export const snapshotFenceResource = (clusterName: string): string => `leaderboard_snapshots:${clusterName}`

interface SnapshotEntry {
  readonly playerId: number
  readonly score: number
  readonly rank: number
}

export interface BoardSnapshot {
  readonly board: string
  readonly entries: readonly SnapshotEntry[]
}

export interface StoredSnapshot {
  readonly id: number
  readonly board: string
  readonly takenAt: Date
  readonly fencingToken: number
  readonly takenBy: string
  readonly entries: readonly SnapshotEntry[]
}

export interface SnapshotWrite {
  /** Snapshot ids written, one per board, in the order given. */
  readonly ids: readonly number[]
  readonly entries: number
}

interface SnapshotRow {
  id: string
  board: string
  taken_at: Date
  fencing_token: string
  taken_by: string
  entries: SnapshotEntry[]
}

function toSnapshot(row: SnapshotRow): StoredSnapshot {
  return { id: Number(row.id), board: row.board, takenAt: row.taken_at, fencingToken: Number(row.fencing_token), takenBy: row.taken_by, entries: row.entries }
}

function requireToken(token: number): void {
  if (!Number.isSafeInteger(token) || token < 1) throw new GameServerError('GS_ERR_DB_INVALID_ARGUMENT', 'fencing token must be a positive integer', { token })
}

/**
 * Raise `resource`'s fence to `token` inside transaction `tx`, or throw GS_ERR_FENCED_WRITE_REJECTED
 * when a larger token was accepted before. The row stays locked until the transaction ends.
 */
export async function checkFence(tx: Executor, fence: Fence): Promise<void> {
  const { resource, token, holder } = fence
  requireToken(token)
  const rows = await tx.run('fence.check', (sql) => sql<{ fencing_token: string }[]>`
    INSERT INTO cluster_fences (resource, fencing_token, holder) VALUES (${resource}, ${token}, ${holder})
    ON CONFLICT (resource) DO UPDATE SET fencing_token = EXCLUDED.fencing_token, holder = EXCLUDED.holder, updated_at = now()
      WHERE cluster_fences.fencing_token <= EXCLUDED.fencing_token
    RETURNING fencing_token`)
  if (rows.length === 1) return
  const newest = await tx.run('fence.read', (sql) => sql<{ fencing_token: string }[]>`SELECT fencing_token FROM cluster_fences WHERE resource = ${resource}`)
  throw new GameServerError('GS_ERR_FENCED_WRITE_REJECTED', `fenced write to ${resource} refused: token ${token} is older than ${newest[0]?.fencing_token ?? '?'}`, {
    resource,
    token,
    newest: newest[0] ? Number(newest[0].fencing_token) : null,
  })
}

/** Write one snapshot per board in one transaction, fenced; all or nothing. */
export async function writeLeaderboardSnapshots(db: Executor, boards: readonly BoardSnapshot[], fence: Fence): Promise<SnapshotWrite> {
  const { token, holder: takenBy } = fence
  return db.withTransaction(async (tx) => {
    await checkFence(tx, fence)
    const ids: number[] = []
    let entries = 0
    for (const { board, entries: rows } of boards) {
      const json = rows.map((e) => ({ playerId: e.playerId, score: e.score, rank: e.rank }))
      const inserted = await tx.run('leaderboardSnapshot.insert', (sql) => sql<{ id: string }[]>`
        INSERT INTO leaderboard_snapshots (board, fencing_token, taken_by, entries)
        VALUES (${board}, ${token}, ${takenBy}, ${sql.json(json)})
        RETURNING id`)
      ids.push(Number(inserted[0]!.id))
      entries += rows.length
    }
    return { ids, entries }
  })
}

/** The newest snapshot of `board`, or undefined. */
export async function latestLeaderboardSnapshot(db: Executor, board: string): Promise<StoredSnapshot | undefined> {
  const rows = await db.run('leaderboardSnapshot.latest', (sql) => sql<SnapshotRow[]>`
    SELECT id, board, taken_at, fencing_token, taken_by, entries FROM leaderboard_snapshots
    WHERE board = ${board} ORDER BY taken_at DESC, id DESC LIMIT 1`)
  return rows[0] && toSnapshot(rows[0])
}

/** Every snapshot of `board`, oldest first (tests, operators). */
export async function leaderboardSnapshots(db: Executor, board: string): Promise<StoredSnapshot[]> {
  const rows = await db.run('leaderboardSnapshot.list', (sql) => sql<SnapshotRow[]>`
    SELECT id, board, taken_at, fencing_token, taken_by, entries FROM leaderboard_snapshots
    WHERE board = ${board} ORDER BY taken_at, id`)
  return rows.map(toSnapshot)
}

/**
 * Delete all but the newest `keep` snapshots of every board, fenced like a write.
 * Resolves with the number of rows deleted.
 */
export async function pruneLeaderboardSnapshots(db: Executor, keep: number, fence: Fence): Promise<number> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new GameServerError('GS_ERR_DB_INVALID_ARGUMENT', 'keep must be a positive integer', { keep })
  return db.withTransaction(async (tx) => {
    await checkFence(tx, fence)
    const deleted = await tx.run('leaderboardSnapshot.prune', (sql) => sql<{ id: string }[]>`
      DELETE FROM leaderboard_snapshots s USING (
        SELECT id FROM (
          SELECT id, row_number() OVER (PARTITION BY board ORDER BY taken_at DESC, id DESC) AS n FROM leaderboard_snapshots
        ) ranked WHERE n > ${keep}
      ) old WHERE s.id = old.id
      RETURNING s.id`)
    return deleted.length
  })
}
