import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { parseLoadTestArgs, parseTarget } from '../../../app/loadtest/cli-args.js'

function flagOf(argv: string[]): string {
  try {
    parseLoadTestArgs(argv)
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_LOADTEST_ARGS'), String(err))
    return String(err.context['flag'])
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`)
}

test('a full command line', () => {
  const args = parseLoadTestArgs(['--target', '10.0.0.1:7000,10.0.0.2:7000', '--target', '[::1]:7001', '--players', '50', '--duration', '30', '--scenario', 'spike', '--out', 'out', '--workers', '2', '--threshold', 'p99<5ms', '--threshold', 'errors==0', '--prometheus', 'http://127.0.0.1:9090/'])
  assert.equal(args.targets, [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }, { host: '::1', port: 7001 }])
  assert.is(args.players, 50)
  assert.is(args.durationSeconds, 30)
  assert.is(args.workers, 2)
  assert.is(args.scenario, 'spike')
  assert.equal(args.thresholds.map((t) => t.source), ['p99<5ms', 'errors==0'])
  assert.is(args.prometheusUrl, 'http://127.0.0.1:9090')
  assert.is(args.capacity, undefined)
})

test('defaults and --help', () => {
  const args = parseLoadTestArgs(['--target', 'localhost:7000'])
  assert.is(args.scenario, 'steady')
  assert.is(args.workers, 1)
  assert.is(args.players, undefined)
  assert.ok(parseLoadTestArgs(['--help']).help)
  assert.ok(parseLoadTestArgs(['-h']).help)
})

test('--transport ws marks every target as a WebSocket port; tcp is the default', () => {
  assert.equal(parseLoadTestArgs(['--target', 'h:7100', '--transport', 'ws']).targets, [{ host: 'h', port: 7100, transport: 'ws' }])
  assert.is(parseLoadTestArgs(['--local', '--transport', 'ws']).transport, 'ws')
  const plain = parseLoadTestArgs(['--target', 'h:7000'])
  assert.is(plain.transport, 'tcp')
  assert.equal(plain.targets, [{ host: 'h', port: 7000 }])
})

test('each bad argument is named', () => {
  const cases: Array<[string[], string]> = [
    [['--players', '10'], 'target'],
    [['--target', 'nowhere'], 'target'],
    [['--target', 'h:0'], 'target'],
    [['--target', 'h:70000'], 'target'],
    [['--target', 'h:1', '--players', 'ten'], 'players'],
    [['--target', 'h:1', '--players', '0'], 'players'],
    [['--target', 'h:1', '--duration', '999999'], 'duration'],
    [['--target', 'h:1', '--duration', '1.5'], 'duration'],
    [['--target', 'h:1', '--workers', '0'], 'workers'],
    [['--target', 'h:1', '--threshold', 'p97<1ms'], 'threshold'],
    [['--target', 'h:1', '--prometheus', 'ftp://x'], 'prometheus'],
    [['--target', 'h:1', '--frobnicate'], 'frobnicate'],
    [['--target', 'h:1', '--transport', 'quic'], 'transport'],
    [['--target', 'h:1', 'stray'], 'argv'],
    [['--target', 'h:1', '--local'], 'target'],
    [['--target', 'h:1', '--local-servers', '2'], 'local-servers'],
    [['--target', 'h:1', '--local-stack', 'servers'], 'local-stack'],
    [['--local', '--local-stack', 'kubernetes'], 'local-stack'],
    [['--local', '--local-stack', 'servers', '--local-redis-shards', '2'], 'local-redis-shards'],
    [['--local', '--local-servers', '99'], 'local-servers'],
    [['--target', 'h:1', '--threshold', 'alerts==0'], 'threshold'],
    [['--target', 'h:1', '--threshold', 'server_frame_p95<10ms'], 'threshold'],
    [['--target', 'h:1', '--capacity'], 'capacity'],
    [['--target', 'h:1', '--target-p99-ms', '5'], 'target-p99-ms'],
    [['--target', 'h:1', '--capacity', '--target-p99-ms', 'x'], 'target-p99-ms'],
    [['--target', 'h:1', '--capacity', '--target-p99-ms', '5', '--players', '3'], 'players'],
    [['--target', 'h:1', '--capacity', '--target-p99-ms', '5', '--start-players', '50', '--max-players', '10'], 'max-players'],
  ]
  for (const [argv, flag] of cases) assert.is(flagOf(argv), flag, argv.join(' '))
})

test('capacity mode turns its targets into thresholds', () => {
  const args = parseLoadTestArgs(['--local', '--capacity', '--target-p99-ms', '5', '--target-error-rate', '0.01', '--start-players', '20', '--step-seconds', '5', '--max-players', '200'])
  assert.ok(args.local)
  assert.is(args.localStack, 'appliance')
  assert.is(args.localServers, 2)
  assert.is(args.localRedisShards, 1)
  assert.equal(args.thresholds.map((t) => t.source), ['p99<=5ms', 'error_rate<=0.01'])
  assert.equal(args.capacity, { startPlayers: 20, stepPlayers: 20, stepSeconds: 5, maxPlayers: 200 })
})

test('parseTarget accepts host names, IPv4 and bracketed IPv6', () => {
  assert.equal(parseTarget('game.example.com:7000'), { host: 'game.example.com', port: 7000 })
  assert.equal(parseTarget('[::1]:1'), { host: '::1', port: 1 })
})

test.run()
