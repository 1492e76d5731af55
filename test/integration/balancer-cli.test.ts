/**
 * The operator commands as child processes: `npm run balance` (config validation naming the bad
 * variable, proxying, graceful SIGTERM) and `npm run cluster -- status` against a real Redis.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ClientConnection } from '../../app/client/connection.js'
import { ClusterNode } from '../../app/cluster/cluster-node.js'
import { loadConfig } from '../../app/config/index.js'
import { ManagedProcess, runCommand } from '../../app/local/child-process.js'
import { freePort, waitUntil } from '../../app/local/ports.js'
import { canConnect } from '../../app/tcp.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { Harness } from '../harness/index.js'
import { startBackend, whoServes } from './balancer-support.js'

const test = suite('balancer cli')
const ROOT = new URL('../../', import.meta.url).pathname
let h: Harness
let redis: RedisServer

test.before(async () => {
  h = new Harness()
  redis = await h.redis()
})
test.after(() => h.close())

function tsxArgs(script: string, ...args: string[]): string[] {
  return ['--import', 'tsx', script, ...args]
}

test('bad BACKENDS: exits 2 with a message naming the variable', async () => {
  try {
    await runCommand(process.execPath, tsxArgs('app/cli/balance.ts'), { cwd: ROOT, env: { ...process.env, BACKENDS: '127.0.0.1:notaport' }, timeoutMs: 30_000 })
    assert.unreachable('should have failed')
  } catch (err) {
    const message = (err as Error).message
    assert.match(message, /code 2/)
    assert.match(message, /BACKENDS/)
  }
})

test('balance proxies to BACKENDS and closes gracefully on SIGTERM', async () => {
  const backend = await startBackend(0)
  h.own({ stop: () => backend.server.stop() })
  const port = await freePort()
  const metricsPort = await freePort()
  const child = h.own(
    new ManagedProcess({
      name: 'balance',
      command: process.execPath,
      args: tsxArgs('app/cli/balance.ts'),
      cwd: ROOT,
      env: { ...process.env, BACKENDS: `127.0.0.1:${backend.port}`, BALANCER_HOST: '127.0.0.1', BALANCER_PORT: String(port), BALANCER_ADMIN_PORT: '0', METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info' },
    }),
  )
  await waitUntil(() => canConnect('127.0.0.1', port, 200), { what: 'balancer', timeoutMs: 20_000, abortIf: () => (child.running ? undefined : child.output()) })
  const client = await ClientConnection.connect({ host: '127.0.0.1', port })
  assert.is(await whoServes(client), 0)
  await client.close(500)
  // The balancer's metrics reach telemetry's /metrics (names in docs/BALANCER.md).
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
  const id = `127.0.0.1:${backend.port}`
  assert.match(metrics, new RegExp(`gs_balancer_backend_connections_total\\{[^}]*backend="${id}"[^}]*\\} [1-9]`)) // readiness probes count too
  assert.match(metrics, new RegExp(`gs_balancer_backend_healthy\\{[^}]*backend="${id}"[^}]*\\} 1`))
  // the orchestrator's probes on the same port: alive, and ready with a healthy backend
  const healthz = await fetch(`http://127.0.0.1:${metricsPort}/healthz`)
  assert.equal([healthz.status, await healthz.json()], [200, { status: 'ok' }])
  const readyz = await fetch(`http://127.0.0.1:${metricsPort}/readyz`)
  assert.is(readyz.status, 200)
  assert.is(((await readyz.json()) as { ready: boolean }).ready, true)
  child.signal('SIGTERM')
  await child.waitForExit()
  assert.is(child.exitDescription(), 'exited with code 0')
  assert.match(child.output(), /balancer closed/)
})

test('cluster status prints members, health and the leader', async () => {
  const config = loadConfig({ NODE_ID: 'status-node', CLUSTER_REDIS_URL: redis.url, CLUSTER_NAME: 'cli', HEARTBEAT_INTERVAL_MS: '100', LEADER_LEASE_MS: '1000' })
  const node = h.own(await ClusterNode.start({ config, address: '127.0.0.1:7777', load: () => 3 }))
  await waitUntil(async () => node.isLeader, { what: 'leader', timeoutMs: 5000 })
  const env = { ...process.env, CLUSTER_REDIS_URL: redis.url, CLUSTER_NAME: 'cli' }
  const text = await runCommand(process.execPath, tsxArgs('app/cli/cluster.ts', 'status'), { cwd: ROOT, env, timeoutMs: 30_000 })
  assert.match(text, /leader: status-node \(fencing token \d+/)
  assert.match(text, /status-node \*\s+alive\s+127\.0\.0\.1:7777\s+game\s+3/)
  const json = JSON.parse(await runCommand(process.execPath, tsxArgs('app/cli/cluster.ts', 'status', '--json'), { cwd: ROOT, env, timeoutMs: 30_000 })) as { leader: { id: string }; members: { id: string; alive: boolean }[] }
  assert.is(json.leader.id, 'status-node')
  assert.equal(json.members.map((m) => [m.id, m.alive]), [['status-node', true]])
  await node.close()
})

test.run()
