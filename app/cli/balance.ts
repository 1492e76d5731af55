/**
 * `npm run balance` — the L4 balancer in front of the game servers, composed by
 * app/processes/balancer.ts: configuration (a bad variable → `balance: GS_ERR_CONFIG: …` naming it,
 * exit 2), telemetry, the balancer; SIGTERM/SIGINT → graceful shutdown within
 * SHUTDOWN_DEADLINE_MS (app/processes/signals.ts: exit 0, 1 when it failed or overran, 130 on a
 * second signal).
 */
import { isGameServerError } from '../errors.js'
import { createLogger } from '../logger.js'
import { startBalancer } from '../processes/balancer.js'
import { shutdownOnSignal } from '../processes/signals.js'
import { Telemetry } from '../telemetry/telemetry.js'
import { commandLine, exitCodeFor, loadConfigOrExit } from './command.js'

const USAGE = `usage: npm run balance [-- --help]

The L4 balancer: listens on BALANCER_HOST:BALANCER_PORT and forwards each client to a game server
from BACKENDS (host:port[/wsPort],…) or, when unset, from cluster membership (CLUSTER_REDIS_URL or the first
REDIS_URLS). Admin interface on BALANCER_ADMIN_HOST:BALANCER_ADMIN_PORT (BALANCER_ADMIN_TOKEN),
metrics and /healthz, /readyz on METRICS_HOST:METRICS_PORT. Every setting is an environment
variable: docs/CONFIG.md. SIGTERM/SIGINT shut down gracefully within SHUTDOWN_DEADLINE_MS.
Exit codes: 0 stopped, 1 failed (or shutdown overran), 2 bad configuration, 130 a second signal.`

async function main(): Promise<void> {
  commandLine('balance', USAGE)
  const config = loadConfigOrExit('balance')
  const logger = createLogger({ level: config.server.logLevel, name: 'balancer', base: { nodeId: config.server.nodeId } })
  // /metrics and /bottlenecks on METRICS_PORT; METRICS_ENABLED=false turns it off
  const telemetry = await Telemetry.start(config, logger, 'balancer')
  try {
    const handle = await startBalancer(config, { logger, telemetry })
    shutdownOnSignal({ logger, deadlineMs: config.server.shutdownDeadlineMs, stop: (deadlineMs) => handle.close(deadlineMs).finally(() => telemetry?.close()) })
  } catch (err) {
    await telemetry?.close()
    throw err
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`balance: ${isGameServerError(err) ? `${err.code}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = exitCodeFor(err)
})
