/**
 * A real Prometheus scrapes a real server's /metrics and loads alert rules generated from the one
 * threshold definition (thresholds.ts): the exposition is accepted, every threshold's PromQL is a
 * valid query over the scraped families, and a deliberately slow handler makes the generated
 * frame-processing-p95 alert fire in Prometheus too.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ClientConnection } from '../../app/client/connection.js'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { GameServer } from '../../app/net/server.js'
import { FrameType } from '../../app/protocol/types.js'
import { Telemetry } from '../../app/telemetry/telemetry.js'
import { alertRule, promqlExpr, THRESHOLDS } from '../../app/telemetry/thresholds.js'
import { Harness } from '../harness/index.js'
import type { PrometheusServer } from '../../app/local/prometheus-server.js'
import { TimedEchoDispatcher } from './telemetry-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('telemetry: a real Prometheus scrapes /metrics and evaluates the generated rules')

const harness = new Harness()
let telemetry: Telemetry
let server: GameServer
let dispatcher: TimedEchoDispatcher
let prometheus: PrometheusServer
let client: ClientConnection
let running = true
let traffic: Promise<void> = Promise.resolve()
/** Why the client's request loop stopped early, if it did (handled at once: never an unhandled rejection). */
let trafficError: unknown

/** Rules as the deployment generates them, with a short range and `for: 0s` to keep the test short. */
function rulesYaml(): string {
  const rules = THRESHOLDS.map((t) => {
    const rule = alertRule(t, '5s')
    return `      - alert: ${rule.alert}\n        expr: ${JSON.stringify(rule.expr)}\n        for: 0s\n        labels: { severity: ${rule.labels.severity}, bottleneck: ${rule.labels.bottleneck} }\n        annotations: { summary: ${JSON.stringify(rule.annotations.summary)} }`
  })
  return `groups:\n  - name: bottlenecks\n    rules:\n${rules.join('\n')}\n`
}

async function query(expr: string): Promise<{ status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }> {
  const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)
  return (await res.json()) as never
}

test.before(async () => {
  const config = loadConfig({ GAME_HOST: '127.0.0.1', GAME_PORT: '0', METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', SYSTEM_SAMPLE_INTERVAL_MS: '500', REPORT_INTERVAL_MS: '0' })
  telemetry = (await Telemetry.start(config, silentLogger, 'server'))!
  dispatcher = new TimedEchoDispatcher(telemetry.metrics)
  server = new GameServer({ config, dispatcher, metrics: telemetry.metrics })
  telemetry.observeServer(server)
  const { port } = await server.listen()
  prometheus = await harness.prometheus(
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'rule_files: [rules.yml]',
      'scrape_configs:',
      '  - job_name: game',
      `    static_configs: [ { targets: ['127.0.0.1:${telemetry.port}'] } ]`,
      '',
    ].join('\n'),
    { 'rules.yml': rulesYaml() },
  )
  client = await ClientConnection.connect({ host: '127.0.0.1', port })
  traffic = (async () => {
    while (running) {
      await client.request(FrameType.CHAT, Buffer.from('x'))
      await new Promise((r) => setTimeout(r, 2))
    }
  })().catch((err: unknown) => {
    if (running) trafficError = err
  })
})

test.after(async () => {
  running = false
  await traffic
  client?.destroy()
  await server?.close(2000)
  await telemetry?.close()
  await harness.close()
})

test('Prometheus accepts the exposition and loads every generated rule', async () => {
  await eventually(async () => (await query('up{job="game"}')).data.result[0]?.value[1] === '1', 15_000, 'target up')
  await eventually(async () => (await query('gs_frames_in_total{type="CHAT"}')).data.result.length === 1, 10_000, 'frames scraped')
  const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } }
  const loaded = rules.data.groups.flatMap((g) => g.rules)
  assert.is(loaded.length, THRESHOLDS.length)
  for (const rule of loaded) assert.not.equal(rule.health, 'err', `${rule.name} evaluates`)
})

test('every threshold expression is a valid query; the server\'s families yield data', async () => {
  for (const t of THRESHOLDS) {
    const result = await query(promqlExpr(t, '5s').replace(/ > [^>]+$/, ''))
    assert.is(result.status, 'success', t.name)
  }
  // Host thresholds read node_exporter, which this Prometheus does not scrape (the local appliance
  // and the engine test do); the process thresholds read the server's own families.
  for (const name of ['event-loop-delay-p99', 'outbound-backlog']) {
    const t = THRESHOLDS.find((x) => x.name === name)!
    await eventually(async () => (await query(promqlExpr(t, '5s').replace(/ > [^>]+$/, ''))).data.result.length > 0, 10_000, `${name} has data`)
  }
})

test('a slow handler fires the generated frame-processing-p95 alert in Prometheus', async () => {
  dispatcher.delayMs = 15
  await eventually(
    async () => (await query('ALERTS{alertname="BottleneckFrameProcessingP95",alertstate="firing"}')).data.result.length === 1,
    20_000,
    'the alert firing',
  )
  dispatcher.delayMs = 0
  assert.is(trafficError, undefined, 'the client kept sending')
})

test.run()
