/**
 * The zone-replication load generator, run in its own process (pinned to its own core by
 * runner.ts): P players join one zone (or room), then each walks and sends MOVE_RATE moves a
 * second on an absolute schedule while a subset of them (the observers) decode everything they
 * receive and measure how long each other player's move took to reach them (accounting.ts).
 *
 * Phases, each announced on stdout so the parent reads the server's CPU at the boundaries:
 *   join → `MARK joined` → warm-up → `MARK measure-start` → measurement → `MARK measure-end`
 *   → drain (moves keep flowing until every observer saw every move of the window, or the drain
 *   bound) → `RESULT {json}`.
 *
 *   node .tmp/bench-build/bench/zone/generator.js '{"server":"ours","port":7777,"players":200,…}'
 */
import { ColyseusTransport } from './colyseus-transport.js'
import { Samples } from '../stats.js'
import { MoveLog, ObserverTracker, percentileOf, Window } from './accounting.js'
import { OursTransport } from './ours-transport.js'
import { OursWebSocketTransport } from './ours-ws-transport.js'
import type { PlayerKey, PositionSink, ZoneConnection, ZoneTransport } from './transport.js'
import { seededRandom } from '../../app/random.js'
import { encodePosition, moveSlotOf, walkAreaFor, Walker, type Layout } from './workload.js'

export type ProtocolKind = 'ours' | 'ours-ws' | 'colyseus'

export interface GeneratorOptions {
  readonly protocol: ProtocolKind
  readonly host: string
  readonly port: number
  /** Unique per run (our accounts must be new). */
  readonly runId: string
  /** Colyseus only: the room's patch interval, for the label. */
  readonly patchRateMs: number
  readonly players: number
  /** Players that decode everything and measure latency (the rest count bytes and messages). */
  readonly observers: number
  /** Moves per second per player. */
  readonly moveRate: number
  readonly layout: Layout
  readonly zoneSide: number
  /** When > 0: an observer is expected to see only moves within this distance (see accounting.ts). */
  readonly viewRadius: number
  readonly warmupMs: number
  readonly durationMs: number
  /** Upper bound on waiting for late updates of the window's moves after it closed. */
  readonly drainMs: number
  /** Players joining at once. */
  readonly joinConcurrency: number
  /** Seeds the walks: the same seed gives every server the same walks. */
  readonly seed: number
}

export interface GeneratorResult {
  readonly transport: string
  readonly players: number
  readonly observers: number
  readonly joinMs: number
  readonly seconds: number
  /** Moves sent by all players in the window, and per second. */
  readonly movesSent: number
  readonly movesPerSecond: number
  /** How late moves left against their schedule, p99 in ms (the generator's own lag). */
  readonly sendLagP99Ms: number
  /** Observer latency over all seen moves of the window, ms. */
  readonly latencyP50Ms: number
  readonly latencyP90Ms: number
  readonly latencyP99Ms: number
  readonly latencyMaxMs: number
  /** Summed over observers, see ObserverTotals. */
  readonly expected: number
  readonly seen: number
  readonly exact: number
  readonly updates: number
  readonly stale: number
  readonly outsideView: number
  readonly leaves: number
  /** Position updates each observer received per second (moves of the window). */
  readonly updatesPerObserverPerSecond: number
  /** Per connection, all P averaged: bytes and messages received per second during the window. */
  readonly bytesPerClientPerSecond: number
  readonly messagesPerClientPerSecond: number
  /** Refusals received during the window (see ConnectionCounters.movesRefused), and the codes seen in the run. */
  readonly movesRefused: number
  readonly refusalCodes: readonly number[]
  /** Connections that ended before the run did, and the first few reasons. */
  readonly failedConnections: number
  readonly failureReasons: readonly string[]
  /** Time from the end of the window until every expected move was seen, or the drain bound. */
  readonly drainMs: number
  readonly drained: boolean
}

/** Well under our default IDLE_TIMEOUT_MS (60 s). */
const KEEP_ALIVE_MS = 15_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function transportFor(options: GeneratorOptions): ZoneTransport {
  const target = { host: options.host, port: options.port, runId: options.runId }
  if (options.protocol === 'ours') return new OursTransport(target)
  if (options.protocol === 'ours-ws') return new OursWebSocketTransport(target)
  return new ColyseusTransport(target, options.patchRateMs)
}

/** Observer i is player observerIndex(i): spread over the join order. */
function observerIndices(players: number, observers: number): Set<number> {
  const out = new Set<number>()
  for (let i = 0; i < observers; i++) out.add(Math.floor((i * players) / observers))
  return out
}

/**
 * Join every player; each goes to its starting place (`start`) right after joining, as a player
 * walks away from the spawn point, so the spawn point never holds more than the players joining at
 * once (with a view radius, a newcomer at a crowded spawn point would be shown everyone there).
 */
async function joinAll(transport: ZoneTransport, options: GeneratorOptions, sinks: Map<number, PositionSink>, start: (index: number) => { x: number; y: number }): Promise<ZoneConnection[]> {
  const connections: ZoneConnection[] = new Array(options.players)
  let next = 0
  let failure: Error | undefined
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < options.players) {
      const index = next++
      const sink = sinks.get(index)
      try {
        const connection = await transport.join(index, sink === undefined ? 'counter' : 'observer', sink)
        connections[index] = connection
        const { x, y } = start(index)
        connection.sendMove(x, y)
      } catch (err) {
        failure ??= new Error(`player ${index} of ${options.players} could not join: ${(err as Error).message}`, { cause: err })
      }
    }
  }
  // Players who joined first wait for the rest without sending anything: keep them alive.
  const keepAlive = setInterval(() => {
    for (const connection of connections) connection?.keepAlive()
  }, KEEP_ALIVE_MS)
  try {
    await Promise.all(Array.from({ length: Math.min(options.joinConcurrency, options.players) }, worker))
  } finally {
    clearInterval(keepAlive)
  }
  if (failure !== undefined) {
    await Promise.all(connections.filter((c) => c !== undefined).map((c) => c.close()))
    throw failure
  }
  return connections
}

/**
 * Every player keeps its own period from a random phase on an absolute timeline; sorted by phase
 * the send order repeats each period, so one walk round that order sends each move when it falls
 * due (as bench/net/pinger.ts does). It sleeps on a timer until the next move instead of polling,
 * so the generator's CPU time is its real work (a timer fires up to ~1 ms late; the move's send
 * time is taken when it is written, so latency is unaffected).
 */
class Schedule {
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly players: number,
    private readonly intervalMs: number,
    private readonly random: () => number,
    private readonly send: (player: number, lagMs: number) => void,
  ) {}

  start(): void {
    const order = Array.from({ length: this.players }, (_, player) => ({ player, phase: this.random() * this.intervalMs })).sort((a, b) => a.phase - b.phase)
    const t0 = performance.now()
    let period = 0
    let next = 0
    const dueAt = (): number => t0 + period * this.intervalMs + order[next]!.phase
    const pump = (): void => {
      if (this.stopped) return
      const now = performance.now()
      while (dueAt() <= now) {
        this.send(order[next]!.player, now - dueAt())
        if (++next === order.length) {
          next = 0
          period++
        }
      }
      this.timer = setTimeout(pump, Math.max(0, dueAt() - performance.now()))
    }
    pump()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}

async function run(options: GeneratorOptions): Promise<GeneratorResult> {
  const transport = transportFor(options)
  const log = new MoveLog(options.players)
  const window = new Window()
  const latencies = new Samples(1 << 20)
  const sendLag = new Samples(1 << 16)
  const random = seededRandom(options.seed)
  const area = walkAreaFor(options.layout, options.zoneSide)
  const walkers = Array.from({ length: options.players }, () => new Walker(area, random))
  // Exact current positions (what the server was last sent), for the view-radius expectation.
  const currentX = new Float64Array(options.players)
  const currentY = new Float64Array(options.players)

  const indexByKey = new Map<PlayerKey, number>()
  const trackers: ObserverTracker[] = []
  const sinks = new Map<number, PositionSink>()
  for (const index of observerIndices(options.players, Math.min(options.observers, options.players))) {
    const tracker = new ObserverTracker(index, log, window, latencies)
    trackers.push(tracker)
    sinks.set(index, {
      position: (subject, x, y, receivedAt) => {
        const player = indexByKey.get(subject)
        if (player !== undefined) tracker.position(player, moveSlotOf(x, y), receivedAt)
      },
      left: (subject) => {
        const player = indexByKey.get(subject)
        if (player !== undefined) tracker.left(player)
      },
    })
  }

  const joinStarted = performance.now()
  // The starting place: the walker's integer position, which no move of the log encodes before its
  // first step (moveSlotOf gives slot 0, and the tracker ignores slots of players who sent nothing yet).
  const connections = await joinAll(transport, options, sinks, (index) => ({ x: walkers[index]!.x, y: walkers[index]!.y }))
  const joinMs = performance.now() - joinStarted
  connections.forEach((c, index) => indexByKey.set(c.key, index))
  process.stdout.write(`MARK joined ${Math.round(joinMs)}\n`)

  const radius2 = options.viewRadius > 0 ? options.viewRadius * options.viewRadius : Number.POSITIVE_INFINITY
  const send = (player: number, lagMs: number): void => {
    const walker = walkers[player]!
    walker.step()
    const now = performance.now()
    const n = log.record(player, now)
    const { x, y } = encodePosition(walker.x, walker.y, n)
    currentX[player] = x
    currentY[player] = y
    const inWindow = window.contains(now)
    for (const tracker of trackers) {
      const dx = x - currentX[tracker.self]!
      const dy = y - currentY[tracker.self]!
      tracker.expect(player, n, dx * dx + dy * dy <= radius2, inWindow)
    }
    if (inWindow) sendLag.push(lagMs)
    connections[player]!.sendMove(x, y)
  }
  const schedule = new Schedule(options.players, 1000 / options.moveRate, random, send)
  schedule.start()

  try {
    await sleep(options.warmupMs)
    const before = connections.map((c) => ({ bytes: c.counters.bytesIn, messages: c.counters.messagesIn, refused: c.counters.movesRefused }))
    window.start = performance.now()
    process.stdout.write('MARK measure-start\n')
    await sleep(options.durationMs)
    window.end = performance.now()
    process.stdout.write('MARK measure-end\n')
    const seconds = (window.end - window.start) / 1000
    let bytes = 0
    let messages = 0
    let refused = 0
    connections.forEach((c, i) => {
      bytes += c.counters.bytesIn - before[i]!.bytes
      messages += c.counters.messagesIn - before[i]!.messages
      refused += c.counters.movesRefused - before[i]!.refused
    })

    // Drain: the load goes on (the server's state stays as it was) until the window's moves are all seen.
    const drainStarted = performance.now()
    const pending = (): number => trackers.reduce((sum, t) => sum + t.pending, 0)
    while (pending() > 0 && performance.now() - drainStarted < options.drainMs) await sleep(20)
    const drainMs = performance.now() - drainStarted
    schedule.stop()

    const sum = (f: (t: ObserverTracker) => number): number => trackers.reduce((acc, t) => acc + f(t), 0)
    const sorted = latencies.sorted()
    const sortedLag = sendLag.sorted()
    const failed = connections.filter((c) => c.failure !== undefined)
    const r2 = (v: number): number => Math.round(v * 100) / 100
    const movesSent = sortedLag.length
    return {
      transport: transport.label,
      players: options.players,
      observers: trackers.length,
      joinMs: Math.round(joinMs),
      seconds: r2(seconds),
      movesSent,
      movesPerSecond: Math.round(movesSent / seconds),
      sendLagP99Ms: r2(percentileOf(sortedLag, 0.99)),
      latencyP50Ms: r2(percentileOf(sorted, 0.5)),
      latencyP90Ms: r2(percentileOf(sorted, 0.9)),
      latencyP99Ms: r2(percentileOf(sorted, 0.99)),
      latencyMaxMs: r2(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN),
      expected: sum((t) => t.totals.expected),
      seen: sum((t) => t.totals.seen),
      exact: sum((t) => t.totals.exact),
      updates: sum((t) => t.totals.updates),
      stale: sum((t) => t.totals.stale),
      outsideView: sum((t) => t.totals.outsideView),
      leaves: sum((t) => t.totals.leaves),
      updatesPerObserverPerSecond: Math.round(sum((t) => t.totals.updates) / Math.max(1, trackers.length) / seconds),
      bytesPerClientPerSecond: Math.round(bytes / options.players / seconds),
      messagesPerClientPerSecond: r2(messages / options.players / seconds),
      movesRefused: refused,
      refusalCodes: [...new Set(connections.map((c) => c.counters.lastRefusalCode).filter((code) => code !== 0))],
      failedConnections: failed.length,
      failureReasons: [...new Set(failed.map((c) => c.failure!))].slice(0, 3),
      drainMs: Math.round(drainMs),
      drained: pending() === 0,
    }
  } finally {
    schedule.stop()
    await Promise.race([Promise.all(connections.map((c) => c.close())), sleep(5000)])
  }
}

if (/generator\.[jt]s$/.test(process.argv[1] ?? '') && process.argv[2] !== undefined) {
  run(JSON.parse(process.argv[2]) as GeneratorOptions).then(
    (result) => {
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (err: unknown) => {
      process.stderr.write(`zone generator failed: ${String((err as Error)?.stack ?? err)}\n`)
      process.exit(1)
    },
  )
}
