/**
 * End to end: `npm run loadtest -- --local` stands up the local appliance (PostgreSQL, Redis,
 * game servers, balancer, Prometheus), runs a game scenario through the balancer, and its report's
 * server figures (read from Prometheus) equal what the generator sent; afterwards nothing it started
 * is left running — also when a run (`--local-stack servers`) is interrupted with Ctrl-C half-way,
 * and when one fails after its target was up (its report cannot be written).
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { LoadReport } from '../../app/loadtest/report.js'
import { canConnect } from '../../app/tcp.js'
import { Harness, isAlive } from '../harness/index.js'
import { runCli, type CliResult } from './loadtest-support.js'

const test = suite('loadtest --local')
const harness = new Harness()
test.after(() => harness.close())

interface Started {
  readonly pids: number[]
  readonly dir: string
  readonly ports: number[]
}

function startedOf(result: CliResult): Started {
  const match = /local target up: (.+), Prometheus http:\/\/127\.0\.0\.1:(\d+) \(pids ([\d,]+); dir ([^)]+)\)/.exec(result.stderr)
  assert.ok(match, `no "local target up" line in:\n${result.stderr}`)
  const ports = [...match[1]!.matchAll(/:(\d+)/g)].map((m) => Number(m[1]))
  return { pids: match[3]!.split(',').map(Number), dir: match[4]!, ports: [...ports, Number(match[2])] }
}

async function assertNothingLeft(started: Started): Promise<void> {
  for (const pid of started.pids) assert.not.ok(isAlive(pid), `process ${pid} is still running`)
  assert.not.ok(existsSync(started.dir), `${started.dir} was not removed`)
  for (const port of started.ports) assert.not.ok(await canConnect('127.0.0.1', port, 500), `port ${port} still accepts connections`)
}

test('a short game scenario: report figures match the servers, nothing is left; Ctrl-C and a failure tear down too', async () => {
  const dir = await harness.tempDir('gs-loadtest-local-')
  const scenarioFile = join(dir, 'game.json')
  await writeFile(scenarioFile, JSON.stringify({ name: 'e2e-game', durationSeconds: 3, load: { mode: 'players', players: 6 }, mix: { move: 3, chat: 1, attack: 1, ping: 1 }, actionsPerSecond: 10 }))
  const out = join(dir, 'out')
  const interruptedOut = join(dir, 'interrupted')
  let sentSigint = false
  const blocker = join(dir, 'not-a-dir')
  await writeFile(blocker, 'a file where --out wants a directory')
  const [run, interrupted, failed] = await Promise.all([
    runCli(['--local', '--local-servers', '1', '--scenario', scenarioFile, '--out', out, '--quiet', '--threshold', 'errors==0', '--threshold', 'server_frame_p95<1s', '--threshold', 'server_cpu<=2'], { timeoutMs: 58_000 }),
    runCli(['--local', '--local-stack', 'servers', '--local-servers', '1', '--scenario', 'smoke', '--players', '3', '--duration', '600', '--out', interruptedOut], {
      timeoutMs: 58_000,
      onStderr: (text, child) => {
        if (!sentSigint && /\[\s*2\/600s\]/.test(text)) {
          sentSigint = true
          child.kill('SIGINT')
        }
      },
    }),
    runCli(['--local', '--local-stack', 'servers', '--local-servers', '1', '--scenario', 'smoke', '--players', '2', '--duration', '1', '--quiet', '--out', join(blocker, 'report')], { timeoutMs: 58_000 }),
  ])

  assert.is(run.code, 0, run.stderr)
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport
  const s = report.summary
  assert.ok(report.server, 'server figures collected')
  const figures = report.server!.figures
  assert.equal(report.server!.missing, [])
  assert.equal(report.thresholds.map((t) => [t.threshold, t.passed]), [['errors==0', true], ['server_frame_p95<1s', true], ['server_cpu<=2', true]])
  assert.is(report.thresholds[1]!.actual, figures['frameProcessingP95Ms'])
  assert.ok(s.sent > 50, `sent ${s.sent}`)
  assert.is(s.errors, 0)
  // every game frame the generator sent through the balancer (actions + one REGISTER per player)
  // arrived at the servers (PINGs are left out: the balancer's health checks ping the servers too)
  const pings = s.byAction.ping.ok + s.byAction.ping.errors
  assert.ok(pings > 0)
  assert.is(figures['gameFramesReceived'], s.sent - pings + s.byAction.login.ok + s.byAction.login.errors)
  assert.ok((figures['framesReceived'] ?? 0) >= s.sent + s.byAction.login.ok)
  assert.is(s.byAction.login.ok, 6)
  assert.ok((figures['sessionsAccepted'] ?? 0) >= 6)
  assert.ok((figures['sessionsActiveMax'] ?? 0) >= 6)
  assert.ok((figures['frameProcessingP95Ms'] ?? 0) > 0)
  assert.ok((figures['cpuCores'] ?? 0) > 0)
  assert.equal(report.server!.series.filter((series) => series.points.length === 0).map((series) => series.name), [], 'every server series has points')
  assert.is(report.targets.length, 1, 'players connect to the balancer')
  await assertNothingLeft(startedOf(run))

  assert.ok(sentSigint, `the interrupted run never showed progress:\n${interrupted.stderr}`)
  assert.is(interrupted.code, 130, interrupted.stderr)
  assert.match(interrupted.stderr, /local target stopped/)
  const partial = JSON.parse(await readFile(join(interruptedOut, 'report.json'), 'utf8')) as LoadReport
  assert.ok(partial.aborted)
  assert.ok(partial.summary.answered > 0)
  await assertNothingLeft(startedOf(interrupted))

  assert.is(failed.code, 3, failed.stderr)
  assert.match(failed.stderr, /ENOTDIR|EEXIST|not a directory/i)
  assert.match(failed.stderr, /local target stopped/)
  await assertNothingLeft(startedOf(failed))
})

test.run()
