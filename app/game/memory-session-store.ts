/**
 * SessionStore kept in process memory. Tokens are 32 random bytes (base64url); each lives for the
 * TTL and every successful `validate` pushes its expiry out again (sliding). Expired tokens are
 * removed lazily on lookup and by a sweep (an `unref()`ed timer), so memory stays bounded by the
 * logins of one TTL.
 */
import { randomBytes } from 'node:crypto'
import { GameServerError } from '../errors.js'
import type { LoginSession, SessionStore } from './stores.js'

/** How often expired tokens are swept (lookups drop them too). */
const SWEEP_INTERVAL_MS = 60_000

export interface MemorySessionStoreOptions {
  readonly ttlSeconds: number
  /** Wall clock in epoch ms (tests). */
  readonly now?: () => number
  /** How often expired tokens are swept [60000]. */
  readonly sweepIntervalMs?: number
}

interface Entry {
  readonly playerId: number
  readonly username: string
  expiresAt: number
}

const TOKEN_BYTES = 32

export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, Entry>()
  private readonly ttlMs: number
  private readonly now: () => number
  private readonly sweepTimer: NodeJS.Timeout
  private closed = false

  constructor(options: MemorySessionStoreOptions) {
    if (!(options.ttlSeconds > 0)) throw new RangeError('ttlSeconds must be > 0')
    this.ttlMs = options.ttlSeconds * 1000
    this.now = options.now ?? Date.now
    this.sweepTimer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? SWEEP_INTERVAL_MS)
    this.sweepTimer.unref()
  }

  async create(playerId: number, username: string): Promise<LoginSession> {
    this.assertOpen()
    const token = randomBytes(TOKEN_BYTES).toString('base64url')
    const entry: Entry = { playerId, username, expiresAt: this.now() + this.ttlMs }
    this.entries.set(token, entry)
    return view(token, entry)
  }

  async validate(token: string): Promise<LoginSession | undefined> {
    this.assertOpen()
    const entry = this.entries.get(token)
    if (entry === undefined) return undefined
    const now = this.now()
    if (entry.expiresAt <= now) {
      this.entries.delete(token)
      return undefined
    }
    entry.expiresAt = now + this.ttlMs
    return view(token, entry)
  }

  async invalidate(token: string): Promise<void> {
    this.assertOpen()
    this.entries.delete(token)
  }

  /** Remove expired tokens; returns how many. */
  sweep(): number {
    const now = this.now()
    let removed = 0
    for (const [token, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(token)
        removed++
      }
    }
    return removed
  }

  get size(): number {
    return this.entries.size
  }

  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweepTimer)
    this.entries.clear()
  }

  private assertOpen(): void {
    if (this.closed) throw new GameServerError('GS_ERR_STORE_CLOSED', 'the session store is closed', { store: 'memory-sessions' })
  }
}

function view(token: string, entry: Entry): LoginSession {
  return Object.freeze({ token, playerId: entry.playerId, username: entry.username, expiresAt: entry.expiresAt })
}
