/**
 * A game server with its telemetry (Prometheus /metrics on METRICS_PORT), for `--local` while
 * `app/main.ts` does not start telemetry itself: the same composition (`startServer`) plus
 * `startTelemetry`. SIGTERM/SIGINT → graceful close of the server, then of the telemetry; exit 0.
 * local-target.ts switches to app/main.ts as soon as that serves /metrics.
 */
import { loadConfig } from '../config/index.js'
import { createLogger } from '../logger.js'
import { startServer } from '../server/start-server.js'
import { startTelemetry } from '../telemetry/start.js'

const config = loadConfig()
const logger = createLogger({ level: config.server.logLevel, name: 'game-server', base: { nodeId: config.server.nodeId } })
const telemetry = await startTelemetry(config, logger, 'server')
const handle = await startServer(config, { logger, metrics: telemetry.metrics })
telemetry.observeServer(handle.server)
logger.info({ port: handle.port, metricsPort: telemetry.port }, 'load-test game server ready')

let stopping = false
const stop = (): void => {
  if (stopping) process.exit(130)
  stopping = true
  handle
    .close(config.server.shutdownDeadlineMs)
    .then(() => telemetry.close())
    .then(
      () => (process.exitCode = 0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exitCode = 1
      },
    )
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
