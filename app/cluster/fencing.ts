/**
 * Fenced writes: a leader-only job passes its fencing token with every write; the store refuses a
 * write whose token is older than the newest token it has seen for that resource. A deposed leader
 * that wakes up late (a long GC pause, a partition) therefore cannot overwrite its successor's work,
 * even though it still believes for a moment that it leads. On Redis: one Lua script that checks and
 * records the token and writes the value atomically.
 */
import type { Redis } from 'ioredis'

const FENCED_SET = `
local seen = tonumber(redis.call('get', KEYS[2]) or '0')
local token = tonumber(ARGV[2])
if token < seen then return 0 end
redis.call('set', KEYS[2], token)
redis.call('set', KEYS[1], ARGV[1])
return 1`

/** `SET key value` only if `token` ≥ the newest token seen for `key`. True when written. */
export async function fencedSet(redis: Redis, key: string, value: string, token: number): Promise<boolean> {
  return (await redis.eval(FENCED_SET, 2, key, `${key}:fence`, value, token)) === 1
}
