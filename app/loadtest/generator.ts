/**
 * One load generator (one thread): runs its share of a scenario's virtual players against the
 * targets and reports an `IntervalSample` every second.
 *
 * Players are numbered globally; generator `w` of `W` owns the players with `index % W === w`, so
 * several generators (worker threads) together run exactly the scenario's population. A control
 * tick (every 100 ms) starts and stops players to follow the ramp (player-count mode) or starts
 * arrivals that leave after `sessionSeconds` (arrival mode). A player that lost its connection is
 * counted as a disconnect and restarted by the next tick (after a short back-off).
 */
import { addCauses, errorCause } from './error-cause.js'
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { ClientConnection } from '../client/connection.js'
import { seededRandom } from '../random.js'
import type { ActionDriver, PlayerContext } from './actions.js'
import { LatencyHistogram } from './histogram.js'
import { emptyActionCounts, type ActionCounts, type IntervalSample } from './interval.js'
import { pickAction, rampLevel, targetPlayers, type ActionName, type Scenario } from './scenario.js'

/** A generator alone in its process is worker 0 of 1. */
const SINGLE_WORKER = 1

export interface Target {
  readonly host: string
  readonly port: number
  /** `ws`: the port is a WebSocket listener's (WS_PORT, or a balancer's WebSocket port) [tcp]. */
  readonly transport?: 'tcp' | 'ws'
}

export interface GeneratorOptions {
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  readonly driver: ActionDriver
  readonly workerIndex?: number
  readonly workerCount?: number
  readonly runId?: string
  /** Called once per second (and once at the end for the last partial second). */
  readonly onInterval: (sample: IntervalSample) => void
  /** Stop early (Ctrl-C, capacity search). */
  readonly signal?: AbortSignal
}

const TICK_MS = 100
const RESTART_BACKOFF_MS = 500
/** Connects in progress per generator; keeps a ramp from becoming a SYN flood of our own making. */
const MAX_CONNECTING = 256

class Counters {
  sent = 0
  answered = 0
  rejected = 0
  errors = 0
  timeouts = 0
  disconnects = 0
  connectFailures = 0
  /** `connectFailures` by cause (error-cause.ts: `timeout`, `connection-closed`, …). */
  connectFailureCauses: Record<string, number> = {}
  errorCauses: Record<string, number> = {}
  byAction = emptyActionCounts()
  readonly histogram = new LatencyHistogram()
  readonly byActionHistogram = new Map<ActionName, LatencyHistogram>()

  /** One failed request of `action`: counted, and by its cause. */
  error(action: ActionName, err: unknown): void {
    const cause = errorCause(err)
    this.errors++
    this.errorCauses[cause] = (this.errorCauses[cause] ?? 0) + 1
    const counts = this.byAction[action]
    counts.errors++
    counts.causes ??= {}
    counts.causes[cause] = (counts.causes[cause] ?? 0) + 1
  }

  record(action: ActionName, rttMs: number): void {
    this.histogram.recordMs(rttMs)
    let h = this.byActionHistogram.get(action)
    if (h === undefined) {
      h = new LatencyHistogram()
      this.byActionHistogram.set(action, h)
    }
    h.recordMs(rttMs)
  }

  /** Per-action counts with their RTT snapshots; resets the per-action histograms. */
  takeByAction(): Record<ActionName, ActionCounts> {
    const counts = this.byAction
    for (const [action, h] of this.byActionHistogram) {
      if (h.count > 0) counts[action].histogram = h.toJSON()
      h.reset()
    }
    this.byAction = emptyActionCounts()
    return counts
  }
}

type PlayerState = 'connecting' | 'running' | 'stopping' | 'done'

class VirtualPlayer {
  state: PlayerState = 'connecting'
  /** performance.now() when it should leave (arrival mode). */
  leaveAt = Number.POSITIVE_INFINITY
  failedAt = 0
  private readonly stopped = new AbortController()

  constructor(
    readonly index: number,
    private readonly generator: LoadGenerator,
  ) {}

  get connected(): boolean {
    return this.state === 'running'
  }

  stop(): void {
    if (this.state === 'done') return
    if (this.state !== 'stopping') this.state = 'stopping'
    this.stopped.abort()
  }

  async run(): Promise<void> {
    const g = this.generator
    const target = g.targets[this.index % g.targets.length]!
    const random = seededRandom(this.index * 7919 + 17)
    const connect = (): Promise<ClientConnection> =>
      ClientConnection.connect({ host: target.host, port: target.port, ...(target.transport === 'ws' ? { transport: 'ws' as const } : {}), timeoutMs: g.scenario.requestTimeoutMs, connectTimeoutMs: 5000 })
    let conn: ClientConnection
    try {
      conn = await connect()
    } catch (err) {
      g.counters.connectFailures++
      addCauses(g.counters.connectFailureCauses, { [errorCause(err)]: 1 })
      this.failedAt = performance.now()
      this.state = 'done'
      return
    }
    const player: PlayerContext = { index: this.index, conn, connect, random, runId: g.runId }
    try {
      if (this.stopped.signal.aborted) return
      try {
        await g.driver.start(player, g.scenario.requestTimeoutMs)
        if (g.driver.logsIn) g.counters.byAction.login.ok++
      } catch (err) {
        if (g.driver.logsIn) g.counters.error('login', err)
        else {
          g.counters.errors++
          g.counters.errorCauses[errorCause(err)] = (g.counters.errorCauses[errorCause(err)] ?? 0) + 1
        }
        throw err
      }
      if (this.stopped.signal.aborted) return
      this.state = 'running'
      const loops: Promise<void>[] = []
      for (let i = 0; i < g.scenario.inFlight; i++) loops.push(this.loop(player))
      await Promise.all(loops)
    } catch {
      // login failed or the connection died; counted below
    } finally {
      const wanted = this.stopped.signal.aborted
      if (!wanted && player.conn.status === 'closed') g.counters.disconnects++
      if (!wanted) this.failedAt = performance.now()
      this.state = 'stopping'
      this.stopped.abort()
      await player.conn.close(1000)
      this.state = 'done'
    }
  }

  private async loop(player: PlayerContext): Promise<void> {
    const g = this.generator
    const scenario = g.scenario
    const intervalMs = scenario.actionsPerSecond > 0 ? (1000 * scenario.inFlight) / scenario.actionsPerSecond : 0
    const signal = this.stopped.signal
    // spread the players' first actions over one interval so they do not fire in lockstep
    if (intervalMs > 0) await sleep(player.random() * intervalMs, undefined, { signal }).catch(() => {})
    let next = performance.now()
    while (!signal.aborted && player.conn.status === 'open') {
      const action: ActionName = pickAction(scenario.mix, player.random())
      const started = performance.now()
      g.counters.sent++
      try {
        const outcome = await g.driver.perform(action, player, scenario.requestTimeoutMs)
        const rttMs = performance.now() - started
        g.counters.answered++
        g.counters.byAction[action].ok++
        if (outcome === 'rejected') {
          g.counters.rejected++
          g.counters.byAction[action].rejected++
        }
        g.counters.record(action, rttMs)
      } catch (err) {
        if (signal.aborted && player.conn.status !== 'open') return
        g.counters.error(action, err)
        if ((err as { code?: string }).code === 'GS_ERR_CLIENT_TIMEOUT') g.counters.timeouts++
        if (player.conn.status !== 'open') return
      }
      next += intervalMs
      const now = performance.now()
      if (next < now) next = now // behind: do not burst to catch up
      const think = scenario.thinkTimeMs.min + player.random() * (scenario.thinkTimeMs.max - scenario.thinkTimeMs.min)
      const waitMs = next - now + think
      if (waitMs >= 1) await sleep(waitMs, undefined, { signal }).catch(() => {})
      else if (intervalMs === 0) await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
}

export class LoadGenerator {
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  readonly driver: ActionDriver
  readonly runId: string
  readonly counters = new Counters()
  private readonly workerIndex: number
  private readonly workerCount: number
  private readonly onInterval: (sample: IntervalSample) => void
  private readonly players = new Map<number, VirtualPlayer>()
  private readonly running = new Set<Promise<void>>()
  private nextArrival: number
  private arrivalCredit = 0

  constructor(private readonly options: GeneratorOptions) {
    this.scenario = options.scenario
    this.targets = options.targets
    this.driver = options.driver
    this.runId = options.runId ?? Date.now().toString(36)
    this.workerIndex = options.workerIndex ?? 0
    this.workerCount = options.workerCount ?? SINGLE_WORKER
    this.onInterval = options.onInterval
    this.nextArrival = this.workerIndex
    if (this.targets.length === 0) throw new RangeError('a load generator needs at least one target')
  }

  /** Run the scenario to its end (or until the signal aborts); resolves after every player closed. */
  async run(): Promise<void> {
    const durationMs = this.scenario.durationSeconds * 1000
    const started = performance.now()
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    let elu: EventLoopUtilization = performance.eventLoopUtilization()
    let second = 0
    let lastTick = started
    const emit = (index = second): void => {
      const now = performance.eventLoopUtilization()
      const interval = performance.eventLoopUtilization(now, elu)
      elu = now
      const c = this.counters
      const sample: IntervalSample = {
        second: index,
        connected: this.connectedCount(),
        sent: c.sent,
        answered: c.answered,
        rejected: c.rejected,
        errors: c.errors,
        errorCauses: c.errorCauses,
        timeouts: c.timeouts,
        disconnects: c.disconnects,
        connectFailures: c.connectFailures,
        connectFailureCauses: c.connectFailureCauses,
        byAction: c.takeByAction(),
        histogram: c.histogram.toJSON(),
        generatorUtilization: interval.utilization,
        generatorLoopDelayP99Ms: loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0,
      }
      c.sent = c.answered = c.rejected = c.errors = c.timeouts = c.disconnects = c.connectFailures = 0
      c.errorCauses = {}
      c.connectFailureCauses = {}
      c.histogram.reset()
      loopDelay.reset()
      if (index === second) second++
      this.onInterval(sample)
    }
    try {
      for (;;) {
        const now = performance.now()
        const elapsedMs = now - started
        if (elapsedMs >= durationMs || this.options.signal?.aborted) break
        this.control(elapsedMs / 1000, (now - lastTick) / 1000)
        lastTick = now
        const nextSecondAt = started + (second + 1) * 1000
        const wake = Math.min(now + TICK_MS, nextSecondAt, started + durationMs)
        await sleep(Math.max(0, wake - now), undefined, this.options.signal ? { signal: this.options.signal } : undefined).catch(() => {})
        if (performance.now() >= nextSecondAt) emit()
      }
      for (const player of this.players.values()) player.stop()
      await Promise.all(this.running)
      // answers to the requests in flight at the end: part of the last full second when the run
      // went its whole length (no dip in the timeline), else (stopped early) their own second
      const leftover = this.counters.sent + this.counters.answered + this.counters.errors + this.counters.disconnects > 0
      if (second > 0 && second * 1000 >= durationMs) {
        if (leftover) emit(second - 1)
      } else if (leftover || second === 0) emit()
    } finally {
      for (const player of this.players.values()) player.stop()
      loopDelay.disable()
    }
  }

  connectedCount(): number {
    let n = 0
    for (const player of this.players.values()) if (player.connected) n++
    return n
  }

  private control(elapsedSeconds: number, dtSeconds: number): void {
    const now = performance.now()
    for (const [index, player] of this.players) {
      if (player.state === 'done' && now - player.failedAt >= RESTART_BACKOFF_MS) this.players.delete(index)
      else if (player.state !== 'done' && player.state !== 'stopping' && now >= player.leaveAt) player.stop()
    }
    const load = this.scenario.load
    if (load.mode === 'players') {
      const wanted = targetPlayers(this.scenario, elapsedSeconds)
      // mine: global indexes i < wanted with i % W === w
      let connecting = 0
      for (const player of this.players.values()) if (player.state === 'connecting') connecting++
      for (let i = this.workerIndex; i < wanted && connecting < MAX_CONNECTING; i += this.workerCount) {
        if (!this.players.has(i)) {
          this.start(i)
          connecting++
        }
      }
      for (const [index, player] of this.players) if (index >= wanted) player.stop()
      return
    }
    const level = rampLevel(load.ramp, elapsedSeconds / this.scenario.durationSeconds)
    this.arrivalCredit += (load.arrivalsPerSecond * level * dtSeconds) / this.workerCount
    const cap = Math.ceil(load.maxPlayers / this.workerCount)
    let live = 0
    for (const player of this.players.values()) if (player.state !== 'done') live++
    while (this.arrivalCredit >= 1) {
      this.arrivalCredit -= 1
      if (live >= cap) continue
      const player = this.start(this.nextArrival)
      this.nextArrival += this.workerCount
      player.leaveAt = now + load.sessionSeconds * 1000
      live++
    }
    for (const [index, player] of this.players) if (player.state === 'done' && player.leaveAt !== Number.POSITIVE_INFINITY) this.players.delete(index)
  }

  private start(index: number): VirtualPlayer {
    const player = new VirtualPlayer(index, this)
    this.players.set(index, player)
    const run = player.run().catch(() => {})
    this.running.add(run)
    void run.finally(() => this.running.delete(run))
    return player
  }
}
