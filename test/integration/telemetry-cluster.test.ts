/**
 * Cluster gauges from a real cluster node on a real Redis: gs_cluster_leader turns 1 once this
 * node wins the election; gs_cluster_members counts the live members (two nodes joined).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { joinCluster, type ClusterMembershipHandle } from '../../app/cluster/join.js'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { Telemetry } from '../../app/telemetry/telemetry.js'
import { Harness } from '../harness/index.js'
import { scrape, series } from './telemetry-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('telemetry: cluster leader and members gauges')

const harness = new Harness()
let telemetry: Telemetry
const nodes: ClusterMembershipHandle[] = []

test.after(async () => {
  for (const n of nodes) await n.close()
  await telemetry?.close()
  await harness.close()
})

test('leader 1 and two live members', async () => {
  const redis = await harness.redis()
  const env = { CLUSTER_REDIS_URL: redis.url, CLUSTER_NAME: `telemetry-${process.pid}`, METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', SYSTEM_SAMPLE_INTERVAL_MS: '200', REPORT_INTERVAL_MS: '0' }
  const first = loadConfig({ ...env, NODE_ID: 'tm-first' })
  telemetry = (await Telemetry.start(first, silentLogger, 'server'))!
  const a = joinCluster({ config: first, address: '127.0.0.1:1', role: 'game', logger: silentLogger })
  nodes.push(a)
  telemetry.observeClusterNode(a.joined)
  await a.joined
  const b = joinCluster({ config: loadConfig({ ...env, NODE_ID: 'tm-second' }), address: '127.0.0.1:2', role: 'game', elect: false, logger: silentLogger })
  nodes.push(b)
  await b.joined
  await eventually(async () => series(await scrape(telemetry.port!), 'gs_cluster_leader') === 1, 15_000, 'leader gauge 1')
  await eventually(async () => series(await scrape(telemetry.port!), 'gs_cluster_members') === 2, 10_000, 'two live members')
  assert.ok(a.node!.isLeader)
})

test.run()
