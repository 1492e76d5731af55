/**
 * The balancer process as app/processes/balancer.ts composes it for `npm run balance`: backends
 * discovered from cluster membership in a real Redis, its own membership as role balancer, and the
 * shutdown order (leave the cluster → stop proxying, cutting what is left at the deadline → close the
 * discovery connection) with nothing left running.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Redis } from 'ioredis'
import { ClientConnection } from '../../app/client/connection.js'
import { ClusterNode } from '../../app/cluster/cluster-node.js'
import { readMembers } from '../../app/cluster/membership.js'
import { loadConfig, type Env } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { startBalancer, type BalancerHandle } from '../../app/processes/balancer.js'
import { noNewHandles } from '../contracts/handles.js'
import { eventually } from '../harness/eventually.js'
import { Harness } from '../harness/index.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { FAST_HEALTH, startBackend, whoServes, type TaggedBackend } from './balancer-support.js'

const test = suite('balancer process: startBalancer')
let h: Harness
let redis: RedisServer
let backend: TaggedBackend
let clusterSeq = 0

test.before(async () => {
  h = new Harness()
  redis = await h.redis()
  backend = await startBackend(0)
  h.own({ stop: () => backend.server.stop() })
})
test.after(() => h.close())

function env(extra: Env): Env {
  return { NODE_ID: 'lb-1', BALANCER_HOST: '127.0.0.1', BALANCER_PORT: '0', BALANCER_ADMIN_PORT: '0', HEARTBEAT_INTERVAL_MS: '100', MEMBER_TTL_MS: '1000', DISCOVERY_INTERVAL_MS: '100', ...FAST_HEALTH, ...extra }
}

function connect(handle: BalancerHandle): Promise<ClientConnection> {
  return ClientConnection.connect({ host: '127.0.0.1', port: handle.address.port, timeoutMs: 3000 })
}

test('discovers the game members; close leaves the cluster, then stops proxying, then closes discovery, and leaves nothing running', async () => {
  const cluster = `lb${++clusterSeq}`
  const clusterEnv = { CLUSTER_REDIS_URL: redis.url, CLUSTER_NAME: cluster }
  const member = h.own(await ClusterNode.start({ config: loadConfig({ ...env(clusterEnv), NODE_ID: 'game-1' }), address: `127.0.0.1:${backend.port}`, role: 'game', elect: false }))
  const watcher = h.own(Object.assign(new Redis(redis.url), { stop: async () => void watcher.disconnect() }))
  await watcher.ping() // connected before the baseline below
  const handles = noNewHandles()
  const handle = await startBalancer(loadConfig(env(clusterEnv)), { logger: silentLogger })
  await handle.cluster!.joined
  await eventually(() => handle.readiness().ready, 5000, 'the discovered backend to be healthy')
  assert.equal((await readMembers(watcher, cluster)).map((m) => [m.id, m.role]).sort(), [['game-1', 'game'], ['lb-1', 'balancer']])
  const client = await connect(handle)
  assert.is(await whoServes(client), 0)

  const order: string[] = []
  const spy = (name: string, target: { close(deadlineMs?: number): Promise<void> }): void => {
    const close = target.close.bind(target)
    target.close = (deadlineMs?: number) => {
      order.push(name)
      return close(deadlineMs)
    }
  }
  spy('leave cluster', handle.cluster!)
  spy('stop proxying', handle.balancer)
  void client.closed.then(() => order.push('client cut'))
  await handle.close(300)
  await client.closed
  assert.equal(order, ['leave cluster', 'stop proxying', 'client cut'])
  const { ready, status } = handle.readiness()
  assert.equal({ ready, status }, { ready: false, status: 'closing' }, 'not ready once closing')
  assert.equal((await readMembers(watcher, cluster)).map((m) => m.id), ['game-1'], 'deregistered at once')
  const connections = String(await watcher.client('LIST'))
  assert.not.match(connections, /name=(balancer|cluster)-lb-1/, 'the discovery and membership connections are closed')
  await handles.assertNone()
  await member.close()
})

test('close is bounded by its deadline: a session that never ends is cut at it', async () => {
  const handle = await startBalancer(loadConfig(env({ BACKENDS: `127.0.0.1:${backend.port}` })), { logger: silentLogger })
  assert.is(handle.cluster, null, 'no cluster Redis configured')
  await eventually(() => handle.readiness().ready, 5000, 'the backend to be healthy')
  const client = await connect(handle)
  await client.ping()
  const started = performance.now()
  await handle.close(400)
  const tookMs = performance.now() - started
  assert.ok(tookMs >= 350 && tookMs < 2000, `closed in ${Math.round(tookMs)} ms with a 400 ms deadline`)
  await client.closed
  assert.is(handle.close(), handle.close(), 'idempotent: the same promise')
})

test('BACKENDS unset and no cluster to discover from: GS_ERR_CONFIG naming BACKENDS, nothing started', async () => {
  const handles = noNewHandles()
  try {
    await startBalancer(loadConfig(env({})), { logger: silentLogger })
    assert.unreachable('must refuse')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'GS_ERR_CONFIG')
    assert.is((err as { context: { variable?: string } }).context.variable, 'BACKENDS')
  }
  await handles.assertNone()
})

test.run()
