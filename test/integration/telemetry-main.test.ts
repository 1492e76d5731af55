/**
 * The composition root with telemetry: `app/main.ts` runs as a real child process with its metrics
 * endpoint on a free port; a real game client registers, moves and chats; the scrape shows the
 * game's own processing times and batch runs (the game's batch processor reports them), sessions
 * and frames; SIGTERM closes the endpoint with the server and the process exits 0.
 */
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { ManagedProcess } from '../../app/local/child-process.js'
import { Harness } from '../harness/index.js'
import { PASSWORD, TEST_ENV, uniqueUsername } from './game-support.js'
import { scrape, series } from './telemetry-support.js'

const test = suite('telemetry: app/main.ts serves /metrics and /bottlenecks')
const root = fileURLToPath(new URL('../../', import.meta.url))

function portFrom(output: string, msg: string): number {
  const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`))!
  return (JSON.parse(line) as { port: number }).port
}

test('a game session shows up in the running server\'s metrics; SIGTERM closes the endpoint', async () => {
  const harness = new Harness()
  try {
    const server = harness.own(
      new ManagedProcess({
        name: 'game-server',
        command: process.execPath,
        args: ['--import', 'tsx', 'app/main.ts'],
        cwd: root,
        env: { ...process.env, ...TEST_ENV, MAX_SPEED: '100000', METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', REDIS_URLS: '', NODE_ID: 'main-telemetry-test' } as NodeJS.ProcessEnv,
        tailLines: 400,
      }),
    )
    await Promise.race([server.sawLine(/"event":"listening"/), server.waitForExit().then(() => { throw server.startError('exited before listening') })])
    const port = portFrom(server.output(), 'listening')
    const metricsPort = portFrom(server.output(), 'metrics endpoint listening')
    assert.ok(metricsPort > 0 && metricsPort !== port)

    const client = await GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 8000 })
    await client.register(uniqueUsername('metrics'), PASSWORD)
    for (let i = 0; i < 5; i++) await client.move(10 + i, 10)
    await client.chat('hello metrics')
    const s = await scrape(metricsPort)
    assert.is(series(s, 'gs_frame_processing_seconds_count', { type: 'MOVE' }), 5)
    assert.is(series(s, 'gs_frame_processing_seconds_count', { type: 'CHAT' }), 1)
    assert.is(series(s, 'gs_frames_in_total', { type: 'REGISTER' }), 1)
    assert.ok(series(s, 'gs_batch_frames_count')! >= 1, 'batch processor runs are recorded')
    assert.is(series(s, 'gs_sessions_active'), 1)
    const body = (await (await fetch(`http://127.0.0.1:${metricsPort}/bottlenecks`)).json()) as { active: unknown[] }
    assert.equal(body.active, [])

    server.signal('SIGTERM')
    await server.waitForExit()
    assert.is(server.exitDescription(), 'exited with code 0')
    await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(
      () => assert.unreachable('the endpoint is closed'),
      () => {},
    )
  } finally {
    await harness.close()
  }
})

test.run()
