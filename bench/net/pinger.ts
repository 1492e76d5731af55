/**
 * The load generator of the hot-path bench, run in its own process: N connections × K PINGs in
 * flight, pipelined (every PONG is answered with the next PING; all PINGs a socket read triggers
 * leave in one write). Records each PONG's RTT after a warm-up; prints one `RESULT {json}` line.
 *
 *   node --import tsx bench/net/pinger.ts '{"port":7777,"connections":100,"inFlight":16,...}'
 *   (the benches run the compiled copy, see Runtime in processes.ts)
 */
import { connect, type Socket } from 'node:net'
import { Samples } from '../stats.js'
import { FrameSplitter, HEADER_BYTES, PING, PONG } from './frames.js'

export interface PingerOptions {
  readonly host: string
  readonly port: number
  readonly connections: number
  readonly inFlight: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly payloadBytes: number
  /** PINGs per second per connection; 0 (default) = closed loop, the next PING as soon as a PONG arrives. */
  readonly ratePerConnection?: number
  /**
   * Paced mode only. `schedule` (default): every connection keeps its own fixed period from a random
   * phase on an absolute timeline, and one scheduler sends each PING when it falls due, polling the
   * event loop between sends (this process then uses a whole core). `timers`: one `setInterval` per
   * connection, the earlier generator — Node re-arms every interval that fires in one timer pass from
   * the same loop time, so the phases collapse and the connections send in bursts (up to ~45 PINGs in
   * one turn at 100 × 100/s), which measures burst queueing rather than 100 independent clients.
   */
  readonly pacing?: 'schedule' | 'timers'
}

export interface PingerResult {
  readonly connections: number
  readonly inFlight: number
  readonly pongs: number
  readonly seconds: number
  readonly pongsPerSecond: number
  /** RTT percentiles in ms. */
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly p999: number
  readonly max: number
  readonly connectMs: number
  readonly errors: number
  /** Paced mode: ticks where the connection still had inFlight PINGs outstanding (the server fell behind). */
  readonly skipped: number
  /** Paced mode: PINGs written in one event-loop turn (the generator's burstiness), p99 and max. */
  readonly burstP99: number
  readonly burstMax: number
  /** Paced `schedule` mode: how late PINGs left against their due time, p99 in ms (the generator's own lag). */
  readonly sendLagP99: number
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

async function run(options: PingerOptions): Promise<PingerResult> {
  const frameBytes = HEADER_BYTES + options.payloadBytes
  const template = Buffer.alloc(frameBytes, 0x70)
  template.writeUInt16LE(frameBytes, 0)
  template.writeUInt16LE(PING, 2)
  template.writeUInt32LE(0, 8)
  const samples = new Samples(1 << 20)
  // The warm-up records exactly as the measurement does (same code path, same memory touched), and
  // the counters are reset when the measurement starts: a path first taken at that moment would
  // deoptimise and re-optimise the generator inside the measured window.
  let phase: 'warmup' | 'measure' | 'done' = 'warmup'
  let pongs = 0
  let errors = 0
  let measureStart = performance.now()
  let skipped = 0
  const rate = options.ratePerConnection ?? 0
  const timers: NodeJS.Timeout[] = []
  const pacing = options.pacing ?? 'schedule'
  // Paced mode: PINGs written per event-loop turn, to show whether the sends stay spread out.
  const bursts = new Samples(1 << 14)
  let burst = 0
  const endBurst = (): void => {
    if (phase !== 'done') bursts.push(burst)
    burst = 0
  }
  const sendLag = new Samples(1 << 16)
  let schedulerSleep: NodeJS.Timeout | undefined
  /** Paced mode: one PING on connection i unless it already has inFlight outstanding; false when skipped. */
  const senders: Array<() => boolean> = []

  const connectStarted = performance.now()
  const sockets = await Promise.all(
    Array.from({ length: options.connections }, () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect({ host: options.host, port: options.port, noDelay: true })
        socket.once('connect', () => resolve(socket))
        socket.once('error', reject)
      }),
    ),
  )
  const connectMs = performance.now() - connectStarted

  for (const socket of sockets) {
    const sentAt = new Float64Array(options.inFlight) // FIFO ring: the server answers in order
    let head = 0
    let tail = 0
    let seq = 0
    const splitter = new FrameSplitter()
    const pings = (n: number, now: number): Buffer => {
      const out = Buffer.allocUnsafe(n * frameBytes)
      for (let i = 0; i < n; i++) {
        template.copy(out, i * frameBytes)
        out.writeUInt32LE((seq = (seq + 1) >>> 0), i * frameBytes + 4)
        sentAt[tail] = now
        tail = (tail + 1) % options.inFlight
      }
      return out
    }
    socket.on('error', () => errors++)
    socket.on('close', () => {
      if (phase !== 'done') errors++
    })
    socket.on('data', (chunk: Buffer) => {
      const now = performance.now()
      let answered = 0
      splitter.push(chunk, (buf, start) => {
        if ((buf[start + 2]! | (buf[start + 3]! << 8)) !== PONG) return
        const sent = sentAt[head]!
        head = (head + 1) % options.inFlight
        // Only PINGs sent during the measurement count (not ones delayed by connect or warm-up).
        if (phase !== 'done' && sent >= measureStart) {
          samples.push(now - sent)
          pongs++
        }
        answered++
      })
      outstanding -= answered
      if (rate === 0 && answered > 0 && phase !== 'done') {
        socket.write(pings(answered, performance.now()))
        outstanding += answered
      }
    })
    let outstanding = 0
    if (rate === 0) {
      socket.write(pings(options.inFlight, performance.now()))
      outstanding = options.inFlight
    } else {
      senders.push(() => {
        if (outstanding >= options.inFlight) {
          if (phase !== 'done') skipped++
          return false
        }
        socket.write(pings(1, performance.now()))
        outstanding++
        if (burst++ === 0) setImmediate(endBurst)
        return true
      })
    }
  }
  if (rate > 0 && pacing === 'timers') {
    // One setInterval per connection, start times spread over the first interval (see PingerOptions.pacing).
    const intervalMs = 1000 / rate
    for (const send of senders) {
      const tick = (): void => {
        if (phase !== 'done') send()
      }
      timers.push(setTimeout(() => timers.push(setInterval(tick, intervalMs)), Math.random() * intervalMs))
    }
  } else if (rate > 0) {
    // Every connection has the same period, so sorted by phase the send order repeats each period:
    // walk it round and round on the absolute timeline (no drift, nothing merges), sending what is due.
    const intervalMs = 1000 / rate
    const order = senders.map((send) => ({ send, phase: Math.random() * intervalMs })).sort((a, b) => a.phase - b.phase)
    const t0 = performance.now()
    let period = 0
    let next = 0
    const dueAt = (): number => t0 + period * intervalMs + order[next]!.phase
    const pump = (): void => {
      if (phase === 'done') return
      const now = performance.now()
      while (dueAt() <= now) {
        const lag = now - dueAt()
        if (order[next]!.send()) sendLag.push(lag)
        if (++next === order.length) {
          next = 0
          period++
        }
      }
      // Poll the loop (PONGs arrive meanwhile) until the next PING is due; sleep when it is far off.
      const wait = dueAt() - performance.now()
      if (wait > 2) schedulerSleep = setTimeout(pump, wait - 1)
      else setImmediate(pump)
    }
    pump()
  }

  await new Promise((r) => setTimeout(r, options.warmupMs))
  // Room for the whole measurement at the warm-up's rate (+50 %), so no copy lands inside it.
  const warmupRate = samples.length / Math.max(0.001, (performance.now() - measureStart) / 1000)
  samples.reserve(Math.ceil((warmupRate * options.durationMs * 1.5) / 1000))
  phase = 'measure'
  process.stdout.write('MARK measure-start\n')
  const started = performance.now()
  measureStart = started
  samples.length = 0
  bursts.length = 0
  sendLag.length = 0
  pongs = 0
  skipped = 0
  await new Promise((r) => setTimeout(r, options.durationMs))
  const seconds = (performance.now() - started) / 1000
  phase = 'done'
  process.stdout.write('MARK measure-end\n')
  for (const timer of timers) clearTimeout(timer)
  clearTimeout(schedulerSleep)
  for (const socket of sockets) socket.destroy()
  const sorted = samples.sorted()
  const r3 = (v: number): number => Math.round(v * 1000) / 1000
  const sortedBursts = bursts.sorted()
  const sortedLag = sendLag.sorted()
  return {
    connections: options.connections,
    inFlight: options.inFlight,
    pongs,
    seconds: r3(seconds),
    pongsPerSecond: Math.round(pongs / seconds),
    p50: r3(percentile(sorted, 0.5)),
    p90: r3(percentile(sorted, 0.9)),
    p99: r3(percentile(sorted, 0.99)),
    p999: r3(percentile(sorted, 0.999)),
    max: r3(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN),
    connectMs: Math.round(connectMs),
    errors,
    skipped,
    burstP99: sortedBursts.length > 0 ? percentile(sortedBursts, 0.99) : 0,
    burstMax: sortedBursts.length > 0 ? sortedBursts[sortedBursts.length - 1]! : 0,
    sendLagP99: sortedLag.length > 0 ? r3(percentile(sortedLag, 0.99)) : 0,
  }
}

if (/pinger\.[jt]s$/.test(process.argv[1] ?? '') && process.argv[2] !== undefined) {
  const options = { host: '127.0.0.1', ...(JSON.parse(process.argv[2]) as Partial<PingerOptions>) } as PingerOptions
  run(options).then(
    (result) => {
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
      process.exit(0)
    },
    (err: unknown) => {
      process.stderr.write(`pinger failed: ${String((err as Error)?.stack ?? err)}\n`)
      process.exit(1)
    },
  )
}
