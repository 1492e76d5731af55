/**
 * Structured logging (pino, JSON lines on stdout). One root logger per process; parts take a
 * child with `{ component }` so every line says where it came from.
 *
 * Every line passes one filter before it is written (`cleanLine`):
 *   - secrets are redacted (passwords in URLs, wherever they appear: message, error, stack);
 *   - each key appears once. pino appends a child's bindings to its parent's, so a part's child of
 *     a child (`component: balancer`, then `component: proxy`) or a call that repeats a bound field
 *     would write the key twice, which many log pipelines reject. The last (most specific) value
 *     wins, at the first key's position — what JSON.parse itself does.
 */
import { pino, type Logger } from 'pino'
import { redactSecrets } from './redact.js'

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
  // synchronous like pino's default stdout, so a line logged just before process.exit() is written
  const target = options.destination ?? pino.destination({ dest: 1, sync: true })
  const flush = (target as { flushSync?: () => void }).flushSync?.bind(target)
  return pino(settings, { write: (line: string) => target.write(cleanLine(line)), ...(flush ? { flushSync: flush } : {}) } as pino.DestinationStream)
}

/** Redact secrets and drop duplicate keys of one serialised log line (see the header). */
export function cleanLine(line: string): string {
  const redacted = redactSecrets(line)
  try {
    // JSON.parse keeps the last value of a repeated key; re-serialising writes each key once
    return `${JSON.stringify(JSON.parse(redacted))}\n`
  } catch {
    return redacted
  }
}

/** A logger that writes nothing, for unit tests and library defaults. */
export const silentLogger: Logger = pino({ level: 'silent' })
