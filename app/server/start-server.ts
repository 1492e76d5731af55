/**
 * The game server's composition: stores → game → GameServer, listening. `close(deadlineMs)` shuts
 * down in this fixed order (tested in test/integration/game-shutdown.test.ts):
 *
 *   0. leave the cluster (when it joined one: CLUSTER_REDIS_URL or REDIS_URLS), so the balancer
 *      stops sending new sessions here; this also stops the leader-only jobs (app/server/leader-jobs.ts),
 *      whose run in flight is then awaited and whose database pool is closed;
 *   1. stop accepting connections and stop reading from every session (GameServer.close);
 *   2. drain the game: every frame already accepted is processed; logins hashing finish, logins
 *      still waiting for a hashing slot are answered SHUTTING_DOWN — each read request gets a reply;
 *   3. flush every session's send buffer and close it (ERROR SHUTTING_DOWN first);
 *   4. close the game: every online player's state goes to the player sink;
 *   5. flush the player sink, then close the stores (sink → sessions → accounts) — only if this
 *      server created them; injected stores belong to the caller.
 *
 * Steps 1–3 share the deadline; what is left of it bounds steps 4–5.
 */
import type { AddressInfo } from 'node:net'
import { clusterRedisUrl } from '../cluster/cluster-node.js'
import { advertisedAddress, joinCluster, type ClusterMembershipHandle } from '../cluster/join.js'
import type { Config } from '../config/index.js'
import { Game } from '../game/game.js'
import { createStores, type Stores, type StoresReadiness } from '../game/store-factory.js'
import type { Logger } from '../logger.js'
import { GameServer } from '../net/server.js'
import type { SessionOptions } from '../net/options.js'
import { noopMetrics, type GameMetrics } from '../telemetry/metrics.js'
import { startServerLeaderJobs, type ServerLeaderJobs } from './leader-jobs.js'

export interface StartServerOptions {
  readonly logger: Logger
  readonly metrics?: GameMetrics
  /**
   * Bound port of this process's telemetry endpoint (startTelemetry().port): advertised to the
   * cluster as `metricsUrl`, so the balancer polls `/bottlenecks` of this server.
   */
  readonly metricsPort?: number | null
  /** Stores built by the caller (tests, a host that shares them); default: createStores(config). */
  readonly stores?: Pick<Stores, 'accounts' | 'sessions' | 'playerSink' | 'shared'>
  /** Overrides of the session options (tests, benchmarks). */
  readonly session?: Partial<SessionOptions>
}

export interface ServerHandle {
  readonly port: number
  readonly address: AddressInfo
  readonly game: Game
  readonly server: GameServer
  /** The stores in use (built here unless injected). */
  readonly stores: Pick<Stores, 'accounts' | 'sessions' | 'playerSink' | 'shared'>
  /** Cluster membership (heartbeats, leader election) when a cluster Redis is configured, else null. */
  readonly cluster: ClusterMembershipHandle | null
  /** Leader-only jobs (leaderboard snapshots, snapshot retention) when cluster, DATABASE_URL and REDIS_URLS are all set, else null. */
  readonly leaderJobs: ServerLeaderJobs | null
  /**
   * For /readyz: listening and not shutting down, and the stores answer (stores injected by the
   * caller count as ready: they are the caller's to probe).
   */
  readiness(): Promise<{ readonly ready: boolean; readonly status: string; readonly stores: StoresReadiness | 'injected' }>
  /** Graceful shutdown (see the order above). Idempotent. */
  close(deadlineMs?: number): Promise<void>
}

export async function startServer(config: Config, options: StartServerOptions): Promise<ServerHandle> {
  const logger = options.logger
  const metrics = options.metrics ?? noopMetrics
  const ownStores = options.stores === undefined ? await createStores(config, logger, undefined, metrics) : null
  const stores = options.stores ?? ownStores!
  let game: Game | null = null
  let server: GameServer | null = null
  try {
    game = new Game({ config, accounts: stores.accounts, sessions: stores.sessions, playerSink: stores.playerSink, ...(stores.shared ? { shared: stores.shared } : {}), logger, metrics })
    server = new GameServer({ config, dispatcher: game, metrics, logger, ...(options.session ? { session: options.session } : {}) })
    const address = await server.listen()
    logger.info({ event: 'listening', host: address.address, port: address.port, stores: ownStores?.mode ?? 'injected' }, 'listening')
    const activeServer = server
    const advertised = advertisedAddress(config, address)
    const metricsUrl = options.metricsPort ? `http://${advertised.slice(0, advertised.lastIndexOf(':'))}:${options.metricsPort}` : undefined
    const cluster = clusterRedisUrl(config) === undefined ? null : joinCluster({ config, address: advertised, role: 'game', load: () => activeServer.activeSessions, logger, ...(metricsUrl ? { metricsUrl } : {}) })
    const leaderJobs = cluster === null ? null : startServerLeaderJobs({ config, cluster, shared: stores.shared, logger, metrics })
    const built = { game, server, cluster, leaderJobs }
    let closing: Promise<void> | null = null
    return {
      port: address.port,
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
        closing ??= shutdown(built, ownStores, logger, deadlineMs)
        return closing
      },
    }
  } catch (err) {
    await server?.close(0)
    await game?.close()
    await ownStores?.close()
    throw err
  }
}

async function shutdown(parts: { game: Game; server: GameServer; cluster: ClusterMembershipHandle | null; leaderJobs: ServerLeaderJobs | null }, stores: Stores | null, logger: Logger, deadlineMs: number): Promise<void> {
  const started = performance.now()
  await withinMs(parts.cluster?.close() ?? Promise.resolve(), Math.min(1000, deadlineMs))
  await withinMs(parts.leaderJobs?.close() ?? Promise.resolve(), Math.min(2000, deadlineMs))
  await parts.server.close(Math.max(0, deadlineMs - (performance.now() - started))) // what leaving the cluster and stopping the leader jobs left of it
  const remaining = Math.max(0, deadlineMs - (performance.now() - started))
  const finished = await withinMs(
    (async () => {
      await parts.game.close()
      await stores?.close()
    })(),
    remaining,
  )
  const tookMs = Math.round(performance.now() - started)
  const batches = parts.game.processor.stats()
  logger.info({ game: parts.game.stats(), batches: { processed: batches.processed, batches: batches.batches, shed: batches.shed, failed: batches.failed, byTrigger: batches.byTrigger } }, 'game totals')
  if (finished) logger.info({ event: 'stopped', tookMs }, 'server stopped')
  else logger.error({ event: 'stopped', tookMs, deadlineMs }, 'shutdown deadline passed before the stores closed')
}

async function withinMs(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
    timer.unref()
  })
  try {
    return await Promise.race([work.then(() => true as const), timeout])
  } finally {
    clearTimeout(timer)
  }
}
