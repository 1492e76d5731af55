/**
 * `npm run balance` — the L4 balancer in front of the game servers.
 *
 * Backends come from `BACKENDS` (host:port,…) or, when unset, from cluster membership in Redis
 * (`CLUSTER_REDIS_URL` or the first `REDIS_URLS`). Admin interface on BALANCER_ADMIN_PORT.
 * A bad variable stops the process with a message naming it. SIGTERM/SIGINT: stop accepting, let
 * sessions finish within SHUTDOWN_DEADLINE_MS, leave the cluster, exit.
 */
import type { Redis } from 'ioredis'
import { Balancer } from '../balancer/balancer.js'
import { clusterRedisUrl } from '../cluster/cluster-node.js'
import { advertisedAddress, joinCluster, type ClusterMembershipHandle } from '../cluster/join.js'
import { readMembers } from '../cluster/membership.js'
import { connectClusterRedis } from '../cluster/redis-connection.js'
import { createLogger } from '../logger.js'
import { commandLine, exitCodeFor, loadConfigOrExit } from './command.js'
import { isGameServerError } from '../errors.js'
import { startTelemetry } from '../telemetry/start.js'

const USAGE = `usage: npm run balance [-- --help]

The L4 balancer: listens on BALANCER_HOST:BALANCER_PORT and forwards each client to a game server
from BACKENDS (host:port,…) or, when unset, from cluster membership (CLUSTER_REDIS_URL or the first
REDIS_URLS). Admin interface on BALANCER_ADMIN_HOST:BALANCER_ADMIN_PORT (BALANCER_ADMIN_TOKEN),
metrics and /healthz, /readyz on METRICS_HOST:METRICS_PORT. Every setting is an environment
variable: docs/CONFIG.md. Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed, 2 bad configuration.`

async function main(): Promise<void> {
  commandLine('balance', USAGE)
  const config = loadConfigOrExit('balance')
  const logger = createLogger({ level: config.server.logLevel, name: 'balancer', base: { nodeId: config.server.nodeId } })
  let redis: Redis | undefined
  let discover: (() => Promise<readonly { id: string; address: string; metricsUrl?: string | undefined }[]>) | undefined
  if (config.balancer.backends.length === 0) {
    const url = clusterRedisUrl(config)
    if (url === undefined) {
      console.error('balance: GS_ERR_CONFIG: BACKENDS is unset and there is no cluster to discover backends from: set BACKENDS=host:port,… or CLUSTER_REDIS_URL / REDIS_URLS')
      process.exit(2)
    }
    redis = await connectClusterRedis({ url, connectionName: `balancer-${config.server.nodeId}` })
    const client = redis
    discover = async () => (await readMembers(client, config.cluster.clusterName, url)).filter((m) => m.alive && m.role === 'game')
  }
  // Telemetry (/metrics and /bottlenecks on METRICS_PORT; METRICS_ENABLED=false turns it off).
  const telemetry = await startTelemetry(config, logger, 'balancer')
  const balancer = new Balancer({ config, logger, metrics: telemetry.balancerMetrics, ...(discover ? { discover } : {}) })
  const address = await balancer.listen()
  let stopping = false
  // For orchestrators: alive while the process answers; ready while it can route a client somewhere.
  telemetry.provider?.probe('/healthz', () => ({ ok: true, body: { status: 'ok' } }))
  telemetry.provider?.probe('/readyz', () => {
    const available = balancer.pool.availableCount()
    return { ok: !stopping && available > 0, body: { ready: !stopping && available > 0, status: stopping ? 'closing' : 'listening', availableBackends: available, backends: balancer.pool.size } }
  })
  // Visible in `npm run cluster -- status` as role balancer; it does not stand for leader (the
  // leader-only jobs need the game's stores).
  let membership: ClusterMembershipHandle | null = null
  if (clusterRedisUrl(config) !== undefined) {
    membership = joinCluster({ config, address: advertisedAddress(config, address), role: 'balancer', elect: false, load: () => balancer.proxy.stats().activeSessions, logger })
  }

  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    Promise.resolve(membership?.close())
      .then(() => balancer.close())
      .then(() => redis?.quit())
      .then(() => telemetry.close())
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed')
          process.exit(1)
        },
      )
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}

main().catch((err) => {
  console.error(`balance: ${isGameServerError(err) ? `${err.code}: ` : ''}${(err as Error).message}`)
  process.exit(exitCodeFor(err))
})
