/**
 * PostgreSQL failures → the error catalogue. Connection-level failures become one
 * `GS_ERR_DB_UNAVAILABLE` naming `DATABASE_URL` (password redacted); unique violations name the
 * field; everything else is `GS_ERR_DB_QUERY` with the operation and SQLSTATE.
 */
import postgres from 'postgres'
import { GameServerError, isGameServerError } from '../errors.js'

/** Node socket errors and postgres.js connection errors that mean "the database is not there". */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
])

/** SQLSTATEs meaning the server is there but will not serve us (class 08, 28, 3D000, 57P0x). */
function isUnavailableSqlState(state: string): boolean {
  return state.startsWith('08') || state.startsWith('28') || state === '3D000' || state === '57P01' || state === '57P02' || state === '57P03'
}

/** `postgres://user:***@host:port/db` — safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '<unparseable DATABASE_URL>'
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function isConnectionFailure(err: unknown): boolean {
  if (isGameServerError(err, 'GS_ERR_DB_UNAVAILABLE')) return true
  const code = errorCode(err)
  if (code === undefined) return false
  if (err instanceof postgres.PostgresError) return isUnavailableSqlState(code)
  return CONNECTION_CODES.has(code)
}

export function unavailableError(url: string, err: unknown): GameServerError {
  const code = errorCode(err) ?? 'unknown'
  const reason = err instanceof Error ? err.message : String(err)
  return new GameServerError(
    'GS_ERR_DB_UNAVAILABLE',
    `PostgreSQL at DATABASE_URL=${redactUrl(url)} is unavailable: ${reason} (${code}). Check that the server runs, the database exists and DATABASE_URL is right.`,
    { variable: 'DATABASE_URL', url: redactUrl(url), reason: code },
    { cause: err },
  )
}

/** Unique constraints by name → the field they protect (constraint names are fixed by the migrations). */
const UNIQUE_FIELDS: Readonly<Record<string, string>> = {
  players_username_key: 'username',
  players_username_lower_key: 'username',
  players_email_key: 'email',
}

/** Map any failure of operation `op` to a catalogue error (GameServerErrors pass through). */
export function mapDatabaseError(err: unknown, op: string, url: string): unknown {
  if (err instanceof GameServerError) return err
  if (isConnectionFailure(err)) return unavailableError(url, err)
  if (err instanceof postgres.PostgresError) {
    if (err.code === '23505') {
      const constraint = err.constraint_name ?? 'unknown'
      const field = UNIQUE_FIELDS[constraint] ?? constraint
      const code = constraint in UNIQUE_FIELDS ? 'GS_ERR_ACCOUNT_EXISTS' : 'GS_ERR_DB_DUPLICATE'
      return new GameServerError(code, `${op}: ${field} is already taken`, { op, field, constraint }, { cause: err })
    }
    if (err.code === '23503') {
      // foreign key: the row referred to (e.g. the player of a game_log row) does not exist
      return new GameServerError('GS_ERR_DB_NOT_FOUND', `${op}: ${err.detail ?? err.message}`, { op, constraint: err.constraint_name, sqlState: err.code }, { cause: err })
    }
    if (err.code === '23514' || err.code === '22003' || err.code === '23502') {
      // check constraint, numeric out of range, not null: a value the schema refuses
      return new GameServerError('GS_ERR_DB_INVALID_ARGUMENT', `${op}: ${err.message}`, { op, constraint: err.constraint_name, column: err.column_name, sqlState: err.code }, { cause: err })
    }
    return new GameServerError('GS_ERR_DB_QUERY', `${op} failed: ${err.message}`, { op, sqlState: err.code }, { cause: err })
  }
  return new GameServerError('GS_ERR_DB_QUERY', `${op} failed: ${err instanceof Error ? err.message : String(err)}`, { op }, { cause: err })
}

/** Like `mapDatabaseError`, but errors that did not come from PostgreSQL (a caller's own throw) pass through unchanged. */
export function mapIfDatabaseError(err: unknown, op: string, url: string): unknown {
  if (err instanceof postgres.PostgresError || isConnectionFailure(err)) return mapDatabaseError(err, op, url)
  return err
}
