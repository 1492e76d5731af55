import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PlayerRepository, type PlayerFilter } from '../../app/db/player-repository.js'
import type { PlayerRecord } from '../../app/game/stores.js'
import { rejection, startDb, type DbFixture } from './db-support.js'

const test = suite('db: PlayerRepository against a real PostgreSQL')
let f: DbFixture
let players: PlayerRepository

const spawn = { zone: 1, x: 10.5, y: -3.25 }
const account = (username: string, extra: Record<string, unknown> = {}) => ({ username, passwordHash: `hash-of-${username}`, position: spawn, hp: 100, ...extra })

test.before(async () => {
  f = await startDb()
  players = new PlayerRepository(f.db)
})
test.after(async () => {
  await f?.harness.close()
})
test.before.each(async () => {
  await f.server.psql('TRUNCATE game_log, players RESTART IDENTITY')
})

test('create returns the new id; find by id and username; update bumps version; delete', async () => {
  const created = await players.create(account('alice', { email: 'alice@example.com', level: 3, gold: 7 }))
  assert.ok(created.id >= 1)
  assert.is(created.version, 1)
  assert.equal(created.position, spawn)
  assert.is(created.gold, 7)
  assert.ok(created.createdAt instanceof Date)
  assert.is(created.lastLogin, null)
  assert.equal(await players.findById(created.id), created)
  assert.equal(await players.findByUsername('alice'), created)
  assert.is(await players.findByUsername('nobody'), undefined)
  assert.is(await players.findById(999_999), undefined)

  const login = new Date('2026-01-02T03:04:05.678Z')
  const updated = await players.update(created.id, 1, { gold: 1_000_000_000_000, level: 4, position: { zone: 2, x: 1, y: 2 }, lastLogin: login })
  assert.is(updated.version, 2)
  assert.is(updated.gold, 1_000_000_000_000)
  assert.equal(updated.position, { zone: 2, x: 1, y: 2 })
  assert.is(updated.lastLogin?.toISOString(), login.toISOString())
  assert.equal(await players.findById(created.id), updated)

  assert.is(await players.delete(created.id), true)
  assert.is(await players.delete(created.id), false)
  assert.is(await players.findById(created.id), undefined)
  const missing = await rejection(players.update(created.id, 2, { gold: 1 }))
  assert.is(missing.code, 'GS_ERR_DB_NOT_FOUND')
})

test('optimistic concurrency: of two writers holding version 1 exactly one wins, the other gets a typed conflict', async () => {
  const p = await players.create(account('racer'))
  const results = await Promise.allSettled([players.update(p.id, 1, { gold: 10 }), players.update(p.id, 1, { gold: 20 })])
  const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<PlayerRecord>[]
  const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
  assert.is(won.length, 1)
  assert.is(lost.length, 1)
  assert.is(lost[0]!.reason.code, 'GS_ERR_DB_VERSION_CONFLICT')
  assert.is(lost[0]!.reason.context.expectedVersion, 1)
  assert.is(lost[0]!.reason.context.actualVersion, 2)
  const stored = await players.findById(p.id)
  assert.is(stored?.gold, won[0]!.value.gold, 'the winner\'s write stands, the loser wrote nothing')
  assert.is(stored?.version, 2)
})

test('unique violations map to typed errors naming the field', async () => {
  await players.create(account('bob', { email: 'bob@example.com' }))
  const byName = await rejection(players.create(account('bob', { email: 'other@example.com' })))
  assert.is(byName.code, 'GS_ERR_ACCOUNT_EXISTS')
  assert.is(byName.context?.field, 'username')
  const byEmail = await rejection(players.create(account('bobby', { email: 'bob@example.com' })))
  assert.is(byEmail.code, 'GS_ERR_ACCOUNT_EXISTS')
  assert.is(byEmail.context?.field, 'email')
  const bad = await rejection(players.create(account('neg', { gold: -1 })))
  assert.is(bad.code, 'GS_ERR_DB_INVALID_ARGUMENT')
  // what the schema refuses past the repository's own checks is typed too
  const orphanLog = await rejection(players.log('orphan', 987_654))
  assert.is(orphanLog.code, 'GS_ERR_DB_NOT_FOUND')
  const longName = await rejection(f.db.run('test.insert', (sql) => sql`INSERT INTO players (username, password_hash, hp) VALUES (${'x'.repeat(65)}, 'h', 1)`))
  assert.is(longName.code, 'GS_ERR_DB_INVALID_ARGUMENT')
  assert.is(longName.context?.constraint, 'players_username_length')
})

async function collect(filter: PlayerFilter): Promise<{ names: string[]; pages: number }> {
  const names: string[] = []
  let after: string | undefined
  let pages = 0
  do {
    const page = await players.findMany({ ...filter, ...(after ? { after } : {}) })
    names.push(...page.players.map((p) => p.username))
    after = page.nextCursor
    pages++
    assert.ok(pages < 100, 'pagination terminates')
  } while (after)
  return { names, pages }
}

test('findMany: typed filters and keyset pagination visit every match once, in order', async () => {
  // 50 players, levels 1..10 repeating, zones 0..2, some names sharing prefixes with LIKE wildcards
  const all: PlayerRecord[] = []
  for (let i = 0; i < 50; i++) {
    const name = i % 10 === 0 ? `war_rior${i}` : i % 3 === 0 ? `war%${i}` : `mage${i}`
    all.push(await players.create(account(name, { level: (i % 10) + 1, position: { zone: i % 3, x: 0, y: 0 } })))
  }
  const byId = await collect({ limit: 7 })
  assert.equal(byId.names, all.map((p) => p.username))
  assert.is(byId.pages, 8)

  const levelRange = await collect({ minLevel: 3, maxLevel: 5, orderBy: 'level', limit: 4 })
  const expected = all
    .filter((p) => p.level >= 3 && p.level <= 5)
    .sort((a, b) => a.level - b.level || a.id - b.id)
    .map((p) => p.username)
  assert.equal(levelRange.names, expected)

  const leaderboard = await collect({ minLevel: 8, orderBy: 'levelDesc', limit: 3 })
  const expectedBoard = all
    .filter((p) => p.level >= 8)
    .sort((a, b) => b.level - a.level || b.id - a.id)
    .map((p) => p.username)
  assert.equal(leaderboard.names, expectedBoard)

  // `_` and `%` in the prefix are literal, not wildcards
  const underscore = await collect({ usernamePrefix: 'war_', limit: 2 })
  assert.equal(underscore.names, all.filter((p) => p.username.startsWith('war_')).map((p) => p.username))
  const percent = await collect({ usernamePrefix: 'war%', zone: 0 })
  assert.equal(percent.names, all.filter((p) => p.username.startsWith('war%') && p.position.zone === 0).map((p) => p.username))

  const empty = await players.findMany({ minLevel: 99 })
  assert.equal(empty, { players: [], nextCursor: undefined })

  const first = await players.findMany({ limit: 5 })
  const wrongOrder = await rejection(players.findMany({ orderBy: 'level', after: first.nextCursor! }))
  assert.is(wrongOrder.code, 'GS_ERR_DB_INVALID_ARGUMENT')
  const garbage = await rejection(players.findMany({ after: 'not-a-cursor' }))
  assert.is(garbage.code, 'GS_ERR_DB_INVALID_ARGUMENT')
  const tooMany = await rejection(players.findMany({ limit: 100_000 }))
  assert.is(tooMany.code, 'GS_ERR_DB_INVALID_ARGUMENT')
})

test('hostile names are bound parameters: stored and reloaded unchanged, tables intact', async () => {
  const names = ["'; DROP TABLE players; --", "Robert'); --", "Robert'); DROP TABLE game_log;--", '\\x00\' OR \'1\'=\'1', '$1 $2 ${x}', 'ünïcødé 🎮']
  for (const name of names) {
    const created = await players.create(account(name, { email: `${name}@example.com` }))
    assert.is((await players.findByUsername(name))?.username, name)
    assert.is((await players.findById(created.id))?.email, `${name}@example.com`)
    await players.log('hostile', created.id, { name })
  }
  assert.equal((await collect({ usernamePrefix: "Robert'" })).names, ["Robert'); --", "Robert'); DROP TABLE game_log;--"])
  const tables = (await f.server.psql(`SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'`)).trim()
  assert.is(tables, 'cluster_fences,game_log,leaderboard_snapshots,players,schema_migrations')
  assert.is((await f.server.psql('SELECT count(*) FROM players')).trim(), String(names.length))
  assert.is((await f.server.psql(`SELECT string_agg(payload->>'name', '|' ORDER BY id) FROM game_log`)).trim(), names.join('|'))
})

test('the queries can use their indexes (plans with sequential scans disabled)', async () => {
  const plan = (build: (sql: import('../../app/db/pool.js').SqlTag) => Promise<{ 'QUERY PLAN': string }[]>) =>
    f.db.withTransaction(async (tx) => {
      await tx.run('test.planner', (sql) => sql`SET LOCAL enable_seqscan = off`)
      return (await tx.run('test.explain', build)).map((r) => r['QUERY PLAN']).join('\n')
    })
  assert.match(await plan((sql) => sql`EXPLAIN SELECT id FROM players WHERE level >= ${3} AND level <= ${5} AND (level, id) > (${3}, ${10}) ORDER BY level, id LIMIT 5`), /players_level_id_idx/)
  assert.match(await plan((sql) => sql`EXPLAIN SELECT id FROM players WHERE level >= ${8} AND (level, id) < (${9}, ${40}) ORDER BY level DESC, id DESC LIMIT 5`), /Scan Backward using players_level_id_idx/)
  assert.match(await plan((sql) => sql`EXPLAIN SELECT id FROM players WHERE username LIKE ${'war\\_%'} ORDER BY id LIMIT 5`), /players_username_pattern_idx/)
  assert.match(await plan((sql) => sql`EXPLAIN SELECT id FROM players WHERE username = ${'x'}`), /players_username_(key|pattern_idx)/)
  assert.match(await plan((sql) => sql`EXPLAIN SELECT id FROM game_log WHERE player_id = ${1} ORDER BY created_at DESC LIMIT 10`), /game_log_player_created_idx/)
})

test('operations are timed by name through the injected callback', async () => {
  await players.create(account('timed'))
  await players.findByUsername('timed')
  for (const op of ['player.create', 'player.findByUsername']) {
    const list = f.durations.get(op) ?? []
    assert.ok(list.length > 0, `${op} reported`)
    assert.ok(list.every((s) => s >= 0 && s < 30), `${op} durations in seconds`)
  }
  const stats = f.db.stats()
  assert.is(stats.inFlight, 0)
  assert.ok(stats.completed >= 2)
  assert.is(stats.maxConnections, 8)
})

test.run()
