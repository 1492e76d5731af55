// The local appliance end to end (N=2 servers, K=2 Redis shards, PostgreSQL, exporters, Prometheus
// scraping every 1 s): players register, log in, move and chat through the balancer while every
// dashboard panel's query is run against the real Prometheus; then a game server is killed
// (SIGKILL) and play continues on the other; shutdown leaves no process behind.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { silentLogger } from '../../app/logger.js'
import { Appliance } from '../../app/local/appliance.js'
import { freePort, waitUntil } from '../../app/local/ports.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS, scrapeTargets, servicesOfKind } from '../../app/topology/index.js'
import { EXTERNAL_METRICS } from '../../dashboards/common.js'
import { GENERATED_DIR } from '../../dashboards/generate.js'
import { allPanels } from '../../dashboards/index.js'
import { panelMetricNames, runnableQuery } from '../harness/promql.js'
import { METRIC_LIST, seriesNames } from '../../dashboards/telemetry.js'
import { Harness } from '../harness/index.js'
import { processTree, stillRunning } from './deploy-support.js'

const root = join(new URL('.', import.meta.url).pathname, '..', '..')
const harness = new Harness()
let appliance: Appliance
let host = ''
let port = 0
const startedPids = new Set<number>()

async function player(name: string, register: boolean): Promise<GameClient> {
  const client = await GameClient.connect({ host, port, timeoutMs: 5000 })
  const session = register ? await client.register(name, `pw-${name}-secret`) : await client.login(name, `pw-${name}-secret`)
  assert.is(session.username, name)
  return client
}

/** One round of play: a small move within the speed budget and a chat line, both answered. */
async function play(client: GameClient, text: string): Promise<void> {
  const me = client.session!
  const moved = await client.move(me.x + 1, me.y)
  assert.is(moved.playerId, me.playerId)
  const said = await client.chat(text)
  assert.is(said.text, text)
}

test.before(async () => {
  try {
    await startAppliance()
  } catch (err) {
    console.error(err) // uvu does not report errors thrown by hooks
    throw err
  }
})

async function startAppliance(): Promise<void> {
  const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers: 2, redisShards: 2, balancerPort: await freePort(), balancerWebSocketPort: await freePort(), prometheusPort: await freePort(), scrapeIntervalSeconds: 1, logLevel: 'warn' })
  appliance = await Appliance.start({
    topology,
    dir: await harness.tempDir('gs-appliance-'),
    logger: silentLogger,
    readyTimeoutMs: 45_000,
    observability: true,
    alertRules: readFileSync(join(root, GENERATED_DIR, 'prometheus/alerts.yml'), 'utf8'),
  })
  harness.own(appliance)
  ;[host, port] = [appliance.endpoints.game.split(':')[0]!, Number(appliance.endpoints.game.split(':')[1])]
  // Everything the appliance started, with their own children (PostgreSQL backends, esbuild of tsx…).
  for (const pid of processTree(appliance.pids())) startedPids.add(pid)
}

test.after(() => harness.close())

test('appliance is up: every topology service runs or says why not; a PING through the balancer is answered', () => {
  const running = new Set(appliance.pids())
  assert.is(running.size >= 2 + 2 + 2, true, 'postgres, 2 redis, 2 servers, balancer')
  for (const service of servicesOfKind(appliance.topology, 'game-server')) assert.ok(appliance.process(service.name)?.running, service.name)
  assert.ok(appliance.process('balancer')?.running)
  assert.equal(appliance.skipped.map((s) => s.service), ['grafana'])
})

test('a scenario through the balancer, with every dashboard panel query answered by Prometheus', async () => {
  const prometheus = appliance.endpoints.prometheus!
  const query = async (expr: string) => {
    const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`)
    const body = (await response.json()) as { status: string; error?: string; data: { result: unknown[] } }
    assert.is(body.status, 'success', `${expr}: ${body.error}`)
    return body.data.result
  }
  const targets = scrapeTargets(appliance.topology, { host: () => '127.0.0.1', port: (s, p) => appliance.port(s, p) }).length
  assert.is(targets, 7, 'game-1, game-2, balancer, postgres exporter, 2 redis shards, node exporter')
  // Prometheus scrapes nothing for a few seconds after start-up (its discovery manager hands targets to
  // the scrapers on a 5 s tick, then each target gets its own offset in the interval; docs/DEPLOY.md):
  // the load below is for it to see.
  await waitUntil(async () => (await query('up == 1')).length === targets, { what: 'every target scraped and up', timeoutMs: 20_000, intervalMs: 250 })
  const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => player(`alice${i}`, true)))
  // Load for a few scrapes: moves and chats on every client, and players coming and going.
  const until = Date.now() + 4000
  let round = 0
  while (Date.now() < until) {
    const visitor = await player(`visitor${round}`, true)
    await Promise.all([...clients, visitor].map((c, i) => play(c, `hello ${i}.${round}`)))
    await visitor.logout()
    await visitor.close()
    round++
  }
  // A rate over the 10 s window below needs at least two scrapes of every target in it.
  await waitUntil(async () => (await query('count_over_time(up[10s]) >= 3')).length === targets, { what: 'three scrapes of every target within 10 s', timeoutMs: 20_000, intervalMs: 250 })
  const liveNames = async () => new Set(((await (await fetch(`${prometheus}/api/v1/label/__name__/values`)).json()) as { data: string[] }).data)
  const denseNames = allPanels().flatMap(({ panel }) => (panel.sparse ? [] : panelMetricNames(panel)))
  // Every server has been scraped at least once after its first system sample.
  let live = await liveNames()
  await waitUntil(
    async () => {
      live = await liveNames()
      return denseNames.every((n) => live.has(n))
    },
    { what: 'dense panel metrics live', timeoutMs: 20_000, intervalMs: 500 },
  ).catch(() => {}) // the assertion below names whatever is still missing
  const catalogue = new Set(METRIC_LIST.flatMap(seriesNames))
  const empty: string[] = []
  const notLive: string[] = []
  let queries = 0
  for (const { dashboard, panel } of allPanels()) {
    for (const name of panelMetricNames(panel)) {
      // No panel names a metric nobody exports; dense panels' metrics are live right now.
      assert.ok(catalogue.has(name) || name in EXTERNAL_METRICS, `${dashboard.uid}/${panel.title}: ${name} is exported by nothing`)
      if (!panel.sparse && !live.has(name)) notLive.push(name)
    }
    for (const t of panel.targets) {
      const result = await query(runnableQuery(t.expr, '10s'))
      queries++
      if (result.length === 0 && !panel.sparse && !t.sparse) empty.push(`${dashboard.uid}/${panel.title}: ${t.legend}`)
    }
  }
  assert.ok(queries >= allPanels().length)
  assert.equal([...new Set(notLive)], [], 'metrics named by panels but not exported by the running appliance')
  assert.equal(empty, [], 'every query that is not about rare events returns data')
  await Promise.all(clients.map((c) => c.close()))
})

test('browsers: the playground page and a WebSocket player through the balancer\'s WebSocket front (each server announced its WebSocket port)', async () => {
  const page = await fetch(appliance.endpoints.playground)
  assert.is(page.status, 200)
  assert.match(await page.text(), /name="gs-websocket-path" content="\/ws"/)
  assert.is((await fetch(`${appliance.endpoints.playground}client.js`)).status, 200)
  const [wsHost, wsPort] = appliance.endpoints.webSocket.split(':')
  const browser = await GameClient.connect({ host: wsHost!, port: Number(wsPort), transport: 'ws', timeoutMs: 5000 })
  assert.is((await browser.register('browser1', 'pw-browser1-secret')).username, 'browser1')
  await play(browser, 'hello over WebSocket')
  // a second one, so that round-robin or least-connections reaches both servers' WebSocket ports
  const second = await GameClient.connect({ host: wsHost!, port: Number(wsPort), transport: 'ws', timeoutMs: 5000 })
  await second.register('browser2', 'pw-browser2-secret')
  await play(second, 'hello again')
  await Promise.all([browser.close(), second.close()])
})

test('a killed server: play continues on the other through the balancer', async () => {
  const victim = appliance.process('game-1')!
  victim.signal('SIGKILL')
  await victim.waitForExit()
  for (let i = 0; i < 6; i++) {
    const client = await player(`alice${i}`, false)
    await play(client, `after the crash ${i}`)
    await client.close()
  }
  const late = await player('bob', true)
  await play(late, 'new player after the crash')
  await late.close()
})

test('shutdown stops everything it started, leaving no process behind', async () => {
  const before = processTree(appliance.pids())
  assert.ok(before.length >= 5, 'postgres, redis shards, servers, balancer, prometheus and their children')
  for (const pid of before) startedPids.add(pid)
  await appliance.stop()
  await appliance.stop() // idempotent
  assert.equal(stillRunning(startedPids), [], 'processes left behind')
  assert.equal(stillRunning(appliance.pids()), [])
})

test.run()
