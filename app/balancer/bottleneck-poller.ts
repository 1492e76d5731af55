/**
 * Reads each backend's active bottlenecks (telemetry's `GET /bottlenecks` JSON on the server's
 * metrics port) and sets `Backend.bottleneckNames`; the strategies then give that backend
 * `BOTTLENECK_WEIGHT_FACTOR` of its weight. Optional: a backend whose URL cannot be read keeps
 * no bottleneck (it is the health checker's job to judge reachability). The URL comes from
 * membership (`metricsUrl` + `/bottlenecks`) or from `BOTTLENECK_URL_TEMPLATE`.
 *
 * Accepted bodies (the detector's shape, and simpler ones):
 *   { "active": [ { "name": "cpu", … }, … ] }   · [ { "name": … }, … ]   · { "bottlenecks": [ … ] }
 * Items with `active: false` are ignored; an item may also be a bare string (its name).
 */
import { silentLogger, type Logger } from '../logger.js'
import type { Backend } from './backend.js'
import type { BackendPool } from './backend-pool.js'

/** A /bottlenecks poll not answered within this counts as no bottleneck. */
const POLL_TIMEOUT_MS = 1000

export interface BottleneckPollerOptions {
  /** e.g. `http://{host}:9464/bottlenecks`; unset → only backends with a membership metricsUrl are polled. */
  readonly urlTemplate?: string | undefined
  readonly intervalMs: number
  readonly timeoutMs?: number
  readonly logger?: Logger
}

export function bottleneckUrl(backend: Backend, template: string | undefined): string | undefined {
  if (backend.metricsUrl !== undefined) return `${backend.metricsUrl.replace(/\/+$/, '')}/bottlenecks`
  if (template === undefined) return undefined
  return template.replaceAll('{host}', backend.host).replaceAll('{port}', String(backend.port))
}

export function parseBottlenecks(body: unknown): string[] {
  const list = Array.isArray(body)
    ? body
    : body !== null && typeof body === 'object'
      ? ((body as Record<string, unknown>).active ?? (body as Record<string, unknown>).bottlenecks ?? [])
      : []
  if (!Array.isArray(list)) return []
  const names: string[] = []
  for (const item of list) {
    if (typeof item === 'string') names.push(item)
    else if (item !== null && typeof item === 'object') {
      const record = item as Record<string, unknown>
      if (record.active === false) continue
      names.push(String(record.name ?? record.kind ?? record.id ?? 'bottleneck'))
    }
  }
  return names
}

export class BottleneckPoller {
  private timer: NodeJS.Timeout | null = null
  private closed = false
  private running = false
  private readonly logger: Logger

  constructor(
    private readonly pool: BackendPool,
    private readonly options: BottleneckPollerOptions,
  ) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'bottleneck-poller' })
    this.schedule(0)
  }

  /** Poll every backend once now. Never rejects. */
  async pollOnce(): Promise<void> {
    await Promise.all(this.pool.list().map((backend) => this.pollBackend(backend)))
  }

  close(): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(delayMs: number): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      if (this.running) return
      this.running = true
      void this.pollOnce().finally(() => {
        this.running = false
        this.schedule(this.options.intervalMs)
      })
    }, delayMs)
    this.timer.unref()
  }

  private async pollBackend(backend: Backend): Promise<void> {
    const url = bottleneckUrl(backend, this.options.urlTemplate)
    if (url === undefined) return
    let names: string[]
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? POLL_TIMEOUT_MS) })
      if (!response.ok) return
      names = parseBottlenecks(await response.json())
    } catch {
      return
    }
    if (this.closed) return
    const before = backend.bottleneckNames.join(',')
    backend.bottleneckNames = Object.freeze(names)
    if (names.join(',') !== before) {
      this.logger.info({ backend: backend.id, bottlenecks: names, effectiveWeight: backend.effectiveWeight }, names.length > 0 ? 'backend reports a bottleneck; less new traffic' : 'backend bottleneck cleared')
    }
  }
}
