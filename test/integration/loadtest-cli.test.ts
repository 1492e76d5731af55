/**
 * `npm run loadtest` as a child process against real servers on 127.0.0.1: the report's figures
 * match the servers' own counters (frames received and sent, sessions), also with two worker
 * threads; thresholds set the exit code and name the failed threshold; capacity search; bad
 * arguments and an unreachable target fail clearly. Independent runs go in parallel (each against
 * its own server) to keep the file short.
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
test.after(() => harness.close())

function counts(server: CountingServer) {
  const m = server.metrics
  return { pings: m.framesIn.get('PING') ?? 0, pongs: m.framesOut.get('PONG') ?? 0, sessions: m.sessionsOpened }
}

const readReport = async (dir: string): Promise<LoadReport> => JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as LoadReport

test('report figures equal the server counters (1 and 2 workers); a failing threshold exits 1 naming it', async () => {
  const [single, double, other] = await Promise.all([startCountingServer(), startCountingServer(), startCountingServer()])
  for (const s of [single, double, other]) harness.own(s)
  const [outSingle, outDouble] = await Promise.all([harness.tempDir('gs-loadtest-out-'), harness.tempDir('gs-loadtest-out-')])
  const [r1, r2, failing] = await Promise.all([
    runCli(['--target', `127.0.0.1:${single.address.port}`, '--players', '10', '--duration', '2', '--scenario', 'smoke', '--out', outSingle, '--threshold', 'p99<10s', '--threshold', 'errors==0', '--threshold', 'disconnects==0']),
    runCli(['--target', `127.0.0.1:${double.address.port}`, '--players', '12', '--duration', '2', '--scenario', 'smoke', '--workers', '2', '--out', outDouble, '--quiet']),
    runCli(['--target', `127.0.0.1:${other.address.port}`, '--players', '2', '--duration', '1', '--scenario', 'smoke', '--threshold', 'p50<0.001ms', '--threshold', 'errors==0', '--quiet']),
  ])

  assert.is(r1.code, 0, r1.stderr)
  const report = await readReport(outSingle)
  const c1 = counts(single)
  const s = report.summary
  assert.ok(s.sent > 50, `sent ${s.sent}`)
  assert.is(s.sent, c1.pings, 'every PING sent was received by the server')
  assert.is(s.answered, c1.pongs, 'every PONG the server sent was counted once')
  assert.is(s.answered, s.sent)
  assert.is(c1.sessions, 10 + 1, "10 players + the CLI's reachability probe")
  assert.is(s.peakConnected, 10)
  assert.is(s.errors, 0)
  assert.is(s.rtt.count, s.answered)
  assert.ok(s.rtt.p50Ms > 0 && s.rtt.p50Ms <= s.rtt.p99Ms && s.rtt.p99Ms <= s.rtt.maxMs)
  assert.ok(report.passed)
  assert.ok(report.machine && report.machine.cores > 0 && report.machine.node === process.version)
  assert.equal(report.thresholds.map((t) => t.passed), [true, true, true])
  assert.match(r1.stdout, /RTT ms\s+p50 [\d.]+\s+p90 [\d.]+\s+p99 [\d.]+\s+p999/)
  assert.match(r1.stderr, /\[2\/2s\] players 10 {2}req\/s \d+ {2}p99 [\d.]+ ms {2}errors 0 {2}disconnects 0/)
  assert.ok((await readFile(join(outSingle, 'report.html'), 'utf8')).includes('<svg'))
  assert.is(await readFile(join(outSingle, 'summary.txt'), 'utf8'), r1.stdout)
  assert.is(single.server.activeSessions, 0, 'the generator closed every connection')

  assert.is(r2.code, 0, r2.stderr)
  const merged = await readReport(outDouble)
  const c2 = counts(double)
  assert.is(merged.generator.workers, 2)
  assert.is(merged.summary.sent, c2.pings)
  assert.is(merged.summary.answered, c2.pongs)
  assert.is(c2.sessions, 12 + 1)
  assert.is(merged.summary.peakConnected, 12)

  assert.is(failing.code, 1, failing.stderr)
  assert.match(failing.stderr, /FAILED threshold p50<0\.001ms: actual [\d.]+/)
  assert.not.match(failing.stderr, /FAILED threshold errors==0/)
  assert.match(failing.stdout, /threshold p50<0\.001ms\s+FAIL/)
  assert.match(failing.stdout, /threshold errors==0\s+PASS/)
})

test('capacity search: steps up to the highest load meeting the target; a target broken at once exits 1', async () => {
  const target = harness.own(await startCountingServer())
  const out = await harness.tempDir('gs-loadtest-cap-')
  const common = ['--target', `127.0.0.1:${target.address.port}`, '--scenario', 'smoke', '--capacity', '--start-players', '2', '--step-players', '2', '--step-seconds', '1', '--quiet']
  const [met, broken] = await Promise.all([
    runCli([...common, '--max-players', '6', '--target-p99-ms', '60000', '--out', out]),
    runCli([...common, '--max-players', '6', '--threshold', 'p50<0.001ms']),
  ])
  assert.is(met.code, 0, met.stderr)
  const report = await readReport(out)
  assert.equal(report.capacity?.steps.map((s) => [s.players, s.passed]), [[2, true], [4, true], [6, true]])
  assert.is(report.capacity?.highestPassingPlayers, 6)
  assert.ok(report.capacity!.steps.every((s) => s.throughputPerSecond > 0))
  assert.match(met.stdout, /capacity\s+6 players, [\d.]+ req\/s \(reached --max-players 6 with the target met\)/)
  assert.is(broken.code, 1, broken.stderr)
  assert.match(broken.stderr, /FAILED capacity: no step met the target \(target broken at 2 players: p50<0\.001ms/)
})

test('bad arguments exit 2 naming the flag, --help exits 0, an unreachable target exits 3 (each flag rule: test/unit/loadtest/cli-args)', async () => {
  const port = await freePort()
  const [missing, unknown, help, unreachable] = await Promise.all([
    runCli(['--players', '10', '--duration', '1']),
    runCli(['--target', '127.0.0.1:1', '--frobnicate']),
    runCli(['--help']),
    runCli(['--target', `127.0.0.1:${port}`, '--duration', '1', '--scenario', 'smoke']),
  ])
  assert.is(missing.code, 2, missing.stderr)
  assert.match(missing.stderr, /GS_ERR_LOADTEST_ARGS|--target HOST:PORT is required/)
  assert.is(unknown.code, 2, unknown.stderr)
  assert.match(unknown.stderr, /frobnicate/)
  assert.is(help.code, 0)
  assert.match(help.stdout, /--threshold EXPR/)
  assert.is(unreachable.code, 3, unreachable.stderr)
  assert.match(unreachable.stderr, /GS_ERR_LOADTEST_TARGET: cannot connect to 127\.0\.0\.1:\d+/)
})

test.run()
