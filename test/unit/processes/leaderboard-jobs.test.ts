// When a game server runs leader-only jobs: only with DATABASE_URL, REDIS_URLS (the shared leaderboards)
// and a non-zero LEADERBOARD_SNAPSHOT_INTERVAL_MS; the jobs themselves run in
// test/integration/cluster-leader-jobs.test.ts against real Redis and PostgreSQL.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { ClusterMembershipHandle } from '../../../app/cluster/join.js'
import { loadConfig } from '../../../app/config/index.js'
import type { SharedGameState } from '../../../app/game/shared-state.js'
import { silentLogger } from '../../../app/logger.js'
import { LeaderboardJobs } from '../../../app/processes/leaderboard-jobs.js'

const DB = 'postgres://postgres@127.0.0.1:1/game'
const REDIS = 'redis://127.0.0.1:1'
/** A cluster handle that never joins: the wiring must not need Redis to decide. */
const neverJoined: ClusterMembershipHandle = { node: null, joined: new Promise(() => {}), close: async () => {} }
const shared = {} as SharedGameState

const jobsFor = (env: Record<string, string>) => LeaderboardJobs.start({ config: loadConfig(env), cluster: neverJoined, shared, logger: silentLogger })

test('leader jobs need the database, the cache and a non-zero interval', async () => {
  assert.is(jobsFor({ REDIS_URLS: REDIS }), null, 'no DATABASE_URL')
  assert.is(jobsFor({ DATABASE_URL: DB }), null, 'no REDIS_URLS (no shared leaderboards)')
  assert.is(jobsFor({ DATABASE_URL: DB, REDIS_URLS: REDIS, LEADERBOARD_SNAPSHOT_INTERVAL_MS: '0' }), null, 'turned off')
  const jobs = jobsFor({ DATABASE_URL: DB, REDIS_URLS: REDIS })
  assert.ok(jobs)
  assert.is(jobs.stats('leaderboard-snapshot'), undefined, 'no stats before the node joined')
  await jobs.close()
  await jobs.close() // idempotent, and opened no pool
})

test('snapshot settings are validated by the config', () => {
  assert.throws(() => loadConfig({ LEADERBOARD_SNAPSHOT_TOP: '0' }), (err: { code?: string }) => err.code === 'GS_ERR_CONFIG')
  assert.throws(() => loadConfig({ LEADERBOARD_SNAPSHOT_RETENTION: '0' }), (err: { code?: string }) => err.code === 'GS_ERR_CONFIG')
  const c = loadConfig({}).data
  assert.equal([c.leaderboardSnapshotIntervalMs, c.leaderboardSnapshotTop, c.leaderboardSnapshotRetention], [60000, 100, 1440])
})

test.run()
