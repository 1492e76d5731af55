/**
 * The PostgreSQL `AccountStore`: accounts are `players` rows. A taken username or email is
 * `GS_ERR_ACCOUNT_EXISTS` (context.field names which). When given the write-behind sink's
 * `pending` lookup, loads overlay the state not yet flushed, so a player who logs out and in again
 * before the next flush gets their latest state back.
 */
import type { AccountStore, NewAccount, PlayerRecord, PlayerState } from '../game/stores.js'
import type { Executor } from './pool.js'
import { PlayerRepository } from './player-repository.js'

export interface PostgresAccountStoreOptions {
  /** Dirty state not yet written (the write-behind sink's `pending`). */
  readonly pending?: (playerId: number) => PlayerState | undefined
}

export class PostgresAccountStore implements AccountStore {
  private readonly players: PlayerRepository

  constructor(
    executor: Executor,
    private readonly options: PostgresAccountStoreOptions = {},
  ) {
    this.players = new PlayerRepository(executor)
  }

  create(account: NewAccount): Promise<PlayerRecord> {
    return this.players.create(account)
  }

  async findByUsername(username: string): Promise<PlayerRecord | undefined> {
    return this.overlay(await this.players.findByUsername(username))
  }

  async findById(id: number): Promise<PlayerRecord | undefined> {
    return this.overlay(await this.players.findById(id))
  }

  /** The pool belongs to whoever created it (app/processes/game-stores.ts); nothing to release here. Idempotent. */
  async close(): Promise<void> {}

  private overlay(record: PlayerRecord | undefined): PlayerRecord | undefined {
    if (!record) return undefined
    const state = this.options.pending?.(record.id)
    if (!state) return record
    return { ...record, level: state.level, experience: state.experience, position: state.position, hp: state.hp }
  }
}
