/**
 * Leader-only jobs of the game server on a real Redis and a real PostgreSQL: two game servers
 * (startServer in-process) share the cluster, the leaderboards and the database; only the leader
 * writes leaderboard snapshots; old snapshots are pruned to the retention count; the leader
 * crashes → the other server takes over and snapshots continue with a larger fencing token; a
 * write carrying the deposed leader's token is refused and writes nothing.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { SNAPSHOT_JOB } from '../../app/processes/leaderboard-jobs.js'
import { checkFence, latestLeaderboardSnapshot, leaderboardSnapshots, pruneLeaderboardSnapshots, snapshotFenceResource, writeLeaderboardSnapshots } from '../../app/db/leaderboard-snapshots.js'
import { migrate } from '../../app/db/migrate.js'
import { DatabasePool } from '../../app/db/pool.js'
import type { SharedGameState } from '../../app/game/shared-state.js'
import type { PostgresServer } from '../../app/local/postgres-server.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { Harness } from '../harness/index.js'
import { rejection } from './cache-support.js'
import { startGame, type GameFixture } from './game-support.js'
import { CountingMetrics } from '../harness/net-server.js'
import { poolSettings } from './db-support.js'
import { eventually } from '../harness/eventually.js'

/** Counts database operations by name (the leader jobs report theirs through GameMetrics). */
class DbOpMetrics extends CountingMetrics {
  readonly ops = new Map<string, number>()
  override dbQueryDuration(op: string): void {
    this.ops.set(op, (this.ops.get(op) ?? 0) + 1)
  }
}

const test = suite('cluster: leader-only jobs (leaderboard snapshots) on real Redis and PostgreSQL')
const INTERVAL_MS = 150
const RETENTION = 3
const TOP = 5
const CLUSTER = `lj-${randomBytes(3).toString('hex')}`

let h: Harness
let redis: RedisServer
let pg: PostgresServer
let db: DatabasePool
const servers: GameFixture[] = []
/** The server left running (and leading) after the failover of the first test. */
let survivor: GameFixture | undefined

test.before(async () => {
  h = new Harness()
  ;[redis, pg] = await Promise.all([h.redis(), h.postgres()])
  db = await DatabasePool.connect(poolSettings(pg.url, { DB_POOL_MAX: '4' }))
  h.own({ stop: () => db.close(1) })
  await migrate(db)
})

test.after(async () => {
  for (const s of servers) await s.close().catch(() => {})
  await h.close()
})

function env(nodeId: string) {
  return {
    NODE_ID: nodeId,
    DATABASE_URL: pg.url,
    REDIS_URLS: redis.url,
    CLUSTER_NAME: CLUSTER,
    HEARTBEAT_INTERVAL_MS: '100',
    MEMBER_TTL_MS: '400',
    LEADER_LEASE_MS: '600',
    DB_POOL_MAX: '2',
    LEADERBOARD_SNAPSHOT_INTERVAL_MS: String(INTERVAL_MS),
    LEADERBOARD_SNAPSHOT_TOP: String(TOP),
    LEADERBOARD_SNAPSHOT_RETENTION: String(RETENTION),
  }
}

const shared = (s: GameFixture): SharedGameState => s.handle.stores.shared!
const isLeader = (s: GameFixture): boolean => s.handle.cluster?.node?.isLeader === true
const tokenOf = (s: GameFixture): number => s.handle.cluster!.node!.elector.token
const nodeIdOf = (s: GameFixture): string => s.handle.cluster!.node!.elector.id

async function countSnapshots(where: string, ...params: (string | number)[]): Promise<number> {
  const rows = await db.sql.unsafe(`SELECT count(*)::int AS n FROM leaderboard_snapshots WHERE ${where}`, params)
  return rows[0]!.n as number
}

test('only the leader writes fenced snapshots; retention bounds them; the successor continues with a larger token; a stale token is refused', async () => {
  servers.push(await startGame(env('lj-a'), new DbOpMetrics()), await startGame(env('lj-b'), new DbOpMetrics()))
  const [a, b] = servers as [GameFixture, GameFixture]
  assert.ok(a.handle.leaderJobs, 'server A has leader jobs (cluster, database and cache configured)')
  assert.ok(b.handle.leaderJobs, 'server B has leader jobs')
  await Promise.all([a.handle.cluster!.joined, b.handle.cluster!.joined])

  // players score through the shared leaderboard API (what the game calls on a kill)
  for (let id = 1; id <= 8; id++) for (let k = 0; k < id; k++) await shared(id % 2 === 0 ? a : b).recordKill(id, id * 100)

  await eventually(() => isLeader(a) || isLeader(b), 5000, 'a leader')
  const leader = isLeader(a) ? a : b
  const follower = leader === a ? b : a
  const firstToken = tokenOf(leader)
  const leaderId = nodeIdOf(leader)

  // the leader snapshots the top 5 of each board, as Redis has them (a round that ran while the
  // kills above were still being recorded holds a partial board: wait for one of the final boards)
  const rows = (entries: readonly { playerId: number; score: number; rank: number }[] | undefined) => JSON.stringify(entries?.map((e) => [e.playerId, e.score, e.rank]))
  const finalKills = rows(await shared(follower).leaderboard('kills', TOP))
  await eventually(async () => rows((await latestLeaderboardSnapshot(db, 'kills'))?.entries) === finalKills, 5000, 'a snapshot of the final boards')
  const kills = await latestLeaderboardSnapshot(db, 'kills')
  assert.ok(kills, 'kills snapshot written in the same transaction')
  assert.equal(kills.entries, await shared(follower).leaderboard('kills', TOP))
  assert.equal(kills.entries.map((e) => e.playerId), [8, 7, 6, 5, 4])
  assert.is(kills.fencingToken, firstToken)
  assert.is(kills.takenBy, leaderId)
  const experience = await latestLeaderboardSnapshot(db, 'experience')
  assert.equal(experience!.entries.map((e) => e.score), [800, 700, 600, 500, 400])

  // several rounds: retention keeps at most RETENTION (+ the rounds since the last prune) per board
  await eventually(async () => (await db.sql`SELECT coalesce(max(id), 0)::int AS id FROM leaderboard_snapshots`)[0]!.id > 4 * RETENTION * 2, 15_000, 'many snapshot rounds')
  const kept = await countSnapshots('board = $1', 'kills')
  assert.ok(kept <= RETENTION + 2, `kills snapshots kept: ${kept} (retention ${RETENTION})`)
  assert.ok(kept >= 1)
  assert.is(await countSnapshots('taken_by <> $1', leaderId), 0, 'the follower wrote nothing')
  assert.is(follower.handle.leaderJobs!.stats(SNAPSHOT_JOB)?.runs ?? 0, 0, 'the follower ran no snapshot job')
  assert.ok((leader.handle.leaderJobs!.stats(SNAPSHOT_JOB)?.runs ?? 0) >= 3, 'the leader ran the snapshot job repeatedly')
  const opsOf = (s: GameFixture, op: string): number => (s.metrics as DbOpMetrics).ops.get(op) ?? 0
  assert.ok(opsOf(leader, 'leaderboardSnapshot.insert') >= 6, 'snapshot inserts counted in the leader\'s metrics')
  assert.ok(opsOf(leader, 'leaderboardSnapshot.prune') >= 3, 'retention runs counted in the leader\'s metrics')
  assert.is(opsOf(follower, 'leaderboardSnapshot.insert'), 0)

  // the leader crashes (lease not released); the follower takes over after the lease
  leader.handle.cluster!.node!.abandon()
  await eventually(() => isLeader(follower), 5000, 'the follower to take over')
  const secondToken = tokenOf(follower)
  assert.ok(secondToken > firstToken, `fencing token grew: ${firstToken} → ${secondToken}`)
  await shared(follower).recordKill(3, 5000) // player 3 now has 4 kills and the top experience
  await eventually(async () => {
    const latest = await latestLeaderboardSnapshot(db, 'experience')
    return latest !== undefined && latest.fencingToken === secondToken && latest.entries[0]?.playerId === 3
  }, 5000, 'a snapshot by the new leader with the new score')
  const latest = (await latestLeaderboardSnapshot(db, 'experience'))!
  assert.is(latest.takenBy, nodeIdOf(follower))
  assert.is(await countSnapshots('fencing_token = $1 AND taken_by <> $2', secondToken, nodeIdOf(follower)), 0)

  // the deposed leader wakes up late: its write and its pruning are refused, nothing is written
  const resource = snapshotFenceResource(CLUSTER)
  const maxIdBefore = (await db.sql`SELECT max(id)::int AS id FROM leaderboard_snapshots`)[0]!.id as number
  const stale = { resource, token: firstToken, holder: leaderId }
  const refused = (await rejection(writeLeaderboardSnapshots(db, [{ board: 'kills', entries: [{ playerId: 99, score: 1e9, rank: 1 }] }], stale))) as { code?: string; context?: Record<string, unknown> }
  assert.is(refused.code, 'GS_ERR_FENCED_WRITE_REJECTED')
  assert.is(refused.context?.token, firstToken)
  assert.ok((refused.context?.newest as number) >= secondToken)
  const refusedPrune = (await rejection(pruneLeaderboardSnapshots(db, 1, stale))) as { code?: string }
  assert.is(refusedPrune.code, 'GS_ERR_FENCED_WRITE_REJECTED')
  assert.is(await countSnapshots('fencing_token = $1 AND id > $2', firstToken, maxIdBefore), 0, 'no row with the stale token after the refusal')
  assert.is(await countSnapshots('entries @> $1::jsonb', JSON.stringify([{ playerId: 99 }])), 0, 'the refused entries are nowhere')
  assert.ok((await countSnapshots('board = $1', 'kills')) >= RETENTION, 'the refused prune (keep 1) deleted nothing: retention still keeps its count')

  survivor = follower
  // snapshots keep coming from the new leader only
  const all = await leaderboardSnapshots(db, 'kills')
  assert.ok(all.every((s) => (s.fencingToken === firstToken && s.takenBy === leaderId) || (s.fencingToken === secondToken && s.takenBy === nodeIdOf(follower))), 'every snapshot carries its writer\'s token')
})

test('the fence serialises writers: a smaller token waiting on an open transaction with a larger one is refused after it commits', async () => {
  const resource = `race-${randomBytes(3).toString('hex')}`
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let locked!: () => void
  const hasLock = new Promise<void>((resolve) => (locked = resolve))
  const newer = db.withTransaction(async (tx) => {
    await checkFence(tx, { resource, token: 20, holder: 'newer' })
    locked()
    await held // the newer leader's transaction is still open
  })
  await hasLock
  let olderSettled = false
  const older = rejection(db.withTransaction((tx) => checkFence(tx, { resource, token: 19, holder: 'older' }))).finally(() => (olderSettled = true))
  // the older writer cannot decide before the newer one commits: it waits on the fence row's lock
  try {
    await eventually(async () => (await db.sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%cluster_fences%'`)[0]!.n === 1, 5000, 'the older writer to block on the fence row')
    assert.is(olderSettled, false)
  } finally {
    release()
    await newer
  }
  const refused = (await older) as { code?: string; context?: Record<string, unknown> }
  assert.is(refused.code, 'GS_ERR_FENCED_WRITE_REJECTED')
  assert.is(refused.context?.newest, 20)
  assert.equal(await db.sql`SELECT fencing_token::int AS t, holder FROM cluster_fences WHERE resource = ${resource}`.then((r) => [...r]), [{ t: 20, holder: 'newer' }])
  // the same token again (the same leader's next run) is accepted
  await db.withTransaction((tx) => checkFence(tx, { resource, token: 20, holder: 'newer' }))
})

test('a fencing counter that went backwards (Redis data lost) recovers: the leader raises it, steps down, and snapshots resume with a larger token', async () => {
  assert.ok(survivor, 'the first test left a leader running')
  const resource = snapshotFenceResource(CLUSTER)
  const token = tokenOf(survivor)
  await eventually(() => isLeader(survivor!), 5000, 'the survivor to lead')
  // PostgreSQL remembers a token from an earlier incarnation of the Redis counter
  const ahead = token + 1000
  await db.sql`UPDATE cluster_fences SET fencing_token = ${ahead} WHERE resource = ${resource}`
  await eventually(async () => ((await latestLeaderboardSnapshot(db, 'kills'))?.fencingToken ?? 0) > ahead, 10_000, 'snapshots with a token beyond the stored one')
  const latest = (await latestLeaderboardSnapshot(db, 'kills'))!
  assert.is(latest.takenBy, nodeIdOf(survivor))
  assert.is(latest.fencingToken, tokenOf(survivor), 're-elected with the raised token')
  assert.ok((survivor.handle.leaderJobs!.stats(SNAPSHOT_JOB)?.failures ?? 0) + (survivor.handle.leaderJobs!.stats('snapshot-retention')?.failures ?? 0) >= 1, 'the refused run counted as a failure')
})

test('npm run cluster -- snapshots prints the latest snapshot of each board with its fencing token', async () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const run = (args: string[], extra: Record<string, string>) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, ...extra }
      if (!('DATABASE_URL' in extra)) delete env.DATABASE_URL
      execFile(process.execPath, ['--import', 'tsx', 'app/cli/cluster.ts', ...args], { cwd: root, env, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      )
    })
  const [json, text, unset] = await Promise.all([run(['snapshots', '--json', '--top', '2'], { DATABASE_URL: pg.url }), run(['snapshots'], { DATABASE_URL: pg.url }), run(['snapshots'], {})])
  assert.is(json.code, 0, json.stderr)
  const parsed = JSON.parse(json.stdout) as { boards: Record<string, { fencingToken: number; takenBy: string; entries: { playerId: number }[] } | null> }
  const latest = (await latestLeaderboardSnapshot(db, 'kills'))!
  assert.ok(parsed.boards.kills!.fencingToken >= latest.fencingToken)
  assert.is(parsed.boards.kills!.entries.length, 2, '--top 2')
  assert.ok(parsed.boards.experience)
  assert.is(text.code, 0, text.stderr)
  assert.match(text.stdout, /^kills: snapshot \d+ taken \S+ by lj-[ab] \(fencing token \d+\), 5 entries$/m)
  assert.is(unset.code, 2, 'DATABASE_URL unset is a usage error')
  assert.match(unset.stderr, /DATABASE_URL/)
})

test.run()
