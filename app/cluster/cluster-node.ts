/**
 * One process's place in the cluster: its own Redis connection, membership registration with
 * heartbeats, leader election and the leader-only jobs. The composition root (game server,
 * balancer) creates it when `CLUSTER_REDIS_URL` or `REDIS_URLS` is set:
 *
 *   const node = await ClusterNode.start({ config, address: '10.0.0.5:7777', load: () => server.activeSessions })
 *   node.jobs.add({ name: 'leaderboard-snapshot', intervalMs: 60_000, run: ({ fencingToken, assertLeader }) => … })   // see app/processes/leaderboard-jobs.ts
 *   …
 *   await node.close()   // leaves the cluster, releases the lease if held
 *
 * Built in: the leader prunes members dead for more than 10 TTLs from the member set.
 */
import type { Redis } from 'ioredis'
import type { Config } from '../config/index.js'
import { silentLogger, type Logger } from '../logger.js'
import { LeaderElector } from './leader-election.js'
import { LeaderJobs } from './leader-jobs.js'
import { Membership, pruneDeadMembers, readMembers, type MemberRole, type MemberStatus } from './membership.js'
import { connectClusterRedis } from './redis-connection.js'

export interface ClusterNodeOptions {
  readonly config: Config
  /** host:port others use to reach this node. */
  readonly address: string
  readonly role?: MemberRole
  readonly metricsUrl?: string
  /** Port of this node's WebSocket listener (same host as `address`). */
  readonly webSocketPort?: number
  readonly load?: () => number
  readonly logger?: Logger
  /** Take part in leader election [true]. */
  readonly elect?: boolean
}

/** The Redis URL of cluster membership from config: CLUSTER_REDIS_URL, else the first REDIS_URLS entry. */
export function clusterRedisUrl(config: Config): string | undefined {
  return config.cluster.clusterRedisUrl ?? config.data.redisUrls[0]
}

export class ClusterNode {
  private closing: Promise<void> | null = null

  private constructor(
    readonly redis: Redis,
    readonly membership: Membership,
    readonly elector: LeaderElector,
    readonly jobs: LeaderJobs,
    private readonly clusterName: string,
    private readonly elect: boolean,
  ) {}

  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const config = options.config
    const url = clusterRedisUrl(config)
    if (url === undefined) throw new Error('ClusterNode needs CLUSTER_REDIS_URL or REDIS_URLS')
    const c = config.cluster
    const logger = options.logger ?? silentLogger
    const id = config.server.nodeId
    const redis = await connectClusterRedis({ url, commandTimeoutMs: Math.max(50, Math.min(1000, Math.floor(c.leaderLeaseMs / 4))), connectionName: `cluster-${id}` })
    const membership = new Membership({
      redis,
      redisUrl: url,
      clusterName: c.clusterName,
      id,
      address: options.address,
      role: options.role ?? c.nodeRole,
      metricsUrl: options.metricsUrl,
      webSocketPort: options.webSocketPort,
      heartbeatIntervalMs: c.heartbeatIntervalMs,
      memberTtlMs: c.memberTtlMs,
      ...(options.load ? { load: options.load } : {}),
      logger,
    })
    const elector = new LeaderElector({ redis, clusterName: c.clusterName, id, leaseMs: c.leaderLeaseMs, logger })
    const jobs = new LeaderJobs(elector, logger)
    jobs.add({
      name: 'prune-dead-members',
      intervalMs: Math.max(1000, c.memberTtlMs),
      run: async ({ assertLeader }) => {
        assertLeader()
        await pruneDeadMembers(redis, c.clusterName, 10 * c.memberTtlMs)
      },
    })
    const node = new ClusterNode(redis, membership, elector, jobs, c.clusterName, options.elect !== false)
    try {
      await membership.start()
    } catch (err) {
      redis.disconnect()
      throw err
    }
    if (node.elect) elector.start()
    return node
  }

  get isLeader(): boolean {
    return this.elector.isLeader
  }

  members(): Promise<MemberStatus[]> {
    return readMembers(this.redis, this.clusterName)
  }

  /** Leave the cluster and release the lease. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.jobs.close()
      await this.elector.close()
      await this.membership.close()
      await this.redis.quit().catch(() => this.redis.disconnect())
    })()
    return this.closing
  }

  stop(): Promise<void> {
    return this.close()
  }

  /**
   * Stop as a crashed process stops, seen from the cluster: heartbeats and lease renewal end, the
   * Redis connection drops, nothing is deregistered or released, so the others must notice missed
   * heartbeats and an expired lease. The failover tests use it to kill one of several in-process nodes.
   */
  abandon(): void {
    this.jobs.close()
    this.membership.abandon()
    this.elector.abandon()
    this.redis.disconnect()
    this.closing ??= Promise.resolve()
  }
}
