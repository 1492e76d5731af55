/**
 * The game server's leader-only jobs, added to the cluster node once it has joined (they run only
 * while this server holds the leader lease; the node's LeaderJobs stop them on demotion or when it
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
 * run in flight and closes it. Each run is logged at info (component `leaderboard-jobs`) with its
 * counts and fencing token; its statements count in the database metrics by operation
 * (`leaderboardSnapshot.insert`, `leaderboardSnapshot.prune`, `fence.check`).
 */
import { raiseFencingCounter } from '../cluster/fencing-recovery.js'
import type { ClusterMembershipHandle } from '../cluster/join.js'
import type { LeaderJobContext, LeaderJobStats } from '../cluster/leader-jobs.js'
import type { Config } from '../config/index.js'
import { pruneLeaderboardSnapshots, snapshotFenceResource, writeLeaderboardSnapshots, type BoardSnapshot, type Fence } from '../db/leaderboard-snapshots.js'
import type { DatabaseMetrics } from '../db/metrics.js'
import { DatabasePool } from '../db/pool.js'
import { isGameServerError } from '../errors.js'
import type { LeaderboardName, SharedGameState } from '../game/shared-state.js'
import type { Logger } from '../logger.js'

export const SNAPSHOT_BOARDS: readonly LeaderboardName[] = ['kills', 'experience']
export const SNAPSHOT_JOB = 'leaderboard-snapshot'
const RETENTION_JOB = 'snapshot-retention'
/** Connections of the jobs' own pool: one run at a time per job. */
const JOBS_POOL_MAX = 2

export interface LeaderboardJobsOptions {
  readonly config: Config
  readonly cluster: ClusterMembershipHandle
  readonly shared: SharedGameState
  readonly logger: Logger
  /** Each job's statements are timed and counted by operation; the pool is not observed (2 connections). */
  readonly metrics?: DatabaseMetrics
}

export class LeaderboardJobs {
  private readonly logger: Logger
  private readonly holder: string
  private readonly resource: string
  private readonly inFlight = new Set<Promise<unknown>>()
  private database: Promise<DatabasePool> | null = null
  private closed = false
  private closing: Promise<void> | null = null

  private constructor(private readonly options: LeaderboardJobsOptions) {
    this.logger = options.logger.child({ component: 'leaderboard-jobs' })
    this.holder = options.config.server.nodeId
    this.resource = snapshotFenceResource(options.config.cluster.clusterName)
  }

  /** The jobs of a game server, or null when they do not apply (no database or cache, or interval 0). */
  static start(options: LeaderboardJobsOptions): LeaderboardJobs | null {
    const data = options.config.data
    const intervalMs = data.leaderboardSnapshotIntervalMs
    if (data.databaseUrl === undefined || data.redisUrls.length === 0 || intervalMs === 0) return null
    const jobs = new LeaderboardJobs(options)
    void options.cluster.joined.then((node) => {
      if (jobs.closed) return
      node.jobs.add({ name: SNAPSHOT_JOB, intervalMs, run: (context) => jobs.tracked(() => jobs.snapshot(context)) })
      node.jobs.add({ name: RETENTION_JOB, intervalMs, run: (context) => jobs.tracked(() => jobs.retention(context)) })
    })
    return jobs
  }

  /** Runs and failures of a job on this server so far (undefined before the node joined). */
  stats(job: typeof SNAPSHOT_JOB | typeof RETENTION_JOB): LeaderJobStats | undefined {
    return this.options.cluster.node?.jobs.statsOf(job)
  }

  /** Wait for a run in flight, then close the jobs' database pool. Call after leaving the cluster. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true
      await Promise.allSettled([...this.inFlight])
      const db = await this.database?.catch(() => null)
      await db?.close(1)
    })()
    return this.closing
  }

  private async snapshot(context: LeaderJobContext): Promise<void> {
    const data = this.options.config.data
    const started = performance.now()
    const boards: BoardSnapshot[] = []
    const empty: string[] = []
    for (const board of SNAPSHOT_BOARDS) {
      const entries = await this.options.shared.leaderboard(board, data.leaderboardSnapshotTop)
      if (entries.length > 0) boards.push({ board, entries })
      else empty.push(board)
    }
    if (boards.length === 0) {
      this.logger.info({ job: SNAPSHOT_JOB, fencingToken: context.fencingToken, boards: 0, skipped: empty }, 'leaderboard snapshot skipped: every board is empty or unavailable')
      return
    }
    context.assertLeader()
    const db = await this.openDatabase()
    const written = await this.fenced(context, () => writeLeaderboardSnapshots(db, boards, this.fenceOf(context)))
    this.logger.info(
      { job: SNAPSHOT_JOB, fencingToken: context.fencingToken, boards: boards.map((b) => b.board), skipped: empty, entries: written.entries, ids: written.ids, tookMs: Math.round(performance.now() - started) },
      'leaderboard snapshot written',
    )
  }

  private async retention(context: LeaderJobContext): Promise<void> {
    const keep = this.options.config.data.leaderboardSnapshotRetention
    context.assertLeader()
    const db = await this.openDatabase()
    const deleted = await this.fenced(context, () => pruneLeaderboardSnapshots(db, keep, this.fenceOf(context)))
    this.logger.info({ job: RETENTION_JOB, fencingToken: context.fencingToken, deleted, keepPerBoard: keep }, 'old leaderboard snapshots pruned')
  }

  /** Run `work` unless closing, tracked so close() can wait for it. */
  private async tracked(work: () => Promise<void>): Promise<void> {
    if (this.closed) return
    const running = work()
    this.inFlight.add(running)
    try {
      await running
    } finally {
      this.inFlight.delete(running)
    }
  }

  private openDatabase(): Promise<DatabasePool> {
    const metrics = this.options.metrics
    this.database ??= DatabasePool.connect({ ...this.options.config.data, dbPoolMax: JOBS_POOL_MAX }, {
      logger: this.logger.child({ component: 'db' }),
      applicationName: 'game-server-leader-jobs',
      ...(metrics ? { metrics } : {}),
    }).catch((err: unknown) => {
      this.database = null
      throw err
    })
    return this.database
  }

  private fenceOf(context: LeaderJobContext): Fence {
    return { resource: this.resource, token: context.fencingToken, holder: this.holder }
  }

  /**
   * A refused fenced write: if Redis still names us leader with this token, its fencing counter went
   * backwards (Redis data lost) — raise it past the store's token and give up the lease so the next
   * election draws a larger token (app/cluster/fencing-recovery.ts). Otherwise we were deposed.
   */
  private async fenced<T>(context: LeaderJobContext, write: () => Promise<T>): Promise<T> {
    try {
      return await write()
    } catch (err) {
      const node = this.options.cluster.node
      if (!isGameServerError(err, 'GS_ERR_FENCED_WRITE_REJECTED') || node === null) throw err
      const storeToken = Number(err.context.newest)
      if (Number.isSafeInteger(storeToken) && storeToken > context.fencingToken) {
        const raised = await raiseFencingCounter(node.redis, this.options.config.cluster.clusterName, this.holder, context.fencingToken, storeToken).catch(() => false)
        if (raised) this.logger.error({ fencingToken: context.fencingToken, storeToken, resource: this.resource }, 'fencing counter in Redis is behind PostgreSQL (Redis data lost?): raised it and released the lease; the next election draws a larger token')
      }
      throw err
    }
  }
}
