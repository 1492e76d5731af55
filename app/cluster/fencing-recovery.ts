/**
 * Recovery when the fencing counter in Redis went backwards (Redis restarted without persistence,
 * or was replaced): the election hands out tokens again from 1 while a store such as PostgreSQL's
 * `cluster_fences` still holds a larger one, so every fenced write of the new leader is refused —
 * forever, if nothing is done.
 *
 * A refused fenced write means one of two things. Either a newer leader exists (we are deposed and
 * must stop: nothing to repair), or Redis still names *us* leader with this very token, in which
 * case the larger token can only come from a previous incarnation of the counter. Only in the
 * second case — checked atomically in one Lua script — the counter is raised to the store's token
 * and our lease key is deleted, so the elector's next renewal fails, it steps down and the next
 * election (this node or another) draws a token larger than the store's.
 */
import type { Redis } from 'ioredis'
import { clusterKeys } from './redis-connection.js'

const RAISE_AND_RELEASE = `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local current = tonumber(redis.call('get', KEYS[2]) or '0')
local floor = tonumber(ARGV[2])
if current < floor then redis.call('set', KEYS[2], floor) end
redis.call('del', KEYS[1])
return 1`

/**
 * If `memberId` still holds the lease with `token`, raise the fencing counter to at least
 * `storeToken` and release the lease (true). False when someone else leads: we are simply deposed.
 */
export async function raiseFencingCounter(redis: Redis, clusterName: string, memberId: string, token: number, storeToken: number): Promise<boolean> {
  const keys = clusterKeys(clusterName)
  return (await redis.eval(RAISE_AND_RELEASE, 2, keys.leader, keys.fencing, `${memberId}|${token}`, storeToken)) === 1
}
