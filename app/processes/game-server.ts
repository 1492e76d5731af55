/**
 * The game server's composition: stores → game → GameServer, listening, then the cluster
 * (membership and the leaderboard jobs). `close(deadlineMs)` shuts down in this fixed order
 * (tested in test/integration/game-lifecycle.test.ts and game-shutdown.test.ts):
 *
 *   1. leave the cluster (when it joined one: CLUSTER_REDIS_URL or REDIS_URLS), so the balancer
 *      stops sending new sessions here; this also stops the leader-only jobs, whose run in flight
 *      is then awaited and whose database pool is closed (leaderboard-jobs.ts);
 *   2. stop accepting connections and stop reading from every session (GameServer.close);
 *   3. drain the game: every frame already accepted is processed; logins hashing finish, logins
 *      still waiting for a hashing slot are answered SHUTTING_DOWN — each read request gets a reply;
 *   4. flush every session's send buffer and close it (ERROR SHUTTING_DOWN first);
 *   5. close the game: every online player's state goes to the player sink;
 *   6. close the stores in their order (game-stores.ts) — only if this server opened them;
 *      injected stores belong to the caller.
 *
 * Steps 2–4 share the deadline with step 1; what is left of it bounds steps 5–6.
 */
import type { AddressInfo } from 'node:net'
import type { CacheMetrics } from '../cache/metrics.js'
import { clusterRedisUrl } from '../cluster/cluster-node.js'
import { advertisedAddress, joinCluster, LEAVE_CLUSTER_MS, type ClusterMembershipHandle } from '../cluster/join.js'
import type { Config } from '../config/index.js'
import type { DatabaseMetrics } from '../db/metrics.js'
import { withDeadline } from '../deadline.js'
import { Game } from '../game/game.js'
import type { GameMetrics } from '../game/metrics.js'
import type { GameStoreSet } from '../game/stores.js'
import type { Logger } from '../logger.js'
import type { NetMetrics } from '../net/metrics.js'
import type { SessionOptions } from '../net/options.js'
import { GameServer } from '../net/server.js'
import { playgroundAssets } from '../playground/assets.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import { GameStores, type StoresReadiness } from './game-stores.js'
import { LeaderboardJobs } from './leaderboard-jobs.js'

/** Everything a game server process reports through: each part's own interface, one implementation (app/telemetry). */
export type ServerMetrics = NetMetrics & GameMetrics & DatabaseMetrics & CacheMetrics

/** Waiting for a leaderboard job in flight gets at most this long of the deadline. */
const STOP_LEADER_JOBS_MS = 2000

export interface StartServerOptions {
  readonly logger: Logger
  /**
   * This process's telemetry (started before, closed after the server): the parts report through
   * its metrics, its endpoint gets /healthz and /readyz and the server's and cluster's gauges, and
   * its port is advertised to the cluster as `metricsUrl` (the balancer polls `/bottlenecks`).
   */
  readonly telemetry?: Telemetry | null
  /** What the parts report through instead of the telemetry's (test doubles). */
  readonly metrics?: ServerMetrics
  /** Stores built by the caller (tests, a host that shares them); default: GameStores.open(config). */
  readonly stores?: GameStoreSet
  /** Overrides of the session options (tests, benchmarks). */
  readonly session?: Partial<SessionOptions>
}

export interface ServerHandle {
  readonly port: number
  /** The WebSocket listener's port when WS_PORT is set, else null. */
  readonly webSocketPort: number | null
  readonly address: AddressInfo
  readonly game: Game
  readonly server: GameServer
  /** The stores in use (opened here unless injected). */
  readonly stores: GameStoreSet
  /** Cluster membership (heartbeats, leader election) when a cluster Redis is configured, else null. */
  readonly cluster: ClusterMembershipHandle | null
  /** Leader-only jobs (leaderboard snapshots, snapshot retention) when cluster, DATABASE_URL and REDIS_URLS are all set, else null. */
  readonly leaderJobs: LeaderboardJobs | null
  /**
   * For /readyz: listening and not shutting down, and the stores answer (stores injected by the
   * caller count as ready: they are the caller's to probe).
   */
  readiness(): Promise<{ readonly ready: boolean; readonly status: string; readonly stores: StoresReadiness | 'injected' }>
  /** Graceful shutdown (see the order above). Idempotent. */
  close(deadlineMs?: number): Promise<void>
}

interface Parts {
  readonly game: Game
  readonly server: GameServer
  readonly cluster: ClusterMembershipHandle | null
  readonly leaderJobs: LeaderboardJobs | null
  /** Closed last, when this server opened them. */
  readonly ownStores: GameStores | null
}

export async function startServer(config: Config, options: StartServerOptions): Promise<ServerHandle> {
  const { logger, telemetry } = options
  const metrics = options.metrics ?? telemetry?.metrics
  const ownStores = options.stores === undefined ? await GameStores.open(config, { logger, ...(metrics ? { metrics } : {}) }) : null
  const stores = options.stores ?? ownStores!
  let game: Game | null = null
  let server: GameServer | null = null
  try {
    game = new Game({ config, stores, logger, ...(metrics ? { metrics } : {}) })
    const webAssets = config.webSocket.port !== undefined && config.webSocket.playground ? playgroundAssets(config.webSocket.path) : undefined
    server = new GameServer({ config, dispatcher: game, logger, ...(metrics ? { metrics } : {}), ...(options.session ? { session: options.session } : {}), ...(webAssets ? { webAssets } : {}) })
    const address = await server.listen()
    const webSocketPort = server.webSocketAddress()?.port ?? null
    logger.info({ event: 'listening', host: address.address, port: address.port, webSocketPort, stores: ownStores?.mode ?? 'injected' }, 'listening')
    const activeServer = server
    const advertised = advertisedAddress(config, address)
    const metricsUrl = telemetry ? `http://${advertised.slice(0, advertised.lastIndexOf(':'))}:${telemetry.port}` : undefined
    const cluster = clusterRedisUrl(config) === undefined ? null : joinCluster({ config, address: advertised, role: 'game', load: () => activeServer.activeSessions, logger, ...(metricsUrl ? { metricsUrl } : {}), ...(webSocketPort !== null ? { webSocketPort } : {}) })
    const leaderJobs = cluster === null ? null : LeaderboardJobs.start({ config, cluster, shared: stores.shared, logger, ...(metrics ? { metrics } : {}) })
    const parts: Parts = { game, server, cluster, leaderJobs, ownStores }
    let closing: Promise<void> | null = null
    const handle: ServerHandle = {
      port: address.port,
      webSocketPort,
      address,
      game,
      server,
      stores,
      cluster,
      leaderJobs,
      async readiness() {
        const status = activeServer.stats().status
        const stores = ownStores === null ? 'injected' as const : await ownStores.readiness()
        return { ready: status === 'listening' && closing === null && (stores === 'injected' || stores.ready), status: closing === null ? status : 'closing', stores }
      },
      close(deadlineMs = config.server.shutdownDeadlineMs) {
        closing ??= shutdown(parts, logger, deadlineMs)
        return closing
      },
    }
    if (telemetry) expose(telemetry, handle)
    return handle
  } catch (err) {
    await server?.close(0)
    await game?.close()
    await ownStores?.close()
    throw err
  }
}

/** The server on its telemetry endpoint: probes for orchestrators, session and cluster gauges. */
function expose(telemetry: Telemetry, handle: ServerHandle): void {
  telemetry.observeServer(handle.server)
  if (handle.cluster) telemetry.observeClusterNode(handle.cluster.joined)
  // alive as long as the process answers; ready while it takes players
  telemetry.provider.probe('/healthz', () => ({ ok: true, body: { status: 'ok' } }))
  telemetry.provider.probe('/readyz', async () => {
    const readiness = await handle.readiness()
    return { ok: readiness.ready, body: readiness }
  })
}

async function shutdown(parts: Parts, logger: Logger, deadlineMs: number): Promise<void> {
  const started = performance.now()
  const remaining = (): number => Math.max(0, deadlineMs - (performance.now() - started))
  await withDeadline(parts.cluster?.close() ?? Promise.resolve(), Math.min(LEAVE_CLUSTER_MS, deadlineMs))
  await withDeadline(parts.leaderJobs?.close() ?? Promise.resolve(), Math.min(STOP_LEADER_JOBS_MS, deadlineMs))
  await parts.server.close(remaining())
  const finished = await withDeadline(
    (async () => {
      await parts.game.close()
      await parts.ownStores?.close()
    })(),
    remaining(),
  )
  const tookMs = Math.round(performance.now() - started)
  const batches = parts.game.processor.stats()
  logger.info({ game: parts.game.stats(), batches: { processed: batches.processed, batches: batches.batches, shed: batches.shed, failed: batches.failed, byTrigger: batches.byTrigger } }, 'game totals')
  if (finished) logger.info({ event: 'stopped', tookMs }, 'server stopped')
  else logger.error({ event: 'stopped', tookMs, deadlineMs }, 'shutdown deadline passed before the stores closed')
}
