/**
 * The load generator of the hot-path bench, run in its own process: N connections × K PINGs in
 * flight, pipelined (every PONG is answered with the next PING; all PINGs a socket read triggers
 * leave in one write). Records each PONG's RTT after a warm-up; prints one `RESULT {json}` line.
 *
 *   node --import tsx bench/net/pinger.ts '{"port":7777,"connections":100,"inFlight":16,...}'
 */
import { connect, type Socket } from 'node:net'
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
}

class Samples {
  private data = new Float64Array(1 << 20)
  length = 0
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.length++] = value
  }
  sorted(): Float64Array {
    return this.data.subarray(0, this.length).sort()
  }
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

async function run(options: PingerOptions): Promise<PingerResult> {
  const frameBytes = HEADER_BYTES + options.payloadBytes
  const template = Buffer.alloc(frameBytes, 0x70)
  template.writeUInt16LE(frameBytes, 0)
  template.writeUInt16LE(PING, 2)
  template.writeUInt32LE(0, 8)
  const samples = new Samples()
  let phase: 'warmup' | 'measure' | 'done' = 'warmup'
  let pongs = 0
  let errors = 0
  let measureStart = Number.POSITIVE_INFINITY
  let skipped = 0
  const rate = options.ratePerConnection ?? 0
  const timers: NodeJS.Timeout[] = []

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
        if (phase === 'measure' && sent >= measureStart) {
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
      // Paced: one PING per 1/rate s per connection, start times spread over the first interval.
      const intervalMs = 1000 / rate
      const tick = (): void => {
        if (phase === 'done') return
        if (outstanding >= options.inFlight) {
          if (phase === 'measure') skipped++
          return
        }
        socket.write(pings(1, performance.now()))
        outstanding++
      }
      const start = setTimeout(() => timers.push(setInterval(tick, intervalMs)), Math.random() * intervalMs)
      timers.push(start)
    }
  }

  await new Promise((r) => setTimeout(r, options.warmupMs))
  phase = 'measure'
  process.stdout.write('MARK measure-start\n')
  const started = performance.now()
  measureStart = started
  await new Promise((r) => setTimeout(r, options.durationMs))
  const seconds = (performance.now() - started) / 1000
  phase = 'done'
  process.stdout.write('MARK measure-end\n')
  for (const timer of timers) clearTimeout(timer)
  for (const socket of sockets) socket.destroy()
  const sorted = samples.sorted()
  const r3 = (v: number): number => Math.round(v * 1000) / 1000
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
  }
}

if (process.argv[1]?.endsWith('pinger.ts') && process.argv[2] !== undefined) {
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
