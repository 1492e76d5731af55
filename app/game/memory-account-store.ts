/**
 * AccountStore kept in process memory (standalone `npm run serve`; tests). Ids are assigned from 1
 * upwards; usernames are unique case-insensitively (like the PostgreSQL store's index on
 * lower(username)) and emails, when given, compared exactly. Records handed out are
 * frozen copies, so callers can never change the stored state behind the store's back.
 */
import { GameServerError } from '../errors.js'
import type { AccountStore, NewAccount, PlayerRecord, PlayerState } from './stores.js'

export class MemoryAccountStore implements AccountStore {
  private readonly byId = new Map<number, PlayerRecord>()
  private readonly idByUsername = new Map<string, number>()
  private readonly idByEmail = new Map<string, number>()
  private nextId = 1
  private closed = false

  async create(account: NewAccount): Promise<PlayerRecord> {
    this.assertOpen()
    const email = account.email ?? null
    if (this.idByUsername.has(account.username.toLowerCase()) || (email !== null && this.idByEmail.has(email))) {
      throw new GameServerError('GS_ERR_ACCOUNT_EXISTS', 'the username or email is taken', { username: account.username })
    }
    const record: PlayerRecord = freeze({
      id: this.nextId++,
      username: account.username,
      email,
      passwordHash: account.passwordHash,
      level: 1,
      experience: 0,
      gold: 0,
      position: { ...account.position },
      hp: account.hp,
      createdAt: new Date(),
      lastLogin: null,
      version: 1,
    })
    this.byId.set(record.id, record)
    this.idByUsername.set(record.username.toLowerCase(), record.id)
    if (email !== null) this.idByEmail.set(email, record.id)
    return copy(record)
  }

  async findByUsername(username: string): Promise<PlayerRecord | undefined> {
    this.assertOpen()
    const id = this.idByUsername.get(username.toLowerCase())
    return id === undefined ? undefined : this.findById(id)
  }

  async findById(id: number): Promise<PlayerRecord | undefined> {
    this.assertOpen()
    const record = this.byId.get(id)
    return record === undefined ? undefined : copy(record)
  }

  /** Apply changed game state at once (the in-memory PlayerStateSink's write). False for an unknown id. */
  applyState(state: PlayerState): boolean {
    const current = this.byId.get(state.id)
    if (current === undefined || this.closed) return false
    this.byId.set(state.id, freeze({
      ...current,
      level: state.level,
      experience: state.experience,
      position: { ...state.position },
      hp: state.hp,
      version: current.version + 1,
    }))
    return true
  }

  get size(): number {
    return this.byId.size
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private assertOpen(): void {
    if (this.closed) throw new GameServerError('GS_ERR_STORE_CLOSED', 'the account store is closed', { store: 'memory-accounts' })
  }
}

function freeze(record: PlayerRecord): PlayerRecord {
  Object.freeze(record.position)
  return Object.freeze(record)
}

function copy(record: PlayerRecord): PlayerRecord {
  return freeze({ ...record, position: { ...record.position }, createdAt: new Date(record.createdAt), lastLogin: record.lastLogin === null ? null : new Date(record.lastLogin) })
}
