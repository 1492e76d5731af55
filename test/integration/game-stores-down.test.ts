/**
 * PostgreSQL goes away under a running game server process (`app/main.ts` on a real PostgreSQL):
 *   - /readyz on the metrics port turns 503 naming the database, /healthz stays 200, both recover;
 *   - REGISTER and LOGIN are answered ACCOUNT_STORE_UNAVAILABLE (retry later) with a message that
 *     names nothing of the server's internals (host, port, user, database), which go to the log.
 * Redis shards going away under an idle server: /readyz says degraded (still 200) with one of two
 * down, 503 with both, without waiting for a command to fail.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { isGameServerError } from '../../app/errors.js'
import { Harness } from '../harness/index.js'
import { listeningPort, PASSWORD, spawnServer, uniqueUsername } from './game-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('game server with a store down: readiness and a retryable, internals-free error')

async function probe(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

test('/readyz follows the database; REGISTER/LOGIN get ACCOUNT_STORE_UNAVAILABLE without the database\'s address', async () => {
  const harness = new Harness()
  try {
    const postgres = await harness.postgres()
    const server = spawnServer(harness, { DATABASE_URL: postgres.url, DB_MIGRATE_AT_START: 'true', PASSWORD_HASH_COST: '1024', DB_CONNECT_TIMEOUT_SECONDS: '1' })
    const port = await listeningPort(server)
    const metricsLine = server.output().split('\n').find((l) => l.includes('metrics endpoint listening'))!
    const metricsPort = (JSON.parse(metricsLine) as { port: number }).port
    assert.equal(await probe(metricsPort, '/healthz'), { status: 200, body: { status: 'ok' } })
    const ready = await probe(metricsPort, '/readyz')
    assert.is(ready.status, 200)
    assert.equal(ready.body.stores, { ready: true, database: 'ok', cache: 'memory' })

    const name = uniqueUsername('outage')
    const first = await GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 8000 })
    await first.register(name, PASSWORD)
    first.connection.destroy()

    await postgres.stop()
    const down = await probe(metricsPort, '/readyz')
    assert.is(down.status, 503)
    assert.equal(down.body.stores, { ready: false, database: 'down', cache: 'memory' })
    assert.is((await probe(metricsPort, '/healthz')).status, 200, 'alive all the same: no restart needed')

    const client = await GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 8000 })
    const internals = new URL(postgres.url)
    for (const attempt of [() => client.register(uniqueUsername('late'), PASSWORD), () => client.login(name, PASSWORD)]) {
      try {
        await attempt()
        assert.unreachable('must be refused while the database is down')
      } catch (err) {
        assert.ok(isGameServerError(err, 'GS_ERR_REQUEST_REJECTED'), String(err))
        assert.is(err.context.wireCode, 23, 'ACCOUNT_STORE_UNAVAILABLE')
        for (const secret of [internals.port, internals.username, internals.pathname.slice(1), '127.0.0.1']) assert.not.ok(err.message.includes(secret), `message leaks ${secret}: ${err.message}`)
      }
    }
    assert.match(server.output(), /GS_ERR_DB_UNAVAILABLE/, 'the details are in the log')

    await postgres.restart()
    await eventually(async () => (await probe(metricsPort, '/readyz')).status === 200, 10_000, '/readyz to be 200 again once the database is back', 200)
    const again = await client.login(name, PASSWORD)
    assert.ok(again.playerId > 0)
    client.connection.destroy()
    await server.stop(10_000)
  } finally {
    await harness.close()
  }
})

test('/readyz follows the cache: every shard up ok, one of two down degraded but ready, both down 503', async () => {
  const harness = new Harness()
  try {
    const shards = await Promise.all([harness.redis(), harness.redis()])
    const server = spawnServer(harness, { REDIS_URLS: shards.map((r) => r.url).join(','), PASSWORD_HASH_COST: '1024' })
    await listeningPort(server)
    const metricsLine = server.output().split('\n').find((l) => l.includes('metrics endpoint listening'))!
    const metricsPort = (JSON.parse(metricsLine) as { port: number }).port
    const ready = await probe(metricsPort, '/readyz')
    assert.is(ready.status, 200)
    assert.equal(ready.body.stores, { ready: true, database: 'memory', cache: 'ok' })

    await shards[0]!.stop()
    await eventually(async () => ((await probe(metricsPort, '/readyz')).body.stores as { cache: string }).cache === 'degraded', 15_000, 'cache degraded with one shard down', 200)
    assert.is((await probe(metricsPort, '/readyz')).status, 200, 'a degraded cache still serves')

    await shards[1]!.stop()
    await eventually(async () => (await probe(metricsPort, '/readyz')).status === 503, 15_000, '/readyz 503 with every shard down', 200)
    assert.equal((await probe(metricsPort, '/readyz')).body.stores, { ready: false, database: 'memory', cache: 'down' })
    assert.is((await probe(metricsPort, '/healthz')).status, 200)
    await server.stop(10_000)
  } finally {
    await harness.close()
  }
})

test.run()
