/**
 * Asynchronous health checks with HAProxy's rise/fall semantics. Every backend has its own loop:
 * probe (protocol PING answered by PONG with the same seq, or a bare TCP connect) with a timeout,
 * then wait `intervalMs`. `fall` failures in a row take a healthy backend down; `rise` successes
 * in a row bring an unhealthy one back. Probes of one backend never overlap; the loops never
 * reject (a probe error is a failed check) and their timers are unref()ed. A PING round trip also
 * feeds the backend's latency EWMA (weighted-response-time).
 */
import { ClientConnection } from '../client/connection.js'
import { canConnect } from '../tcp.js'
import { silentLogger, type Logger } from '../logger.js'
import type { Backend } from './backend.js'
import type { BackendPool } from './backend-pool.js'

type HealthCheckMode = 'ping' | 'tcp'

export interface HealthCheckOptions {
  readonly mode: HealthCheckMode
  readonly intervalMs: number
  readonly timeoutMs: number
  readonly rise: number
  readonly fall: number
  readonly logger?: Logger
  /** Observer of every probe result (metrics). */
  readonly onProbe?: (backend: Backend, ok: boolean, latencyMs: number | null) => void
}

export type ProbeResult = { ok: true; latencyMs: number } | { ok: false; error: string }

/** One probe of host:port; never rejects. */
async function probe(mode: HealthCheckMode, host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now()
  if (mode === 'tcp') {
    const ok = await canConnect(host, port, timeoutMs)
    return ok ? { ok: true, latencyMs: performance.now() - started } : { ok: false, error: 'connect failed' }
  }
  let client: ClientConnection | undefined
  try {
    client = await ClientConnection.connect({ host, port, connectTimeoutMs: timeoutMs, timeoutMs })
    const remaining = Math.max(1, timeoutMs - (performance.now() - started))
    const rttMs = await client.ping(undefined, remaining)
    return { ok: true, latencyMs: rttMs }
  } catch (err) {
    return { ok: false, error: (err as Error).message }
  } finally {
    client?.destroy()
  }
}

export class HealthChecker {
  private readonly loops = new Map<Backend, NodeJS.Timeout | 'probing'>()
  private readonly logger: Logger
  private closed = false
  private readonly unlisten: () => void

  constructor(
    private readonly pool: BackendPool,
    private readonly options: HealthCheckOptions,
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'health-check' })
    for (const backend of pool.list()) this.start(backend)
    this.unlisten = pool.listen({
      added: (backend) => this.start(backend),
      removed: (backend) => this.stop(backend),
    })
  }

  /** Run one check of `backend` now and apply rise/fall (also used by tests and the admin). */
  async check(backend: Backend): Promise<ProbeResult> {
    const result = await probe(this.options.mode, backend.host, backend.port, this.options.timeoutMs)
    if (this.closed || this.pool.get(backend.id) !== backend) return result
    this.options.onProbe?.(backend, result.ok, result.ok ? result.latencyMs : null)
    if (result.ok) {
      if (this.options.mode === 'ping') backend.recordLatency(result.latencyMs)
      backend.consecutiveFailures = 0
      backend.consecutiveSuccesses++
      if (backend.state === 'unhealthy' && backend.consecutiveSuccesses >= this.options.rise) {
        this.pool.setState(backend, 'healthy', `${backend.consecutiveSuccesses} checks passed`)
      }
    } else {
      backend.consecutiveSuccesses = 0
      backend.consecutiveFailures++
      if (backend.state === 'healthy' && backend.consecutiveFailures >= this.options.fall) {
        this.pool.setState(backend, 'unhealthy', `${backend.consecutiveFailures} checks failed: ${result.error}`)
      }
    }
    return result
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.unlisten()
    for (const timer of this.loops.values()) if (timer !== 'probing') clearTimeout(timer)
    this.loops.clear()
  }

  private start(backend: Backend): void {
    if (this.closed || this.loops.has(backend)) return
    this.run(backend)
  }

  private stop(backend: Backend): void {
    const timer = this.loops.get(backend)
    if (timer !== undefined && timer !== 'probing') clearTimeout(timer)
    this.loops.delete(backend)
  }

  private run(backend: Backend): void {
    this.loops.set(backend, 'probing')
    this.check(backend)
      .catch((err) => this.logger.error({ err, backend: backend.id }, 'health check failed unexpectedly'))
      .finally(() => {
        if (this.closed || this.loops.get(backend) !== 'probing') return
        const timer = setTimeout(() => this.run(backend), this.options.intervalMs)
        timer.unref()
        this.loops.set(backend, timer)
      })
  }
}
