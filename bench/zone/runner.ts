/**
 * One cell of the zone-replication bench: a fresh server, the generator in its own process, and
 * the server's and the generator's CPU time read from /proc at the generator's measurement marks
 * (robust to other load on the machine: it is the CPU each process used, not what it was offered).
 */
import { readFileSync } from 'node:fs'
import { ManagedProcess } from '../../app/local/child-process.js'
import { nodeCommand, processCpuSeconds, REPO_ROOT, scriptArgs } from '../net/processes.js'
import type { GeneratorOptions, GeneratorResult } from './generator.js'
import { startZoneServer, type ZoneServerSetup, type ZoneServerSpec } from './servers.js'

export interface CellResult extends GeneratorResult {
  readonly server: string
  /** Server CPU seconds per wall second during the window (1 = one full core). */
  readonly serverCpuShare: number
  /** Server resident set size at the end of the window, MiB. */
  readonly serverRssMiB: number
  /** Generator CPU seconds per wall second during the window. */
  readonly generatorCpuShare: number
  /**
   * Share of the window the server's / generator's main thread was runnable but waiting for a CPU
   * (run_delay of /proc/<pid>/schedstat): another process on its core, or its own helper threads
   * (GC, libuv pool), which share the pinned core. Well above a few per cent the process was
   * starved, and its latencies (and how much it could batch) reflect the machine.
   */
  readonly serverCpuWaitShare: number
  readonly generatorCpuWaitShare: number
  /** Where the server's CPU profile went (with --cpu-prof). */
  readonly profile: string | undefined
}

export interface CellSetup extends Omit<GeneratorOptions, 'protocol' | 'host' | 'port' | 'runId' | 'patchRateMs'> {
  readonly serverCpus: string | undefined
  readonly generatorCpus: string | undefined
  /** Directory for the server's --cpu-prof output; undefined = no profile. */
  readonly cpuProfileDir: string | undefined
  /** Directory for the generator's --cpu-prof output (to see what limits a generator-limited cell). */
  readonly generatorCpuProfileDir: string | undefined
}

/** Seconds the main thread of `pid` has spent runnable but waiting for a CPU (run_delay, /proc/<pid>/schedstat). */
function runQueueWaitSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ')
  return Number(fields[1]) / 1e9
}

/** Resident set size of a process in MiB (VmRSS of /proc/<pid>/status). */
function residentMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Math.round(Number(match[1]) / 102.4) / 10 : Number.NaN
}

function profileArgs(dir: string | undefined): string[] {
  return dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir]
}

export async function runCell(spec: ZoneServerSpec, setup: CellSetup): Promise<CellResult> {
  const serverSetup: ZoneServerSetup = {
    zoneSide: setup.zoneSide,
    viewRadius: setup.viewRadius,
    nodeArgs: profileArgs(setup.cpuProfileDir),
    cpus: setup.serverCpus,
  }
  const server = await startZoneServer(spec, serverSetup)
  try {
    const options: GeneratorOptions = {
      protocol: spec.protocol,
      host: '127.0.0.1',
      port: server.port,
      runId: `${process.pid.toString(36)}${Date.now().toString(36)}`,
      patchRateMs: spec.patchRateMs,
      players: setup.players,
      observers: setup.observers,
      moveRate: setup.moveRate,
      layout: setup.layout,
      zoneSide: setup.zoneSide,
      viewRadius: setup.viewRadius,
      warmupMs: setup.warmupMs,
      durationMs: setup.durationMs,
      drainMs: setup.drainMs,
      joinConcurrency: setup.joinConcurrency,
      seed: setup.seed,
    }
    let generatorPid: number | undefined
    type Reading = { server: number; generator: number; serverWait: number; generatorWait: number; at: number }
    const marks = new Map<string, Reading>()
    const read = (name: string): void => {
      const generator = generatorPid === undefined ? Number.NaN : processCpuSeconds(generatorPid)
      const generatorWait = generatorPid === undefined ? Number.NaN : runQueueWaitSeconds(generatorPid)
      marks.set(name, { server: processCpuSeconds(server.pid), generator, serverWait: runQueueWaitSeconds(server.pid), generatorWait, at: performance.now() })
    }
    let rssMiB = Number.NaN
    const generator = new ManagedProcess({
      name: `zone-generator(${spec.name}, ${setup.players} players)`,
      ...nodeCommand([...profileArgs(setup.generatorCpuProfileDir), ...(await scriptArgs('bench/zone/generator.ts')), JSON.stringify(options)], setup.generatorCpus),
      cwd: REPO_ROOT,
      tailLines: 60,
      onLine: (line) => {
        if (line === 'MARK measure-start') read('start')
        else if (line === 'MARK measure-end') {
          read('end')
          rssMiB = residentMiB(server.pid)
        }
      },
    })
    generatorPid = generator.pid
    // Bounded: warm-up, window, drain, closing, and joining — which costs today's server O(P) per
    // newcomer (the zone snapshot to it, PLAYER_JOINED to everyone else): 40 s for 2,000 players,
    // 83 s for 3,000 on the bench machine; P² / 50 ms leaves room (500 s at 5,000).
    const boundMs = 120_000 + setup.warmupMs + setup.durationMs + setup.drainMs + Math.round((setup.players * setup.players) / 50)
    let timer: NodeJS.Timeout | undefined
    const finished = await Promise.race([
      generator.waitForExit().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), boundMs))),
    ])
    clearTimeout(timer)
    if (!finished) {
      await generator.stop(2000)
      throw generator.startError(`did not finish within ${boundMs} ms`)
    }
    const line = generator.output().split('\n').find((l) => l.startsWith('RESULT '))
    if (line === undefined) throw generator.startError('gave no result')
    const result = JSON.parse(line.slice('RESULT '.length)) as GeneratorResult
    const start = marks.get('start')
    const end = marks.get('end')
    const wall = start && end ? (end.at - start.at) / 1000 : Number.NaN
    const share = (key: Exclude<keyof Reading, 'at'>): number => (start && end ? Math.round(((end[key] - start[key]) / wall) * 1000) / 1000 : Number.NaN)
    return {
      ...result,
      server: spec.name,
      serverCpuShare: share('server'),
      serverRssMiB: rssMiB,
      generatorCpuShare: share('generator'),
      serverCpuWaitShare: share('serverWait'),
      generatorCpuWaitShare: share('generatorWait'),
      profile: setup.cpuProfileDir !== undefined ? `${setup.cpuProfileDir}/CPU.*.${server.pid}.*.cpuprofile` : undefined,
    }
  } finally {
    await server.stop()
  }
}
