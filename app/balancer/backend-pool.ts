/**
 * The set of backends and the current strategy: add/remove/find, pick one for a new session
 * (excluding backends that already failed for it), switch strategy at runtime. Listeners hear
 * every add, removal and state change (health checker, proxy, metrics, logs).
 */
import type { HostPort } from '../config/schema.js'
import { GameServerError } from '../errors.js'
import { Backend, backendId, type BackendOptions, type BackendState } from './backend.js'
import { createStrategy, type Strategy, type StrategyName, type StrategyOptions } from './strategies.js'

export interface BackendPoolListener {
  added?(backend: Backend): void
  removed?(backend: Backend): void
  stateChanged?(backend: Backend, from: BackendState, to: BackendState, reason: string): void
  strategyChanged?(from: StrategyName, to: StrategyName): void
}

export class BackendPool {
  private readonly backends = new Map<string, Backend>()
  private readonly listeners = new Set<BackendPoolListener>()
  private strategyValue: Strategy
  private readonly strategyOptions: StrategyOptions
  /** Reused candidate list (no allocation per pick). */
  private readonly candidates: Backend[] = []

  constructor(strategy: StrategyName, strategyOptions: StrategyOptions) {
    this.strategyOptions = strategyOptions
    this.strategyValue = createStrategy(strategy, strategyOptions)
  }

  get strategy(): StrategyName {
    return this.strategyValue.name
  }

  setStrategy(name: StrategyName): void {
    const from = this.strategyValue.name
    if (from === name) return
    this.strategyValue = createStrategy(name, this.strategyOptions)
    for (const l of this.listeners) l.strategyChanged?.(from, name)
  }

  listen(listener: BackendPoolListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get size(): number {
    return this.backends.size
  }

  list(): Backend[] {
    return [...this.backends.values()]
  }

  get(id: string): Backend | undefined {
    return this.backends.get(id)
  }

  require(id: string): Backend {
    const backend = this.backends.get(id)
    if (!backend) throw new GameServerError('GS_ERR_BACKEND_UNKNOWN', `no backend ${id}`, { backend: id })
    return backend
  }

  has(address: HostPort): boolean {
    return this.backends.has(backendId(address))
  }

  add(address: HostPort, options: BackendOptions): Backend {
    const id = backendId(address)
    if (this.backends.has(id)) throw new GameServerError('GS_ERR_BACKEND_EXISTS', `backend ${id} already registered`, { backend: id })
    const backend = new Backend(address, options)
    this.backends.set(id, backend)
    for (const l of this.listeners) l.added?.(backend)
    return backend
  }

  /** Forget a backend at once (its open sessions are the proxy's business). */
  remove(id: string): Backend {
    const backend = this.require(id)
    this.backends.delete(id)
    for (const l of this.listeners) l.removed?.(backend)
    return backend
  }

  setState(backend: Backend, next: BackendState, reason: string): void {
    const from = backend.setState(next)
    if (from !== backend.state) for (const l of this.listeners) l.stateChanged?.(backend, from, backend.state, reason)
  }

  /** Pick an available backend not in `exclude`, by the current strategy. */
  pick(exclude?: ReadonlySet<Backend>): Backend | undefined {
    const candidates = this.candidates
    candidates.length = 0
    for (const backend of this.backends.values()) {
      if (backend.available && (exclude === undefined || !exclude.has(backend))) candidates.push(backend)
    }
    const picked = this.strategyValue.pick(candidates)
    candidates.length = 0
    return picked
  }

  availableCount(): number {
    let n = 0
    for (const backend of this.backends.values()) if (backend.available) n++
    return n
  }
}
