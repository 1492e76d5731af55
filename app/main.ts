/**
 * `npm run serve`: one game server. Loads the configuration (a bad variable → one log line naming
 * it, exit code 2), builds the stores (in memory when DATABASE_URL / REDIS_URLS are unset), the game
 * and the TCP server, and listens. SIGTERM or SIGINT → graceful shutdown in the order documented
 * in app/server/start-server.ts within SHUTDOWN_DEADLINE_MS, then exit 0 (1 if shutdown failed or
 * overran the deadline; a second signal exits at once with 130).
 */
import { loadConfig, type Config } from './config/index.js'
import { commandLine, exitCodeFor } from './cli/command.js'
import { isGameServerError } from './errors.js'
import { createLogger, type Logger } from './logger.js'
import { startServer, type ServerHandle } from './server/start-server.js'
import { startTelemetry, type Telemetry } from './telemetry/start.js'

export const EXIT_CONFIG = 2

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
      process.exitCode = EXIT_CONFIG
      return
    }
    throw err
  }
  const logger = createLogger({ level: config.server.logLevel, name: 'game-server', base: { nodeId: config.server.nodeId } })
  let handle: ServerHandle
  let telemetry: Telemetry | null = null
  try {
    // metrics first: the server reports from its first connection; /metrics and /bottlenecks on METRICS_PORT
    telemetry = await startTelemetry(config, logger, 'server')
    handle = await startServer(config, { logger, metrics: telemetry.metrics, metricsPort: telemetry.port })
    telemetry.observeServer(handle.server)
    const server = handle
    // For orchestrators: alive as long as the process answers; ready while it takes players.
    telemetry.provider?.probe('/healthz', () => ({ ok: true, body: { status: 'ok' } }))
    telemetry.provider?.probe('/readyz', async () => {
      const readiness = await server.readiness()
      return { ok: readiness.ready, body: readiness }
    })
    if (handle.cluster) telemetry.observeClusterNode(handle.cluster.joined)
  } catch (err) {
    await telemetry?.close()
    logger.fatal({ err, code: isGameServerError(err) ? err.code : undefined, variable: isGameServerError(err) ? err.context.variable : undefined }, isGameServerError(err, 'GS_ERR_CONFIG') ? err.message : 'game server failed to start')
    process.exitCode = exitCodeFor(err)
    return
  }
  installSignals(handle, telemetry, config, logger)
}

function installSignals(handle: ServerHandle, telemetry: Telemetry, config: Config, logger: Logger): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(130)
    }
    stopping = true
    const deadlineMs = config.server.shutdownDeadlineMs
    logger.info({ signal, deadlineMs }, 'shutting down')
    // Hard stop slightly after the deadline in case something refuses to close.
    const hardStop = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown overran its deadline; exiting')
      process.exit(1)
    }, deadlineMs + 1000)
    hardStop.unref()
    // telemetry last, so the shutdown itself is still measured
    handle.close(deadlineMs).finally(() => telemetry.close()).then(
      () => {
        clearTimeout(hardStop)
        logger.flush()
        process.exitCode = 0
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exitCode = 1
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

main().catch((err: unknown) => {
  // Last resort before the logger exists; app/main.ts is the composition root.
  process.stderr.write(`fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
