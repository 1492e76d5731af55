/** Machine facts every benchmark prints next to its numbers (results only compare within one run). */
import { cpus, loadavg, totalmem, freemem, platform, release } from 'node:os'

export interface MachineFacts {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly freeMemoryGiB: number
  readonly node: string
  readonly os: string
  readonly loadAverage: readonly number[]
}

export function machineFacts(): MachineFacts {
  const list = cpus()
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

export function printMachineFacts(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): MachineFacts {
  const facts = machineFacts()
  write(`machine: ${facts.cpuModel} × ${facts.cores} cores, ${facts.memoryGiB} GiB (${facts.freeMemoryGiB} free), node ${facts.node}, ${facts.os}, load average ${facts.loadAverage.join(' ')}`)
  return facts
}
