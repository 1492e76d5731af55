import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { migrate } from '../../app/db/migrate.js'
import { migrations } from '../../app/db/migrations/index.js'
import { DatabasePool } from '../../app/db/pool.js'
import { poolSettings, rejection, startDb, type DbFixture } from './db-support.js'

const test = suite('db: migrations and connection errors')
let f: DbFixture

test.before(async () => {
  f = await startDb()
})
test.after(async () => {
  await f?.harness.close()
})

test('migrations create players, game_log, leaderboard_snapshots, cluster_fences and their indexes and record each version', async () => {
  const tables = (await f.server.psql(`SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'`)).trim()
  assert.is(tables, 'cluster_fences,game_log,leaderboard_snapshots,players,schema_migrations')
  const indexes = (await f.server.psql(`SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'`)).trim().split(',')
  for (const name of ['players_username_key', 'players_email_key', 'players_level_id_idx', 'players_username_pattern_idx', 'game_log_player_created_idx', 'leaderboard_snapshots_board_taken_idx', 'cluster_fences_pkey']) {
    assert.ok(indexes.includes(name), `index ${name}`)
  }
  const versions = (await f.server.psql('SELECT string_agg(version::text, \',\' ORDER BY version) FROM schema_migrations')).trim()
  assert.is(versions, migrations.map((m) => m.version).join(','))
})

test('running again applies nothing; two runners at once are serialised by the advisory lock', async () => {
  const again = await migrate(f.db)
  assert.equal(again.applied, [])
  assert.is(again.version, migrations.length)
  // a fresh database, two pools migrating concurrently: exactly one applies each version
  await f.server.psql('CREATE DATABASE concurrent', 'postgres')
  const url = f.server.url.replace(/\/game$/, '/concurrent')
  const a = await DatabasePool.connect(poolSettings(url))
  const b = await DatabasePool.connect(poolSettings(url))
  try {
    const [ra, rb] = await Promise.all([migrate(a), migrate(b)])
    assert.equal([...ra.applied, ...rb.applied].sort(), migrations.map((m) => m.version))
    assert.is((await f.server.psql('SELECT count(*) FROM schema_migrations', 'concurrent')).trim(), String(migrations.length))
  } finally {
    await a.close()
    await b.close()
  }
})

test('case-only duplicate usernames: migration 4 reports every group and changes nothing; after a rename it applies', async () => {
  await f.server.psql('CREATE DATABASE legacy', 'postgres')
  const url = f.server.url.replace(/\/game$/, '/legacy')
  const db = await DatabasePool.connect(poolSettings(url))
  try {
    await migrate(db, { migrations: migrations.slice(0, 3) })
    await f.server.psql(`INSERT INTO players (username, password_hash, hp) VALUES ('Ann', 'h', 1), ('ann', 'h', 1), ('ANN', 'h', 1), ('bob', 'h', 1), ('Zed', 'h', 1), ('zed', 'h', 1)`, 'legacy')
    const refused = await rejection(migrate(db))
    assert.is(refused.code, 'GS_ERR_USERNAME_DUPLICATES')
    assert.is(refused.context?.total, 2)
    assert.equal((refused.context?.duplicates as { name: string }[]).map((d) => d.name), ['ann', 'zed'])
    assert.match(refused.message, /Ann \(id 1\), ann \(id 2\), ANN \(id 3\)/)
    assert.is((await f.server.psql('SELECT string_agg(username, \',\' ORDER BY id) FROM players', 'legacy')).trim(), 'Ann,ann,ANN,bob,Zed,zed', 'nothing merged or renamed')
    assert.is((await f.server.psql('SELECT max(version) FROM schema_migrations', 'legacy')).trim(), '3')

    await f.server.psql(`UPDATE players SET username = username || '_' || id WHERE id IN (2, 3, 6)`, 'legacy')
    assert.equal((await migrate(db)).applied, [4])
    const duplicate = await rejection(f.server.psql(`INSERT INTO players (username, password_hash, hp) VALUES ('BOB', 'h', 1)`, 'legacy'))
    assert.match(duplicate.message, /players_username_lower_key/)
  } finally {
    await db.close()
  }
})

test('a failing migration is rolled back with its version; an edited applied one is refused', async () => {
  const broken = [...migrations, { version: migrations.length + 1, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();' }]
  const failed = await rejection(migrate(f.db, { migrations: broken }))
  assert.is(failed.code, 'GS_ERR_DB_MIGRATION')
  assert.is(failed.context?.version, migrations.length + 1)
  assert.is((await f.server.psql(`SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'`)).trim(), '0')
  assert.is((await f.server.psql('SELECT max(version) FROM schema_migrations')).trim(), String(migrations.length))

  const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m))
  const refused = await rejection(migrate(f.db, { migrations: edited }))
  assert.is(refused.code, 'GS_ERR_DB_MIGRATION')
  assert.is(refused.context?.version, 1)
})

test('unreachable server, missing database and unset DATABASE_URL each give one typed error naming DATABASE_URL', async () => {
  const down = await rejection(DatabasePool.connect(poolSettings('postgres://postgres:secret@127.0.0.1:1/game', { DB_CONNECT_TIMEOUT_SECONDS: '2' })))
  assert.is(down.code, 'GS_ERR_DB_UNAVAILABLE')
  assert.is(down.context?.variable, 'DATABASE_URL')
  assert.match(down.message, /DATABASE_URL/)
  assert.not.match(down.message, /secret/)

  const missing = await rejection(DatabasePool.connect(poolSettings(f.server.url.replace(/\/game$/, '/no_such_db'))))
  assert.is(missing.code, 'GS_ERR_DB_UNAVAILABLE')
  assert.is(missing.context?.reason, '3D000')

  const unset = await rejection(DatabasePool.connect({ databaseUrl: undefined, dbPoolMax: 1, dbIdleTimeoutSeconds: 1, dbConnectTimeoutSeconds: 1, dbStatementTimeoutMs: 0 }))
  assert.is(unset.code, 'GS_ERR_CONFIG')
  assert.is(unset.context?.variable, 'DATABASE_URL')
})

test('statement_timeout applies to pool connections: a stuck statement fails typed instead of hanging', async () => {
  const quick = await DatabasePool.connect(poolSettings(f.server.url, { DB_STATEMENT_TIMEOUT_MS: '200' }))
  try {
    const [row] = await quick.sql<{ statement_timeout: string }[]>`SHOW statement_timeout`
    assert.is(row!.statement_timeout, '200ms')
    const stuck = await rejection(quick.run('test.sleep', (sql) => sql`SELECT pg_sleep(5)`))
    assert.is(stuck.code, 'GS_ERR_DB_QUERY')
    assert.is(stuck.context?.sqlState, '57014')
    assert.is(stuck.context?.op, 'test.sleep')
    assert.is(quick.stats().failed, 1)
  } finally {
    await quick.close()
  }
})

test.run()
