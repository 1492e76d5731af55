import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Backend } from '../../../app/balancer/backend.js'
import { bottleneckUrl, parseBottlenecks } from '../../../app/balancer/bottleneck-poller.js'
import { loadConfig } from '../../../app/config/index.js'

/** The balancer's settings from the config table's defaults. */
const SETTINGS = loadConfig({}).balancer
const BACKEND = { fall: SETTINGS.healthCheckFall, ewmaAlpha: SETTINGS.latencyEwmaAlpha }

const test = suite('bottleneck poller')

test('parses the detector snapshot and simpler shapes', () => {
  assert.equal(parseBottlenecks({ evaluatedAt: 'x', active: [{ name: 'host-cpu', severity: 'critical' }], readings: {} }), ['host-cpu'])
  assert.equal(parseBottlenecks({ active: [] }), [])
  assert.equal(parseBottlenecks([{ name: 'a' }, { name: 'b', active: false }, 'c']), ['a', 'c'])
  assert.equal(parseBottlenecks({ bottlenecks: [{ kind: 'disk' }] }), ['disk'])
  assert.equal(parseBottlenecks('nonsense'), [])
  assert.equal(parseBottlenecks(null), [])
  assert.equal(parseBottlenecks({ active: 'no' }), [])
})

test('URL from the member\'s metrics URL, else the template', () => {
  const backend = new Backend({ host: '10.0.0.5', port: 7777 }, BACKEND)
  assert.is(bottleneckUrl(backend, undefined), undefined)
  assert.is(bottleneckUrl(backend, 'http://{host}:9464/bottlenecks?game={port}'), 'http://10.0.0.5:9464/bottlenecks?game=7777')
  backend.metricsUrl = 'http://10.0.0.5:9999/'
  assert.is(bottleneckUrl(backend, 'http://{host}:9464/bottlenecks'), 'http://10.0.0.5:9999/bottlenecks')
})

test('an active bottleneck scales the effective weight by the factor', () => {
  const backend = new Backend({ host: 'a', port: 1 }, { ...BACKEND, weight: 2 })
  backend.bottleneckWeightFactor = 0.25
  assert.is(backend.effectiveWeight, 2)
  backend.bottleneckNames = ['host-cpu']
  assert.is(backend.effectiveWeight, 0.5)
})

test.run()
