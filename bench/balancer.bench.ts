/**
 * Our balancer against HAProxy (TCP mode) on the same 3 game-server backends, in one run:
 *
 *   npx tsx bench/balancer.bench.ts [--seconds 1] [--slices 4] [--connections 64] [--inflight 16]
 *                                   [--latency-connections 16] [--haproxy-threads 1] [--perf]
 *
 * Processes: backends (bench/balancer-backends.ts), our balancer (app/cli/balance.ts, production
 * defaults incl. telemetry), haproxy (/usr/sbin/haproxy, generated cfg in a temp dir), and this
 * process as the load generator. Three targets — direct (clients spread over the backends), ours,
 * haproxy — measured in interleaved slices (A B C, B C A, …) so that load from other processes on a
 * shared machine hits each alike:
 *   throughput  `connections` × `inflight` PINGs kept in flight (closed loop) → PONG/s
 *   latency     `latency-connections` × 1 in flight (moderate load) → p50 / p99 RTT
 *   setup rate  16 workers doing connect → PING → PONG → close → sessions/s
 * Also: each proxy's CPU time per 1000 PONGs (from /proc), and with `--perf` its syscalls per PONG.
 * Prints machine facts, every number, and the ratios ours / haproxy.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { freePort, waitUntil } from '../app/local/ports.js'
import { canConnect } from '../app/tcp.js'
import { encodeFrame } from '../app/protocol/header.js'
import { FrameType } from '../app/protocol/types.js'
import { describeMachine, serverNode } from './machine.js'
import { median } from './stats.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    connections: { type: 'string', default: '64' },
    inflight: { type: 'string', default: '16' },
    'latency-connections': { type: 'string', default: '16' },
    'haproxy-threads': { type: 'string', default: '1' },
    haproxy: { type: 'string', default: '/usr/sbin/haproxy' },
    slices: { type: 'string', default: '4' },
    perf: { type: 'boolean', default: false },
  },
})
const SECONDS = Number(args.seconds)
const CONNECTIONS = Number(args.connections)
const INFLIGHT = Number(args.inflight)
const LATENCY_CONNECTIONS = Number(args['latency-connections'])
const SLICES = Number(args.slices)
const SETUP_WORKERS = 16
const PING = encodeFrame(FrameType.PING, 1, 0, Buffer.alloc(16, 7))
/** INFLIGHT PINGs back to back: a client writes all the PINGs of one turn in one write, like app/client does. */
const PINGS = Buffer.concat(Array.from({ length: Math.max(INFLIGHT, 1) }, () => PING))
const ROOT = new URL('../', import.meta.url).pathname

interface Target {
  readonly name: string
  readonly ports: readonly number[]
  /** The proxy process (CPU time and syscalls are read from /proc). */
  readonly pid?: number | undefined
}

interface ProcessUsage {
  readonly cpuMs: number
  readonly readCalls: number
  readonly writeCalls: number
}

/** Syscalls of `pid` for `seconds` by perf tracepoints (diagnostic, `--perf`). */
async function countSyscalls(pid: number, seconds: number): Promise<Record<string, number>> {
  const names = ['read', 'recvfrom', 'write', 'writev', 'sendto', 'epoll_wait', 'epoll_pwait', 'epoll_ctl', 'futex']
  const events = [...names.map((n) => `syscalls:sys_enter_${n}`), 'raw_syscalls:sys_enter']
  const child = spawn('perf', ['stat', '-x', ',', ...events.flatMap((e) => ['-e', e]), '-p', String(pid), '--', 'sleep', String(seconds)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let text = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (text += d))
  const failed = await new Promise<boolean>((resolve) => {
    child.once('exit', () => resolve(false))
    child.once('error', () => resolve(true)) // perf not installed: no counts
  })
  if (failed) return {}
  const counts: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const [value, , event] = line.split(',')
    const name = event === 'raw_syscalls:sys_enter' ? 'all' : event?.replace('syscalls:sys_enter_', '')
    if (name && Number(value) > 0) counts[name] = Number(value)
  }
  return counts
}

/** CPU time (user + system) and read/write syscall counts of a process, from /proc. */
async function usageOf(pid: number | undefined): Promise<ProcessUsage | null> {
  if (pid === undefined) return null
  try {
    const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    const io = await readFile(`/proc/${pid}/io`, 'utf8')
    const field = (name: string): number => Number(new RegExp(`${name}: (\\d+)`).exec(io)?.[1] ?? NaN)
    const ticks = Number(stat[11]) + Number(stat[12])
    return { cpuMs: (ticks * 1000) / 100, readCalls: field('syscr'), writeCalls: field('syscw') }
  } catch {
    return null
  }
}

interface Result {
  readonly throughputPerSecond: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly loadedP99Ms: number
  readonly setupPerSecond: number
  readonly errors: number
  /** Proxy CPU ms per 1000 PONGs in the throughput phase (null for direct). */
  readonly cpuMsPer1000: number | null
}

/** One connection that keeps `inflight` PINGs outstanding and records each RTT. */
class Pinger {
  private readonly sentAt: Float64Array
  private head = 0
  private tail = 0
  private leftover: Buffer | null = null
  pongs = 0
  outstanding = 0
  stopped = true
  /** Record round trips only while measuring (not during warm-up and drain). */
  measuring = false
  readonly ready: Promise<void>

  constructor(
    readonly socket: Socket,
    private readonly inflight: number,
    private readonly rtts: number[] | null,
  ) {
    this.sentAt = new Float64Array(inflight + 1)
    socket.setNoDelay(true)
    this.ready = once(socket, 'connect').then(() => undefined)
    socket.on('data', (chunk: Buffer) => this.received(chunk))
    socket.on('error', () => {})
  }

  start(): void {
    this.stopped = false
    if (this.inflight > this.outstanding) this.send(this.inflight - this.outstanding)
  }

  private send(count: number): void {
    const now = performance.now()
    for (let i = 0; i < count; i++) {
      this.sentAt[this.tail] = now
      this.tail = (this.tail + 1) % this.sentAt.length
    }
    this.outstanding += count
    this.socket.write(PINGS.subarray(0, count * PING.length))
  }

  private received(chunk: Buffer): void {
    let buf = this.leftover ? Buffer.concat([this.leftover, chunk]) : chunk
    let offset = 0
    let answered = 0
    while (buf.length - offset >= 2) {
      const size = buf.readUInt16LE(offset)
      if (buf.length - offset < size) break
      if (buf.readUInt16LE(offset + 2) === FrameType.PONG) {
        const now = performance.now()
        const rtt = now - this.sentAt[this.head]!
        this.head = (this.head + 1) % this.sentAt.length
        this.pongs++
        this.outstanding--
        if (this.measuring && this.rtts !== null && this.rtts.length < 2_000_000) this.rtts.push(rtt)
        answered++
      }
      offset += size
    }
    if (answered > 0 && !this.stopped) this.send(answered)
    this.leftover = offset < buf.length ? Buffer.from(buf.subarray(offset)) : null
    buf = Buffer.alloc(0)
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

interface PhaseTotals {
  pongs: number
  seconds: number
  cpuMs: number
  rtts: number[]
  /** Throughput of each slice, to compare targets slice by slice. */
  slicePerSecond: number[]
}

/**
 * Closed-loop PING load on every target, interleaved in short slices (target A, B, C, then B, C,
 * A, …) so that the other processes' load on this shared machine hits every target alike. Each
 * slice: start the target's connections, 100 ms warm-up, measure `sliceSeconds`, stop and wait for
 * the PINGs in flight to come back.
 */
async function interleavedPingPhase(targets: readonly Target[], connections: number, inflight: number, slices: number, sliceSeconds: number): Promise<Map<string, PhaseTotals>> {
  const sets = new Map<string, Pinger[]>()
  const totals = new Map<string, PhaseTotals>()
  for (const target of targets) {
    const rtts: number[] = []
    const pingers: Pinger[] = []
    for (let i = 0; i < connections; i++) pingers.push(new Pinger(connect({ host: '127.0.0.1', port: target.ports[i % target.ports.length]! }), inflight, rtts))
    sets.set(target.name, pingers)
    totals.set(target.name, { pongs: 0, seconds: 0, cpuMs: 0, rtts, slicePerSecond: [] })
  }
  await Promise.all([...sets.values()].flat().map((p) => p.ready))
  const syscallTotals = new Map<string, Record<string, number>>()
  for (let slice = 0; slice < slices; slice++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(slice + k) % targets.length]!
      const pingers = sets.get(target.name)!
      const total = totals.get(target.name)!
      for (const p of pingers) p.start()
      await sleep(100)
      const before = pingers.reduce((n, p) => n + p.pongs, 0)
      const usageBefore = await usageOf(target.pid)
      const syscalls = args.perf && target.pid !== undefined && inflight > 1 ? countSyscalls(target.pid, sliceSeconds) : null
      for (const p of pingers) p.measuring = true
      const started = performance.now()
      await sleep(sliceSeconds * 1000)
      const elapsed = (performance.now() - started) / 1000
      const pongs = pingers.reduce((n, p) => n + p.pongs, 0) - before
      for (const p of pingers) {
        p.measuring = false
        p.stopped = true
      }
      const usageAfter = await usageOf(target.pid)
      total.pongs += pongs
      total.seconds += elapsed
      total.slicePerSecond.push(pongs / elapsed)
      if (usageBefore && usageAfter) total.cpuMs += usageAfter.cpuMs - usageBefore.cpuMs
      if (syscalls !== null) {
        const counts = await syscalls
        const sum = syscallTotals.get(target.name) ?? {}
        for (const [name, n] of Object.entries(counts)) sum[name] = (sum[name] ?? 0) + n
        syscallTotals.set(target.name, sum)
      }
      const drainDeadline = performance.now() + 1000
      while (pingers.some((p) => p.outstanding > 0) && performance.now() < drainDeadline) await sleep(5)
    }
  }
  for (const pingers of sets.values()) for (const p of pingers) p.socket.destroy()
  for (const [name, counts] of syscallTotals) {
    const pongs = totals.get(name)!.pongs
    process.stdout.write(`  ${name} syscalls per PONG: ${Object.entries(counts).map(([k, v]) => `${k} ${(v / pongs).toFixed(3)}`).join(', ')}\n`)
  }
  for (const total of totals.values()) total.rtts.sort((a, b) => a - b)
  return totals
}

async function setupPhase(target: Target, seconds: number): Promise<{ perSecond: number; errors: number }> {
  const deadline = performance.now() + seconds * 1000
  let done = 0
  let errors = 0
  let next = 0
  const oneSession = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true })
      const timer = setTimeout(() => finish(false), 3000)
      const finish = (ok: boolean): void => {
        clearTimeout(timer)
        socket.destroy()
        resolve(ok)
      }
      socket.once('connect', () => socket.write(PING))
      socket.once('data', (chunk: Buffer) => finish(chunk.length >= 12 && chunk.readUInt16LE(2) === FrameType.PONG))
      socket.once('error', () => finish(false))
    })
  await Promise.all(
    Array.from({ length: SETUP_WORKERS }, async () => {
      while (performance.now() < deadline) {
        if (await oneSession(target.ports[next++ % target.ports.length]!)) done++
        else errors++
      }
    }),
  )
  return { perSecond: done / seconds, errors }
}

async function interleavedSetupPhase(targets: readonly Target[], slices: number, sliceSeconds: number): Promise<Map<string, { perSecond: number; errors: number }>> {
  const sums = new Map(targets.map((t) => [t.name, { sessions: 0, seconds: 0, errors: 0 }]))
  for (let slice = 0; slice < slices; slice++) {
    for (let k = 0; k < targets.length; k++) {
      const target = targets[(slice + k) % targets.length]!
      const result = await setupPhase(target, sliceSeconds)
      const sum = sums.get(target.name)!
      sum.sessions += result.perSecond * sliceSeconds
      sum.seconds += sliceSeconds
      sum.errors += result.errors
    }
  }
  return new Map([...sums].map(([name, s]) => [name, { perSecond: s.sessions / s.seconds, errors: s.errors }]))
}

function spawnChild(name: string, command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let tail = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (tail = (tail + d).slice(-2000)))
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`${name} exited (${signal ?? code}): ${tail}\n`)
  })
  children.push(child)
  return child
}

const children: ChildProcess[] = []
let stopping = false

async function stopAll(): Promise<void> {
  stopping = true
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }),
  )
}

async function main(): Promise<void> {
  process.stdout.write(`machine: ${describeMachine()}\n`)
  process.stdout.write(`load: throughput ${CONNECTIONS} connections × ${INFLIGHT} PINGs in flight, latency ${LATENCY_CONNECTIONS} × 1, setup ${SETUP_WORKERS} workers; ${SECONDS} s per throughput phase; haproxy nbthread ${args['haproxy-threads']}\n`)
  process.stdout.write('note: the machine is shared with other engineers\' builds and tests; compare the ratios, not the absolute numbers\n')

  const backendsProcess = spawnChild('backends', process.execPath, ['--import', 'tsx', 'bench/balancer-backends.ts', '3'])
  const [line] = (await once(createInterface({ input: backendsProcess.stdout! }), 'line')) as [string]
  const backendPorts = (JSON.parse(line) as { ports: number[] }).ports

  const oursPort = await freePort()
  const nodeArgs = (process.env.BENCH_BALANCER_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const oursProcess = spawnChild('balancer', serverNode().path, [...nodeArgs, '--import', 'tsx', 'app/cli/balance.ts'], {
    ...process.env,
    BACKENDS: backendPorts.map((p) => `127.0.0.1:${p}`).join(','),
    BALANCER_HOST: '127.0.0.1',
    BALANCER_PORT: String(oursPort),
    BALANCER_ADMIN_PORT: '0',
    METRICS_PORT: '0',
    ...(process.env.BENCH_METRICS_ENABLED ? { METRICS_ENABLED: process.env.BENCH_METRICS_ENABLED } : {}),
    BALANCE_STRATEGY: 'least-connections',
    LOG_LEVEL: 'warn',
    // every benchmark client connects from 127.0.0.1
    BALANCER_MAX_CONNECTIONS_PER_ADDRESS: '0',
  })

  const haproxyPort = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'gs-haproxy-'))
  const cfg = [
    'global',
    '  maxconn 8000',
    `  nbthread ${args['haproxy-threads']}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 300s',
    '  timeout server 300s',
    'frontend game',
    `  bind 127.0.0.1:${haproxyPort}`,
    '  default_backend servers',
    'backend servers',
    '  balance leastconn',
    ...backendPorts.map((p, i) => `  server s${i} 127.0.0.1:${p} check inter 2s rise 2 fall 3`),
    '',
  ].join('\n')
  await writeFile(join(dir, 'haproxy.cfg'), cfg)
  const haproxyProcess = spawnChild('haproxy', args.haproxy!, ['-db', '-f', join(dir, 'haproxy.cfg')])

  try {
    for (const port of [oursPort, haproxyPort]) {
      await waitUntil(() => canConnect('127.0.0.1', port, 200), { what: `proxy on ${port}`, timeoutMs: 20_000, abortIf: () => (stopping || children.some((c) => c.exitCode !== null) ? 'a child exited' : undefined) })
    }
    const targets: Target[] = [{ name: 'direct', ports: backendPorts }, { name: 'ours', ports: [oursPort], pid: oursProcess.pid }, { name: 'haproxy', ports: [haproxyPort], pid: haproxyProcess.pid }]
    process.stdout.write(`throughput: ${SLICES} interleaved slices of ${SECONDS} s per target…\n`)
    const load = await interleavedPingPhase(targets, CONNECTIONS, INFLIGHT, SLICES, SECONDS)
    process.stdout.write(`latency: ${SLICES} interleaved slices of ${SECONDS / 2} s per target…\n`)
    const moderate = await interleavedPingPhase(targets, LATENCY_CONNECTIONS, 1, SLICES, SECONDS / 2)
    process.stdout.write(`setup: ${SLICES} interleaved slices of ${SECONDS / 2} s per target…\n`)
    const setups = await interleavedSetupPhase(targets, SLICES, SECONDS / 2)
    const resultOf = (name: string): Result => {
      const t = load.get(name)!
      const m = moderate.get(name)!
      const s = setups.get(name)!
      return {
        throughputPerSecond: t.pongs / t.seconds,
        loadedP99Ms: percentile(t.rtts, 99),
        p50Ms: percentile(m.rtts, 50),
        p99Ms: percentile(m.rtts, 99),
        setupPerSecond: s.perSecond,
        errors: s.errors,
        cpuMsPer1000: targets.find((x) => x.name === name)!.pid === undefined ? null : (t.cpuMs / t.pongs) * 1000,
      }
    }
    const direct = resultOf('direct')
    const ours = resultOf('ours')
    const haproxy = resultOf('haproxy')
    process.stdout.write('\n')
    for (const [name, r] of [['direct', direct], ['ours', ours], ['haproxy', haproxy]] as const) {
      process.stdout.write(
        `${name.padEnd(8)} ${Math.round(r.throughputPerSecond).toString().padStart(7)} PONG/s (p99 under load ${r.loadedP99Ms.toFixed(1)} ms) · moderate load p50 ${r.p50Ms.toFixed(3)} ms p99 ${r.p99Ms.toFixed(3)} ms · setup ${Math.round(r.setupPerSecond)}/s${r.errors ? ` (${r.errors} errors)` : ''}` +
          `${r.cpuMsPer1000 === null ? '' : ` · proxy CPU ${r.cpuMsPer1000.toFixed(2)} ms per 1000 PONGs`}\n`,
      )
    }
    const sliceRatios = load.get('ours')!.slicePerSecond.map((v, i) => v / load.get('haproxy')!.slicePerSecond[i]!)
    process.stdout.write(`per-slice throughput ratios ours / haproxy: ${sliceRatios.map((r) => `${(r * 100).toFixed(0)}%`).join(' ')} (median ${(median(sliceRatios) * 100).toFixed(1)} %)\n`)
    const pct = (x: number): string => `${(x * 100).toFixed(1)} %`
    process.stdout.write(`throughput ours / haproxy: ${pct(ours.throughputPerSecond / haproxy.throughputPerSecond)} (target ≥ 70 %); ours / direct ${pct(ours.throughputPerSecond / direct.throughputPerSecond)}, haproxy / direct ${pct(haproxy.throughputPerSecond / direct.throughputPerSecond)}\n`)
    process.stdout.write(`added p99 latency vs direct (moderate load): ours +${(ours.p99Ms - direct.p99Ms).toFixed(3)} ms, haproxy +${(haproxy.p99Ms - direct.p99Ms).toFixed(3)} ms\n`)
    process.stdout.write(`added p50 latency vs direct (moderate load): ours +${(ours.p50Ms - direct.p50Ms).toFixed(3)} ms, haproxy +${(haproxy.p50Ms - direct.p50Ms).toFixed(3)} ms\n`)
    if (ours.cpuMsPer1000 !== null && haproxy.cpuMsPer1000 !== null) {
      process.stdout.write(`proxy CPU per 1000 PONGs: ours ${ours.cpuMsPer1000.toFixed(2)} ms, haproxy ${haproxy.cpuMsPer1000.toFixed(2)} ms (haproxy / ours ${pct(haproxy.cpuMsPer1000 / ours.cpuMsPer1000)} — the load-independent efficiency ratio)\n`)
    }
    process.stdout.write(`connection setup rate ours / haproxy: ${pct(ours.setupPerSecond / haproxy.setupPerSecond)} (${Math.round(ours.setupPerSecond)}/s vs ${Math.round(haproxy.setupPerSecond)}/s; direct ${Math.round(direct.setupPerSecond)}/s)\n`)
    process.stdout.write(`RESULT ${JSON.stringify({ direct, ours, haproxy, sliceRatioMedian: median(sliceRatios) })}\n`)
  } finally {
    await stopAll()
    await rm(dir, { recursive: true, force: true })
  }
}

main().then(
  () => process.exit(0),
  async (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`)
    await stopAll()
    process.exit(1)
  },
)
