/**
 * Cluster membership and leader election on a real Redis: registration with TTL, dead after
 * missed heartbeats, leader killed → a new leader within the lease with a larger fencing token,
 * never two leaders at once (sampled continuously over several rounds), leader-only jobs, and the
 * balancer discovering its backends from membership.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ClusterNode } from '../../app/cluster/cluster-node.js'
import { readLeader } from '../../app/cluster/leader-election.js'
import { readMembers } from '../../app/cluster/membership.js'
import { connectClusterRedis } from '../../app/cluster/redis-connection.js'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { startServer } from '../../app/processes/game-server.js'
import { ClientConnection } from '../../app/client/connection.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { Harness } from '../harness/index.js'
import { connectVia, startBackend, balancerInFront, whoServes, type TaggedBackend } from './balancer-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('balancer cluster')
const LEASE_MS = 600
const HEARTBEAT_MS = 100
const TTL_MS = 400
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 300

let h: Harness
let redis: RedisServer
let clusterSeq = 0

test.before(async () => {
  h = new Harness()
  redis = await h.redis()
})

test.after(() => h.close())

function nodeConfig(cluster: string, id: string) {
  return loadConfig({
    NODE_ID: id,
    CLUSTER_REDIS_URL: redis.url,
    CLUSTER_NAME: cluster,
    HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    MEMBER_TTL_MS: String(TTL_MS),
    LEADER_LEASE_MS: String(LEASE_MS),
    DISCOVERY_INTERVAL_MS: '100',
  })
}

async function startNode(cluster: string, id: string, address = '127.0.0.1:1'): Promise<ClusterNode> {
  return h.own(await ClusterNode.start({ config: nodeConfig(cluster, id), address, load: () => 7 }))
}

/** Samples every node's belief every 2 ms; records the largest number of simultaneous leaders. */
function sampleLeaders(nodes: () => ClusterNode[]): { stop(): number } {
  let worst = 0
  const timer = setInterval(() => {
    const leaders = nodes().filter((n) => n.isLeader).length
    if (leaders > worst) worst = leaders
  }, 2)
  return {
    stop() {
      clearInterval(timer)
      return worst
    },
  }
}

test('members register with id, address, role and load; a member that stops heartbeating is dead after the TTL', async () => {
  const cluster = `c${++clusterSeq}`
  const a = await startNode(cluster, 'node-a', '127.0.0.1:7001')
  const b = await startNode(cluster, 'node-b', '127.0.0.1:7002')
  const client = h.own(Object.assign(await connectClusterRedis({ url: redis.url }), { stop: async () => void client.disconnect() }))
  const members = await readMembers(client, cluster)
  assert.equal(members.map((m) => [m.id, m.address, m.role, m.load, m.alive]).sort(), [
    ['node-a', '127.0.0.1:7001', 'game', 7, true],
    ['node-b', '127.0.0.1:7002', 'game', 7, true],
  ])
  // Heartbeats keep a live member's key beyond its TTL.
  await new Promise((r) => setTimeout(r, TTL_MS + 200))
  assert.ok((await readMembers(client, cluster)).every((m) => m.alive))
  b.abandon()
  const abandonedAt = performance.now()
  let deadAfterMs = 0
  for (;;) {
    const m = (await readMembers(client, cluster)).find((x) => x.id === 'node-b')!
    if (!m.alive) {
      deadAfterMs = performance.now() - abandonedAt
      break
    }
    assert.ok(performance.now() - abandonedAt < TTL_MS + 2000, 'node-b never died')
    await new Promise((r) => setTimeout(r, 10))
  }
  assert.ok(deadAfterMs <= TTL_MS + SLACK_MS, `dead after ${deadAfterMs.toFixed(0)} ms`)
  assert.ok((await readMembers(client, cluster)).find((m) => m.id === 'node-a')!.alive)
  await a.close()
  // A clean close deregisters; the crashed member stays listed as dead until the leader prunes it.
  assert.equal((await readMembers(client, cluster)).map((m) => [m.id, m.alive]), [['node-b', false]])
})

test('leader killed: a new leader within the lease with a larger fencing token; never two leaders (5 rounds)', async () => {
  const cluster = `c${++clusterSeq}`
  const nodes: ClusterNode[] = []
  for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(cluster, id))
  const sampler = sampleLeaders(() => nodes)
  await eventually(() => nodes.some((n) => n.isLeader), LEASE_MS + 2000, 'first leader')
  let lastToken = nodes.find((n) => n.isLeader)!.elector.token
  let spare = 4
  for (let round = 0; round < 5; round++) {
    const leader = nodes.find((n) => n.isLeader)!
    leader.abandon()
    const killedAt = performance.now()
    nodes.splice(nodes.indexOf(leader), 1)
    await eventually(() => nodes.some((n) => n.isLeader), LEASE_MS + 3000, `leader of round ${round}`)
    const tookMs = performance.now() - killedAt
    const next = nodes.find((n) => n.isLeader)!
    assert.ok(tookMs <= LEASE_MS + SLACK_MS, `round ${round}: new leader after ${tookMs.toFixed(0)} ms`)
    assert.ok(next.elector.token > lastToken, `token ${next.elector.token} > ${lastToken}`)
    lastToken = next.elector.token
    nodes.push(await startNode(cluster, `n${spare++}`))
  }
  const client = h.own(Object.assign(await connectClusterRedis({ url: redis.url }), { stop: async () => void client.disconnect() }))
  const leaderInRedis = await readLeader(client, cluster)
  assert.is(leaderInRedis?.token, lastToken)
  assert.is(sampler.stop(), 1, 'never two leaders at once')
  for (const n of nodes) await n.close()
})

test('a partitioned leader (Redis unreachable, process alive) steps down before anyone else is elected', async () => {
  const cluster = `c${++clusterSeq}`
  const nodes = [await startNode(cluster, 'p1'), await startNode(cluster, 'p2')]
  await eventually(() => nodes.some((n) => n.isLeader), LEASE_MS + 2000, 'first leader')
  const sampler = sampleLeaders(() => nodes)
  const leader = nodes.find((n) => n.isLeader)!
  const other = nodes.find((n) => n !== leader)!
  const token = leader.elector.token
  let demotedAt = 0
  leader.elector.listen({ demoted: () => (demotedAt = performance.now()) })
  let electedAt = 0
  other.elector.listen({ elected: () => (electedAt = performance.now()) })
  leader.redis.disconnect() // its timers keep running; renewals fail
  await eventually(() => other.isLeader, LEASE_MS + 3000, 'new leader')
  assert.ok(demotedAt > 0 && demotedAt < electedAt, 'old leader stepped down first')
  assert.ok(other.elector.token > token)
  assert.is(sampler.stop(), 1)
  assert.throws(() => leader.elector.assertLeader(token), (err: { code: string }) => err.code === 'GS_ERR_LEADERSHIP_LOST')
  leader.abandon()
  await other.close()
})

test('leader-only jobs run on the leader only, with its fencing token, and move with leadership', async () => {
  const cluster = `c${++clusterSeq}`
  const runs: { node: string; token: number }[] = []
  const nodes = [await startNode(cluster, 'j1'), await startNode(cluster, 'j2')]
  for (const n of nodes) {
    n.jobs.add({
      name: 'snapshot',
      intervalMs: 50,
      run: ({ fencingToken, assertLeader }) => {
        assertLeader()
        runs.push({ node: n.membership.id, token: fencingToken })
      },
    })
  }
  await eventually(() => runs.length >= 3, LEASE_MS + 3000, 'job runs')
  const first = runs[0]!
  assert.ok(runs.every((r) => r.node === first.node && r.token === first.token))
  const leader = nodes.find((n) => n.membership.id === first.node)!
  leader.abandon()
  const before = runs.length
  await eventually(() => runs.slice(before).some((r) => r.node !== first.node), LEASE_MS + 3000, 'job on the new leader')
  const moved = runs.slice(before)
  assert.ok(moved.every((r) => r.node !== first.node && r.token > first.token), JSON.stringify(moved))
  await nodes.find((n) => n !== leader)!.close()
})

test('the balancer discovers its backends from membership (BACKENDS unset) and drops dead members', async () => {
  const cluster = `c${++clusterSeq}`
  const backends: TaggedBackend[] = []
  for (let i = 0; i < 3; i++) {
    const b = await startBackend(i)
    h.own({ stop: () => b.server.stop() })
    backends.push(b)
  }
  const members = []
  for (const b of backends) members.push(await startNode(cluster, `g${b.index}`, `127.0.0.1:${b.port}`))
  const watcher = h.own(Object.assign(await connectClusterRedis({ url: redis.url }), { stop: async () => void watcher.disconnect() }))
  const balancer = h.own(
    await balancerInFront([], { BACKENDS: '', BALANCE_STRATEGY: 'round-robin', CLUSTER_NAME: cluster, DISCOVERY_INTERVAL_MS: '100', DRAIN_DEADLINE_MS: '0' }, {
      discover: async () => (await readMembers(watcher, cluster)).filter((m) => m.alive && m.role === 'game'),
    }),
  )
  assert.is(balancer.pool.size, 3)
  const served = []
  for (let i = 0; i < 3; i++) served.push(await whoServes(await connectVia(balancer)))
  assert.equal(served.sort(), [0, 1, 2])
  members[1]!.abandon()
  await eventually(() => balancer.pool.size === 2, TTL_MS + 2000, 'dead member dropped')
  assert.equal(balancer.pool.list().map((b) => b.port).sort(), [backends[0]!.port, backends[2]!.port].sort())
  await balancer.close(1000)
})

test('real game servers (npm run serve composition) join the cluster; the balancer finds them and forgets one that shuts down', async () => {
  const cluster = `c${++clusterSeq}`
  const env = { CLUSTER_REDIS_URL: redis.url, CLUSTER_NAME: cluster, HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS), MEMBER_TTL_MS: String(TTL_MS), LEADER_LEASE_MS: String(LEASE_MS), GAME_HOST: '127.0.0.1', GAME_PORT: '0', METRICS_PORT: '0' }
  const servers = []
  for (const id of ['s1', 's2']) {
    const handle = await startServer(loadConfig({ ...env, NODE_ID: id }), { logger: silentLogger })
    h.own({ stop: () => handle.close(1000) })
    await handle.cluster!.joined
    servers.push(handle)
  }
  const watcher = h.own(Object.assign(await connectClusterRedis({ url: redis.url }), { stop: async () => void watcher.disconnect() }))
  const members = await readMembers(watcher, cluster)
  assert.equal(members.map((m) => [m.id, m.address, m.role]).sort(), [
    ['s1', `127.0.0.1:${servers[0]!.port}`, 'game'],
    ['s2', `127.0.0.1:${servers[1]!.port}`, 'game'],
  ])
  const balancer = h.own(
    await balancerInFront([], { BACKENDS: '', BALANCE_STRATEGY: 'round-robin', CLUSTER_NAME: cluster, DISCOVERY_INTERVAL_MS: '100', DRAIN_DEADLINE_MS: '0' }, {
      discover: async () => (await readMembers(watcher, cluster)).filter((m) => m.alive && m.role === 'game'),
    }),
  )
  const clients: ClientConnection[] = []
  for (let i = 0; i < 4; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    await client.ping()
  }
  assert.equal(servers.map((s) => s.server.activeSessions), [2, 2])
  for (const c of clients) c.destroy()
  await servers[0]!.close(1000)
  // A clean shutdown deregisters at once: gone from the pool at the next discovery.
  await eventually(() => balancer.pool.size === 1, 2000, 'stopped server forgotten')
  assert.is(balancer.pool.list()[0]!.port, servers[1]!.port)
  const client = await connectVia(balancer)
  await client.ping()
  client.destroy()
  await balancer.close(1000)
})

test.run()
