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
  GS_ERR_WS_TEXT_MESSAGE: 'a WebSocket client sent a text message; the protocol is binary (closed with 4001)',
  GS_ERR_WS_ORIGIN_REFUSED: 'a WebSocket upgrade came from an Origin that WS_ALLOWED_ORIGINS does not allow (HTTP 403)',
  // pool
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
  GS_ERR_LOGIN_THROTTLED: 'a password login was refused before hashing: too many failures for the account or from the address',
  GS_ERR_USERNAME_DUPLICATES: 'usernames that differ only in case exist; the case-insensitive unique index cannot be built until they are renamed',
  // game (stores, accounts, composition)
  GS_ERR_STORE_CLOSED: 'a store was used after close()',
  GS_ERR_ACCOUNT_INVALID: 'a username or password does not meet the account rules',
  GS_ERR_REQUEST_REJECTED: 'the server answered a client request with an ERROR frame',
  GS_ERR_OVERLOADED: 'work was shed because a bounded queue was full or waited too long',
  GS_ERR_SHUTTING_DOWN: 'work was refused because the server is shutting down',
  // database (app/db)
  GS_ERR_DB_UNAVAILABLE: 'PostgreSQL at DATABASE_URL is missing, unreachable or refused the connection',
  GS_ERR_DB_QUERY: 'a database statement failed for a reason without a more specific code',
  GS_ERR_DB_DUPLICATE: 'a unique constraint was violated; the context names the field',
  GS_ERR_DB_VERSION_CONFLICT: 'an optimistic update lost the race: the row version changed since it was read',
  GS_ERR_DB_NOT_FOUND: 'the row to update or delete does not exist',
  GS_ERR_DB_INVALID_ARGUMENT: 'a repository call got an invalid filter, cursor or value',
  GS_ERR_DB_MIGRATION: 'a migration failed or an applied migration differs from its source',
  GS_ERR_DB_WRITE_BEHIND_FULL: 'the write-behind dirty map is full; the state change was not accepted',
  GS_ERR_DB_WRITE_BEHIND_CLOSED: 'the write-behind sink is closed or could not persist everything before its close deadline',
  // cache (app/cache)
  GS_ERR_CACHE_PATTERN: 'a broadcast invalidation pattern does not start with the cache key prefix',
  // telemetry
  GS_ERR_METRICS_LISTEN: 'the metrics endpoint could not listen on METRICS_HOST:METRICS_PORT',
  // balancer and cluster
  GS_ERR_BACKEND_CONNECT: 'connecting to a backend failed or timed out',
  GS_ERR_BACKEND_UNKNOWN: 'no backend with that id is registered',
  GS_ERR_BACKEND_EXISTS: 'a backend with that address is already registered',
  GS_ERR_BALANCER_CLOSED: 'the balancer is closed',
  GS_ERR_ADMIN_BAD_REQUEST: 'an admin request is malformed (body, field or route)',
  GS_ERR_ADMIN_UNAUTHORIZED: 'an admin request lacks the admin token or carries a wrong one',
  GS_ERR_ADMIN_FORBIDDEN: 'an admin request came with a foreign Host or Origin (cross-site)',
  GS_ERR_CLUSTER_UNAVAILABLE: 'the cluster store (Redis) cannot be reached',
  GS_ERR_LEADERSHIP_LOST: 'this node lost (or never held) the leader lease',
  // leader-only jobs (app/db/leaderboard-snapshots.ts, app/processes/leaderboard-jobs.ts)
  GS_ERR_FENCED_WRITE_REJECTED: 'a leader-only write carried a fencing token older than one the store already accepted',
  // deployment: topology, local appliance
  GS_ERR_TOPOLOGY: 'a topology option is invalid, or a service or port it names does not exist',
  GS_ERR_APPLIANCE_START: 'the local appliance could not start a service or did not become ready',
  // the container-engine test harness (test/harness/engine)
  GS_ERR_ENGINE_START: 'the container engine (podman serving the Docker API) could not be started or stopped cleanly',
  GS_ERR_ENGINE_API: 'a Docker Engine API call failed or the engine could not be reached',
  GS_ERR_ENGINE_BUILD: 'building or importing an image on the container engine failed',
  GS_ERR_DEPLOY_MIGRATION: 'the migration job of a Pulumi update exited with a non-zero code; the game servers were not started',
  // load generator (app/loadtest, app/cli/loadtest.ts)
  GS_ERR_LOADTEST_ARGS: 'a load-test command-line argument is missing or invalid',
  GS_ERR_LOADTEST_SCENARIO: 'a load-test scenario (shipped or from a file) is invalid',
  GS_ERR_LOADTEST_THRESHOLD: 'a load-test threshold expression cannot be parsed',
  GS_ERR_LOADTEST_TARGET: 'the load-test target could not be reached or started',
  GS_ERR_LOADTEST_WORKER: 'a load-generator worker failed',
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
