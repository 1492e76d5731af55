/**
 * The game server's leader-only jobs, added to the cluster node once it has joined (they run only
 * while this server holds the leader lease; LeaderJobs stops them on demotion or when the node
 * leaves). Both need DATABASE_URL and REDIS_URLS and LEADERBOARD_SNAPSHOT_INTERVAL_MS > 0:
 *
 *   leaderboard-snapshot ... every LEADERBOARD_SNAPSHOT_INTERVAL_MS: the top LEADERBOARD_SNAPSHOT_TOP
 *                            of `kills` and `experience` (Redis) → `leaderboard_snapshots`, one
 *                            transaction, fenced by the election token.
 *   snapshot-retention ..... same interval: delete all but the newest LEADERBOARD_SNAPSHOT_RETENTION
 *                            snapshots per board, fenced the same way. (Login sessions need no
 *                            cleanup job: every session key carries its own TTL, see docs/ARCHITECTURE.md.)
 *
 * The jobs use a pool of their own (2 connections, opened on the first run); `close()` waits for a
 * run in flight and closes it. Each run is logged at info with its counts and fencing token; its
 * statements count in the database metrics (`dbQueryDuration` by operation, e.g. `leaderboardSnapshot.insert`).
 */
import { raiseFencingCounter } from '../cluster/fencing-recovery.js'
import type { ClusterMembershipHandle } from '../cluster/join.js'
import type { LeaderJobContext, LeaderJobStats } from '../cluster/leader-jobs.js'
import type { Config } from '../config/index.js'
import { isGameServerError } from '../errors.js'
import { pruneLeaderboardSnapshots, snapshotFenceResource, writeLeaderboardSnapshots, type BoardSnapshot, type Fence } from '../db/leaderboard-snapshots.js'
import { Database } from '../db/pool.js'
import type { LeaderboardName, SharedGameState } from '../game/shared-state.js'
import type { Logger } from '../logger.js'
import { noopMetrics, type GameMetrics } from '../telemetry/metrics.js'

export const SNAPSHOT_BOARDS: readonly LeaderboardName[] = ['kills', 'experience']
export const SNAPSHOT_JOB = 'leaderboard-snapshot'
export const RETENTION_JOB = 'snapshot-retention'

export interface ServerLeaderJobs {
  /** Runs and failures of a job on this server so far (undefined before the node joined). */
  stats(job: typeof SNAPSHOT_JOB | typeof RETENTION_JOB): LeaderJobStats | undefined
  /** Wait for a run in flight, then close the jobs' database pool. Call after leaving the cluster. Idempotent. */
  close(): Promise<void>
}

export interface ServerLeaderJobsOptions {
  readonly config: Config
  readonly cluster: ClusterMembershipHandle
  readonly shared: SharedGameState | undefined
  readonly logger: Logger
  /** Each job's statements are counted and timed as `dbQueryDuration(op)` (`leaderboardSnapshot.insert`, `leaderboardSnapshot.prune`, `fence.check`), failures as `dbQueryError(op)`. */
  readonly metrics?: GameMetrics
}

/** The leader jobs of a game server, or null when they do not apply (no database, cache or cluster, or interval 0). */
export function startServerLeaderJobs(options: ServerLeaderJobsOptions): ServerLeaderJobs | null {
  const { config, cluster, shared } = options
  const data = config.data
  const intervalMs = data.leaderboardSnapshotIntervalMs
  if (data.databaseUrl === undefined || data.redisUrls.length === 0 || shared === undefined || intervalMs === 0) return null
  const logger = options.logger.child({ component: 'leader-jobs' })
  const metrics = options.metrics ?? noopMetrics
  const holder = config.server.nodeId
  const resource = snapshotFenceResource(config.cluster.clusterName)
  let closed = false
  let database: Promise<Database> | null = null
  const inFlight = new Set<Promise<unknown>>()

  const openDatabase = (): Promise<Database> => {
    database ??= Database.fromConfig({ ...data, dbPoolMax: 2 }, {
      logger: logger.child({ component: 'db' }),
      applicationName: 'game-server-leader-jobs',
      onQueryDuration: (op, seconds) => metrics.dbQueryDuration(op, seconds),
      onQueryError: (op) => metrics.dbQueryError(op),
    }).catch((err: unknown) => {
      database = null
      throw err
    })
    return database
  }

  /** Run `work` unless closing, tracked so close() can wait for it. */
  const tracked = async (work: () => Promise<void>): Promise<void> => {
    if (closed) return
    const running = work()
    inFlight.add(running)
    try {
      await running
    } finally {
      inFlight.delete(running)
    }
  }

  const fenceOf = (context: LeaderJobContext): Fence => ({ resource, token: context.fencingToken, holder })

  /**
   * A refused fenced write: if Redis still names us leader with this token, its fencing counter went
   * backwards (Redis data lost) — raise it past the store's token and give up the lease so the next
   * election draws a larger token (app/cluster/fencing-recovery.ts). Otherwise we were deposed.
   */
  const fenced = async <T>(context: LeaderJobContext, write: () => Promise<T>): Promise<T> => {
    try {
      return await write()
    } catch (err) {
      const node = cluster.node
      if (!isGameServerError(err, 'GS_ERR_FENCED_WRITE_REJECTED') || node === null) throw err
      const storeToken = Number(err.context.newest)
      if (Number.isSafeInteger(storeToken) && storeToken > context.fencingToken) {
        const raised = await raiseFencingCounter(node.redis, config.cluster.clusterName, holder, context.fencingToken, storeToken).catch(() => false)
        if (raised) logger.error({ fencingToken: context.fencingToken, storeToken, resource }, 'fencing counter in Redis is behind PostgreSQL (Redis data lost?): raised it and released the lease; the next election draws a larger token')
      }
      throw err
    }
  }

  const snapshot = (context: LeaderJobContext) =>
    tracked(async () => {
      const started = performance.now()
      const boards: BoardSnapshot[] = []
      const empty: string[] = []
      for (const board of SNAPSHOT_BOARDS) {
        const entries = await shared.leaderboard(board, data.leaderboardSnapshotTop)
        if (entries.length > 0) boards.push({ board, entries })
        else empty.push(board)
      }
      if (boards.length === 0) {
        logger.info({ job: SNAPSHOT_JOB, fencingToken: context.fencingToken, boards: 0, skipped: empty }, 'leaderboard snapshot skipped: every board is empty or unavailable')
        return
      }
      context.assertLeader()
      const db = await openDatabase()
      const written = await fenced(context, () => writeLeaderboardSnapshots(db, boards, fenceOf(context)))
      logger.info(
        { job: SNAPSHOT_JOB, fencingToken: context.fencingToken, boards: boards.map((b) => b.board), skipped: empty, entries: written.entries, ids: written.ids, tookMs: Math.round(performance.now() - started) },
        'leaderboard snapshot written',
      )
    })

  const retention = (context: LeaderJobContext) =>
    tracked(async () => {
      context.assertLeader()
      const db = await openDatabase()
      const deleted = await fenced(context, () => pruneLeaderboardSnapshots(db, data.leaderboardSnapshotRetention, fenceOf(context)))
      logger.info({ job: RETENTION_JOB, fencingToken: context.fencingToken, deleted, keepPerBoard: data.leaderboardSnapshotRetention }, 'old leaderboard snapshots pruned')
    })

  void cluster.joined.then((node) => {
    if (closed) return
    node.jobs.add({ name: SNAPSHOT_JOB, intervalMs, run: snapshot })
    node.jobs.add({ name: RETENTION_JOB, intervalMs, run: retention })
  })

  let closing: Promise<void> | null = null
  return {
    stats: (job) => cluster.node?.jobs.statsOf(job),
    close() {
      closing ??= (async () => {
        closed = true
        await Promise.allSettled([...inFlight])
        const db = await database?.catch(() => null)
        await db?.close(1)
      })()
      return closing
    },
  }
}
