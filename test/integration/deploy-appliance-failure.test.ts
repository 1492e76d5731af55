// The local appliance when something cannot start: a clear GS_ERR_APPLIANCE_START naming the
// service, and everything already started is stopped again (no process left behind).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../app/errors.js'
import { silentLogger } from '../../app/logger.js'
import { Appliance } from '../../app/local/appliance.js'
import { freePort } from '../../app/local/ports.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from '../../app/topology/index.js'
import { createServer } from 'node:net'
import { Harness } from '../harness/index.js'
import { liveDescendants } from './deploy-support.js'

const harness = new Harness()
test.after(() => harness.close())

test('a game server that refuses its configuration: GS_ERR_APPLIANCE_START naming it, the data stores are stopped again', async () => {
  const before = new Set(liveDescendants())
  const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers: 1, redisShards: 1, balancerPort: await freePort(), balancerWebSocketPort: await freePort(), prometheusPort: await freePort(), serverEnv: { FLUSH_INTERVAL_MS: 'soon' } })
  try {
    await Appliance.start({ topology, dir: await harness.tempDir('gs-appliance-bad-'), logger: silentLogger, readyTimeoutMs: 45_000, observability: false })
    assert.unreachable('started with a bad FLUSH_INTERVAL_MS')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_APPLIANCE_START'), String(err))
    assert.match((err as Error).message, /game-1/)
    assert.match((err as Error).message, /FLUSH_INTERVAL_MS/)
  }
  assert.equal(liveDescendants().filter((pid) => !before.has(pid)), [], 'processes left behind')
})

test('a published port already in use: refused before anything starts', async () => {
  const blocker = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => blocker.once('listening', resolve))
  const taken = (blocker.address() as { port: number }).port
  try {
    const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers: 1, redisShards: 1, balancerPort: taken, prometheusPort: await freePort() })
    await Appliance.start({ topology, dir: await harness.tempDir('gs-appliance-port-'), logger: silentLogger, readyTimeoutMs: 10_000, observability: false })
    assert.unreachable('started on a taken port')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_APPLIANCE_START'), String(err))
    assert.is((err as { context: { port?: number } }).context.port, taken)
  } finally {
    blocker.close()
  }
})

test.run()
