/**
 * `npm run serve`: one game server. Loads the configuration (a bad variable → one log line naming
 * it, exit code 2), builds the stores (in memory when DATABASE_URL / REDIS_URLS are unset), the game
 * and the TCP server, and listens. SIGTERM or SIGINT → graceful shutdown in the order documented
 * in app/processes/game-server.ts within SHUTDOWN_DEADLINE_MS, then exit 0 (1 if shutdown failed or
 * overran the deadline; a second signal exits at once with 130).
 */
import { loadConfig, type Config } from './config/index.js'
import { commandLine, EXIT_USAGE, exitCodeFor } from './cli/command.js'
import { isGameServerError } from './errors.js'
import { createLogger } from './logger.js'
import { startServer } from './processes/game-server.js'
import { shutdownOnSignal } from './processes/signals.js'
import { Telemetry } from './telemetry/telemetry.js'

const USAGE = `usage: npm run serve [-- --help]

One game server: listens on GAME_HOST:GAME_PORT (docs/PROTOCOL.md), metrics and /healthz, /readyz
on METRICS_HOST:METRICS_PORT; PostgreSQL at DATABASE_URL and Redis at REDIS_URLS when set, else
in-memory stores. Every setting is an environment variable: docs/CONFIG.md. SIGTERM/SIGINT shut
down gracefully within SHUTDOWN_DEADLINE_MS. Exit codes: 0 stopped, 1 failed (a store unreachable,
shutdown overran), 2 bad configuration (the log line names the variable), 130 a second signal.`

async function main(): Promise<void> {
  commandLine('serve', USAGE)
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    const logger = createLogger({ level: 'info', name: 'game-server' })
    if (isGameServerError(err, 'GS_ERR_CONFIG')) {
      logger.fatal({ code: err.code, variable: err.context.variable }, err.message)
      process.exitCode = EXIT_USAGE
      return
    }
    throw err
  }
  const logger = createLogger({ level: config.server.logLevel, name: 'game-server', base: { nodeId: config.server.nodeId } })
  let telemetry: Telemetry | null = null
  try {
    // metrics first: the server reports from its first connection; /metrics and /bottlenecks on METRICS_PORT
    telemetry = await Telemetry.start(config, logger, 'server')
    const handle = await startServer(config, { logger, telemetry })
    const started = telemetry
    // telemetry last, so the shutdown itself is still measured
    shutdownOnSignal({ logger, deadlineMs: config.server.shutdownDeadlineMs, stop: (deadlineMs) => handle.close(deadlineMs).finally(() => started?.close()) })
  } catch (err) {
    await telemetry?.close()
    logger.fatal({ err, code: isGameServerError(err) ? err.code : undefined, variable: isGameServerError(err) ? err.context.variable : undefined }, isGameServerError(err, 'GS_ERR_CONFIG') ? err.message : 'game server failed to start')
    process.exitCode = exitCodeFor(err)
  }
}

main().catch((err: unknown) => {
  // Last resort before the logger exists; app/main.ts is the composition root.
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
