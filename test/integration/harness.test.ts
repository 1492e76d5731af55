import { execFileSync } from 'node:child_process'
import { connect } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Harness, isAlive } from '../harness/index.js'

const test = suite('harness: throwaway redis-server, PostgreSQL and Prometheus')

function pgrep(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', '--', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

test('starts each server ready on loopback, stops it, leaves no process or dir behind', async () => {
  const harness = new Harness()
  try {
    const redis = await harness.redis()
    const postgres = await harness.postgres()
    const prometheus = await harness.prometheus(
      `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: self\n    static_configs: [ { targets: ['127.0.0.1:0'] } ]\n`,
    )

    assert.ok(await redis.ping(), 'redis answers PING')
    assert.is((await postgres.psql('SELECT 40 + 2')).trim(), '42')
    assert.is((await postgres.psql('SELECT current_database()')).trim(), 'game')
    const ready = await fetch(`${prometheus.url}/-/ready`)
    assert.is(ready.status, 200)

    const pids = [redis.process.pid, postgres.process.pid, prometheus.process.pid]
    for (const pid of pids) assert.ok(isAlive(pid), `pid ${pid} alive while running`)

    await harness.close()
    for (const pid of pids) assert.not.ok(isAlive(pid), `pid ${pid} gone after close`)
    assert.equal(pgrep(`-p ${postgres.port} `), [], 'no postgres backend left')
    assert.equal(pgrep(`--port ${redis.port} `), [], 'no redis left')
    assert.equal(pgrep(`127.0.0.1:${prometheus.port}`), [], 'no prometheus left')
  } finally {
    await harness.close()
  }
})

test('a failed start is a coded error with the output tail, and nothing is left running', async () => {
  const harness = new Harness()
  try {
    const blocker = await harness.redis()
    // a second redis on the same port cannot bind
    const { RedisServer } = await import('../../app/local/redis-server.js')
    const dir = await harness.tempDir()
    const failure = await RedisServer.start({ dir, port: blocker.port, readyTimeoutMs: 3000 }).then(
      (second) => second.stop().then(() => undefined),
      (err: unknown) => err,
    )
    assert.is((failure as { code?: string } | undefined)?.code, 'GS_ERR_PROCESS_START')
    assert.match(String((failure as Error).message), /last output/)
    // the port still belongs to the first one and it still answers
    const answered = await new Promise<boolean>((resolve) => {
      const s = connect({ port: blocker.port, host: '127.0.0.1' }, () => {
        s.destroy()
        resolve(true)
      }).on('error', () => resolve(false))
    })
    assert.ok(answered)
  } finally {
    await harness.close()
  }
})

test.run()
