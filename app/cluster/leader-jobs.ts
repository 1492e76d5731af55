/**
 * Jobs that run only while this node leads (leaderboard snapshots and their retention,
 * pruning dead members…; app/processes/leaderboard-jobs.ts). Each job runs every `intervalMs` from the moment we are elected; on
 * demotion its AbortSignal fires and no new run starts. A run receives the fencing token to pass
 * to fenced writes, and `assertLeader()` to check before a side effect. Runs never overlap per
 * job; a failing run is logged and the next one runs as scheduled.
 */
import { silentLogger, type Logger } from '../logger.js'
import type { LeaderElector } from './leader-election.js'

export interface LeaderJobContext {
  readonly fencingToken: number
  readonly signal: AbortSignal
  /** Throws GS_ERR_LEADERSHIP_LOST once the lease of this token is over. */
  assertLeader(): void
}

export interface LeaderJob {
  readonly name: string
  readonly intervalMs: number
  run(context: LeaderJobContext): Promise<void> | void
}

export interface LeaderJobStats {
  readonly runs: number
  readonly failures: number
}

export class LeaderJobs {
  private readonly jobs: LeaderJob[] = []
  private readonly stats = new Map<string, { runs: number; failures: number }>()
  private controller: AbortController | null = null
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly logger: Logger
  private readonly unlisten: () => void

  constructor(
    private readonly elector: LeaderElector,
    logger: Logger = silentLogger,
  ) {
    this.logger = logger.child({ component: 'leader-jobs' })
    this.unlisten = elector.listen({
      elected: (token) => this.startAll(token),
      demoted: () => this.stopAll(),
    })
  }

  add(job: LeaderJob): void {
    this.jobs.push(job)
    this.stats.set(job.name, { runs: 0, failures: 0 })
    if (this.controller !== null && this.elector.isLeader) this.startJob(job, this.elector.token, this.controller.signal)
  }

  statsOf(name: string): LeaderJobStats | undefined {
    const s = this.stats.get(name)
    return s ? { ...s } : undefined
  }

  close(): void {
    this.unlisten()
    this.stopAll()
  }

  private startAll(token: number): void {
    this.stopAll()
    const controller = new AbortController()
    this.controller = controller
    for (const job of this.jobs) this.startJob(job, token, controller.signal)
  }

  private stopAll(): void {
    this.controller?.abort()
    this.controller = null
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  private startJob(job: LeaderJob, token: number, signal: AbortSignal): void {
    const context: LeaderJobContext = { fencingToken: token, signal, assertLeader: () => this.elector.assertLeader(token) }
    const runOnce = async (): Promise<void> => {
      if (signal.aborted || !this.elector.isLeader) return
      const stats = this.stats.get(job.name)!
      try {
        await job.run(context)
        stats.runs++
      } catch (err) {
        stats.failures++
        if (!signal.aborted) this.logger.error({ err, job: job.name, token }, 'leader job failed')
      }
      if (signal.aborted) return
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        void runOnce()
      }, job.intervalMs)
      timer.unref()
      this.timers.add(timer)
    }
    void runOnce()
  }
}
