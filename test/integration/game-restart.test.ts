/**
 * The appliance's persistence across a SIGTERM restart, end to end: `app/main.ts` as a child
 * process on a real PostgreSQL (accounts, write-behind player state) and real Redis (login tokens).
 * The recovery point (write-behind interval) is an hour, so only the shutdown path (drain → sessions closed → game
 * hands state to the sink → sink flush → stores closed) can have saved the moves.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { Harness } from '../harness/index.js'
import { listeningPort, PASSWORD, spawnServer, uniqueUsername } from './game-support.js'

const test = suite('game server process on Postgres + Redis: state and tokens survive a SIGTERM restart')

test('moves made before SIGTERM are there after the restart; the token still logs in', async () => {
  const harness = new Harness()
  try {
    const [postgres, redis] = await Promise.all([harness.postgres(), harness.redis()])
    const env = {
      DATABASE_URL: postgres.url, REDIS_URLS: redis.url, DB_MIGRATE_AT_START: 'true', RECOVERY_POINT_MS: '3600000',
      PASSWORD_HASH_COST: '1024', ZONE_SIZE: '100', MAX_SPEED: '100000', SHUTDOWN_DEADLINE_MS: '8000',
    }
    const first = spawnServer(harness, env)
    const client = await GameClient.connect({ host: '127.0.0.1', port: await listeningPort(first), timeoutMs: 8000 })
    const ok = await client.register(uniqueUsername('persist'), PASSWORD)
    await client.move(70, 30)
    const last = await client.move(130, 20) // into zone 1
    assert.equal([last.zone, last.x, last.y], [1, 130, 20])
    assert.match(first.output(), /"mode":"database\+cache"/)

    first.signal('SIGTERM')
    await client.connection.closed
    await first.waitForExit()
    assert.is(first.exitDescription(), 'exited with code 0', first.output())

    const second = spawnServer(harness, env)
    const again = await GameClient.connect({ host: '127.0.0.1', port: await listeningPort(second), timeoutMs: 8000 })
    const back = await again.loginWithToken(ok.token)
    assert.is(back.playerId, ok.playerId)
    assert.equal([back.zone, back.x, back.y], [1, 130, 20], 'position persisted by the shutdown flush')
    again.connection.destroy()
    await second.stop(10_000)
    assert.is(second.exitDescription(), 'exited with code 0', second.output())
  } finally {
    await harness.close()
  }
})

test.run()
