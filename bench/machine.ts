/**
 * Machine facts every benchmark prints next to its numbers (SPEC §6), plus the file-descriptor
 * limit check for benchmarks that open thousands of sockets.
 */
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, totalmem, freemem, release, platform } from 'node:os'

export interface MachineFacts {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly freeMemoryGiB: number
  readonly node: string
  readonly os: string
  /** 1, 5 and 15 minute load averages when the bench started (other work on the machine). */
  readonly loadAverage: readonly number[]
  /** Soft RLIMIT_NOFILE of processes started from here. */
  readonly fdLimit: number
}

export function machineFacts(): MachineFacts {
  const cpuList = cpus()
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverage: loadavg().map((l) => round(l, 2)),
    fdLimit: fdLimit(),
  }
}

export function formatMachineFacts(facts: MachineFacts = machineFacts()): string {
  return [
    `machine: ${facts.cpuModel} · ${facts.cores} cores · ${facts.memoryGiB} GiB (${facts.freeMemoryGiB} free) · ${facts.os}`,
    `node ${facts.node} · fd limit ${facts.fdLimit} · load average ${facts.loadAverage.join(' / ')} (1/5/15 min)`,
  ].join('\n')
}

/** The soft open-files limit (`ulimit -n`) that child processes inherit. */
export function fdLimit(): number {
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

export function round(value: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
