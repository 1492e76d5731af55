import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PostgresAccountStore } from '../../app/db/account-store.js'
import { PlayerRepository } from '../../app/db/player-repository.js'
import { loadConfig } from '../../app/config/index.js'
import { WriteBehindPlayerSink, writeBehindOptions, type WriteBehindOptions } from '../../app/db/write-behind.js'
import type { PlayerState } from '../../app/game/stores.js'
import { rejection, startDb, type DbFixture } from './db-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('db: write-behind PlayerStateSink')
let f: DbFixture
const sinks: WriteBehindPlayerSink[] = []

function sink(options: Partial<WriteBehindOptions> = {}): WriteBehindPlayerSink {
  const s = new WriteBehindPlayerSink(f.db, { ...writeBehindOptions(loadConfig({}).data), flushIntervalMs: 60_000, retryBaseMs: 20, retryMaxMs: 200, closeDeadlineMs: 2000, ...options })
  sinks.push(s)
  return s
}

async function seedPlayers(n: number): Promise<void> {
  await f.server.psql('TRUNCATE game_log, players RESTART IDENTITY')
  await f.server.psql(`INSERT INTO players (username, password_hash, hp) SELECT 'p' || g, 'h', 100 FROM generate_series(1, ${n}) g`)
}

const stateOf = (id: number, round: number): PlayerState => ({
  id,
  level: 1 + (round % 50),
  experience: id * 1000 + round,
  position: { zone: round % 4, x: id + round / 4, y: -round },
  hp: 100 - (round % 100),
})

interface Row { id: number; level: number; experience: string; zone: number; pos_x: number; pos_y: number; hp: number }

/** How many players' stored state equals the expected state. */
async function matching(expected: ReadonlyMap<number, PlayerState>): Promise<number> {
  const rows = await f.db.sql<Row[]>`SELECT id, level, experience, zone, pos_x, pos_y, hp FROM players`
  let same = 0
  for (const row of rows) {
    const e = expected.get(row.id)
    if (!e) continue
    if (row.level === e.level && Number(row.experience) === e.experience && row.zone === e.position.zone && row.pos_x === e.position.x && row.pos_y === e.position.y && row.hp === e.hp) same++
  }
  return same
}

test.before(async () => {
  f = await startDb()
})
test.after(async () => {
  for (const s of sinks) await s.close().catch(() => {})
  await f?.harness.close()
})

test('marks coalesce per player, flush writes the latest, release persists at logout, loads see pending state', async () => {
  await seedPlayers(3)
  const s = sink()
  const accounts = new PostgresAccountStore(f.db, { pending: (id) => s.pending(id) })
  s.markDirty(stateOf(1, 1))
  s.markDirty(stateOf(1, 2))
  s.markDirty(stateOf(2, 7))
  assert.is(s.stats().dirtyPlayers, 2)
  // not yet written, but a login in between sees it
  assert.is((await accounts.findById(1))?.experience, stateOf(1, 2).experience)
  assert.is((await f.server.psql('SELECT experience FROM players WHERE id = 1')).trim(), '0')
  await s.flush()
  assert.is(await matching(new Map([[1, stateOf(1, 2)], [2, stateOf(2, 7)]])), 2)
  assert.is(s.stats().dirtyPlayers, 0)
  assert.is((await f.server.psql('SELECT version FROM players WHERE id = 1')).trim(), '2', 'a flush bumps version once per write')

  s.markDirty(stateOf(3, 8))
  await s.release(stateOf(3, 9))
  assert.is(await matching(new Map([[3, stateOf(3, 9)]])), 1, 'the final state wins over the earlier mark')
})

test('the interval flushes without being asked; invalid state is refused synchronously', async () => {
  await seedPlayers(2)
  const s = sink({ flushIntervalMs: 20 })
  s.markDirty(stateOf(1, 5))
  await eventually(async () => (await matching(new Map([[1, stateOf(1, 5)]]))) === 1, 5000, 'the timer to flush')
  assert.throws(() => s.markDirty({ ...stateOf(2, 1), experience: -5 }), (e: { code?: string }) => e.code === 'GS_ERR_DB_INVALID_ARGUMENT')
  assert.throws(() => s.markDirty({ ...stateOf(2, 1), position: { zone: 0, x: Number.NaN, y: 0 } }), (e: { code?: string }) => e.code === 'GS_ERR_DB_INVALID_ARGUMENT')
})

test('a gold grant to an online player survives the game writing its state back (no lost update)', async () => {
  await seedPlayers(2)
  const s = sink()
  const players = new PlayerRepository(f.db)
  const accounts = new PostgresAccountStore(f.db, { pending: (id) => s.pending(id) })
  // player 1 is online: the game loaded it (gold 0) and keeps marking its state dirty
  s.markDirty(stateOf(1, 1))
  const grant = await players.grantGold(1, 250, 'compensation')
  assert.is(grant.players, 2)
  s.markDirty(stateOf(1, 2)) // the game's next change, carrying no gold
  await s.flush()
  assert.is(await matching(new Map([[1, stateOf(1, 2)]])), 1, 'the game state was written')
  assert.is((await f.server.psql('SELECT gold FROM players WHERE id = 1')).trim(), '250', 'the acknowledged grant is still there')
  assert.is((await accounts.findById(1))?.gold, 250, 'and the next login sees it')
})

test('bounded: a new player beyond maxDirtyPlayers is refused (typed), waiting players still coalesce', async () => {
  await seedPlayers(5)
  const s = sink({ maxDirtyPlayers: 3 })
  for (const id of [1, 2, 3]) s.markDirty(stateOf(id, 1))
  assert.throws(() => s.markDirty(stateOf(4, 1)), (e: { code?: string }) => e.code === 'GS_ERR_DB_WRITE_BEHIND_FULL')
  s.markDirty(stateOf(2, 2)) // already waiting: accepted
  await s.release(stateOf(5, 1)) // a player logging out is never refused: their final state is written
  assert.is(await matching(new Map([[5, stateOf(5, 1)]])), 1)
  await s.flush()
  s.markDirty(stateOf(4, 1)) // room again
  await s.flush()
  assert.is(await matching(new Map([[1, stateOf(1, 1)], [2, stateOf(2, 2)], [3, stateOf(3, 1)], [4, stateOf(4, 1)], [5, stateOf(5, 1)]])), 5)
})

test('bulk flush of 10,000 dirty players: one statement per 5,000 rows, every row written', async () => {
  await seedPlayers(10_000)
  const s = sink({ rowsPerStatement: 5000, maxDirtyPlayers: 20_000 })
  const expected = new Map<number, PlayerState>()
  for (let id = 1; id <= 10_000; id++) {
    const state = stateOf(id, 3)
    expected.set(id, state)
    s.markDirty(state)
  }
  const before = f.durations.get('writeBehind.flush')?.length ?? 0
  const started = performance.now()
  await s.flush()
  const ms = performance.now() - started
  assert.is((f.durations.get('writeBehind.flush')?.length ?? 0) - before, 2, 'two bulk statements')
  assert.is(await matching(expected), 10_000)
  assert.is(s.stats().flushedPlayers, 10_000)
  console.log(`    bulk flush of 10,000 players: ${ms.toFixed(0)} ms`)
})

test('PostgreSQL stopped and restarted in the middle of write-behind: every acknowledged update is in the database', async () => {
  const n = 2000
  await seedPlayers(n)
  const s = sink({ flushIntervalMs: 25, rowsPerStatement: 500 })
  const acknowledged = new Map<number, PlayerState>()
  let round = 0
  const writeRound = () => {
    round++
    // each round changes a different third of the players
    for (let id = 1 + (round % 3); id <= n; id += 3) {
      const state = stateOf(id, round)
      s.markDirty(state) // returns normally = acknowledged
      acknowledged.set(id, state)
    }
  }
  // writes keep coming while waiting
  const waitFor = (what: string, condition: () => boolean) =>
    eventually(() => {
      if (condition()) return true
      writeRound()
      return false
    }, 20_000, what, 10)
  await waitFor('some flushes', () => s.stats().flushedPlayers > 2 * n)
  await f.server.stop()
  await waitFor('failed flush attempts while the server is down', () => s.stats().consecutiveFailures >= 3)
  const failedWhileDown = s.stats().failedAttempts
  for (let i = 0; i < 5; i++) writeRound()
  await f.server.restart()
  for (let i = 0; i < 5; i++) writeRound()
  await s.flush()
  assert.ok(failedWhileDown >= 3)
  assert.is(acknowledged.size, n)
  assert.is(await matching(acknowledged), n, 'every acknowledged state is stored')
  assert.is(s.stats().dirtyPlayers, 0)

  // second outage, harsher: immediate shutdown (SIGQUIT: no checkpoint, crash recovery at the next
  // start) while flushes run every 25 ms
  const flushedBefore = s.stats().flushedPlayers
  await waitFor('flushes after the restart', () => s.stats().flushedPlayers > flushedBefore + n)
  f.server.process.signal('SIGQUIT')
  await f.server.process.waitForExit()
  const failedBefore = s.stats().failedAttempts
  await waitFor('failed flush attempts after the crash', () => s.stats().failedAttempts >= failedBefore + 2)
  await f.server.restart()
  for (let i = 0; i < 5; i++) writeRound()
  await s.flush()
  assert.is(await matching(acknowledged), n, 'every acknowledged state is stored after crash recovery')
  console.log(`    outage: ${round} rounds, ${s.stats().failedAttempts} failed attempts retried over a stop and a crash, ${n}/${n} players match`)
})

test('close flushes; with the database gone it gives up at the deadline with a typed error counting the unsaved', async () => {
  await seedPlayers(10)
  const ok = sink()
  ok.markDirty(stateOf(1, 4))
  await ok.close()
  await ok.close()
  assert.is(await matching(new Map([[1, stateOf(1, 4)]])), 1)
  assert.throws(() => ok.markDirty(stateOf(1, 5)), (e: { code?: string }) => e.code === 'GS_ERR_DB_WRITE_BEHIND_CLOSED')

  const doomed = sink({ closeDeadlineMs: 300 })
  doomed.markDirty(stateOf(2, 1))
  doomed.markDirty(stateOf(3, 1))
  await f.server.stop()
  try {
    const err = await rejection(doomed.close())
    assert.is(err.code, 'GS_ERR_DB_WRITE_BEHIND_CLOSED')
    assert.is(err.context?.unsaved, 2)
  } finally {
    await f.server.restart()
  }
})

test.run()
