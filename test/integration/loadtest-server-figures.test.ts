/**
 * Server figures from a real Prometheus: alerts that fired during the window are reported (pending
 * ones are not), figures whose metric families are absent are named in `missing`, never invented.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { freePort } from '../../app/local/ports.js'
import { collectServerFigures, FIGURE_RULES, PrometheusClient } from '../../app/loadtest/server-figures.js'
import { eventually } from '../harness/eventually.js'
import { Harness } from '../harness/index.js'

const test = suite('loadtest server figures')
const harness = new Harness()
test.after(() => harness.close())

const RULES = `groups:
- name: loadtest-test
  interval: 1s
  rules:
  - alert: LoadTestAlwaysFiring
    expr: vector(1)
    labels: { severity: warning }
  - alert: LoadTestStillPending
    expr: vector(1)
    for: 1h
`

// regression: an alert that started firing in the last partial second of the window was missed
test('firing alerts in the window are reported, pending ones are not; absent families are missing', async () => {
  const port = await freePort()
  const config = ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'rule_files: ["rules.yml"]', 'scrape_configs:', '  - job_name: self', '    static_configs:', `      - targets: ["127.0.0.1:${port}"]`, ''].join('\n')
  const prometheus = await harness.own(await (async () => {
    const { PrometheusServer } = await import('../../app/local/prometheus-server.js')
    return PrometheusServer.start({ dir: await harness.tempDir('gs-prom-lt-'), config, files: { 'rules.yml': RULES }, port })
  })())
  const client = new PrometheusClient(prometheus.url)
  const from = new Date()
  await eventually(async () => (await client.instant('ALERTS{alertstate="firing"}')).length > 0, 30_000, 'the always-firing rule to fire', 200)
  const to = new Date()
  const figures = await collectServerFigures(client, from, to)
  assert.equal(figures.alerts.map((a) => [a.name, a.state]), [['LoadTestAlwaysFiring', 'firing']])
  assert.ok(figures.alerts[0]!.activeAt)
  assert.equal([...figures.missing].sort(), FIGURE_RULES.map((r) => r.key).sort())
  assert.equal(figures.figures, {})
  assert.is(figures.source, prometheus.url)
})

test('an unreachable Prometheus is a GS_ERR_LOADTEST_TARGET error', async () => {
  const client = new PrometheusClient(`http://127.0.0.1:${await freePort()}`, 1000)
  try {
    await client.metricNames()
    assert.unreachable('should fail')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'GS_ERR_LOADTEST_TARGET')
  }
})

test.run()
