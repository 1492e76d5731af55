/**
 * Repository throughput against pgbench on the same throwaway PostgreSQL, in one run:
 *   - load: PlayerRepository.findById vs `pgbench -M prepared` running the same SELECT
 *   - save: PlayerRepository.update (optimistic, RETURNING the row) vs the same UPDATE in pgbench
 *   - bulk: write-behind flush of 10,000 dirty players (one UPDATE … FROM unnest per 5,000 rows)
 * Both sides use the same number of connections with one statement in flight on each, and one
 * client thread (pgbench -j 1, like the single Node thread).
 *
 *   npx tsx bench/db.bench.ts [--seconds 2] [--rounds 2] [--players 10000] [--clients 8]
 *
 * Each pair is measured `rounds` times alternating (repository, pgbench, repository, pgbench…)
 * and the best of each side is kept: on a shared machine the load drifts between measurements.
 *
 * Also pipelined: 8 statements in flight per connection, postgres.js pipelining on its own vs
 * pgbench's `\startpipeline … \endpipeline` with the same 8 statements.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { migrate } from '../app/db/migrate.js'
import { PlayerRepository } from '../app/db/player-repository.js'
import { loadConfig } from '../app/config/index.js'
import { DatabasePool } from '../app/db/pool.js'
import { WriteBehindPlayerSink, writeBehindOptions } from '../app/db/write-behind.js'
import { runCommand } from '../app/local/child-process.js'
import { postgresBinDir, requireProgram } from '../app/local/system.js'
import { Harness } from '../test/harness/index.js'
import { describeMachine } from './machine.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    players: { type: 'string', default: '10000' },
    clients: { type: 'string', default: '8' },
  },
})
const seconds = Number(values.seconds)
const playerCount = Number(values.players)
const clients = Number(values.clients)
const rounds = Number(values.rounds)
if (!(seconds > 0 && rounds >= 1 && playerCount >= clients && clients >= 1)) throw new Error('need --seconds > 0 and --players ≥ --clients ≥ 1')

const COLUMNS = 'id, username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp, created_at, last_login, version'

function randomId(): number {
  return 1 + Math.floor(Math.random() * playerCount)
}

/** Run `worker` on `clients` concurrent loops for the duration; returns operations per second. */
async function measure(worker: (client: number) => Promise<void>, forSeconds = seconds): Promise<number> {
  const deadline = performance.now() + forSeconds * 1000
  let ops = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        await worker(client)
        ops++
      }
    }),
  )
  return ops / ((performance.now() - started) / 1000)
}

/** Alternate the two measurements `rounds` times; the best of each side. */
async function bestOf(ours: () => Promise<number>, reference: () => Promise<number>): Promise<[number, number]> {
  let best: [number, number] = [0, 0]
  for (let round = 0; round < rounds; round++) best = [Math.max(best[0], await ours()), Math.max(best[1], await reference())]
  return best
}

/** The pgbench script running `statement` `depth` times in one pipeline (each with its own `:idK`). */
function pipelined(depth: number, statement: (k: number) => string): string {
  const sets = Array.from({ length: depth }, (_, k) => `\\set id${k} random(1, :n)\n`).join('')
  return `${sets}\\startpipeline\n${Array.from({ length: depth }, (_, k) => statement(k)).join('\n')}\n\\endpipeline\n`
}

async function pgbench(server: { host: string; port: number; user: string; database: string }, dir: string, name: string, script: string): Promise<number> {
  const file = join(dir, `${name}.sql`)
  await writeFile(file, script)
  const bin = requireProgram('pgbench', 'postgresql', [postgresBinDir() ?? ''])
  const out = await runCommand(
    bin,
    ['-n', '-M', 'prepared', '-f', file, '-c', String(clients), '-j', '1', '-T', String(Math.ceil(seconds)), '-D', `n=${playerCount}`,
      '-h', server.host, '-p', String(server.port), '-U', server.user, server.database],
    { timeoutMs: (seconds + 60) * 1000 },
  )
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out)
  if (!tps) throw new Error(`pgbench output not understood:\n${out}`)
  return Number(tps[1])
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function main(): Promise<void> {
  console.log(describeMachine())
  console.log(`settings: ${seconds} s per measurement, best of ${rounds} alternating rounds, ${playerCount} players, ${clients} connections each side (one statement in flight per connection unless pipelined)`)
  const harness = new Harness()
  try {
    const server = await harness.postgres()
    const dir = await harness.tempDir('gs-bench-db-')
    const db = await DatabasePool.connect(loadConfig({ DATABASE_URL: server.url, DB_POOL_MAX: String(clients) }).data)
    harness.own({ stop: () => db.close(1) })
    await migrate(db)
    await server.psql(`INSERT INTO players (username, password_hash, hp, level) SELECT 'p' || g, 'h', 100, 1 + g % 50 FROM generate_series(1, ${playerCount}) g`)
    await server.psql('VACUUM ANALYZE players')
    const repo = new PlayerRepository(db)

    // warm up: prepare statements on every connection
    await measure(async () => void (await repo.findById(randomId())), 1)

    const [loadNode, loadPg] = await bestOf(
      () => measure(async () => void (await repo.findById(randomId()))),
      () => pgbench(server, dir, 'load', `\\set id random(1, :n)\nSELECT ${COLUMNS} FROM players WHERE id = :id;\n`),
    )
    const DEPTH = 8
    const [loadPipelined, loadPgPipelined] = await bestOf(
      async () => (await measure(async () => void (await Promise.all(Array.from({ length: DEPTH }, () => repo.findById(randomId())))))) * DEPTH,
      async () => (await pgbench(server, dir, 'load-pipelined', pipelined(DEPTH, (k) => `SELECT ${COLUMNS} FROM players WHERE id = :id${k};`))) * DEPTH,
    )

    // save: each client owns a disjoint id range and remembers versions, so no update loses a race
    const versions = new Map<number, number>()
    const perClient = Math.floor(playerCount / clients)
    const [saveNode, savePg] = await bestOf(
      async () => {
        // pgbench bumped versions since the last round: start from the stored ones
        for (const row of await db.sql<{ id: number; version: number }[]>`SELECT id, version FROM players`) versions.set(row.id, row.version)
        return measure(async (client) => {
          const id = 1 + client * perClient + Math.floor(Math.random() * perClient)
          const record = await repo.update(id, versions.get(id) ?? 1, { gold: Math.floor(Math.random() * 1e6) })
          versions.set(id, record.version)
        })
      },
      () =>
        pgbench(
          server,
          dir,
          'save',
          `\\set id random(1, :n)\n\\set gold random(0, 1000000)\nUPDATE players SET version = version + 1, gold = :gold WHERE id = :id AND version >= 1 RETURNING ${COLUMNS};\n`,
        ),
    )

    // bulk write-behind flush of 10,000 players, three times
    const bulkN = Math.min(10_000, playerCount)
    const flushMs: number[] = []
    for (let round = 1; round <= 3; round++) {
      const sink = new WriteBehindPlayerSink(db, { ...writeBehindOptions(loadConfig({}).data), flushIntervalMs: 3_600_000, maxDirtyPlayers: bulkN })
      for (let id = 1; id <= bulkN; id++) sink.markDirty({ id, level: 1 + (id % 50), experience: round * id, position: { zone: id % 4, x: id / 3, y: round }, hp: 100 })
      const started = performance.now()
      await sink.flush()
      flushMs.push(performance.now() - started)
      await sink.close()
    }
    flushMs.sort((a, b) => a - b)
    const flushMedian = flushMs[1]!

    console.log('')
    console.log('| operation | repository (postgres.js) | pgbench -M prepared | ratio |')
    console.log('|---|---:|---:|---:|')
    console.log(`| load: findById | ${fmt(loadNode)} ops/s | ${fmt(loadPg)} tps | ${(loadNode / loadPg).toFixed(2)} |`)
    console.log(`| save: update (optimistic) | ${fmt(saveNode)} ops/s | ${fmt(savePg)} tps | ${(saveNode / savePg).toFixed(2)} |`)
    console.log(`| load: findById, ${DEPTH} in flight per connection (pipelined) | ${fmt(loadPipelined)} ops/s | ${fmt(loadPgPipelined)} statements/s | ${(loadPipelined / loadPgPipelined).toFixed(2)} |`)
    console.log('')
    console.log(`bulk write-behind flush of ${fmt(bulkN)} players: median ${flushMedian.toFixed(0)} ms (runs: ${flushMs.map((m) => m.toFixed(0)).join(', ')} ms) = ${fmt(bulkN / (flushMedian / 1000))} players/s, ${(bulkN / (flushMedian / 1000) / saveNode).toFixed(1)}× the single-row update rate`)
  } finally {
    await harness.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
