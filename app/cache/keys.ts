/**
 * The key layout (docs/CACHE.md). Every key starts with `gs:` and carries a hash tag `{…}` that
 * picks its shard, so everything that must stay together (one leaderboard, one chat channel) is one
 * key or shares one tag.
 */
import { createHash } from 'node:crypto'

export const KEY_PREFIX = 'gs:'
export const PLAYER_PATTERN = 'gs:player:*'

export const keys = {
  player: (playerId: number) => `gs:player:{${playerId}}`,
  /**
   * A login session, under the SHA-256 of its token (base64url): the key is not the token, so read
   * access to Redis (a `KEYS`/`SCAN`, a replica, a dump) does not hand out sessions.
   */
  session: (token: string) => `gs:session:{${sessionDigest(token)}}`,
  leaderboard: (board: string) => `gs:lb:{${board}}`,
  chat: (channel: string) => `gs:chat:{${channel}}`,
  counter: (name: string) => `gs:counter:{${name}}`,
  /** One hash for the whole cluster: field = node id, value = `<count>:<reportedAtMs>`. */
  online: () => 'gs:online:{cluster}',
} as const

/** Names used inside keys must not contain the tag delimiters (they would change the shard). */
export function assertKeyPart(what: string, value: string): void {
  if (value.length === 0 || value.length > 200 || /[{}\s]/.test(value)) {
    throw new RangeError(`${what} must be 1–200 characters without braces or spaces: ${JSON.stringify(value)}`)
  }
}

/** SHA-256 of a login token, base64url (43 characters): its Redis key part. */
function sessionDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
