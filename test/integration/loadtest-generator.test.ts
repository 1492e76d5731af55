/**
 * The generator in-process against real servers: the game driver's actions arrive at a real game
 * server one for one (the server's frame counters by type equal the report's per-action counts),
 * token re-logins replace connections without counting disconnects, and an arrival-rate scenario
 * respects its rate, session length and player cap.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { summarize } from '../../app/loadtest/report.js'
import { runLoad } from '../../app/loadtest/runner.js'
import { validateScenario } from '../../app/loadtest/scenario.js'
import { startServer, type ServerHandle } from '../../app/processes/game-server.js'
import { Harness } from '../harness/index.js'
import { FrameCountingMetrics, startCountingServer } from './loadtest-support.js'

const test = suite('loadtest generator')
const harness = new Harness()
test.after(() => harness.close())

test('game actions: the server received exactly what the report counts, per type', async () => {
  const metrics = new FrameCountingMetrics()
  const config = loadConfig({ GAME_HOST: '127.0.0.1', GAME_PORT: '0', PASSWORD_HASH_COST: '1024', METRICS_ENABLED: 'false' })
  const handle: ServerHandle = await startServer(config, { logger: silentLogger, metrics })
  harness.own({ stop: () => handle.close(2000) })
  const scenario = validateScenario({ name: 'game-check', durationSeconds: 3, load: { mode: 'players', players: 6 }, mix: { move: 4, chat: 1, attack: 2, ping: 1, login: 0.5 }, actionsPerSecond: 12 })
  const run = await runLoad({ scenario, targets: [{ host: '127.0.0.1', port: handle.port }], workers: 1 })
  const s = summarize(run.intervals, 3)
  const got = (type: string): number => metrics.framesIn.get(type) ?? 0
  const asked = (action: keyof typeof s.byAction): number => s.byAction[action].ok + s.byAction[action].errors
  assert.is(s.errors, 0, JSON.stringify(s.byAction))
  assert.is(s.disconnects, 0, 're-logins are not disconnects')
  assert.ok(asked('move') > 20 && asked('chat') > 0 && asked('attack') > 0 && asked('ping') > 0, JSON.stringify(s.byAction))
  assert.ok(s.byAction.login.ok > 6, 'start logins plus re-logins')
  assert.is(got('MOVE'), asked('move'))
  assert.is(got('CHAT'), asked('chat'))
  assert.is(got('ATTACK'), asked('attack'))
  assert.is(got('PING'), asked('ping'))
  assert.is(got('REGISTER'), 6, 'one REGISTER per player')
  assert.is(got('LOGIN'), s.byAction.login.ok - 6, 'one token LOGIN per re-login')
  assert.is(metrics.framesOut.get('PLAYER_MOVED'), s.byAction.move.ok - s.byAction.move.rejected, 'PLAYER_MOVED is the mover\'s reply only: one per accepted MOVE')
  assert.ok((metrics.framesOut.get('ZONE_UPDATE') ?? 0) + (metrics.framesOut.get('BATCH') ?? 0) > 0, 'the others learn the moves from the zone stream')
  assert.ok(s.rejected <= s.answered)
  for (const action of ['move', 'chat', 'attack', 'ping'] as const) assert.is(s.byAction[action].rtt.count, s.byAction[action].ok, `${action} RTTs`)
  assert.is(s.byAction.login.rtt.count, s.byAction.login.ok - 6, 'start logins have no RTT, re-logins do')
  assert.is(s.peakConnected, 6)
})

test('--transport ws: the same game actions over WebSocket arrive one for one', async () => {
  const metrics = new FrameCountingMetrics()
  const config = loadConfig({ GAME_HOST: '127.0.0.1', GAME_PORT: '0', WS_PORT: '0', WS_PLAYGROUND: 'false', PASSWORD_HASH_COST: '1024', METRICS_ENABLED: 'false' })
  const handle: ServerHandle = await startServer(config, { logger: silentLogger, metrics })
  harness.own({ stop: () => handle.close(2000) })
  const scenario = validateScenario({ name: 'ws-check', durationSeconds: 2, load: { mode: 'players', players: 4 }, mix: { move: 4, chat: 1, ping: 1, login: 0.5 }, actionsPerSecond: 12 })
  const run = await runLoad({ scenario, targets: [{ host: '127.0.0.1', port: handle.webSocketPort!, transport: 'ws' }], workers: 1 })
  const s = summarize(run.intervals, 2)
  assert.is(s.errors, 0, JSON.stringify(s.byAction))
  assert.is(s.disconnects, 0)
  assert.ok(s.byAction.move.ok > 5, JSON.stringify(s.byAction))
  assert.is(metrics.framesIn.get('MOVE') ?? 0, s.byAction.move.ok + s.byAction.move.errors)
  assert.is(metrics.framesIn.get('REGISTER') ?? 0, 4)
})

test('arrival mode: arrivals follow the rate, leave after sessionSeconds, never exceed maxPlayers', async () => {
  const target = harness.own(await startCountingServer())
  const scenario = validateScenario({ name: 'arrivals', durationSeconds: 3, load: { mode: 'arrival', arrivalsPerSecond: 6, sessionSeconds: 1, maxPlayers: 4 }, mix: { ping: 1 }, actionsPerSecond: 10 })
  const run = await runLoad({ scenario, targets: [{ host: '127.0.0.1', port: target.address.port }], workers: 1 })
  const s = summarize(run.intervals, 3)
  // 6/s for 3 s = 18 arrivals at most, fewer when the cap of 4 is reached; each stays ~1 s
  assert.ok(target.metrics.sessionsOpened >= 8 && target.metrics.sessionsOpened <= 18, `sessions ${target.metrics.sessionsOpened}`)
  assert.ok(s.peakConnected <= 4, `peak ${s.peakConnected}`)
  assert.ok(s.peakConnected >= 3)
  assert.is(s.disconnects, 0)
  assert.is(s.answered, target.metrics.framesOut.get('PONG'))
  assert.is(target.server.activeSessions, 0)
})

test('a player-count ramp: connected players follow the ramp second by second', async () => {
  const target = harness.own(await startCountingServer())
  const scenario = validateScenario({ name: 'ramp', durationSeconds: 4, load: { mode: 'players', players: 20, ramp: [{ at: 0, level: 0.25 }, { at: 0.5, level: 0.25 }, { at: 0.5, level: 1 }] }, mix: { ping: 1 }, actionsPerSecond: 5 })
  const run = await runLoad({ scenario, targets: [{ host: '127.0.0.1', port: target.address.port }], workers: 2 })
  const connected = run.intervals.map((i) => i.connected)
  assert.is(connected.length, 4)
  assert.equal(connected.slice(0, 2), [5, 5])
  assert.ok(connected[2]! > 5, `the jump shows in the third second: ${connected}`)
  assert.is(connected[3], 20)
  assert.is(target.metrics.sessionsOpened, 20)
})

test.run()
