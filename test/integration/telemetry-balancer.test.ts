/**
 * The balancer's telemetry: a real Balancer with `Telemetry.start(…, 'balancer')` in front of two real
 * backends; clients connect through it; the balancer's /metrics shows accepted clients, per-backend
 * connections, health and health-check results; stopping a backend turns its health gauge to 0 and
 * raises the detector's `unhealthy-backends` bottleneck, which clears when it is back.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Balancer } from '../../app/balancer/balancer.js'
import type { ClientConnection } from '../../app/client/connection.js'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { Telemetry } from '../../app/telemetry/telemetry.js'
import { backendIdOf, connectVia, restartBackend, startBackend, balancerInFront, whoServes, type TaggedBackend } from './balancer-support.js'
import { scrape, series } from './telemetry-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('telemetry: balancer metrics and the unhealthy-backends bottleneck')

let telemetry: Telemetry
let balancer: Balancer
let backends: TaggedBackend[] = []
const clients: ClientConnection[] = []

test.before(async () => {
  backends = [await startBackend(0), await startBackend(1)]
  const config = loadConfig({ METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', BOTTLENECK_WINDOW_MS: '1000', BOTTLENECK_EVAL_INTERVAL_MS: '100', REPORT_INTERVAL_MS: '0' })
  telemetry = (await Telemetry.start(config, silentLogger, 'balancer', { forSecondsOverride: 0 }))!
  balancer = await balancerInFront(backends, {}, { metrics: telemetry.balancerMetrics!, admin: false })
})

test.after(async () => {
  for (const c of clients) c.destroy()
  await balancer?.close()
  for (const b of backends) await b.server.stop()
  await telemetry?.close()
})

test('clients through the balancer move its per-backend families', async () => {
  for (let i = 0; i < 4; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    await whoServes(client)
  }
  const s = await scrape(telemetry.port!)
  assert.is(series(s, 'gs_balancer_clients_accepted_total'), 4)
  const ids = backends.map(backendIdOf)
  const total = ids.reduce((sum, id) => sum + (series(s, 'gs_balancer_backend_connections_total', { backend: id }) ?? 0), 0)
  assert.is(total, 4)
  const open = ids.reduce((sum, id) => sum + (series(s, 'gs_balancer_backend_connections', { backend: id }) ?? 0), 0)
  assert.is(open, 4)
  for (const id of ids) {
    assert.is(series(s, 'gs_balancer_backend_healthy', { backend: id }), 1, id)
    assert.ok(series(s, 'gs_balancer_health_checks_total', { backend: id, result: 'ok' })! >= 1, `${id} health checks`)
    assert.ok(series(s, 'gs_balancer_backend_latency_seconds_count', { backend: id })! >= 1)
  }
  const connects = ids.reduce((sum, id) => sum + (series(s, 'gs_balancer_connect_seconds_count', { backend: id }) ?? 0), 0)
  assert.is(connects, 4)
  // a balancer does not export the game server's families
  assert.not.ok([...s.keys()].some((k) => k.startsWith('gs_frames_in_total')))
})

test('a stopped backend is unhealthy in the gauge and in the detector; back up, both clear', async () => {
  const victim = backends[1]!
  const id = backendIdOf(victim)
  await victim.server.stop()
  await eventually(async () => series(await scrape(telemetry.port!), 'gs_balancer_backend_healthy', { backend: id }) === 0, 10_000, 'health gauge 0')
  await eventually(() => telemetry.detector!.active().some((b) => b.name === 'unhealthy-backends'), 5000, 'unhealthy-backends raised')
  const s = await scrape(telemetry.port!)
  assert.is(series(s, 'gs_bottleneck_active', { name: 'unhealthy-backends', severity: 'warning' }), 1)
  assert.ok(series(s, 'gs_balancer_health_checks_total', { backend: id, result: 'failed' })! >= 1)

  await restartBackend(victim)
  await eventually(async () => series(await scrape(telemetry.port!), 'gs_balancer_backend_healthy', { backend: id }) === 1, 10_000, 'health gauge 1')
  await eventually(() => !telemetry.detector!.active().some((b) => b.name === 'unhealthy-backends'), 5000, 'unhealthy-backends cleared')
})

test.run()
