/**
 * SIGTERM and SIGINT for a long-running process (game server, balancer): the first signal runs
 * `stop(deadlineMs)`, then the process ends by itself once nothing is left open — exit code 0, or
 * 1 when stopping failed or overran the deadline (a hard stop one second after the deadline, in
 * case something refuses to close); a second signal exits at once with 130.
 */
import type { Logger } from '../logger.js'

const EXIT_SECOND_SIGNAL = 130
/** The hard stop comes this long after the shutdown deadline. */
const HARD_STOP_GRACE_MS = 1000

export interface ShutdownOnSignal {
  readonly logger: Logger
  readonly deadlineMs: number
  /** The process's whole shutdown (its parts in their order, then telemetry). */
  stop(deadlineMs: number): Promise<void>
}

export function shutdownOnSignal(options: ShutdownOnSignal): void {
  const { logger, deadlineMs } = options
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now')
      process.exit(EXIT_SECOND_SIGNAL)
    }
    stopping = true
    logger.info({ signal, deadlineMs }, 'shutting down')
    const hardStop = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown overran its deadline; exiting')
      process.exit(1)
    }, deadlineMs + HARD_STOP_GRACE_MS)
    hardStop.unref()
    options.stop(deadlineMs).then(
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
