/**
 * Cluster membership on Redis. Each member writes `cluster:<name>:member:<id>` (JSON: id,
 * address, role, load, …) with a TTL of `memberTtlMs` and refreshes it every
 * `heartbeatIntervalMs`; the id is also kept in the sorted set `cluster:<name>:members` scored by
 * the last heartbeat (ms). A member whose key expired — it missed heartbeats for a whole TTL — is
 * dead; `readMembers` lists both live and recently dead members (the leader prunes old ones).
 */
import type { Redis } from 'ioredis'
import { silentLogger, type Logger } from '../logger.js'
import { clusterKeys, unavailable } from './redis-connection.js'

export type MemberRole = 'game' | 'balancer' | 'worker'

interface MemberInfo {
  readonly id: string
  /** host:port clients (or the balancer) use to reach it. */
  readonly address: string
  readonly role: MemberRole
  /** Current load, e.g. open sessions. */
  readonly load: number
  /** Base URL of its metrics/telemetry HTTP port, when it has one (bottleneck reports). */
  readonly metricsUrl?: string | undefined
  /** Port of its WebSocket listener on the same host, when it has one (the balancer's WebSocket front). */
  readonly webSocketPort?: number | undefined
  readonly startedAt: number
  readonly heartbeatAt: number
}

export interface MemberStatus extends MemberInfo {
  readonly alive: boolean
  /** ms since the last heartbeat. */
  readonly lastSeenMs: number
}

export interface MembershipOptions {
  readonly redis: Redis
  readonly clusterName: string
  readonly id: string
  readonly address: string
  readonly role: MemberRole
  readonly metricsUrl?: string | undefined
  readonly webSocketPort?: number | undefined
  readonly heartbeatIntervalMs: number
  readonly memberTtlMs: number
  /** Read on every heartbeat [() => 0]. */
  readonly load?: () => number
  readonly logger?: Logger
  readonly redisUrl?: string
}

export class Membership {
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private readonly startedAt = Date.now()
  private readonly keys: ReturnType<typeof clusterKeys>
  private readonly logger: Logger
  private failures = 0

  constructor(private readonly options: MembershipOptions) {
    this.keys = clusterKeys(options.clusterName)
    this.logger = (options.logger ?? silentLogger).child({ component: 'membership', member: options.id })
  }

  get id(): string {
    return this.options.id
  }

  /** Register now (throws GS_ERR_CLUSTER_UNAVAILABLE if Redis cannot be reached), then heartbeat. */
  async start(): Promise<void> {
    await this.heartbeat()
    this.logger.info({ address: this.options.address, role: this.options.role, ttlMs: this.options.memberTtlMs }, 'joined the cluster')
    this.schedule()
  }

  /** Write the registration once. */
  async heartbeat(): Promise<void> {
    const now = Date.now()
    const info: MemberInfo = {
      id: this.options.id,
      address: this.options.address,
      role: this.options.role,
      load: this.options.load?.() ?? 0,
      ...(this.options.metricsUrl ? { metricsUrl: this.options.metricsUrl } : {}),
      ...(this.options.webSocketPort ? { webSocketPort: this.options.webSocketPort } : {}),
      startedAt: this.startedAt,
      heartbeatAt: now,
    }
    try {
      await this.options.redis
        .multi()
        .set(this.keys.member(this.options.id), JSON.stringify(info), 'PX', this.options.memberTtlMs)
        .zadd(this.keys.members, now, this.options.id)
        .exec()
    } catch (err) {
      throw unavailable(this.options.redisUrl ?? 'redis', err)
    }
  }

  /** Stop heartbeating and deregister (best effort). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    try {
      await this.options.redis.multi().del(this.keys.member(this.options.id)).zrem(this.keys.members, this.options.id).exec()
      this.logger.info('left the cluster')
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not deregister; the registration expires by itself')
    }
  }

  /** Stop heartbeating without deregistering (a crash, for failure tests). */
  abandon(): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.heartbeat()
        .then(() => {
          if (this.failures > 0) this.logger.info({ failures: this.failures }, 'heartbeats reach Redis again')
          this.failures = 0
        })
        .catch((err) => {
          this.failures++
          if (this.failures === 1 || this.failures % 10 === 0) this.logger.warn({ err: (err as Error).message, failures: this.failures }, 'heartbeat failed')
        })
        .finally(() => this.schedule())
    }, this.options.heartbeatIntervalMs)
    this.timer.unref()
  }
}

/** Every registered member, alive (key present) or dead (key expired, still in the set). */
export async function readMembers(redis: Redis, clusterName: string, redisUrl = 'redis'): Promise<MemberStatus[]> {
  const keys = clusterKeys(clusterName)
  try {
    const entries = await redis.zrange(keys.members, 0, -1, 'WITHSCORES')
    const ids: string[] = []
    const seen = new Map<string, number>()
    for (let i = 0; i < entries.length; i += 2) {
      ids.push(entries[i]!)
      seen.set(entries[i]!, Number(entries[i + 1]))
    }
    if (ids.length === 0) return []
    const values = await redis.mget(ids.map((id) => keys.member(id)))
    const now = Date.now()
    return ids.map((id, i) => {
      const raw = values[i]
      const lastHeartbeat = seen.get(id)!
      if (raw === null || raw === undefined) {
        return { id, address: '', role: 'game', load: 0, startedAt: 0, heartbeatAt: lastHeartbeat, alive: false, lastSeenMs: now - lastHeartbeat } satisfies MemberStatus
      }
      const info = JSON.parse(raw) as MemberInfo
      return { ...info, alive: true, lastSeenMs: now - info.heartbeatAt }
    })
  } catch (err) {
    throw unavailable(redisUrl, err)
  }
}

/** Remove members dead for longer than `olderThanMs` from the set (a leader-only job). Returns how many. */
export async function pruneDeadMembers(redis: Redis, clusterName: string, olderThanMs: number): Promise<number> {
  const keys = clusterKeys(clusterName)
  const stale = await redis.zrangebyscore(keys.members, 0, Date.now() - olderThanMs)
  if (stale.length === 0) return 0
  const exists = await Promise.all(stale.map((id) => redis.exists(keys.member(id))))
  const dead = stale.filter((_, i) => exists[i] === 0)
  if (dead.length > 0) await redis.zrem(keys.members, ...dead)
  return dead.length
}
