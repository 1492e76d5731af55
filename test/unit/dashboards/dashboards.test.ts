import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ALERTS } from '../../../dashboards/alert-model.js'
import { EXTERNAL_METRICS } from '../../../dashboards/common.js'
import { GENERATED_DIR, generatedFiles } from '../../../dashboards/generate.js'
import { allPanels, DASHBOARDS } from '../../../dashboards/index.js'
import { panelMetricNames } from '../../../dashboards/queries.js'
import { METRIC_LIST, seriesNames } from '../../../dashboards/telemetry.js'

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..')

test('generated files are fresh (run `npm run dashboards` after changing dashboards/ or thresholds)', () => {
  for (const [path, content] of generatedFiles()) {
    let onDisk = ''
    try {
      onDisk = readFileSync(join(root, GENERATED_DIR, path), 'utf8')
    } catch {
      assert.unreachable(`${GENERATED_DIR}/${path} is missing`)
    }
    assert.ok(onDisk === content, `${GENERATED_DIR}/${path} is stale`)
  }
})

test('five dashboards with stable, unique uids; one file each', () => {
  assert.equal(DASHBOARDS.map((d) => d.uid), ['gs-overview', 'gs-server-hot-path', 'gs-balancer', 'gs-cache-database', 'gs-host-runtime'])
  assert.is(new Set(allPanels().map((p) => `${p.dashboard.uid}/${p.panel.title}`)).size, allPanels().length)
})

test('every metric a panel names is exported by the app (catalogue) or by an exporter of the topology', () => {
  const known = new Set([...METRIC_LIST.flatMap(seriesNames), ...Object.keys(EXTERNAL_METRICS)])
  for (const { dashboard, panel } of allPanels()) {
    const names = panelMetricNames(panel)
    assert.ok(names.length > 0, `${dashboard.uid}/${panel.title} names no metric`)
    for (const name of names) assert.ok(known.has(name), `${dashboard.uid}/${panel.title} names unknown metric ${name}`)
  }
})

test('every alert is drawn as a threshold on at least one panel and its annotations point at it', () => {
  const rules = generatedFiles().get('grafana/provisioning/alerting/rules.yml')!
  for (const alert of ALERTS) {
    const panels = allPanels().filter(({ panel }) => panel.thresholds?.some((t) => t.alert === alert.name))
    assert.ok(panels.length > 0, `${alert.name} has no panel`)
    assert.match(rules, `title: "${alert.name}"`)
    assert.match(rules, `__dashboardUid__: "${panels[0]!.dashboard.uid}"`)
  }
})

test('alert rules carry summary, description and severity', () => {
  const rules = generatedFiles().get('prometheus/alerts.yml')!
  for (const alert of ALERTS) {
    const block = rules.slice(rules.indexOf(`alert: "${alert.name}"`))
    for (const key of ['summary:', 'description:', `severity: "${alert.severity}"`]) assert.ok(block.includes(key), `${alert.name} lacks ${key}`)
  }
})

test.run()
