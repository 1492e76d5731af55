/** Free loopback ports and readiness polling for locally started services (TCP probes: app/tcp.ts). */
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** Time between two readiness probes. */
const POLL_INTERVAL_MS = 50

/** A TCP port that was free on `host` a moment ago (the OS picks it). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/**
 * Poll `probe` until it returns true, the deadline passes, or `abortIf` returns a reason
 * (e.g. the process exited). Resolves true when ready, rejects with the reason otherwise.
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abortIf?: () => string | undefined; what: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const abort = options.abortIf?.()
    if (abort) throw new Error(`${options.what}: ${abort}`)
    if (await probe().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${options.what}: not ready after ${options.timeoutMs} ms`)
    await sleep(options.intervalMs ?? POLL_INTERVAL_MS)
  }
}
