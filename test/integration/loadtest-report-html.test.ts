/**
 * The HTML report in headless Chromium: a real short run's report.html renders every chart as an
 * SVG of non-zero size with its data series drawn, with no network access needed (self-contained).
 */
import { existsSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { buildReport, writeReport } from '../../app/loadtest/report.js'
import { runLoad } from '../../app/loadtest/runner.js'
import { validateScenario } from '../../app/loadtest/scenario.js'
import { Harness } from '../harness/index.js'
import { startServer, type TestServer } from '../harness/net-server.js'

const CHROMIUM = '/usr/bin/chromium'
const test = suite('loadtest report.html in Chromium')
const harness = new Harness()
let server: TestServer
let browser: Browser | null = null

test.before(async () => {
  server = await startServer()
})

test.after(async () => {
  await browser?.close()
  await server?.stop()
  await harness.close()
})

test('every chart renders as a non-empty SVG with its series, offline', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for this test and missing at ${CHROMIUM}: apt-get install -y chromium`)
  const scenario = validateScenario({ name: 'html-check', durationSeconds: 3, load: { mode: 'players', players: 8, ramp: [{ at: 0, level: 0.5 }, { at: 0.5, level: 1 }] }, mix: { ping: 1 }, actionsPerSecond: 50 })
  const run = await runLoad({ scenario, targets: [{ host: '127.0.0.1', port: server.address.port }], workers: 1 })
  const report = buildReport({
    scenario,
    targets: [{ host: '127.0.0.1', port: server.address.port }],
    run,
    thresholds: [],
    server: { source: 'http://prometheus.test', figures: { frameProcessingP95Ms: 0.2 }, series: [{ name: 'frameProcessingP95Ms', unit: 'ms', points: [[0, 0.1], [1, 0.3], [2, 0.2]] }], alerts: [], missing: [] },
  })
  const dir = await harness.tempDir('gs-report-')
  const files = await writeReport(dir, report)
  const html = await readFile(files.html, 'utf8')
  assert.not.match(html, /<script|https?:\/\/(?!www\.w3\.org|prometheus\.test)/, 'report must be self-contained')

  browser = await chromium.launch({ executablePath: CHROMIUM })
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } })
  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  await page.goto(pathToFileURL(files.html).href)
  const shot = join(dir, 'report.png')
  await page.screenshot({ path: shot, fullPage: true })
  assert.ok((await stat(shot)).size > 10_000, 'screenshot is not blank-sized')
  assert.equal(requests.filter((u) => !u.startsWith('file:')), [], 'no network requests')

  const charts = await page.$$eval('svg.chart', (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect()
      const series = [...svg.querySelectorAll('.series')].map((el) => {
        const b = (el as unknown as { getBBox(): { width: number; height: number } }).getBBox()
        return { name: el.getAttribute('data-series'), width: b.width, height: b.height }
      })
      return { id: svg.getAttribute('data-chart'), width: box.width, height: box.height, series }
    }),
  )
  assert.equal(charts.map((c) => c.id), ['throughput', 'latency', 'players', 'generator', 'server-0'])
  for (const chart of charts) {
    assert.ok(chart.width > 100 && chart.height > 100, `${chart.id} has size ${chart.width}×${chart.height}`)
    assert.ok(chart.series.length > 0, `${chart.id} draws a series`)
  }
  const throughput = charts.find((c) => c.id === 'throughput')!
  const answered = throughput.series.find((s) => s.name === 'answered')!
  assert.ok(answered.width > 50, 'the answered line spans the run')
  assert.ok(answered.height > 0 || report.timeline.every((p) => p.answered === report.timeline[0]!.answered), 'the answered line has height when throughput varies')
  const latency = charts.find((c) => c.id === 'latency')!
  assert.equal(latency.series.map((s) => s.name), ['p50', 'p90', 'p99', 'p999'])
  const title = await page.title()
  assert.match(title, /html-check/)
})

test.run()
