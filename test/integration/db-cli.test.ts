// `npm run migrate` and `npm run serve` as operators run them: real child processes against a
// real (or deliberately absent) PostgreSQL. A bad DATABASE_URL is one clear line, not a loop.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { PostgresServer } from '../../app/local/postgres-server.js'
import { Harness } from '../harness/index.js'
import { migrations } from '../../app/db/migrations/index.js'

const test = suite('db: npm run migrate and serve with DATABASE_URL')
const root = fileURLToPath(new URL('../..', import.meta.url))
const harness = new Harness()
let server: PostgresServer

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function run(script: string, env: Record<string, string>): Promise<Outcome> {
  const clean = { ...process.env }
  delete clean.DATABASE_URL
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...clean, LOG_LEVEL: 'info', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr })
    })
  })
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '')

test.before(async () => {
  server = await harness.postgres()
})
test.after(async () => {
  await harness.close()
})

test('migrate applies the migrations once, then reports the schema current', async () => {
  await server.psql('CREATE DATABASE cli', 'postgres')
  const url = server.url.replace(/\/game$/, '/cli')
  const first = await run('app/cli/migrate.ts', { DATABASE_URL: url })
  assert.is(first.code, 0, first.stderr)
  const latest = migrations.length
  assert.ok(first.stdout.includes(`applied migrations ${migrations.map((m) => m.version).join(', ')}; schema version ${latest}`), first.stdout)
  const second = await run('app/cli/migrate.ts', { DATABASE_URL: url })
  assert.is(second.code, 0, second.stderr)
  assert.ok(second.stdout.includes(`schema is current (version ${latest})`), second.stdout)
  assert.is((await server.psql('SELECT count(*) FROM schema_migrations', 'cli')).trim(), String(latest))
})

test('migrate with an unreachable DATABASE_URL exits 1, an unset one 2 (a configuration error, as for the server); one line naming it', async () => {
  const down = await run('app/cli/migrate.ts', { DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:1/game', DB_CONNECT_TIMEOUT_SECONDS: '2' })
  assert.is(down.code, 1)
  assert.equal(lines(down.stderr).length, 1, down.stderr)
  assert.match(down.stderr, /GS_ERR_DB_UNAVAILABLE.*DATABASE_URL/)
  assert.not.match(down.stderr, /pw@/)
  const unset = await run('app/cli/migrate.ts', {})
  assert.is(unset.code, 2)
  assert.equal(lines(unset.stderr).length, 1, unset.stderr)
  assert.match(unset.stderr, /GS_ERR_CONFIG: DATABASE_URL/)
})

test('migrate with MIGRATE_WAIT_SECONDS waits for a PostgreSQL that is not up yet: a line per attempt, then the migrations', async () => {
  await server.psql('CREATE DATABASE late', 'postgres')
  const url = server.url.replace(/\/game$/, '/late')
  await server.process.stop()
  const started = performance.now()
  const migrating = run('app/cli/migrate.ts', { DATABASE_URL: url, DB_CONNECT_TIMEOUT_SECONDS: '1', MIGRATE_WAIT_SECONDS: '25' })
  await new Promise((resolve) => setTimeout(resolve, 2500))
  await server.restart()
  const outcome = await migrating
  assert.is(outcome.code, 0, outcome.stderr)
  const waiting = lines(outcome.stderr).filter((l) => l.startsWith('migrate: waiting for PostgreSQL'))
  assert.ok(waiting.length >= 1, outcome.stderr)
  assert.match(waiting[0]!, /s left of MIGRATE_WAIT_SECONDS\): .*unavailable/)
  assert.ok(outcome.stdout.includes(`schema version ${migrations.length}`), outcome.stdout)
  assert.ok(performance.now() - started < 25_000, 'done once the server was back, not at the end of the wait')
})

test('migrate with MIGRATE_WAIT_SECONDS still fails, once the wait is over, on a database that never comes', async () => {
  const started = performance.now()
  const down = await run('app/cli/migrate.ts', { DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:1/game', DB_CONNECT_TIMEOUT_SECONDS: '1', MIGRATE_WAIT_SECONDS: '3' })
  const seconds = (performance.now() - started) / 1000
  assert.is(down.code, 1)
  const all = lines(down.stderr)
  assert.ok(all.slice(0, -1).every((l) => l.startsWith('migrate: waiting for PostgreSQL')) && all.length >= 2, down.stderr)
  assert.match(all.at(-1)!, /^migrate: GS_ERR_DB_UNAVAILABLE/)
  assert.not.match(down.stderr, /pw@/)
  assert.ok(seconds >= 2 && seconds < 15, `gave up after ${seconds.toFixed(1)} s`)
})

test('serve with an unreachable DATABASE_URL stops at start-up with one fatal log line carrying the code', async () => {
  const outcome = await run('app/main.ts', { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/game', DB_CONNECT_TIMEOUT_SECONDS: '2', GAME_PORT: '0', METRICS_PORT: '0' })
  assert.ok(outcome.code !== 0, 'exits with an error status')
  const fatal = lines(outcome.stdout).map((l) => JSON.parse(l) as { level: string; code?: string; msg: string }).filter((l) => l.level === 'fatal' || l.level === 'error')
  assert.is(fatal.length, 1, outcome.stdout)
  assert.is(fatal[0]!.code, 'GS_ERR_DB_UNAVAILABLE')
})

test.run()
