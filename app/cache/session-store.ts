/**
 * Login sessions in Redis: `gs:session:{sha256(token)}` → `{playerId, username}` with a TTL that
 * every successful validation slides forward (GETEX … EX: read and refresh in one command). The key
 * holds the token's digest, not the token (keys.ts).
 *
 * Failure behaviour: a new token is drawn until it lands on an available shard, so logins keep
 * working while some shards are down. Validating a token whose shard is unavailable rejects with
 * `GS_ERR_SESSION_STORE_UNAVAILABLE`: the game then asks for the password again, rather than
 * letting the client in unchecked or locking it out. An invalidation that cannot reach its shard is
 * remembered and replayed when the shard answers again, so a logged-out token does not come back.
 */
import { randomBytes } from 'node:crypto'
import { GameServerError } from '../errors.js'
import type { LoginSession, SessionStore } from '../game/stores.js'
import { keys } from './keys.js'
import type { Shard, ShardSet } from './shards.js'

/** Invalidations remembered per down shard before its sessions are dropped wholesale on recovery. */
const MAX_OWED_INVALIDATIONS = 10_000

/** Fresh tokens drawn before giving up on a collision (never seen: 192 random bits). */
const MAX_DRAWS = 16

/** Random bytes of a login token (32 characters of base64url). */
const TOKEN_BYTES = 24

export interface RedisSessionStoreOptions {
  /** Token lifetime, slid forward by every validation (SESSION_TOKEN_TTL_SECONDS). */
  readonly ttlSeconds: number
  /** Random bytes per token (default 24 → 32 base64url characters). */
  readonly tokenBytes?: number
  /** Draws of a token before giving up when its shard is unavailable (default 16). */
  readonly maxDraws?: number
  /** Invalidations remembered per down shard (default 10,000; beyond that TTLs bound them). */
  readonly maxOwedInvalidations?: number
  readonly now?: () => number
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/

export class RedisSessionStore implements SessionStore {
  private readonly ttlSeconds: number
  private readonly tokenBytes: number
  private readonly maxDraws: number
  private readonly maxOwed: number
  private readonly now: () => number
  private readonly owed = new Map<number, Set<string>>()
  private readonly unsubscribe: () => void

  constructor(
    private readonly shards: ShardSet,
    options: RedisSessionStoreOptions,
  ) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) throw new RangeError('ttlSeconds must be a positive integer')
    this.ttlSeconds = options.ttlSeconds
    this.tokenBytes = options.tokenBytes ?? TOKEN_BYTES
    this.maxDraws = options.maxDraws ?? MAX_DRAWS
    this.maxOwed = options.maxOwedInvalidations ?? MAX_OWED_INVALIDATIONS
    this.now = options.now ?? Date.now
    this.unsubscribe = shards.onRecovered((shard) => void this.settleOwed(shard))
  }

  async create(playerId: number, username: string): Promise<LoginSession> {
    const value = JSON.stringify({ playerId, username })
    let lastShard: Shard | undefined
    for (let draw = 0; draw < this.maxDraws; draw++) {
      const token = randomBytes(this.tokenBytes).toString('base64url')
      const key = keys.session(token)
      const shard = this.shards.shardFor(key)
      lastShard = shard
      if (!shard.available && draw < this.maxDraws - 1) continue
      const outcome = await shard.command((client) => client.set(key, value, 'EX', this.ttlSeconds, 'NX'))
      if (!outcome.ok) {
        shard.skippedWrite()
        continue
      }
      if (outcome.value !== 'OK') continue // a token collision: draw again
      return { token, playerId, username, expiresAt: this.now() + this.ttlSeconds * 1000 }
    }
    throw this.unavailable('create', lastShard)
  }

  async validate(token: string): Promise<LoginSession | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined
    const key = keys.session(token)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.getex(key, 'EX', this.ttlSeconds))
    if (!outcome.ok) throw this.unavailable('validate', shard, outcome.error)
    if (outcome.value === null) {
      shard.miss()
      return undefined
    }
    shard.hit()
    let parsed: { playerId?: unknown; username?: unknown }
    try {
      parsed = JSON.parse(outcome.value) as typeof parsed
    } catch {
      return undefined
    }
    if (typeof parsed.playerId !== 'number' || typeof parsed.username !== 'string') return undefined
    return { token, playerId: parsed.playerId, username: parsed.username, expiresAt: this.now() + this.ttlSeconds * 1000 }
  }

  async invalidate(token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return
    const key = keys.session(token)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.unlink(key))
    if (outcome.ok) return
    shard.skippedWrite()
    let owed = this.owed.get(shard.index)
    if (!owed) this.owed.set(shard.index, (owed = new Set()))
    if (owed.size < this.maxOwed) owed.add(token)
  }

  /** Tokens whose invalidation is owed to a down shard (tests, status). */
  owedInvalidations(shard: number): readonly string[] {
    return [...(this.owed.get(shard) ?? [])]
  }

  /** Stops listening to the shard set; the set itself belongs to whoever opened it. */
  async close(): Promise<void> {
    this.unsubscribe()
  }

  private unavailable(operation: string, shard: Shard | undefined, cause?: unknown): GameServerError {
    return new GameServerError(
      'GS_ERR_SESSION_STORE_UNAVAILABLE',
      `login session store unavailable (${operation}${shard ? `, shard ${shard.label} ${shard.name}` : ''}); log in with the password`,
      { operation, shard: shard?.index, breaker: shard?.breaker.state },
      cause === undefined ? undefined : { cause },
    )
  }

  private async settleOwed(shard: Shard): Promise<void> {
    const owed = this.owed.get(shard.index)
    if (!owed || owed.size === 0) return
    const tokens = [...owed]
    const outcome = await shard.command((client) => client.unlink(...tokens.map(keys.session)))
    if (outcome.ok) for (const token of tokens) owed.delete(token)
  }
}
