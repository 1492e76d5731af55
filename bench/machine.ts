/** Facts about the machine a benchmark ran on, printed at the top of every bench script. */
import { cpus, freemem, loadavg, totalmem } from 'node:os'

export interface MachineFacts {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly freeMemoryGiB: number
  readonly loadAverage1m: number
  readonly node: string
  readonly platform: string
}

export function machineFacts(): MachineFacts {
  const list = cpus()
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  }
}

export function describeMachine(facts: MachineFacts = machineFacts()): string {
  return `machine: ${facts.cpuModel}, ${facts.cores} cores, ${facts.memoryGiB} GiB (${facts.freeMemoryGiB} free), load ${facts.loadAverage1m}, node ${facts.node}, ${facts.platform}`
}
