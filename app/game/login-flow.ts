/**
 * REGISTER and LOGIN, from the frame to the one answer each gets:
 *
 *   1. a connection already logged in (or with a login in progress) → ALREADY_LOGGED_IN;
 *   2. at most MAX_PENDING_LOGINS logins in progress → beyond, OVERLOADED (only logins count:
 *      logouts and the state hand-over of leaving players never take a login's place);
 *   3. password logins and REGISTERs pass the throttle (login-throttle.ts) before they may queue for
 *      scrypt (login-queue.ts); token logins cost no hashing and go straight to the session store;
 *   4. the authenticated player enters the world (`enter`, Game's), or the client gets an ERROR
 *      with a fixed public message — internals (a database's host and user) stay in the log.
 *
 * Every answered request is counted by its result (`GameMetrics.loginFinished`, exported as
 * gs_logins_total{result}): see `LoginResult`.
 */
import type { Config } from '../config/index.js'
import { isGameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Connection, InboundFrame, ViolationKind } from '../net/connection.js'
import { decodeLogin, decodeRegister, type LoginRequest } from '../protocol/messages.js'
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, WireError, type WireErrorCode } from '../protocol/types.js'
import type { AccountService, LoggedIn } from './accounts.js'
import { LoginQueue, type LoginQueueStats } from './login-queue.js'
import { LoginThrottle, type LoginThrottleStats, type LoginTicket } from './login-throttle.js'
import type { GameMetrics, LoginResult } from './metrics.js'

export type LoginKind = 'register' | 'login'

/** An address that logged into an account stays exempt from that account's throttle this long. */
const KNOWN_LOGIN_ADDRESS_MS = 7 * 24 * 3600_000
/** Entries each throttle map keeps (addresses, accounts, known pairs): ~100 B each. */
const MAX_THROTTLE_ENTRIES = 100_000

export interface LoginFlowOptions {
  readonly config: Config
  readonly accounts: AccountService
  readonly metrics: GameMetrics
  readonly logger: Logger
  /** Put the authenticated player into the world; false when the connection closed meanwhile. */
  readonly enter: (connection: Connection, seq: number, loggedIn: LoggedIn) => boolean
  /** Answer and count a tolerated violation (Game's). */
  readonly violation: (connection: Connection, kind: ViolationKind, code: WireErrorCode, seq: number, message: string) => void
}

export interface LoginFlowStats {
  /** Logins in progress (hashing, waiting for a slot, or on a store). */
  readonly inProgress: number
  readonly queue: LoginQueueStats
  readonly throttle: LoginThrottleStats
  /** Logins that entered the world. */
  readonly logins: number
  /** Logins answered with an ERROR. */
  readonly loginFailures: number
}

export class LoginFlow {
  readonly queue: LoginQueue
  readonly throttle: LoginThrottle
  private readonly inProgress = new Set<Promise<void>>()
  private readonly authenticating = new Set<Connection>()
  private logins = 0
  private loginFailures = 0

  constructor(private readonly options: LoginFlowOptions) {
    const game = options.config.game
    this.queue = new LoginQueue({ concurrency: game.passwordHashConcurrency, maxQueued: game.maxPendingLogins, maxWaitMs: game.loginQueueTimeoutMs })
    this.throttle = new LoginThrottle({
      addressBurst: game.loginAddressBurst,
      addressPerMinute: game.loginAddressPerMinute,
      accountBurst: game.loginAccountBurst,
      accountPerMinute: game.loginAccountPerMinute,
      knownAddressMs: KNOWN_LOGIN_ADDRESS_MS,
      maxTracked: MAX_THROTTLE_ENTRIES,
    })
  }

  /** A REGISTER or LOGIN frame; `loggedIn`: the connection already has a player. */
  start(frame: InboundFrame, kind: LoginKind, loggedIn: boolean): void {
    const { connection, seq } = frame
    if (loggedIn || this.authenticating.has(connection)) {
      connection.sendError(WireError.ALREADY_LOGGED_IN, seq, 'this connection is already logged in')
      this.options.metrics.loginFinished('failed')
      return
    }
    let request: LoginRequest
    try {
      request = kind === 'register' ? { mode: 'password', ...decodeRegister(frame.payload) } : decodeLogin(frame.payload)
    } catch {
      this.options.violation(connection, 'malformed-payload', WireError.MALFORMED_FRAME, seq, `${kind.toUpperCase()} payload malformed`)
      return
    }
    // Absent: the client takes the current version; newer than ours: LOGIN_OK tells it ours.
    if (request.version !== undefined && request.version < MIN_PROTOCOL_VERSION) {
      connection.sendError(WireError.UNSUPPORTED_VERSION, seq, `protocol version ${request.version} is not supported; this server speaks ${MIN_PROTOCOL_VERSION}–${PROTOCOL_VERSION}`)
      this.options.metrics.loginFinished('refused')
      return
    }
    if (this.inProgress.size >= this.options.config.game.maxPendingLogins) {
      connection.sendError(WireError.OVERLOADED, seq, 'too many logins in progress')
      this.options.metrics.loginFinished('refused')
      return
    }
    // Password logins and REGISTERs pass the throttle before they may queue for scrypt; token
    // logins cost no hashing and are how a throttled victim's client gets back in.
    let ticket: LoginTicket | null = null
    if (request.mode === 'password') {
      try {
        ticket = this.throttle.admit(connection.remoteAddress, kind === 'login' ? normaliseUsername(request.username) : null)
      } catch (err) {
        this.failed(connection, seq, err)
        return
      }
    }
    if (!connection.closed) this.authenticating.add(connection)
    const work = this.authenticate(kind, request, connection)
      .then((result) => {
        if (ticket !== null) this.throttle.succeeded(ticket, result === undefined ? null : normaliseUsername(result.record.username))
        this.answer(connection, seq, result)
      })
      .catch((err: unknown) => {
        if (ticket !== null) {
          if (isGuess(err)) this.throttle.failed(ticket)
          else this.throttle.abandoned(ticket)
        }
        this.failed(connection, seq, err)
      })
      .finally(() => {
        this.authenticating.delete(connection)
        this.inProgress.delete(work)
      })
    this.inProgress.add(work)
  }

  /** Logins in progress (Game.settle waits for them). */
  get pending(): readonly Promise<void>[] {
    return [...this.inProgress]
  }

  /** Shutdown: refuse every password login still waiting for a hashing slot (SHUTTING_DOWN); running ones finish. */
  close(): void {
    this.queue.close()
  }

  stats(): LoginFlowStats {
    return { inProgress: this.inProgress.size, queue: this.queue.stats(), throttle: this.throttle.stats(), logins: this.logins, loginFailures: this.loginFailures }
  }

  /** Token logins run at once (no hashing); password logins wait for a hashing slot in the LoginQueue. */
  private async authenticate(kind: LoginKind, request: LoginRequest, connection: Connection): Promise<LoggedIn | undefined> {
    const accounts = this.options.accounts
    if (request.mode === 'token') return accounts.loginWithToken(request.token)
    const { username, password } = request
    return this.queue.run(
      () => (kind === 'register' ? accounts.register(username, password) : accounts.login(username, password)),
      () => connection.closed,
      connection.remoteAddress,
    )
  }

  private answer(connection: Connection, seq: number, result: LoggedIn | undefined): void {
    if (result === undefined) {
      this.loginFailures++
      this.options.metrics.loginFinished('failed')
      connection.sendError(WireError.TOKEN_INVALID, seq, 'unknown or expired token')
      return
    }
    if (!this.options.enter(connection, seq, result)) {
      this.options.metrics.loginFinished('abandoned')
      return
    }
    this.logins++
    this.options.metrics.loginFinished('ok')
  }

  /** Answer a failed REGISTER/LOGIN with the wire code and a fixed public message (never an internal error's text). */
  private failed(connection: Connection, seq: number, err: unknown): void {
    this.loginFailures++
    const code = wireCodeOf(err)
    this.options.metrics.loginFinished(resultOf(code, err))
    if (code === WireError.INTERNAL || code === WireError.SESSION_STORE_UNAVAILABLE || code === WireError.ACCOUNT_STORE_UNAVAILABLE) {
      this.options.logger.error({ err, code: isGameServerError(err) ? err.code : undefined, connectionId: connection.id }, 'login failed')
    }
    // The rules message says what a valid name or password is; throttling says when to retry.
    const message = isGameServerError(err, 'GS_ERR_ACCOUNT_INVALID') || isGameServerError(err, 'GS_ERR_LOGIN_THROTTLED') ? err.message : PUBLIC_MESSAGES[code] ?? 'internal error'
    connection.sendError(code, seq, message)
  }
}

function wireCodeOf(err: unknown): WireErrorCode {
  return isGameServerError(err, 'GS_ERR_ACCOUNT_EXISTS') ? WireError.ACCOUNT_EXISTS
    : isGameServerError(err, 'GS_ERR_BAD_CREDENTIALS') || isGameServerError(err, 'GS_ERR_ACCOUNT_INVALID') ? WireError.BAD_CREDENTIALS
    : isGameServerError(err, 'GS_ERR_SESSION_STORE_UNAVAILABLE') ? WireError.SESSION_STORE_UNAVAILABLE
    : isGameServerError(err, 'GS_ERR_DB_UNAVAILABLE') ? WireError.ACCOUNT_STORE_UNAVAILABLE
    : isGameServerError(err, 'GS_ERR_OVERLOADED') ? WireError.OVERLOADED
    : isGameServerError(err, 'GS_ERR_SHUTTING_DOWN') ? WireError.SHUTTING_DOWN
    : isGameServerError(err, 'GS_ERR_LOGIN_THROTTLED') ? WireError.LOGIN_THROTTLED
    : WireError.INTERNAL
}

/** The metric's result for a failed login: whose doing it was, not which message the client read. */
function resultOf(code: WireErrorCode, err: unknown): LoginResult {
  switch (code) {
    case WireError.ACCOUNT_EXISTS:
    case WireError.BAD_CREDENTIALS:
      return 'failed'
    case WireError.LOGIN_THROTTLED:
      return 'throttled'
    case WireError.OVERLOADED:
      // the login queue drops a login whose client left before its turn (reason 'stale')
      return isGameServerError(err) && err.context.reason === 'stale' ? 'abandoned' : 'refused'
    case WireError.SHUTTING_DOWN:
      return 'refused'
    case WireError.SESSION_STORE_UNAVAILABLE:
    case WireError.ACCOUNT_STORE_UNAVAILABLE:
      return 'unavailable'
    default:
      return 'error'
  }
}

/** Names are unique case-insensitively (docs/DATABASE.md): the throttle keys accounts the same way. */
function normaliseUsername(username: string): string {
  return username.toLowerCase()
}

/** Failures that mean a wrong guess (the throttle keeps their tokens); the rest are the server's. */
function isGuess(err: unknown): boolean {
  return isGameServerError(err, 'GS_ERR_BAD_CREDENTIALS') || isGameServerError(err, 'GS_ERR_ACCOUNT_INVALID') || isGameServerError(err, 'GS_ERR_ACCOUNT_EXISTS')
}

/** What a client reads in the ERROR message for each login failure (never an internal error's text). */
const PUBLIC_MESSAGES: Partial<Record<WireErrorCode, string>> = {
  [WireError.ACCOUNT_EXISTS]: 'username is taken',
  [WireError.BAD_CREDENTIALS]: 'unknown username or wrong password',
  [WireError.SESSION_STORE_UNAVAILABLE]: 'login sessions are unavailable; retry, or log in with the password',
  [WireError.ACCOUNT_STORE_UNAVAILABLE]: 'accounts are temporarily unavailable; retry with back-off',
  [WireError.OVERLOADED]: 'too many logins in progress; retry with back-off',
  [WireError.SHUTTING_DOWN]: 'the server is shutting down',
}
