/**
 * Storage interfaces the game depends on. Each has an in-memory implementation (standalone
 * `npm run serve`) and a real one: accounts and players in PostgreSQL (app/db), login sessions
 * in Redis (app/cache). One contract test suite runs over every implementation (test/contracts/).
 */
import type { SharedGameState } from './shared-state.js'

export interface Position {
  readonly zone: number
  readonly x: number
  readonly y: number
}

/** A player's persistent state (one `players` row). */
export interface PlayerRecord {
  readonly id: number
  readonly username: string
  readonly email: string | null
  readonly passwordHash: string
  readonly level: number
  readonly experience: number
  readonly gold: number
  readonly position: Position
  readonly hp: number
  readonly createdAt: Date
  readonly lastLogin: Date | null
  /** Optimistic-concurrency version; bumped by every successful update. */
  readonly version: number
}

export interface NewAccount {
  readonly username: string
  readonly email?: string | null
  readonly passwordHash: string
  readonly position: Position
  readonly hp: number
}

/** Accounts: register and look up by name (login) or id. */
export interface AccountStore {
  /** Insert a new account; rejects with `GS_ERR_ACCOUNT_EXISTS` when the name (or email) is taken. */
  create(account: NewAccount): Promise<PlayerRecord>
  findByUsername(username: string): Promise<PlayerRecord | undefined>
  findById(id: number): Promise<PlayerRecord | undefined>
  close(): Promise<void>
}

/**
 * The mutable part of a player that the game changes while it plays, and so writes back. Gold is
 * not part of it: no game rule changes gold, and it is changed in the database by one statement
 * (`PlayerRepository.grantGold`, admin work). Writing the login-time copy back would overwrite such a
 * grant to an online player (a lost update); a rule that earns gold must add to the column the same way.
 */
export interface PlayerState {
  readonly id: number
  readonly level: number
  readonly experience: number
  readonly position: Position
  readonly hp: number
}

/**
 * Where changed player state goes. The in-memory implementation applies it at once; the Postgres
 * one marks it dirty and writes behind in bulk (app/db). `flush()` resolves once everything
 * marked before the call is durable.
 */
export interface PlayerStateSink {
  markDirty(state: PlayerState): void
  /**
   * The player left the world: persist this final state promptly; resolves once it is durable.
   * Accepted even when `markDirty` would refuse a new player for being full: the state moves from
   * the game's memory into the sink's, so nothing grows, and a logout never loses the last state.
   */
  release(finalState: PlayerState): Promise<void>
  flush(): Promise<void>
  close(): Promise<void>
  /**
   * Optional: be told which players' state just became durable (after every committed write,
   * including the sink's own timed flushes), so a cache in front can drop stale records.
   */
  onDurable?(listener: (playerIds: readonly number[]) => void): void
}

export interface LoginSession {
  readonly token: string
  readonly playerId: number
  readonly username: string
  readonly expiresAt: number
}

/** Login session tokens a reconnecting client presents instead of its password. */
export interface SessionStore {
  /** Create a token with the store's TTL. */
  create(playerId: number, username: string): Promise<LoginSession>
  /** The session for a token (refreshing its TTL: sliding expiry), or undefined when unknown/expired. */
  validate(token: string): Promise<LoginSession | undefined>
  invalidate(token: string): Promise<void>
  close(): Promise<void>
}

/** The four stores a game runs on (app/processes/game-stores.ts opens and closes them). */
export interface GameStoreSet {
  readonly accounts: AccountStore
  readonly sessions: SessionStore
  readonly playerSink: PlayerStateSink
  readonly shared: SharedGameState
}
