/**
 * Keeps the backend pool in step with cluster membership (used when `BACKENDS` is unset): every
 * `intervalMs` it reads the live members of role `game`; a new member is added (it starts healthy
 * and is health-checked like any backend), a member that is gone or dead is drained and removed.
 * Backends added statically or by the admin are never touched. Never rejects; timer unref()ed.
 */
import { parseHostPort, type HostPort } from '../config/schema.js'
import { silentLogger, type Logger } from '../logger.js'
import { backendId } from './backend.js'

export interface DiscoveredBackend {
  readonly id: string
  readonly address: string
  readonly metricsUrl?: string | undefined
  readonly webSocketPort?: number | undefined
}

export interface DiscoveryTarget {
  /** Backends currently from membership, by id (host:port). */
  discoveredIds(): string[]
  addDiscovered(address: HostPort, metricsUrl: string | undefined, webSocketPort: number | undefined): void
  retireDiscovered(id: string): void
}

export class MembershipDiscovery {
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private readonly logger: Logger
  /** Resolves after the first successful sync (start-up waits for it). */
  readonly firstSync: Promise<void>
  private resolveFirst!: () => void

  constructor(
    private readonly read: () => Promise<readonly DiscoveredBackend[]>,
    private readonly target: DiscoveryTarget,
    private readonly intervalMs: number,
    logger: Logger = silentLogger,
  ) {
    this.logger = logger.child({ component: 'discovery' })
    this.firstSync = new Promise((resolve) => (this.resolveFirst = resolve))
    this.schedule(0)
  }

  async syncOnce(): Promise<void> {
    const members = await this.read()
    if (this.closed) return
    const seen = new Set<string>()
    for (const member of members) {
      let address: HostPort
      try {
        address = parseHostPort(member.address)
      } catch {
        this.logger.warn({ member: member.id, address: member.address }, 'member has an invalid address; skipped')
        continue
      }
      const id = backendId(address)
      seen.add(id)
      if (!this.target.discoveredIds().includes(id)) this.target.addDiscovered(address, member.metricsUrl, member.webSocketPort)
    }
    for (const id of this.target.discoveredIds()) if (!seen.has(id)) this.target.retireDiscovered(id)
    this.resolveFirst()
  }

  close(): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(delayMs: number): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      this.syncOnce()
        .catch((err) => this.logger.warn({ err: (err as Error).message }, 'membership read failed; keeping the current backends'))
        .finally(() => this.schedule(this.intervalMs))
    }, delayMs)
    this.timer.unref()
  }
}
