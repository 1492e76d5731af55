/**
 * Throttling of password logins (and REGISTER) before they reach scrypt, so that a guessing flood
 * costs the server almost nothing and honest logins keep their hashing slots.
 *
 * Two token buckets, checked in this order when a password login arrives; an attempt is admitted
 * while both hold a token, and a token is taken when an attempt fails (wrong password, unknown
 * name, taken name), so honest logins — also many at once behind one NAT address or from a load
 * generator — cost nothing:
 *
 *   per address  `addressBurst` failures, refilled at `addressPerMinute`. The attempts already in
 *                flight when the bucket empties still fail and drive it into debt (at most five
 *                minutes' worth), so a flood's first wave buys the attacker a longer wait. That
 *                wave is bounded by the address's connections (one login in flight each,
 *                MAX_CONNECTIONS_PER_ADDRESS), and the login queue serves addresses in turn, so it
 *                does not delay other addresses' logins by more than one hashing turn.
 *   per account  `accountBurst` failures on one account (normalised name), refilled at
 *                `accountPerMinute`, never below zero: this bounds guessing on one account spread
 *                over many addresses. An address that logged into the account successfully before
 *                (`knownAddressMs`) skips this bucket, so a victim at home is never locked out by
 *                someone else's failures.
 *
 * Why it cannot lock a victim out indefinitely: `addressPerMinute` < `accountPerMinute` is
 * required, so one attacking address refills the account's bucket slower than it drains — a
 * single host can only delay a victim at a new address for `accountBurst / accountPerMinute`
 * minutes at most, and never one at a known address or with a login token (token logins are not
 * throttled). Only a distributed attack can keep an account's bucket empty, and then only for
 * addresses that never logged in before. Refused attempts cost no token.
 *
 * Memory is bounded: each map keeps at most `maxTracked` entries, dropping the least recently
 * touched (a dropped bucket restarts full, which only forgives). Buckets are refilled lazily.
 */
import { GameServerError } from '../errors.js'

export interface LoginThrottleOptions {
  /** Attempts an address may have failed or in flight before it is throttled; 0 disables the address bucket. */
  readonly addressBurst: number
  readonly addressPerMinute: number
  /** Attempts on one account (from addresses not known for it) before it is throttled; 0 disables. */
  readonly accountBurst: number
  readonly accountPerMinute: number
  /** How long a successful login makes an address "known" for the account. */
  readonly knownAddressMs: number
  /** Entries kept per map (address buckets, account buckets, known addresses). */
  readonly maxTracked: number
  /** Monotonic clock in ms (tests). */
  readonly now?: () => number
}

interface Bucket {
  tokens: number
  updatedAtMs: number
}

/** An admitted attempt; give it to `succeeded`, `failed` or `abandoned` exactly once. */
export interface LoginTicket {
  readonly address: string
  readonly account: string | null
  /** Whether the account bucket applies (the address is not known for the account). */
  readonly countsForAccount: boolean
}

export interface LoginThrottleStats {
  readonly admitted: number
  readonly throttledAddress: number
  readonly throttledAccount: number
  readonly trackedAddresses: number
  readonly trackedAccounts: number
}

export class LoginThrottle {
  private readonly addresses = new Map<string, Bucket>()
  private readonly accounts = new Map<string, Bucket>()
  private readonly known = new Map<string, number>()
  private readonly now: () => number
  private readonly counters = { admitted: 0, throttledAddress: 0, throttledAccount: 0 }

  constructor(private readonly options: LoginThrottleOptions) {
    const { addressBurst, addressPerMinute, accountBurst, accountPerMinute } = options
    if (addressBurst < 0 || accountBurst < 0 || !(options.maxTracked >= 1)) throw new RangeError('bursts ≥ 0 and maxTracked ≥ 1 required')
    if (addressBurst > 0 && !(addressPerMinute > 0)) throw new RangeError('addressPerMinute > 0 required')
    if (accountBurst > 0 && !(accountPerMinute > 0)) throw new RangeError('accountPerMinute > 0 required')
    if (addressBurst > 0 && accountBurst > 0 && !(addressPerMinute < accountPerMinute)) {
      // one address could otherwise keep an account's bucket empty for as long as it likes
      throw new GameServerError('GS_ERR_CONFIG', `LOGIN_ADDRESS_PER_MINUTE (${addressPerMinute}) must be below LOGIN_ACCOUNT_PER_MINUTE (${accountPerMinute})`, { variable: 'LOGIN_ADDRESS_PER_MINUTE', value: addressPerMinute })
    }
    this.now = options.now ?? (() => performance.now())
  }

  /**
   * Admit a password login from `address` for `account` (the normalised username; null for
   * REGISTER), or throw GS_ERR_LOGIN_THROTTLED with `context.scope` and `context.retryAfterMs`.
   */
  admit(address: string, account: string | null): LoginTicket {
    const now = this.now()
    const { addressBurst, addressPerMinute, accountBurst, accountPerMinute } = this.options
    const addressBucket = addressBurst > 0 ? this.bucket(this.addresses, address, addressBurst, addressPerMinute, now) : null
    if (addressBucket !== null && addressBucket.tokens < 1) {
      this.counters.throttledAddress++
      throw throttled('address', retryAfterMs(addressBucket, addressPerMinute))
    }
    let countsForAccount = false
    if (account !== null && accountBurst > 0 && !this.isKnown(account, address, now)) {
      const accountBucket = this.bucket(this.accounts, account, accountBurst, accountPerMinute, now)
      if (accountBucket.tokens < 1) {
        this.counters.throttledAccount++
        throw throttled('account', retryAfterMs(accountBucket, accountPerMinute))
      }
      countsForAccount = true
    }
    this.counters.admitted++
    return { address, account, countsForAccount }
  }

  /** The login succeeded: the address becomes known for the account. */
  succeeded(ticket: LoginTicket, account: string | null = ticket.account): void {
    if (account !== null) this.touch(this.known, `${account}\n${ticket.address}`, this.now())
  }

  /** Wrong password, unknown name, taken name: one token from each bucket that applies. */
  failed(ticket: LoginTicket): void {
    const now = this.now()
    const { addressBurst, addressPerMinute, accountBurst, accountPerMinute } = this.options
    if (addressBurst > 0) {
      const bucket = this.bucket(this.addresses, ticket.address, addressBurst, addressPerMinute, now)
      bucket.tokens = Math.max(-addressPerMinute * MAX_DEBT_MINUTES, bucket.tokens - 1)
    }
    if (ticket.countsForAccount && ticket.account !== null) {
      const bucket = this.bucket(this.accounts, ticket.account, accountBurst, accountPerMinute, now)
      bucket.tokens = Math.max(0, bucket.tokens - 1)
    }
  }

  /** Not a guess (store down, overloaded, shutting down): costs nothing. */
  abandoned(_ticket: LoginTicket): void {}

  stats(): LoginThrottleStats {
    return { ...this.counters, trackedAddresses: this.addresses.size, trackedAccounts: this.accounts.size }
  }

  private isKnown(account: string, address: string, now: number): boolean {
    const at = this.known.get(`${account}\n${address}`)
    return at !== undefined && now - at < this.options.knownAddressMs
  }

  /** The bucket for `key`, refilled to now and moved to the most-recently-used end. */
  private bucket(map: Map<string, Bucket>, key: string, burst: number, perMinute: number, now: number): Bucket {
    let bucket = map.get(key)
    if (bucket === undefined) {
      bucket = { tokens: burst, updatedAtMs: now }
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAtMs) * perMinute) / 60_000)
      bucket.updatedAtMs = now
      map.delete(key)
    }
    map.set(key, bucket)
    this.evict(map)
    return bucket
  }

  private touch(map: Map<string, number>, key: string, now: number): void {
    map.delete(key)
    map.set(key, now)
    this.evict(map)
  }

  private evict(map: Map<string, unknown>): void {
    while (map.size > this.options.maxTracked) map.delete(map.keys().next().value!)
  }
}

/** An address's failures beyond its bucket are remembered for at most this many minutes of refill. */
const MAX_DEBT_MINUTES = 5

function retryAfterMs(bucket: Bucket, perMinute: number): number {
  return Math.ceil(((1 - bucket.tokens) * 60_000) / perMinute)
}

function throttled(scope: 'address' | 'account', retryAfter: number): GameServerError {
  return new GameServerError('GS_ERR_LOGIN_THROTTLED', `too many failed logins ${scope === 'address' ? 'from this address' : 'for this account'}; retry in ${Math.ceil(retryAfter / 1000)} s`, { scope, retryAfterMs: retryAfter })
}
