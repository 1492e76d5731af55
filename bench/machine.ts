/** Machine facts every benchmark prints next to its numbers (they are only comparable on one machine). */
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
  const cpu = cpus()
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  }
}

/** One line for a report: `cpu … × N cores, X GiB, load …, node …`. */
export function describeMachine(facts = machineFacts()): string {
  return `${facts.cpuModel} × ${facts.cores} cores, ${facts.memoryGiB} GiB RAM (${facts.freeMemoryGiB} free), load ${facts.loadAverage1m} (1 min), node ${facts.node}, ${facts.platform}`
}

/** The p-th percentile (0–100) of unsorted samples (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}
