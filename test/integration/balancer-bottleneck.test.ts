/**
 * Bottleneck-aware balancing end to end: each backend's server runs the real telemetry part
 * (`/bottlenecks` on its metrics port); one of them has a threshold its real reading crosses
 * (disk used > 0 %), so its detector raises a bottleneck. The balancer polls
 * BOTTLENECK_URL_TEMPLATE, sees it, and that backend gets a quarter share of new sessions.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { Telemetry } from '../../app/telemetry/telemetry.js'
import { THRESHOLDS } from '../../app/telemetry/thresholds.js'
import { Harness } from '../harness/index.js'

import { backendIdOf, connectVia, startBackend, balancerInFront, whoServes, type TaggedBackend } from './balancer-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('balancer bottleneck')
let h: Harness

test.before(() => {
  h = new Harness()
})
test.after(() => h.close())

test('a backend whose server reports an active bottleneck gets less new traffic, and full traffic once it clears', async () => {
  const backends: TaggedBackend[] = []
  const telemetries: Telemetry[] = []
  const config = loadConfig({ METRICS_HOST: '127.0.0.1', SYSTEM_SAMPLE_INTERVAL_MS: '100', BOTTLENECK_EVAL_INTERVAL_MS: '100', BOTTLENECK_WINDOW_MS: '1000', REPORT_INTERVAL_MS: '600000' })
  // A reading every process has, whatever its cgroup (memory and CPU readings depend on limits).
  const disk = THRESHOLDS.find((t) => t.reading === 'hostDiskUsedRatio')!
  for (let i = 0; i < 3; i++) {
    const backend = await startBackend(i)
    h.own({ stop: () => backend.server.stop() })
    backends.push(backend)
    // Backend 0: a real reading over a limit it always exceeds; the others: no thresholds.
    const thresholds = i === 0 ? [{ ...disk, limit: 0 }] : []
    const telemetry = (await Telemetry.start(config, silentLogger, 'server', { port: 0, thresholds, forSecondsOverride: 0 }))!
    h.own({ stop: () => telemetry.close() })
    telemetries.push(telemetry)
  }
  const metricsPortOf = new Map(backends.map((b, i) => [b.port, telemetries[i]!.port!]))
  await eventually(() => telemetries[0]!.detector!.active().length > 0, 5000, 'bottleneck raised on backend 0')
  const balancer = h.own(await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin', BOTTLENECK_POLL_MS: '100' }))
  // Each backend's metrics URL, as cluster membership registers it (BOTTLENECK_URL_TEMPLATE is the
  // alternative when every server uses the same metrics port).
  for (const b of balancer.pool.list()) b.metricsUrl = `http://127.0.0.1:${metricsPortOf.get(b.port)}`
  const victim = balancer.pool.get(backendIdOf(backends[0]!))!
  await eventually(() => victim.bottleneck, 3000, 'balancer saw the bottleneck')
  assert.equal(victim.bottleneckNames, [disk.name])
  assert.is(victim.effectiveWeight, 0.25)
  assert.ok(balancer.pool.list().filter((b) => b !== victim).every((b) => !b.bottleneck))

  const served: number[] = []
  for (let i = 0; i < 18; i++) {
    const client = await connectVia(balancer)
    served.push(await whoServes(client))
    client.destroy()
  }
  const share = (i: number): number => served.filter((x) => x === i).length
  // Smooth weighted round-robin with weights 0.25 : 1 : 1 → 2 of 18 for the bottlenecked backend.
  assert.is(share(0), 2, `served ${served}`)
  assert.is(share(1) + share(2), 16)

  // The server's telemetry restarts without the crossed threshold (re-registered metrics URL): the
  // bottleneck is gone and the backend gets its full share again.
  await telemetries[0]!.close()
  const healthy = (await Telemetry.start(config, silentLogger, 'server', { port: 0, thresholds: [], forSecondsOverride: 0 }))!
  h.own({ stop: () => healthy.close() })
  await eventually(() => healthy.detector!.snapshot().evaluatedAt !== null, 3000, 'detector evaluated')
  victim.metricsUrl = `http://127.0.0.1:${healthy.port}`
  await eventually(() => !victim.bottleneck, 3000, 'bottleneck cleared')
  const after: number[] = []
  for (let i = 0; i < 18; i++) {
    const client = await connectVia(balancer)
    after.push(await whoServes(client))
    client.destroy()
  }
  // A full share is 6 of 18 (the round-robin state carried over from the old weights may shift one).
  assert.ok(after.filter((x) => x === 0).length >= 5, `served ${after}`)
  await balancer.close(1000)
})

test.run()
