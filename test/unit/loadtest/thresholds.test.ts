import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { checkThresholds, parseThreshold, type ThresholdFigures } from '../../../app/loadtest/thresholds.js'

test('parses metrics, operators and units into base units', () => {
  assert.equal(parseThreshold('p99<5ms'), { source: 'p99<5ms', metric: 'p99', op: '<', value: 5 })
  assert.is(parseThreshold('p999 <= 1.5s').value, 1500)
  assert.is(parseThreshold('p50<250us').value, 0.25)
  assert.is(parseThreshold('p90<3').value, 3)
  assert.is(parseThreshold('error_rate<1%').value, 0.01)
  assert.is(parseThreshold('error_rate<=0.02').value, 0.02)
  assert.equal(parseThreshold('errors==0'), { source: 'errors==0', metric: 'errors', op: '==', value: 0 })
  assert.is(parseThreshold('rps>=1000').op, '>=')
  assert.is(parseThreshold('alerts==0').metric, 'alerts')
})

test('rejects what it cannot parse with GS_ERR_LOADTEST_THRESHOLD', () => {
  for (const bad of ['p98<5ms', 'p99 5ms', 'p99<fast', 'p99<5%', 'errors<1ms', 'error_rate<5ms', '', 'p99<-1ms', 'p99=<5']) {
    assert.throws(() => parseThreshold(bad), (err: unknown) => isGameServerError(err, 'GS_ERR_LOADTEST_THRESHOLD'), bad)
  }
})

test('checks pass and fail at the boundary', () => {
  const figures: ThresholdFigures = { p50: 1, p90: 2, p99: 5, p999: 9, mean: 1.2, max: 20, error_rate: 0.01, errors: 3, disconnects: 0, connect_failures: 0, alerts: 0, rps: 1000, server_frame_p95: 0.4, server_loop_delay_p99: Number.NaN, server_cpu: 0.5 }
  const results = checkThresholds(['p99<5ms', 'p99<=5ms', 'error_rate<1%', 'error_rate<=1%', 'errors==3', 'rps>1000', 'rps>=1000', 'disconnects==0'].map(parseThreshold), figures)
  assert.equal(results.map((r) => r.passed), [false, true, false, true, true, false, true, true])
  assert.is(results[0]!.actual, 5)
})

test('server-side thresholds: units, and a figure that is not available fails', () => {
  const figures: ThresholdFigures = { p50: 1, p90: 2, p99: 5, p999: 9, mean: 1.2, max: 20, error_rate: 0, errors: 0, disconnects: 0, connect_failures: 0, alerts: 0, rps: 1000, server_frame_p95: 0.4, server_loop_delay_p99: Number.NaN, server_cpu: 0.5 }
  assert.is(parseThreshold('server_frame_p95<500us').value, 0.5)
  assert.throws(() => parseThreshold('server_cpu<1ms'), (err: unknown) => isGameServerError(err, 'GS_ERR_LOADTEST_THRESHOLD'))
  const results = checkThresholds(['server_frame_p95<500us', 'server_loop_delay_p99<50ms', 'server_loop_delay_p99>=0', 'server_cpu<1'].map(parseThreshold), figures)
  assert.equal(results.map((r) => r.passed), [true, false, false, true])
})

test.run()
