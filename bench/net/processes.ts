/**
 * Child processes of the net benches: a server under test (ours or a reference) and the load
 * generator, each in its own process. The servers run on serverNode() (bench/machine.ts), the load
 * generator on this process's Node; both run the same code (see Runtime). Every child is
 * stopped by its owner (and killed on exit by ManagedProcess).
 */
import { existsSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { ManagedProcess, runCommand } from '../../app/local/child-process.js'
import { freePort } from '../../app/local/ports.js'
import { serverNode } from '../machine.js'
import { HEADER_BYTES, PING, PONG } from './frames.js'
import type { PingerOptions, PingerResult } from './pinger.js'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * How the children run our TypeScript. `compiled` (default): plain `node` on JavaScript that tsc
 * builds once per bench run into .tmp/bench-build (bench/tsconfig.json) — how the container image
 * runs `dist/app/main.js`. `tsx`: `node --import tsx`, whose module hooks run on a loader thread
 * with its own heap; that thread's idle-time full GCs (8–14 ms each, ~16 s after start) can land in
 * a measurement (on the server's own core when pinned), and production has no such thread.
 */
export type Runtime = 'compiled' | 'tsx'
export const RUNTIMES: readonly Runtime[] = ['compiled', 'tsx']
let runtime: Runtime = 'compiled'
let build: Promise<void> | undefined

export function useRuntime(choice: Runtime): void {
  runtime = choice
}

/** Node arguments that run the repository's TypeScript file `path` (relative to the root) on the chosen runtime. */
export async function scriptArgs(path: string): Promise<string[]> {
  if (runtime === 'tsx') return ['--import', 'tsx', `${REPO_ROOT}${path}`]
  // runCommand rejects with the command and its output when tsc fails.
  build ??= runCommand(`${REPO_ROOT}node_modules/.bin/tsc`, ['-p', `${REPO_ROOT}bench/tsconfig.json`], { cwd: REPO_ROOT, timeoutMs: 120_000 }).then(() => undefined)
  await build
  return [`${REPO_ROOT}.tmp/bench-build/${path.replace(/\.ts$/, '.js')}`]
}

/**
 * ours = npm run serve (or net-only, see ourServerEntry); ours-timer-flush = the same with the count / fill /
 * timer flush policy only (LATENCY_AWARE_FLUSH=false: ≥ 10 frames, 80 % full or the 10 ms timer); ours-net =
 * always the bare GameServer; ours-microtask = that with microtask idle flushes (the default was
 * microtask until the quiet-machine A/B, BENCHMARKS.md).
 */
export type ServerKind = 'ours' | 'ours-timer-flush' | 'ours-net' | 'ours-microtask' | 'coalescing' | 'naive'
export const SERVER_KINDS: readonly ServerKind[] = ['ours', 'ours-timer-flush', 'ours-net', 'ours-microtask', 'coalescing', 'naive']

/** Env for our server in the benches: per-session rate limits lifted (a bench client sends far more than a player). */
const OUR_BENCH_ENV: Readonly<Record<string, string>> = {
  MAX_FRAMES_PER_SECOND: '100000000',
  MAX_BYTES_PER_SECOND: '1000000000',
  LOG_LEVEL: 'warn',
  METRICS_PORT: '0',
  // every benchmark client connects from 127.0.0.1
  MAX_CONNECTIONS_PER_ADDRESS: '0',
}

/** app/main.ts (the composition root, `npm run serve`) once it exists; until then our net layer alone. Paths relative to the root. */
export function ourServerEntry(): { script: string; args: string[]; label: string } {
  if (existsSync(`${REPO_ROOT}app/main.ts`) && process.env.BENCH_OUR_SERVER !== 'net-only') return { script: 'app/main.ts', args: [], label: `npm run serve (app/main.ts${runtime === 'compiled' ? ', compiled as in the image' : ' via tsx'})` }
  return { script: 'bench/references/our-server.ts', args: [], label: 'GameServer, no-op dispatcher (bench/references/our-server.ts)' }
}

export interface RunningServer {
  readonly kind: ServerKind
  readonly port: number
  readonly process: ManagedProcess
  stop(): Promise<void>
}

/**
 * Runs node, or `taskset -c CPUS node` when cpus is given (taskset execs node: same pid): the server
 * and the load generator on cores of their own. The server's helper threads (GC, JIT) then share
 * its one core, and the generator's share the other.
 */
export function nodeCommand(nodeArgs: string[], cpus: string | undefined, node = process.execPath): { command: string; args: string[] } {
  if (cpus === undefined) return { command: node, args: nodeArgs }
  return { command: 'taskset', args: ['-c', cpus, node, ...nodeArgs] }
}

export async function startServer(kind: ServerKind, extraEnv: Record<string, string> = {}, nodeArgs: string[] = [], cpus?: string): Promise<RunningServer> {
  const port = await freePort()
  let script: string
  let args: string[] = []
  if (kind === 'coalescing') script = 'bench/references/coalescing-echo.ts'
  else if (kind === 'naive') script = 'bench/references/naive-server.ts'
  else {
    const entry =
      kind === 'ours-microtask'
        ? { script: 'bench/references/our-server.ts', args: ['--idle-flush', 'microtask'] }
        : kind === 'ours-net'
          ? { script: 'bench/references/our-server.ts', args: [] }
          : ourServerEntry()
    script = entry.script
    args = entry.args
  }
  const kindEnv: Record<string, string> = kind === 'ours-timer-flush' ? { LATENCY_AWARE_FLUSH: 'false' } : {}
  const proc = new ManagedProcess({
    name: `${kind}-server:${port}`,
    ...nodeCommand([...nodeArgs, ...(await scriptArgs(script)), ...args], cpus, serverNode().path),
    cwd: REPO_ROOT,
    env: { ...process.env, ...OUR_BENCH_ENV, GAME_HOST: '127.0.0.1', GAME_PORT: String(port), ...kindEnv, ...extraEnv },
  })
  const ready = await answersPing(port, 30_000, () => proc.running)
  if (!ready) {
    await proc.stop(2000)
    throw proc.startError('never answered a PING on 127.0.0.1:' + port)
  }
  return { kind, port, process: proc, stop: () => proc.stop(5000) }
}

/** Poll until a PING on a fresh connection gets a PONG. */
async function answersPing(port: number, timeoutMs: number, alive: () => boolean = () => true): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline && alive()) {
    if (await pingOnce(port, 1000)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

function pingOnce(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let got = Buffer.alloc(0)
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => {
      const ping = Buffer.alloc(HEADER_BYTES)
      ping.writeUInt16LE(HEADER_BYTES, 0)
      ping.writeUInt16LE(PING, 2)
      ping.writeUInt32LE(1, 4)
      socket.write(ping)
    })
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      if (got.length >= HEADER_BYTES) done(got.readUInt16LE(2) === PONG)
    })
  })
}

export interface MeasuredResult extends PingerResult {
  /** Server process CPU (user + system) per PONG during the measurement, in µs. */
  readonly serverCpuUsPerPong: number
  /** Server CPU seconds / wall seconds during the measurement (1 = one full core). */
  readonly serverCpuShare: number
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
}
const CLOCK_TICKS_PER_SECOND = 100

/** Run the load generator in its own process against `port`; the server's CPU is read at the measurement's start and end. */
export async function runPinger(serverPid: number | undefined, options: Omit<PingerOptions, 'host'>, cpus?: string): Promise<MeasuredResult> {
  let cpuStart = Number.NaN
  let cpuEnd = Number.NaN
  const read = (): number => (serverPid === undefined ? Number.NaN : processCpuSeconds(serverPid))
  const proc = new ManagedProcess({
    name: 'pinger',
    ...nodeCommand([...(await scriptArgs('bench/net/pinger.ts')), JSON.stringify({ host: '127.0.0.1', ...options })], cpus),
    cwd: REPO_ROOT,
    tailLines: 200,
    onLine: (line) => {
      if (line === 'MARK measure-start') cpuStart = read()
      else if (line === 'MARK measure-end') cpuEnd = read()
    },
  })
  await proc.waitForExit()
  const line = proc.output().split('\n').find((l) => l.startsWith('RESULT '))
  if (line === undefined) throw proc.startError('load generator gave no result')
  const result = JSON.parse(line.slice('RESULT '.length)) as PingerResult
  const cpu = cpuEnd - cpuStart
  return { ...result, serverCpuUsPerPong: Math.round((cpu * 1e8) / result.pongs) / 100, serverCpuShare: Math.round((cpu / result.seconds) * 100) / 100 }
}
