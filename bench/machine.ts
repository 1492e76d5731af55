/**
 * Machine facts every benchmark prints next to its numbers (numbers are only comparable on one
 * machine and one runtime), the Node binary that runs the server under test, plus the file-descriptor limit check for benchmarks that open thousands of
 * sockets and a percentile helper for small sample sets.
 */
import { execFileSync } from 'node:child_process'
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os'

export interface MachineFacts {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly freeMemoryGiB: number
  /** 1-minute load average when the bench started (other work on the machine). */
  readonly loadAverage1m: number
  /** 1, 5 and 15 minute load averages. */
  readonly loadAverage: readonly number[]
  readonly node: string
  /** Node of the server under test when it is not this process's (BENCH_NODE, see serverNode). */
  readonly serverNode: string | undefined
  readonly platform: string
  readonly os: string
  /** Soft RLIMIT_NOFILE of processes started from here. */
  readonly fdLimit: number
}

function machineFacts(): MachineFacts {
  const cpuList = cpus()
  const load = loadavg().map((l) => round(l, 2))
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    loadAverage1m: load[0] ?? 0,
    loadAverage: load,
    node: process.version,
    serverNode: serverNode().version === process.version ? undefined : `${serverNode().version} (${serverNode().path})`,
    platform: `${process.platform}-${process.arch}`,
    os: `${platform()} ${release()}`,
    fdLimit: fdLimit(),
  }
}

/** One line for a report: `cpu … × N cores, X GiB, load …, node …`. */
export function describeMachine(facts: MachineFacts = machineFacts()): string {
  return `${facts.cpuModel} × ${facts.cores} cores, ${facts.memoryGiB} GiB RAM (${facts.freeMemoryGiB} free), load ${facts.loadAverage1m} (1 min), node ${facts.node}${facts.serverNode ? ` (server under test on node ${facts.serverNode})` : ''}, ${facts.platform}`
}

/** Two lines: hardware and OS, then node, fd limit and load averages. */
export function formatMachineFacts(facts: MachineFacts = machineFacts()): string {
  return [
    `machine: ${facts.cpuModel} · ${facts.cores} cores · ${facts.memoryGiB} GiB (${facts.freeMemoryGiB} free) · ${facts.os}`,
    `node ${facts.node}${facts.serverNode ? ` · server under test on node ${facts.serverNode}` : ''} · fd limit ${facts.fdLimit} · load average ${facts.loadAverage.join(' / ')} (1/5/15 min)`,
  ].join('\n')
}

/** The soft open-files limit (`ulimit -n`) that child processes inherit. */
function fdLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out)
  } catch {
    return Number.NaN
  }
}

/** Throw a clear message when a process here cannot open `needed` descriptors. */
export function requireFdLimit(needed: number, what: string): void {
  const limit = fdLimit()
  if (!(limit >= needed)) {
    throw new Error(
      `${what} needs about ${needed} open files per process, but the limit is ${limit}. ` +
        `Raise it (e.g. \`ulimit -n ${Math.max(needed, 65536)}\` in the shell, or LimitNOFILE for a service) or use fewer connections.`,
    )
  }
}

/** The p-th percentile (0–100) of unsorted samples (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/**
 * The Node binary that runs the server under test (our game server or balancer, and the reference
 * servers beside it): `$BENCH_NODE` when set — bench/compare-node.ts runs each bench once per
 * runtime that way — else this process's own. Load generators always run on this process's Node, so
 * the load is the same whichever runtime serves it.
 */
export function serverNode(): { readonly path: string; readonly version: string } {
  if (cachedServerNode) return cachedServerNode
  const path = process.env.BENCH_NODE || process.execPath
  const version = path === process.execPath ? process.version : execFileSync(path, ['--version'], { encoding: 'utf8' }).trim()
  cachedServerNode = { path, version }
  return cachedServerNode
}
let cachedServerNode: { readonly path: string; readonly version: string } | undefined
