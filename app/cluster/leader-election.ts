/**
 * Leader election with a lease and a fencing token on Redis.
 *
 * - Acquire (Lua, atomic): if `cluster:<name>:leader` does not exist, INCR `cluster:<name>:fencing`
 *   and SET the leader key to `<id>|<token>` with PX = lease. The token grows with every election,
 *   so writes fenced by it reject a deposed leader's late writes.
 * - Renew (Lua compare-and-extend): PEXPIRE only while the key still holds our `<id>|<token>`;
 *   every lease/3.
 * - Never two leaders at once: a leader believes it leads only until `sentAt + lease − margin`,
 *   where `sentAt` is taken *before* the acquire/renew command was sent, so its belief always ends
 *   before the key can expire in Redis and anyone else can acquire. `isLeader` checks that
 *   deadline on every read, and a timer demotes at the deadline when renewals cannot get through.
 * - Followers retry when the current lease would run out (the key's PTTL), so a new leader follows
 *   within the lease after the old leader died.
 */
import type { Redis } from 'ioredis'
import { GameServerError } from '../errors.js'
import { silentLogger, type Logger } from '../logger.js'
import { clusterKeys } from './redis-connection.js'

const ACQUIRE = `
if redis.call('exists', KEYS[1]) == 1 then return {0, redis.call('pttl', KEYS[1])} end
local token = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return {token, 0}`

const RENEW = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`

const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`

export type ElectorState = 'follower' | 'leader' | 'closed'

export interface LeaderElectorOptions {
  readonly redis: Redis
  readonly clusterName: string
  readonly id: string
  readonly leaseMs: number
  readonly logger?: Logger
}

export interface LeadershipListener {
  elected?(token: number): void
  demoted?(token: number, reason: string): void
}

export interface LeaderInfo {
  readonly id: string
  readonly token: number
  readonly ttlMs: number
}

export class LeaderElector {
  readonly id: string
  readonly leaseMs: number
  private stateValue: ElectorState = 'follower'
  private tokenValue = 0
  /** performance.now() until which we may act as leader. */
  private leaderUntil = 0
  private tickTimer: NodeJS.Timeout | null = null
  private expiryTimer: NodeJS.Timeout | null = null
  private readonly listeners = new Set<LeadershipListener>()
  private readonly keys: ReturnType<typeof clusterKeys>
  private readonly logger: Logger
  private readonly marginMs: number
  private started = false

  constructor(private readonly options: LeaderElectorOptions) {
    this.id = options.id
    this.leaseMs = options.leaseMs
    this.marginMs = Math.max(10, Math.floor(options.leaseMs * 0.1))
    this.keys = clusterKeys(options.clusterName)
    this.logger = (options.logger ?? silentLogger).child({ component: 'leader-election', member: options.id })
  }

  get state(): ElectorState {
    return this.stateValue
  }

  /** True only while the lease we hold is certainly still ours. */
  get isLeader(): boolean {
    return this.stateValue === 'leader' && performance.now() < this.leaderUntil
  }

  /** Fencing token of the current (or last) leadership; 0 before the first. */
  get token(): number {
    return this.tokenValue
  }

  /** Throw GS_ERR_LEADERSHIP_LOST unless we lead with `token` (or at all, without one). */
  assertLeader(token?: number): void {
    if (!this.isLeader || (token !== undefined && token !== this.tokenValue)) {
      throw new GameServerError('GS_ERR_LEADERSHIP_LOST', 'not the leader (lease ended or token stale)', { member: this.id, token: token ?? null, current: this.tokenValue })
    }
  }

  listen(listener: LeadershipListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  start(): void {
    if (this.started || this.stateValue === 'closed') return
    this.started = true
    this.schedule(0)
  }

  /** Step down (releasing the lease so another member takes over at once) and stop. Idempotent. */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return
    const wasLeader = this.stateValue === 'leader'
    const value = `${this.id}|${this.tokenValue}`
    this.stop('closed')
    if (wasLeader) {
      try {
        await this.options.redis.eval(RELEASE, 1, this.keys.leader, value)
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'could not release the lease; it expires by itself')
      }
    }
  }

  /** Stop at once without releasing the lease and drop the Redis connection (a crash, for failure tests). */
  abandon(): void {
    if (this.stateValue === 'closed') return
    this.stop('abandoned')
    this.options.redis.disconnect()
  }

  private stop(reason: string): void {
    const wasLeader = this.stateValue === 'leader'
    this.stateValue = 'closed'
    this.clearTimers()
    if (wasLeader) this.notifyDemoted(reason)
  }

  private schedule(delayMs: number): void {
    if (this.stateValue === 'closed') return
    if (this.tickTimer !== null) clearTimeout(this.tickTimer)
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null
      void (this.stateValue === 'leader' ? this.renew() : this.tryAcquire())
    }, delayMs)
    this.tickTimer.unref()
  }

  private async tryAcquire(): Promise<void> {
    const sentAt = performance.now()
    let result: [number, number]
    try {
      result = (await this.options.redis.eval(ACQUIRE, 2, this.keys.leader, this.keys.fencing, this.id, this.leaseMs)) as [number, number]
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'leader acquire failed')
      this.schedule(Math.floor(this.leaseMs / 3))
      return
    }
    if (this.stateValue === 'closed') return
    const [token, pttl] = result
    if (token > 0) {
      this.tokenValue = token
      this.stateValue = 'leader'
      this.extendUntil(sentAt)
      this.logger.info({ token, leaseMs: this.leaseMs }, 'elected leader')
      for (const l of this.listeners) this.safely(() => l.elected?.(token))
      this.schedule(Math.floor(this.leaseMs / 3))
      return
    }
    // Someone leads: look again when their lease would run out if they stopped renewing.
    const wait = pttl > 0 ? pttl + 2 : 10
    this.schedule(Math.min(Math.max(wait, 5), this.leaseMs))
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now()
    const value = `${this.id}|${this.tokenValue}`
    let renewed: number
    try {
      renewed = (await this.options.redis.eval(RENEW, 1, this.keys.leader, value, this.leaseMs)) as number
    } catch (err) {
      // Keep leading until our deadline (the expiry timer demotes us); retry sooner.
      this.logger.warn({ err: (err as Error).message, token: this.tokenValue }, 'lease renewal failed')
      this.schedule(Math.max(5, Math.floor(this.leaseMs / 10)))
      return
    }
    if (this.stateValue !== 'leader') return
    if (renewed === 1 && performance.now() < this.leaderUntil) {
      this.extendUntil(sentAt)
      this.schedule(Math.floor(this.leaseMs / 3))
    } else {
      this.demote(renewed === 1 ? 'renewed after our deadline' : 'lease held by another member')
    }
  }

  private extendUntil(sentAt: number): void {
    this.leaderUntil = sentAt + this.leaseMs - this.marginMs
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer)
    this.expiryTimer = setTimeout(() => this.demote('lease not renewed in time'), Math.max(0, this.leaderUntil - performance.now()))
    this.expiryTimer.unref()
  }

  private demote(reason: string): void {
    if (this.stateValue !== 'leader') return
    this.stateValue = 'follower'
    this.leaderUntil = 0
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer)
    this.expiryTimer = null
    this.notifyDemoted(reason)
    this.schedule(0)
  }

  private notifyDemoted(reason: string): void {
    this.logger.warn({ token: this.tokenValue, reason }, 'no longer leader')
    for (const l of this.listeners) this.safely(() => l.demoted?.(this.tokenValue, reason))
  }

  private clearTimers(): void {
    if (this.tickTimer !== null) clearTimeout(this.tickTimer)
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer)
    this.tickTimer = null
    this.expiryTimer = null
  }

  private safely(fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.logger.error({ err }, 'leadership listener failed')
    }
  }
}

/** The current leader as Redis sees it, or null. */
export async function readLeader(redis: Redis, clusterName: string): Promise<LeaderInfo | null> {
  const keys = clusterKeys(clusterName)
  const [value, ttl] = await Promise.all([redis.get(keys.leader), redis.pttl(keys.leader)])
  if (value === null) return null
  const at = value.lastIndexOf('|')
  return { id: value.slice(0, at), token: Number(value.slice(at + 1)), ttlMs: ttl }
}
