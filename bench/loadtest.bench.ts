/**
 * The load generator itself: how many requests per second one generator thread drives, and what
 * worker threads add (reference: 1 worker, same run). Target: `app/main.ts` as a child process
 * (standalone stores, metrics off) so the generator does not share its event loop with the server.
 * Each phase runs a closed-loop PING flood (no pacing, 1 in flight per player).
 *
 *   npx tsx bench/loadtest.bench.ts [--players 100] [--seconds 5] [--workers 1,2]
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ManagedProcess } from '../app/local/child-process.js'
import { freePort, waitUntil } from '../app/local/ports.js'
import { canConnect } from '../app/tcp.js'
import { summarize, generatorHealth } from '../app/loadtest/report.js'
import { runLoad } from '../app/loadtest/runner.js'
import { validateScenario } from '../app/loadtest/scenario.js'
import { formatMachineFacts, serverNode } from './machine.js'

const { values } = parseArgs({ options: { players: { type: 'string' }, seconds: { type: 'string' }, workers: { type: 'string' } } })
const players = Number(values.players ?? 100)
const seconds = Number(values.seconds ?? 5)
const workerCounts = (values.workers ?? '1,2').split(',').map(Number)

const root = fileURLToPath(new URL('..', import.meta.url))
const port = await freePort()
const server = new ManagedProcess({
  name: `game-server:${port}`,
  command: serverNode().path,
  args: ['--import', 'tsx', join(root, 'app', 'main.ts')],
  cwd: root,
  env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: String(port), METRICS_ENABLED: 'false', LOG_LEVEL: 'warn', MAX_CONNECTIONS_PER_ADDRESS: '0' },
})
try {
  await waitUntil(() => canConnect('127.0.0.1', port, 500), { what: server.name, timeoutMs: 30_000, abortIf: () => (server.running ? undefined : server.exitDescription()) })
  console.log(formatMachineFacts())
  console.log(`target: app/main.ts on 127.0.0.1:${port}; ${players} players, PING flood, ${seconds} s per phase\n`)
  const scenario = validateScenario({ name: 'bench-ping-flood', durationSeconds: seconds, load: { mode: 'players', players }, mix: { ping: 1 }, actionsPerSecond: 0 })
  const rows: string[] = ['| workers | requests/s | vs 1 worker | RTT p50 ms | RTT p99 ms | max loop busy | generator bottleneck |', '|---|---|---|---|---|---|---|']
  let reference = 0
  for (const workers of workerCounts) {
    const run = await runLoad({ scenario, targets: [{ host: '127.0.0.1', port }], workers })
    const summary = summarize(run.intervals, Math.min(run.elapsedSeconds, seconds), run.totals)
    const health = generatorHealth(run.intervals, workers, null)
    if (reference === 0) reference = summary.throughputPerSecond
    rows.push(`| ${workers} | ${summary.throughputPerSecond.toFixed(0)} | ${(summary.throughputPerSecond / reference).toFixed(2)} | ${summary.rtt.p50Ms.toFixed(2)} | ${summary.rtt.p99Ms.toFixed(2)} | ${(health.maxUtilization * 100).toFixed(0)} % | ${health.bottleneck ? 'yes' : 'no'} |`)
  }
  console.log(rows.join('\n'))
} finally {
  await server.stop()
}
