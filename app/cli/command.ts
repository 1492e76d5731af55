/**
 * What every operator command shares: its command line (node:util parseArgs, `--help`/`-h` prints
 * the usage and exits 0 without doing anything) and one meaning per exit code:
 *
 *   0  done (or --help)
 *   1  it ran and failed (a store down, a check failed, a migration refused)
 *   2  it could not start as asked: a bad argument, or a configuration variable missing, invalid or
 *      naming a port in use (GS_ERR_CONFIG, GS_ERR_LOADTEST_ARGS)
 *   3  (cache status) some shards do not answer
 *   130 a second SIGINT/SIGTERM during shutdown
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { loadConfig, type Config } from '../config/index.js'
import { isGameServerError } from '../errors.js'

const EXIT_OK = 0
const EXIT_FAILED = 1
export const EXIT_USAGE = 2

type Options = NonNullable<ParseArgsConfig['options']>

export interface CommandLine {
  readonly values: Readonly<Record<string, string | boolean | undefined>>
  readonly positionals: readonly string[]
}

/**
 * Parse argv for `command`. `--help` prints `usage` to stdout and exits 0; a bad argument prints
 * the problem and the usage to stderr and exits 2.
 */
export function commandLine(command: string, usage: string, options: Options = {}, argv: readonly string[] = process.argv.slice(2)): CommandLine {
  const all: Options = { ...options, help: { type: 'boolean', short: 'h' } }
  let parsed: CommandLine
  try {
    parsed = parseArgs({ args: [...argv], options: all, allowPositionals: true, strict: true }) as CommandLine
  } catch (err) {
    process.stderr.write(`${command}: ${(err as Error).message}\n${usage}\n`)
    process.exit(EXIT_USAGE)
  }
  if (parsed.values.help === true) {
    process.stdout.write(`${usage}\n`)
    process.exit(EXIT_OK)
  }
  return parsed
}

/** Whether an error means "cannot start as configured" (exit 2) rather than "failed" (exit 1). */
function isUsageError(err: unknown): boolean {
  return isGameServerError(err, 'GS_ERR_CONFIG') || isGameServerError(err, 'GS_ERR_LOADTEST_ARGS')
}

export function exitCodeFor(err: unknown): number {
  return isUsageError(err) ? EXIT_USAGE : EXIT_FAILED
}

/**
 * Configuration for a command: a bad variable prints `<command>: GS_ERR_CONFIG: <message naming
 * the variable>` and exits 2 instead of a stack trace.
 */
export function loadConfigOrExit(command: string): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (isGameServerError(err, 'GS_ERR_CONFIG')) {
      process.stderr.write(`${command}: ${err.code}: ${err.message}\n`)
      process.exit(EXIT_USAGE)
    }
    throw err
  }
}
