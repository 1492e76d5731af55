import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../../app/config/index.js'
import { renderConfigDocs } from '../../../app/config/docs.js'
import { isGameServerError } from '../../../app/errors.js'

const test = suite('config')

test('defaults of the variables known by name (README.md, Configuration)', () => {
  const config = loadConfig({})
  assert.is(config.server.host, '0.0.0.0')
  assert.is(config.server.port, 7777)
  assert.is(config.server.metricsPort, 9464)
  assert.is(config.balancer.port, 7000)
  assert.is(config.balancer.strategy, 'least-connections')
  assert.is(config.server.logLevel, 'info')
  assert.is(config.data.databaseUrl, undefined)
  assert.equal(config.data.redisUrls, [])
  assert.equal(config.balancer.backends, [])
  assert.ok(config.server.nodeId.length > 0)
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.server))
})

test('parses lists and URLs', () => {
  const config = loadConfig({
    REDIS_URLS: 'redis://127.0.0.1:6380, redis://127.0.0.1:6381',
    BACKENDS: '127.0.0.1:7001,[::1]:7002/7782',
    DATABASE_URL: 'postgres://u@127.0.0.1:5433/game',
    BALANCE_STRATEGY: 'round-robin',
  })
  assert.equal(config.data.redisUrls, ['redis://127.0.0.1:6380', 'redis://127.0.0.1:6381'])
  assert.equal(config.balancer.backends, [
    { host: '127.0.0.1', port: 7001 },
    { host: '::1', port: 7002, webSocketPort: 7782 },
  ])
  assert.is(config.balancer.strategy, 'round-robin')
})

const bad: Array<[string, string]> = [
  ['GAME_PORT', '70000'],
  ['GAME_PORT', 'abc'],
  ['METRICS_PORT', '-1'],
  ['LOG_LEVEL', 'loud'],
  ['BALANCE_STRATEGY', 'random'],
  ['REDIS_URLS', 'http://x:1'],
  ['DATABASE_URL', 'mysql://x'],
  ['BACKENDS', 'nohostport'],
  ['BACKENDS', '127.0.0.1:7001/'],
  ['BACKENDS', '127.0.0.1:7001/70000'],
  ['BACKENDS', '127.0.0.1:7001/7780/7781'],
  ['MAX_FRAME_BYTES', '70000'],
  ['FLUSH_FILL_RATIO', '2'],
  ['LATENCY_AWARE_FLUSH', 'maybe'],
  ['NODE_ID', 'has spaces'],
]
for (const [name, value] of bad) {
  test(`rejects ${name}=${value} naming the variable`, () => {
    try {
      loadConfig({ [name]: value })
      assert.unreachable()
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_CONFIG'), String(err))
      assert.is(err.context.variable, name)
      assert.ok(err.message.startsWith(name))
    }
  })
}

test('docs/CONFIG.md is generated from the table and up to date (npm run docs:config)', () => {
  const onDisk = readFileSync(new URL('../../../docs/CONFIG.md', import.meta.url), 'utf8')
  assert.fixture(onDisk, renderConfigDocs())
})

test.run()
