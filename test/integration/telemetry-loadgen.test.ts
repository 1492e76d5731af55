/**
 * The load generator as a telemetry role: `npm run loadtest` with METRICS_PORT set serves its own
 * /metrics while it runs (role loadgen: event loop, process and host families, no server families).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Harness } from '../harness/index.js'
import { runCli, startCountingServer } from './loadtest-support.js'
import { parseExposition, scrapeText, type Scrape } from './telemetry-support.js'

const test = suite('telemetry: the load generator serves /metrics when METRICS_PORT is set')
const harness = new Harness()
test.after(() => harness.close())

test('a running loadtest answers /metrics with role loadgen', async () => {
  const server = harness.own(await startCountingServer())
  const saved = { port: process.env['METRICS_PORT'], host: process.env['METRICS_HOST'] }
  process.env['METRICS_PORT'] = '0'
  process.env['METRICS_HOST'] = '127.0.0.1'
  let scraped = null as Promise<Scrape> | null
  try {
    const result = await runCli(['--target', `127.0.0.1:${server.address.port}`, '--players', '2', '--duration', '2', '--scenario', 'smoke', '--quiet'], {
      onStderr: (text) => {
        const match = /load generator metrics on :(\d+)\/metrics/.exec(text)
        if (match && scraped === null) scraped = scrapeText(Number(match[1])).then(parseExposition)
      },
    })
    assert.is(result.code, 0, result.stderr)
  } finally {
    if (saved.port === undefined) delete process.env['METRICS_PORT']
    else process.env['METRICS_PORT'] = saved.port
    if (saved.host === undefined) delete process.env['METRICS_HOST']
    else process.env['METRICS_HOST'] = saved.host
  }
  assert.ok(scraped !== null, 'the generator announced its metrics port')
  const s = await scraped!
  const keys = [...s.keys()]
  assert.ok(keys.some((k) => k.startsWith('target_info{') && k.includes('role="loadgen"') && k.includes('service_name="game-loadgen"')))
  assert.ok(keys.some((k) => k.startsWith('process_memory_usage{')))
  assert.ok(keys.some((k) => k.startsWith('process_cpu_time_total{')))
  assert.not.ok(keys.some((k) => k.startsWith('gs_frames_in_total')), 'no server families')
})

test.run()
