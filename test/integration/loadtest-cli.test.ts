/**
 * `npm run loadtest` as a child process against a real server on 127.0.0.1: the report's figures
 * match the server's own counters (frames received and sent, sessions), thresholds set the exit code
 * and name the failed threshold, bad arguments and an unreachable target fail clearly.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { LoadReport } from '../../app/loadtest/report.js'
import { freePort } from '../../app/local/ports.js'
import { Harness } from '../harness/index.js'
import { runCli, startCountingServer, type CountingServer } from './loadtest-support.js'

const test = suite('loadtest CLI')
const harness = new Harness()
let target: CountingServer

test.before(async () => {
  target = harness.own(await startCountingServer())
})
test.after(() => harness.close())

function serverCounts() {
  const m = target.metrics
  return { pings: m.framesIn.get('PING') ?? 0, pongs: m.framesOut.get('PONG') ?? 0, sessions: m.sessionsOpened }
}

test('a short run: report figures equal the server counters, passing thresholds exit 0', async () => {
  const before = serverCounts()
  const out = await harness.tempDir('gs-loadtest-out-')
  const result = await runCli(['--target', `127.0.0.1:${target.address.port}`, '--players', '10', '--duration', '2', '--scenario', 'smoke', '--out', out, '--threshold', 'p99<10s', '--threshold', 'errors==0', '--threshold', 'disconnects==0'])
  assert.is(result.code, 0, result.stderr)
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport
  const after = serverCounts()
  const s = report.summary
  assert.ok(s.sent > 100, `sent ${s.sent}`)
  assert.is(s.sent, after.pings - before.pings, 'every PING sent was received by the server')
  assert.is(s.answered, after.pongs - before.pongs, 'every PONG the server sent was counted once')
  assert.is(s.answered, s.sent)
  assert.is(after.sessions - before.sessions, 10 + 1, '10 players + the CLI\'s reachability probe')
  assert.is(s.peakConnected, 10)
  assert.is(s.errors, 0)
  assert.is(s.rtt.count, s.answered)
  assert.ok(s.rtt.p50Ms > 0 && s.rtt.p50Ms <= s.rtt.p99Ms && s.rtt.p99Ms <= s.rtt.maxMs)
  assert.ok(report.passed)
  assert.equal(report.thresholds.map((t) => t.passed), [true, true, true])
  assert.match(result.stdout, /RTT ms\s+p50 [\d.]+\s+p90 [\d.]+\s+p99 [\d.]+\s+p999/)
  assert.match(result.stderr, /\[2\/2s\] players 10 {2}req\/s \d+ {2}p99 [\d.]+ ms {2}errors 0 {2}disconnects 0/)
  assert.ok((await readFile(join(out, 'report.html'), 'utf8')).includes('<svg'))
  await new Promise((r) => setTimeout(r, 0))
  assert.is(target.server.activeSessions, 0, 'the generator closed every connection')
})

test('two worker threads: merged figures still equal the server counters', async () => {
  const before = serverCounts()
  const out = await harness.tempDir('gs-loadtest-out-')
  const result = await runCli(['--target', `127.0.0.1:${target.address.port}`, '--players', '12', '--duration', '2', '--scenario', 'smoke', '--workers', '2', '--out', out])
  assert.is(result.code, 0, result.stderr)
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport
  const after = serverCounts()
  assert.is(report.generator.workers, 2)
  assert.is(report.summary.sent, after.pings - before.pings)
  assert.is(report.summary.answered, after.pongs - before.pongs)
  assert.is(after.sessions - before.sessions, 12 + 1)
  assert.is(report.summary.peakConnected, 12)
})

test('a failing threshold exits 1 and names it (and only it)', async () => {
  const result = await runCli(['--target', `127.0.0.1:${target.address.port}`, '--players', '2', '--duration', '1', '--scenario', 'smoke', '--threshold', 'p50<0.001ms', '--threshold', 'errors==0', '--quiet'])
  assert.is(result.code, 1, result.stderr)
  assert.match(result.stderr, /FAILED threshold p50<0\.001ms: actual [\d.]+/)
  assert.not.match(result.stderr, /FAILED threshold errors==0/)
  assert.match(result.stdout, /threshold p50<0\.001ms\s+FAIL/)
  assert.match(result.stdout, /threshold errors==0\s+PASS/)
})

test('bad arguments exit 2 naming the flag; --help exits 0 (each flag rule: test/unit/loadtest/cli-args)', async () => {
  const [missing, unknown, help] = await Promise.all([runCli(['--players', '10', '--duration', '1']), runCli(['--target', '127.0.0.1:1', '--frobnicate']), runCli(['--help'])])
  assert.is(missing.code, 2, missing.stderr)
  assert.match(missing.stderr, /GS_ERR_LOADTEST_ARGS|--target HOST:PORT is required/)
  assert.is(unknown.code, 2, unknown.stderr)
  assert.match(unknown.stderr, /frobnicate/)
  assert.is(help.code, 0)
  assert.match(help.stdout, /--threshold EXPR/)
})

test('capacity search: steps up to the highest load meeting the target; a target broken at once exits 1', async () => {
  const out = await harness.tempDir('gs-loadtest-cap-')
  const common = ['--target', `127.0.0.1:${target.address.port}`, '--scenario', 'smoke', '--capacity', '--start-players', '2', '--step-players', '2', '--step-seconds', '1', '--quiet']
  const [met, broken] = await Promise.all([
    runCli([...common, '--max-players', '6', '--target-p99-ms', '60000', '--out', out]),
    runCli([...common, '--max-players', '6', '--threshold', 'p50<0.001ms']),
  ])
  assert.is(met.code, 0, met.stderr)
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport
  assert.equal(report.capacity?.steps.map((s) => [s.players, s.passed]), [[2, true], [4, true], [6, true]])
  assert.is(report.capacity?.highestPassingPlayers, 6)
  assert.ok(report.capacity!.steps.every((s) => s.throughputPerSecond > 0))
  assert.match(met.stdout, /capacity\s+6 players, [\d.]+ req\/s \(reached --max-players 6 with the target met\)/)
  assert.is(broken.code, 1, broken.stderr)
  assert.match(broken.stderr, /FAILED capacity: no step met the target \(target broken at 2 players: p50<0\.001ms/)
})

test('an unreachable target exits 3 with GS_ERR_LOADTEST_TARGET', async () => {
  const port = await freePort()
  const result = await runCli(['--target', `127.0.0.1:${port}`, '--duration', '1', '--scenario', 'smoke'])
  assert.is(result.code, 3, result.stderr)
  assert.match(result.stderr, /GS_ERR_LOADTEST_TARGET: cannot connect to 127\.0\.0\.1:\d+/)
})

test.run()
