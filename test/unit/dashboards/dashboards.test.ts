import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ALERTS } from '../../../dashboards/alert-model.js'
import { grafanaAlertRules, prometheusRules } from '../../../dashboards/alerts.js'
import { EXTERNAL_METRICS, renderDashboard } from '../../../dashboards/common.js'
import { datasources } from '../../../dashboards/provisioning.js'
import { GENERATED_DIR, generatedFiles } from '../../../dashboards/generate.js'
import { allPanels, DASHBOARDS } from '../../../dashboards/index.js'
import { panelMetricNames } from '../../harness/promql.js'
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

test('rendered dashboards: unique panel ids, panels inside the 24-column grid without overlaps, provisioned datasource', () => {
  const datasourceUid = datasources().datasources[0]!.uid
  for (const spec of DASHBOARDS) {
    const json = renderDashboard(spec)
    const ids = json.panels.map((p) => p.id)
    assert.is(new Set(ids).size, ids.length, `${spec.uid}: duplicate panel ids`)
    const boxes = json.panels.map((p) => p.gridPos as { x: number; y: number; w: number; h: number })
    boxes.forEach((a, i) => {
      assert.ok(a.x >= 0 && a.x + a.w <= 24, `${spec.uid}: panel ${ids[i]} outside the grid`)
      boxes.slice(i + 1).forEach((b, j) => {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h
        assert.not.ok(overlap, `${spec.uid}: panels ${ids[i]} and ${ids[i + j + 1]} overlap`)
      })
    })
    for (const p of json.panels.filter((p) => p.type !== 'row')) assert.is((p.datasource as { uid: string }).uid, datasourceUid)
  }
})

test('Grafana alert rules evaluate the same reading, limit and `for` as the Prometheus rules', () => {
  const grafana = grafanaAlertRules().groups[0]!.rules
  const prometheus = prometheusRules().groups[0]!.rules
  assert.is(grafana.length, ALERTS.length)
  for (const alert of ALERTS) {
    const g = grafana.find((r) => r.title === alert.name)!
    const p = prometheus.find((r) => r.alert === alert.name)!
    assert.is(p.expr, `${alert.reading} > ${alert.threshold.limit}`)
    assert.is((g.data[0]!.model as { expr: string }).expr, alert.reading)
    assert.equal((g.data[2]!.model as { conditions: { evaluator: { params: number[] } }[] }).conditions[0]!.evaluator.params, [alert.threshold.limit])
    assert.is(g.for, p.for)
    assert.is(g.for, `${alert.threshold.forSeconds}s`)
    assert.equal(g.labels, p.labels)
  }
})

test.run()
