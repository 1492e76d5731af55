import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PlayerRepository } from '../../app/db/player-repository.js'
import { rejection, startDb, type DbFixture } from './db-support.js'

const test = suite('db: transactions, savepoints and grantGold')
let f: DbFixture
let players: PlayerRepository

const account = (username: string, level = 1) => ({ username, passwordHash: 'h', position: { zone: 0, x: 0, y: 0 }, hp: 100, level })
const count = async (sql: string) => Number((await f.server.psql(sql)).trim())

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

test('withTransaction commits on success and rolls everything back when fn throws (the error passes through)', async () => {
  const committed = await f.db.withTransaction(async (tx) => {
    const repo = players.with(tx)
    const a = await repo.create(account('committed'))
    await repo.log('created', a.id)
    return a.id
  })
  assert.ok(await players.findById(committed))

  const boom = new Error('abort the transaction')
  const err = await rejection(
    f.db.withTransaction(async (tx) => {
      await players.with(tx).create(account('rolled-back'))
      await players.with(tx).update(committed, 1, { gold: 999 })
      throw boom
    }),
  )
  assert.is(err, boom as unknown)
  assert.is(await players.findByUsername('rolled-back'), undefined)
  assert.is((await players.findById(committed))?.gold, 0)

  // a failing statement inside also rolls back what came before it, and surfaces typed
  const dup = await rejection(
    f.db.withTransaction(async (tx) => {
      await players.with(tx).create(account('before-dup'))
      await players.with(tx).create(account('committed'))
    }),
  )
  assert.is(dup.code, 'GS_ERR_ACCOUNT_EXISTS')
  assert.is(await players.findByUsername('before-dup'), undefined)
})

test('nested withTransaction is a savepoint: an inner failure rolls back only the inner part', async () => {
  await f.db.withTransaction(async (tx) => {
    await players.with(tx).create(account('outer'))
    const inner = await rejection(
      tx.withTransaction(async (sp) => {
        await players.with(sp).create(account('inner-lost'))
        await players.with(sp).create(account('outer')) // duplicate: fails the savepoint
      }),
    )
    assert.is(inner.code, 'GS_ERR_ACCOUNT_EXISTS')
    await tx.withTransaction(async (sp) => {
      await players.with(sp).create(account('inner-kept'))
      await sp.withTransaction(async (deeper) => {
        await players.with(deeper).create(account('deepest'))
      })
    })
  })
  const names = (await f.server.psql('SELECT string_agg(username, \',\' ORDER BY id) FROM players')).trim()
  assert.is(names, 'outer,inner-kept,deepest')

  // and an outer failure discards the released savepoints too
  await rejection(
    f.db.withTransaction(async (tx) => {
      await tx.withTransaction(async (sp) => {
        await players.with(sp).create(account('saved-then-lost'))
      })
      throw new Error('outer fails')
    }),
  )
  assert.is(await players.findByUsername('saved-then-lost'), undefined)
})

test('grantGold raises gold at or above the level and writes one log row per player plus a summary, atomically', async () => {
  for (let i = 1; i <= 20; i++) await players.create(account(`p${i}`, i))
  const result = await players.grantGold(5, 100, "event bonus; DROP TABLE players; --")
  assert.is(result.players, 16)
  assert.is(await count('SELECT count(*) FROM players WHERE gold = 100 AND level >= 5'), 16)
  assert.is(await count('SELECT count(*) FROM players WHERE gold = 0 AND level < 5'), 4)
  assert.is(await count(`SELECT count(*) FROM game_log g JOIN players p ON p.id = g.player_id WHERE g.event = 'gold_granted' AND p.level >= 5 AND (g.payload->>'amount')::int = 100`), 16)
  assert.is((await f.server.psql(`SELECT payload->>'reason' FROM game_log WHERE id = ${result.grantLogId}`)).trim(), 'event bonus; DROP TABLE players; --')
  assert.is(await count(`SELECT (payload->>'players')::int FROM game_log WHERE event = 'gold_grant'`), 16)

  // inside a caller's transaction that then fails, the grant disappears with it (savepoint)
  await rejection(
    f.db.withTransaction(async (tx) => {
      await players.with(tx).grantGold(1, 50, 'lost')
      throw new Error('caller aborts')
    }),
  )
  assert.is(await count('SELECT sum(gold) FROM players'), 1600)
  assert.is(await count(`SELECT count(*) FROM game_log WHERE payload->>'reason' = 'lost'`), 0)

  const bad = await rejection(players.grantGold(5, -10, 'negative'))
  assert.is(bad.code, 'GS_ERR_DB_INVALID_ARGUMENT')
})

test('grantGold is all-or-nothing to concurrent readers: gold granted always equals amount × log rows', async () => {
  for (let i = 1; i <= 200; i++) await players.create(account(`q${i}`, (i % 10) + 1))
  let grants = 0
  let checks = 0
  const granting = (async () => {
    for (let i = 0; i < 15; i++) {
      await players.grantGold(3, 7, `round ${i}`)
      grants++
    }
  })()
  let done = false
  granting.finally(() => (done = true)).catch(() => {})
  while (!done) {
    // one statement = one snapshot: both sums are from the same instant
    const [row] = await f.db.sql<{ gold: string; logged: string }[]>`
      SELECT (SELECT coalesce(sum(gold), 0) FROM players) AS gold,
             (SELECT count(*) FROM game_log WHERE event = 'gold_granted') AS logged`
    assert.is(Number(row!.gold), 7 * Number(row!.logged), 'never a half-applied grant')
    checks++
  }
  await granting
  assert.is(grants, 15)
  assert.ok(checks > 0)
  assert.is(await count('SELECT sum(gold) FROM players'), 15 * 7 * 160)
})

test.run()
