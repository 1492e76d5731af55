/**
 * The data families from real stores: startServer on a real PostgreSQL and a real Redis shard with
 * telemetry on; a game client registers, logs in with its token and moves; the server's /metrics
 * shows database query durations by operation, the postgres pool gauges and cache outcomes by shard.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { startServer, type ServerHandle } from '../../app/processes/game-server.js'
import { Telemetry } from '../../app/telemetry/telemetry.js'
import { Harness } from '../harness/index.js'
import { PASSWORD, TEST_ENV, uniqueUsername } from './game-support.js'
import { family, scrape, series } from './telemetry-support.js'

const test = suite('telemetry: database, pool and cache families from real stores')
const harness = new Harness()
let telemetry: Telemetry
let handle: ServerHandle

test.before(async () => {
  const [postgres, redis] = await Promise.all([harness.postgres(), harness.redis()])
  const config = loadConfig({
    ...TEST_ENV,
    MAX_SPEED: '100000',
    DATABASE_URL: postgres.url,
    DB_MIGRATE_AT_START: 'true',
    REDIS_URLS: redis.url,
    CLUSTER_REDIS_URL: '',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    REPORT_INTERVAL_MS: '0',
  })
  telemetry = (await Telemetry.start(config, silentLogger, 'server'))!
  handle = await startServer(config, { logger: silentLogger, telemetry })
})

test.after(async () => {
  await handle?.close(3000)
  await telemetry?.close()
  await harness.close()
})

test('register, token login and moves show up as db, pool and cache series', async () => {
  const client = await GameClient.connect({ host: '127.0.0.1', port: handle.port, timeoutMs: 8000 })
  const ok = await client.register(uniqueUsername('tm'), PASSWORD)
  for (let i = 0; i < 3; i++) await client.move(10 + i, 10)
  await client.connection.close()
  const again = await GameClient.connect({ host: '127.0.0.1', port: handle.port, timeoutMs: 8000 })
  await again.loginWithToken(ok.token)
  await again.connection.close()

  const s = await scrape(telemetry.port!)
  const dbOps = family(s, 'gs_db_query_duration_seconds_count')
  assert.ok(dbOps.length >= 1, `database operations: ${dbOps.join(' ')}`)
  assert.ok(dbOps.every((k) => /operation="[a-zA-Z.]+"/.test(k)), 'labelled by operation')
  assert.ok(dbOps.reduce((n, k) => n + s.get(k)!, 0) >= 1)
  assert.ok(series(s, 'gs_pool_size', { pool: 'postgres' })! >= 1, 'postgres pool size')
  assert.is(series(s, 'gs_pool_waiting', { pool: 'postgres' }), 0)
  const cache = [...family(s, 'gs_cache_hits_total'), ...family(s, 'gs_cache_misses_total')]
  assert.ok(cache.length >= 1, `cache outcomes: ${[...s.keys()].filter((k) => k.includes('cache')).join(' ')}`)
  assert.ok(cache.every((k) => /shard="[^"]+"/.test(k)), 'labelled by shard')
  assert.ok(cache.reduce((n, k) => n + s.get(k)!, 0) >= 1, 'the token login read the session cache')
})

test.run()
