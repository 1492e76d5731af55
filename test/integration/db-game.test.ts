// The game server on PostgreSQL through its stores' wiring: DATABASE_URL selects the Postgres
// stores, DB_MIGRATE_AT_START prepares the schema, a player's state is written behind and comes
// back at the next login on a new server process-equivalent.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../app/config/index.js'
import { GameStores } from '../../app/processes/game-stores.js'
import { silentLogger } from '../../app/logger.js'
import { PASSWORD, startGame, uniqueUsername } from './game-support.js'
import { CountingMetrics } from '../harness/net-server.js'
import { Harness } from '../harness/index.js'
import type { PostgresServer } from '../../app/local/postgres-server.js'
import { migrations } from '../../app/db/migrations/index.js'

const test = suite('db: the game server on PostgreSQL through its stores')
const harness = new Harness()
let server: PostgresServer

test.before(async () => {
  server = await harness.postgres()
})
test.after(async () => {
  await harness.close()
})

test('DATABASE_URL + DB_MIGRATE_AT_START: migrated, database mode, durations reported through DatabaseMetrics, closed in order', async () => {
  const metrics = new CountingMetrics()
  const seen: string[] = []
  metrics.dbQueryDuration = (op: string) => void seen.push(op)
  const pools = new Map<string, () => { size: number; inUse: number; waiting: number }>()
  metrics.observePool = (name, source) => void pools.set(name, source)
  const stores = await GameStores.open(loadConfig({ DATABASE_URL: server.url, DB_MIGRATE_AT_START: 'true' }), { logger: silentLogger, metrics })
  try {
    assert.is(stores.mode, 'database')
    assert.ok(stores.database, 'the pool is the stores\' own')
    assert.equal(stores.closeOrder, ['player sink flush', 'player sink', 'shared state', 'sessions', 'accounts', 'database'])
    assert.is((await server.psql('SELECT count(*) FROM schema_migrations')).trim(), String(migrations.length))
    const created = await stores.accounts.create({ username: uniqueUsername('f'), passwordHash: 'h', position: { zone: 0, x: 1, y: 2 }, hp: 100 })
    assert.is((await stores.accounts.findById(created.id))?.username, created.username)
    assert.ok(seen.includes('player.create') && seen.includes('player.findById'), `ops seen: ${seen.join(',')}`)
    assert.equal(pools.get('postgres')?.(), { size: 10, inUse: 0, waiting: 0 }, 'pool occupancy exported (DB_POOL_MAX = 10)')
    await stores.close()
    await stores.database!.ping().then(
      () => assert.unreachable('the pool must be closed with the stores'),
      () => {},
    )
  } finally {
    await stores.close()
  }
})

test('an unreachable DATABASE_URL fails start-up with one GS_ERR_DB_UNAVAILABLE naming it', async () => {
  try {
    await GameStores.open(loadConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/game', DB_CONNECT_TIMEOUT_SECONDS: '2' }), { logger: silentLogger })
    assert.unreachable('must reject')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'GS_ERR_DB_UNAVAILABLE')
    assert.is((err as { context: Record<string, unknown> }).context.variable, 'DATABASE_URL')
  }
})

for (const withCache of [false, true]) {
test(`a player moves, logs out, the server stops; a new server loads the stored position at login${withCache ? ' (Redis player cache in front)' : ''}`, async () => {
  const env: Record<string, string> = { DATABASE_URL: server.url, DB_MIGRATE_AT_START: 'true', RECOVERY_POINT_MS: '60000' }
  if (withCache) env.REDIS_URLS = (await harness.redis()).url
  const name = uniqueUsername('walker')
  const first = await startGame(env)
  let moved: { x: number; y: number }
  try {
    const client = await first.connect()
    const login = await client.register(name, PASSWORD)
    moved = await client.move(login.x + 3, login.y + 4)
    await client.logout() // release(): written at logout, not at the (hour-long) interval
    await client.connection.closed
  } finally {
    await first.close()
  }
  const row = (await server.psql(`SELECT pos_x || ',' || pos_y FROM players WHERE username = '${name}'`)).trim()
  assert.is(row, `${moved.x},${moved.y}`)

  const second = await startGame(env)
  try {
    const client = await second.connect()
    const again = await client.login(name, PASSWORD)
    assert.is(again.x, moved.x)
    assert.is(again.y, moved.y)
  } finally {
    await second.close()
  }
})
}

test.run()
