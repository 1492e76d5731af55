/**
 * The balancer process's composition: where backends come from (BACKENDS, or live game members of
 * the cluster read from Redis), the Balancer (proxy, health checks, bottleneck poller, admin
 * interface), membership as role `balancer` (visible in `npm run cluster -- status`; it does not
 * stand for leader: the leader-only jobs need the game's stores) and, with telemetry, /healthz and
 * /readyz. `close(deadlineMs)` shuts down in this fixed order within the deadline (tested in
 * test/integration/balancer-process.test.ts):
 *
 *   1. leave the cluster (at most LEAVE_CLUSTER_MS of the deadline);
 *   2. stop accepting, stop the admin interface, let proxied sessions finish and cut the rest at
 *      the deadline, stop health checks and polling (Balancer.close);
 *   3. close the discovery connection to Redis (at most CLOSE_DISCOVERY_MS).
 *
 * Telemetry belongs to the caller, which closes it after.
 */
import type { AddressInfo } from 'node:net'
import type { Redis } from 'ioredis'
import { Balancer } from '../balancer/balancer.js'
import type { DiscoveredBackend } from '../balancer/discovery.js'
import type { BalancerMetrics } from '../balancer/metrics.js'
import { clusterRedisUrl } from '../cluster/cluster-node.js'
import { advertisedAddress, joinCluster, LEAVE_CLUSTER_MS, type ClusterMembershipHandle } from '../cluster/join.js'
import { readMembers } from '../cluster/membership.js'
import { connectClusterRedis } from '../cluster/redis-connection.js'
import type { Config } from '../config/index.js'
import { withDeadline } from '../deadline.js'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Telemetry } from '../telemetry/telemetry.js'

/** Closing the discovery connection gets at most this long. */
const CLOSE_DISCOVERY_MS = 1000

export interface StartBalancerOptions {
  readonly logger: Logger
  /** This process's telemetry (started before, closed after): metrics, /healthz and /readyz. */
  readonly telemetry?: Telemetry | null
  /** What the balancer reports through instead of the telemetry's (test doubles). */
  readonly metrics?: BalancerMetrics
}

interface BalancerReadiness {
  readonly ready: boolean
  readonly status: 'listening' | 'closing'
  readonly availableBackends: number
  readonly backends: number
}

export interface BalancerHandle {
  readonly balancer: Balancer
  readonly address: AddressInfo
  /** Membership as role `balancer` when a cluster Redis is configured, else null. */
  readonly cluster: ClusterMembershipHandle | null
  /** Ready while listening with at least one backend that takes clients. */
  readiness(): BalancerReadiness
  /** Graceful shutdown (see the order above). Idempotent. */
  close(deadlineMs?: number): Promise<void>
}

export async function startBalancer(config: Config, options: StartBalancerOptions): Promise<BalancerHandle> {
  const { logger, telemetry } = options
  const metrics = options.metrics ?? telemetry?.balancerMetrics ?? undefined
  const redisUrl = clusterRedisUrl(config)
  let discovery: Redis | null = null
  let discover: (() => Promise<readonly DiscoveredBackend[]>) | undefined
  if (config.balancer.backends.length === 0) {
    if (redisUrl === undefined) {
      throw new GameServerError('GS_ERR_CONFIG', 'BACKENDS is unset and there is no cluster to discover backends from: set BACKENDS=host:port,… or CLUSTER_REDIS_URL / REDIS_URLS', { variable: 'BACKENDS' })
    }
    const redis = await connectClusterRedis({ url: redisUrl, connectionName: `balancer-${config.server.nodeId}` })
    discovery = redis
    discover = async () => (await readMembers(redis, config.cluster.clusterName, redisUrl)).filter((m) => m.alive && m.role === 'game')
  }
  const balancer = new Balancer({ config, logger, ...(metrics ? { metrics } : {}), ...(discover ? { discover } : {}) })
  let address: AddressInfo
  try {
    address = await balancer.listen()
  } catch (err) {
    await balancer.close(0)
    await discovery?.quit().catch(() => discovery?.disconnect())
    throw err
  }
  const cluster = redisUrl === undefined ? null : joinCluster({ config, address: advertisedAddress(config, address), role: 'balancer', elect: false, load: () => balancer.proxy.stats().activeSessions, logger })
  let closing: Promise<void> | null = null
  const handle: BalancerHandle = {
    balancer,
    address,
    cluster,
    readiness() {
      const available = balancer.pool.availableCount()
      const open = closing === null
      return { ready: open && available > 0, status: open ? 'listening' : 'closing', availableBackends: available, backends: balancer.pool.size }
    },
    close(deadlineMs = config.server.shutdownDeadlineMs) {
      closing ??= shutdown({ balancer, cluster, discovery }, deadlineMs)
      return closing
    },
  }
  if (telemetry) {
    // alive while the process answers; ready while it can route a client somewhere
    telemetry.provider.probe('/healthz', () => ({ ok: true, body: { status: 'ok' } }))
    telemetry.provider.probe('/readyz', () => {
      const readiness = handle.readiness()
      return { ok: readiness.ready, body: readiness }
    })
  }
  return handle
}

async function shutdown(parts: { balancer: Balancer; cluster: ClusterMembershipHandle | null; discovery: Redis | null }, deadlineMs: number): Promise<void> {
  const started = performance.now()
  await withDeadline(parts.cluster?.close() ?? Promise.resolve(), Math.min(LEAVE_CLUSTER_MS, deadlineMs))
  await parts.balancer.close(Math.max(0, deadlineMs - (performance.now() - started)))
  const discovery = parts.discovery
  if (discovery !== null) {
    const quit = discovery.quit().catch(() => discovery.disconnect())
    if (!(await withDeadline(quit, CLOSE_DISCOVERY_MS))) discovery.disconnect()
  }
}
