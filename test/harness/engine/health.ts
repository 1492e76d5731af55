/**
 * The health-check scheduler a Docker daemon has built in. Podman delegates it to systemd timers;
 * on a machine without systemd nothing runs a container's HEALTHCHECK and its health stays
 * "starting". The harness therefore runs each watched container's own health check (the command in
 * its configuration, executed inside it by podman's `/libpod/containers/{id}/healthcheck` endpoint)
 * at the interval the container declares, first one interval after it starts, as Docker does.
 * Podman applies the start period and the retries itself, so `State.Health.Status` means what it
 * means under Docker.
 */
import type { DockerApi } from './docker-api.js'

interface Watched {
  readonly timer: NodeJS.Timeout
  running: Promise<void> | null
}

export class HealthScheduler {
  private readonly watched = new Map<string, Watched>()
  private readonly inFlight = new Set<Promise<void>>()
  private closed = false

  constructor(
    private readonly api: DockerApi,
    private readonly onError: (id: string, err: unknown) => void = () => {},
  ) {}

  /** Run the container's health check every `intervalMs` until `unwatch` (or the container is gone). */
  watch(id: string, intervalMs: number): void {
    if (this.closed || this.watched.has(id)) return
    const entry: Watched = {
      running: null,
      timer: setInterval(() => {
        if (entry.running) return
        const check: Promise<void> = this.api.runHealthcheck(id).then(
          () => undefined,
          (err: unknown) => {
            // A container that is gone or stopped (404, 409) ends its schedule.
            const status = (err as { context?: { status?: number } }).context?.status
            if (status === 404 || status === 409) this.unwatch(id)
            else this.onError(id, err)
          },
        )
        entry.running = check
        this.inFlight.add(check)
        void check.finally(() => {
          entry.running = null
          this.inFlight.delete(check)
        })
      }, intervalMs),
    }
    entry.timer.unref()
    this.watched.set(id, entry)
  }

  unwatch(id: string): void {
    const entry = this.watched.get(id)
    if (!entry) return
    clearInterval(entry.timer)
    this.watched.delete(id)
  }

  /** Stop every schedule and wait for checks still running. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    for (const id of [...this.watched.keys()]) this.unwatch(id)
    await Promise.allSettled([...this.inFlight])
  }
}
