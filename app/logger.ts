/**
 * Structured logging (pino, JSON lines on stdout). One root logger per process; parts take a
 * child with `{ component }` so every line says where it came from.
 */
import { pino, type Logger } from 'pino'

export type { Logger } from 'pino'

export interface LoggerOptions {
  readonly level: string
  readonly name?: string
  readonly base?: Record<string, unknown>
  /** Write somewhere other than stdout (tests). */
  readonly destination?: pino.DestinationStream
}

export function createLogger(options: LoggerOptions): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: { pid: process.pid, ...(options.name ? { name: options.name } : {}), ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }
  return options.destination ? pino(settings, options.destination) : pino(settings)
}

/** A logger that writes nothing, for unit tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' })
