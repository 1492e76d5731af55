/**
 * Leader failover with real processes: three `app/main.ts` game servers join one cluster on a real
 * Redis; the leader is SIGKILLed (no goodbye, no lease release) → the survivors elect a new leader
 * within the lease (plus scheduling slack) with a larger fencing token, and the killed server drops
 * out of the alive members after missed heartbeats.
 */
import type { Redis } from 'ioredis'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readLeader, type LeaderInfo } from '../../app/cluster/leader-election.js'
import { readMembers } from '../../app/cluster/membership.js'
import { connectClusterRedis } from '../../app/cluster/redis-connection.js'
import type { ManagedProcess } from '../../app/local/child-process.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { eventuallyValue } from '../harness/eventually.js'
import { Harness } from '../harness/index.js'
import { listeningPort, spawnServer } from './game-support.js'

const test = suite('cluster: leader process killed')
const CLUSTER = 'failover-process'
const LEASE_MS = 800
const HEARTBEAT_MS = 100
const TTL_MS = 500
/** Scheduling slack for three Node processes and Redis on a 2-core machine. */
const SLACK_MS = 700

let h: Harness
let redisServer: RedisServer
let redis: Redis

test.before(async () => {
  h = new Harness()
  redisServer = await h.redis()
  redis = await connectClusterRedis({ url: redisServer.url, connectionName: 'failover-test' })
  h.own({ stop: async () => void redis.disconnect() })
})

test.after(() => h.close())

test('SIGKILL of the leader: a new leader within the lease, a larger fencing token, the dead member dropped', async () => {
  const servers = new Map<string, ManagedProcess>()
  for (const id of ['g1', 'g2', 'g3']) {
    servers.set(id, spawnServer(h, {
      NODE_ID: id,
      CLUSTER_REDIS_URL: redisServer.url,
      CLUSTER_NAME: CLUSTER,
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      MEMBER_TTL_MS: String(TTL_MS),
      LEADER_LEASE_MS: String(LEASE_MS),
    }))
  }
  await Promise.all([...servers.values()].map((s) => listeningPort(s)))
  const alive = async (): Promise<string[]> => (await readMembers(redis, CLUSTER)).filter((m) => m.alive).map((m) => m.id).sort()
  await eventuallyValue(async () => ((await alive()).length === 3 ? true : undefined), 15_000, 'three alive members', 20)
  const first = await eventuallyValue(async () => (await readLeader(redis, CLUSTER)) ?? undefined, 10_000, 'a leader', 20)
  assert.ok(servers.has(first.id), `the leader is one of ours: ${first.id}`)

  const killedAt = Date.now()
  servers.get(first.id)!.signal('SIGKILL')
  const second: LeaderInfo = await eventuallyValue(async () => {
    const leader = await readLeader(redis, CLUSTER)
    return leader !== null && leader.id !== first.id ? leader : undefined
  }, LEASE_MS + SLACK_MS + 3000, 'a new leader', 20)
  const takeoverMs = Date.now() - killedAt
  assert.ok(takeoverMs <= LEASE_MS + SLACK_MS, `new leader ${second.id} after ${takeoverMs} ms (lease ${LEASE_MS} ms + ${SLACK_MS} ms slack)`)
  assert.ok(second.token > first.token, `fencing token grew: ${first.token} → ${second.token}`)
  assert.ok(servers.get(second.id)?.running, 'the new leader is a surviving process')

  await eventuallyValue(async () => ((await alive()).includes(first.id) ? undefined : true), TTL_MS + SLACK_MS + 2000, 'the killed server to drop out of the alive members', 20)
  assert.equal(await alive(), ['g1', 'g2', 'g3'].filter((id) => id !== first.id))
})

test.run()
