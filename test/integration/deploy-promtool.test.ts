// promtool (Debian `prometheus`) against what we generate: the scrape config of real topologies,
// the alert rules, and the generated rule unit tests (a case per alert above and below its threshold).
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCommand } from '../../app/local/child-process.js'
import { requireProgram } from '../../app/local/system.js'
import { buildTopology, containerAddress, DEFAULT_TOPOLOGY_OPTIONS, prometheusConfig } from '../../app/topology/index.js'
import { toYaml } from '../../app/topology/yaml.js'
import { ALERTS } from '../../dashboards/alert-model.js'
import { generatedFiles } from '../../dashboards/generate.js'

let dir = ''
const promtool = () => requireProgram('promtool', 'prometheus')

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-promtool-'))
  const files = generatedFiles()
  await writeFile(join(dir, 'alerts.yml'), files.get('prometheus/alerts.yml')!)
  await writeFile(join(dir, 'alerts.test.yml'), files.get('prometheus/alerts.test.yml')!)
})
test.after(() => rm(dir, { recursive: true, force: true }))

test('promtool check config: container topologies N=1,3,8 × K=1,2,4 (the last with load generators) with the rule file', async () => {
  for (const [servers, redisShards] of [[1, 1], [3, 2], [8, 4]] as const) {
    const loadGenerators = servers === 8 ? { loadGenerators: { count: 2, playersPerGenerator: 10, durationSeconds: 10, scenario: 'mixed' } } : {}
    const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers, redisShards, ...loadGenerators })
    const file = join(dir, `prometheus-${servers}-${redisShards}.yml`)
    await writeFile(file, toYaml(prometheusConfig(topology, containerAddress(topology), { ruleFiles: ['alerts.yml'] })))
    const out = await runCommand(promtool(), ['check', 'config', file])
    assert.match(out, /SUCCESS/)
  }
})

test('promtool check rules: every alert present', async () => {
  const out = await runCommand(promtool(), ['check', 'rules', join(dir, 'alerts.yml')])
  assert.match(out, new RegExp(`SUCCESS: ${ALERTS.length} rules found`))
})

test('promtool test rules: each alert fires above its threshold after `for` and stays quiet below', async () => {
  const out = await runCommand(promtool(), ['test', 'rules', join(dir, 'alerts.test.yml')], { cwd: dir })
  assert.match(out, /SUCCESS/)
})

test('the generated rule tests can fail: a rule with a shifted threshold is caught', async () => {
  const shifted = generatedFiles().get('prometheus/alerts.yml')!.replace(/ > ([0-9.e-]+)"$/gm, (_, v: string) => ` > ${Number(v) * 10 + 1}"`)
  const negative = join(dir, 'negative')
  await runCommand('mkdir', ['-p', negative])
  await writeFile(join(negative, 'alerts.yml'), shifted)
  await writeFile(join(negative, 'alerts.test.yml'), generatedFiles().get('prometheus/alerts.test.yml')!)
  try {
    await runCommand(promtool(), ['test', 'rules', join(negative, 'alerts.test.yml')], { cwd: negative })
    assert.unreachable('promtool accepted rules whose thresholds moved')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'GS_ERR_PROCESS_START')
    assert.match((err as Error).message, /alertname: Bottleneck\w+, time: /)
  }
})

test.run()
