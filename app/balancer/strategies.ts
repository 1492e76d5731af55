/**
 * How the balancer picks a backend among the available ones. Every strategy honours
 * `Backend.effectiveWeight`, which is how a backend reporting a bottleneck gets less new traffic:
 *
 * - round-robin: smooth weighted round-robin (nginx): with equal weights it cycles A, B, C, A, …;
 *   a backend of half the weight gets every other turn of the others.
 * - least-connections: the lowest (open connections + 1) / weight; ties go to the backend after
 *   the last one picked, so equal loads still rotate.
 * - weighted-response-time: the lowest (EWMA latency + connectionWeightMs × open connections)
 *   / weight (by default α = 0.1 and 10 ms per connection: LATENCY_EWMA_ALPHA, WRT_CONNECTION_WEIGHT_MS); backends without a measurement yet
 *   count as 0 ms; ties rotate like least-connections.
 *
 * Strategies are objects with their own cursor and can be swapped at runtime (`createStrategy`).
 */
import type { Backend } from './backend.js'

export const STRATEGY_NAMES = ['round-robin', 'least-connections', 'weighted-response-time'] as const
export type StrategyName = (typeof STRATEGY_NAMES)[number]

export function isStrategyName(value: unknown): value is StrategyName {
  return typeof value === 'string' && (STRATEGY_NAMES as readonly string[]).includes(value)
}

export interface Strategy {
  readonly name: StrategyName
  /** Pick one of `candidates` (all available, non-empty list) or undefined for an empty list. */
  pick(candidates: readonly Backend[]): Backend | undefined
}

export interface StrategyOptions {
  /** weighted-response-time: ms added per open connection (WRT_CONNECTION_WEIGHT_MS). */
  readonly connectionWeightMs: number
}

export function createStrategy(name: StrategyName, options: StrategyOptions): Strategy {
  switch (name) {
    case 'round-robin':
      return new RoundRobin()
    case 'least-connections':
      return new LowestScore('least-connections', (b) => b.activeConnections + 1)
    case 'weighted-response-time': {
      const perConnection = options.connectionWeightMs
      // +1 ms floor keeps the weight meaningful when latency and load are both 0.
      return new LowestScore('weighted-response-time', (b) => (b.ewmaLatencyMs ?? 0) + perConnection * b.activeConnections + 1)
    }
  }
}

/** Smooth weighted round-robin: each pick adds every weight to its current value, takes the largest, subtracts the total. */
class RoundRobin implements Strategy {
  readonly name = 'round-robin' as const
  private readonly current = new Map<string, number>()

  pick(candidates: readonly Backend[]): Backend | undefined {
    if (candidates.length === 0) return undefined
    if (candidates.length === 1) return candidates[0]
    let total = 0
    let best: Backend | undefined
    let bestValue = -Infinity
    for (const backend of candidates) {
      const weight = backend.effectiveWeight
      const value = (this.current.get(backend.id) ?? 0) + weight
      this.current.set(backend.id, value)
      total += weight
      if (value > bestValue) {
        best = backend
        bestValue = value
      }
    }
    this.current.set(best!.id, bestValue - total)
    if (this.current.size > candidates.length * 2) this.forgetAbsent(candidates)
    return best
  }

  private forgetAbsent(candidates: readonly Backend[]): void {
    const present = new Set(candidates.map((b) => b.id))
    for (const id of this.current.keys()) if (!present.has(id)) this.current.delete(id)
  }
}

class LowestScore implements Strategy {
  private lastId: string | undefined

  constructor(
    readonly name: StrategyName,
    private readonly cost: (backend: Backend) => number,
  ) {}

  pick(candidates: readonly Backend[]): Backend | undefined {
    const n = candidates.length
    if (n === 0) return undefined
    // Start scanning after the last pick so that ties rotate.
    let start = 0
    if (this.lastId !== undefined) {
      const index = candidates.findIndex((b) => b.id === this.lastId)
      start = index < 0 ? 0 : (index + 1) % n
    }
    let best: Backend | undefined
    let bestScore = Infinity
    for (let i = 0; i < n; i++) {
      const backend = candidates[(start + i) % n]!
      const score = this.cost(backend) / backend.effectiveWeight
      if (score < bestScore) {
        best = backend
        bestScore = score
      }
    }
    this.lastId = best!.id
    return best
  }
}
