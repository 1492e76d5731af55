/**
 * The one error catalogue. Every error the appliance raises on purpose is a `GameServerError`
 * with a stable `code` (`GS_ERR_*`), a message, optional context and an optional `cause`.
 * Tests assert codes, never message text. `docs/ERRORS.md` documents every code (a unit test
 * checks that it does).
 */

export const ErrorCodes = {
  // configuration
  GS_ERR_CONFIG: 'a configuration variable is missing or invalid',
  // protocol
  GS_ERR_FRAME_TOO_SMALL: 'a frame declared a size below the 12-byte header',
  GS_ERR_FRAME_TOO_LARGE: 'a frame declared a size above the configured maximum',
  GS_ERR_BATCH_MALFORMED: 'a BATCH frame is inconsistent (count, flags, sizes or inner frames)',
  GS_ERR_BATCH_TOO_LARGE: 'a BATCH frame would inflate beyond the configured bound',
  GS_ERR_PAYLOAD_MALFORMED: 'a frame payload does not match its type\'s layout',
  // pool
  GS_ERR_POOL_CLOSED: 'the pool is closed',
  GS_ERR_POOL_TIMEOUT: 'acquiring from the pool timed out',
  GS_ERR_POOL_ABORTED: 'acquiring from the pool was aborted',
  GS_ERR_POOL_EXHAUSTED: 'too many callers are already waiting for the pool',
  GS_ERR_POOL_INVALID: 'a pool resource failed validation or could not be created',
  // client connection
  GS_ERR_CLIENT_CLOSED: 'the client connection is closed or could not be opened',
  GS_ERR_CLIENT_TIMEOUT: 'the client connection timed out (connect, or waiting for a frame)',
  // harness / processes
  GS_ERR_PROCESS_START: 'a child process failed to start or become ready',
  GS_ERR_DEPENDENCY_MISSING: 'a required system program is not installed',
  // accounts and sessions
  GS_ERR_ACCOUNT_EXISTS: 'the username is taken',
  GS_ERR_BAD_CREDENTIALS: 'the username or password is wrong',
  GS_ERR_SESSION_STORE_UNAVAILABLE: 'the login session store cannot be reached',
  // deployment: topology, local appliance
  GS_ERR_TOPOLOGY: 'a topology option is invalid, or a service or port it names does not exist',
  GS_ERR_APPLIANCE_START: 'the local appliance could not start a service or did not become ready',
} as const

export type ErrorCode = keyof typeof ErrorCodes

export class GameServerError extends Error {
  readonly code: ErrorCode
  readonly context: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'GameServerError'
    this.code = code
    this.context = Object.freeze({ ...context })
  }
}

export function isGameServerError(err: unknown, code?: ErrorCode): err is GameServerError {
  return err instanceof GameServerError && (code === undefined || err.code === code)
}
