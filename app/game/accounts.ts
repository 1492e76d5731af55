/**
 * Accounts: register and log in with username + password (scrypt), or with a login session token
 * a reconnecting client presents instead of its password; logout invalidates the token.
 *
 * Rules: usernames are 3–32 characters of [A-Za-z0-9_.-] with at least one letter or digit (so
 * `...` or `---` are not names), unique regardless of case (`Ann` and `ann` are one account: a
 * login may use either case); passwords 8–128 bytes of UTF-8. A login
 * for an unknown name still runs one scrypt verification, so response time does not reveal whether
 * the name exists.
 */
import { GameServerError, isGameServerError } from '../errors.js'
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParameters } from './passwords.js'
import type { GameRules } from './rules.js'
import { spawnPoint } from './rules.js'
import type { AccountStore, LoginSession, PlayerRecord, SessionStore } from './stores.js'

const USERNAME_PATTERN = /^(?=.*[A-Za-z0-9])[A-Za-z0-9_.-]{3,32}$/
/** What a login accepts: also names registered before the letter-or-digit rule. */
const LOGIN_USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/
const MIN_PASSWORD_BYTES = 8
const MAX_PASSWORD_BYTES = 128

export interface LoggedIn {
  readonly record: PlayerRecord
  readonly session: LoginSession
}

export class AccountService {
  private readonly scrypt: ScryptParameters
  private dummyHash: Promise<string> | null = null

  constructor(
    private readonly accounts: AccountStore,
    private readonly sessions: SessionStore,
    private readonly rules: GameRules,
    passwordHashCost: number = DEFAULT_SCRYPT.cost,
  ) {
    if (!Number.isInteger(passwordHashCost) || passwordHashCost < 2 || (passwordHashCost & (passwordHashCost - 1)) !== 0) {
      throw new GameServerError('GS_ERR_CONFIG', `PASSWORD_HASH_COST=${passwordHashCost} is invalid: must be a power of two`, { variable: 'PASSWORD_HASH_COST', value: passwordHashCost })
    }
    this.scrypt = { ...DEFAULT_SCRYPT, cost: passwordHashCost }
  }

  /** Create the account (spawned in zone 0) and log it in. GS_ERR_ACCOUNT_INVALID / GS_ERR_ACCOUNT_EXISTS. */
  async register(username: string, password: string): Promise<LoggedIn> {
    checkCredentials(username, password)
    const passwordHash = await hashPassword(password, this.scrypt)
    const spawn = spawnPoint(this.rules, 0)
    const record = await this.accounts.create({ username, passwordHash, position: { zone: 0, x: spawn.x, y: spawn.y }, hp: this.rules.maxHp })
    return { record, session: await this.createSession(record) }
  }

  /** GS_ERR_BAD_CREDENTIALS for an unknown name or a wrong password (indistinguishable on purpose). */
  async login(username: string, password: string): Promise<LoggedIn> {
    try {
      checkCredentials(username, password, LOGIN_USERNAME_PATTERN)
    } catch {
      throw badCredentials(username)
    }
    const record = await this.accounts.findByUsername(username)
    if (record === undefined) {
      await verifyPassword(password, await this.dummy())
      throw badCredentials(username)
    }
    if (!(await verifyPassword(password, record.passwordHash))) throw badCredentials(username)
    return { record, session: await this.createSession(record) }
  }

  /** The account behind a valid token (its TTL is refreshed), or undefined. */
  async loginWithToken(token: string): Promise<LoggedIn | undefined> {
    const session = await this.withSessionStore(() => this.sessions.validate(token))
    if (session === undefined) return undefined
    const record = await this.accounts.findById(session.playerId)
    return record === undefined ? undefined : { record, session }
  }

  async logout(token: string): Promise<void> {
    await this.withSessionStore(() => this.sessions.invalidate(token))
  }

  private createSession(record: PlayerRecord): Promise<LoginSession> {
    return this.withSessionStore(() => this.sessions.create(record.id, record.username))
  }

  /** Session-store failures become GS_ERR_SESSION_STORE_UNAVAILABLE (the client gets that code). */
  private async withSessionStore<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (err) {
      if (isGameServerError(err)) throw err
      throw new GameServerError('GS_ERR_SESSION_STORE_UNAVAILABLE', 'the login session store failed', {}, { cause: err })
    }
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword('not-a-real-password', this.scrypt)
    return this.dummyHash
  }
}

function checkCredentials(username: string, password: string, pattern: RegExp = USERNAME_PATTERN): void {
  if (!pattern.test(username)) throw new GameServerError('GS_ERR_ACCOUNT_INVALID', 'username must be 3–32 characters of A-Z a-z 0-9 _ . - with at least one letter or digit', { username })
  const bytes = Buffer.byteLength(password, 'utf8')
  if (bytes < MIN_PASSWORD_BYTES || bytes > MAX_PASSWORD_BYTES) {
    throw new GameServerError('GS_ERR_ACCOUNT_INVALID', `password must be ${MIN_PASSWORD_BYTES}–${MAX_PASSWORD_BYTES} bytes`, { username })
  }
}

function badCredentials(username: string): GameServerError {
  return new GameServerError('GS_ERR_BAD_CREDENTIALS', 'unknown username or wrong password', { username })
}
