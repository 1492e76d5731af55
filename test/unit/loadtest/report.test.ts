import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { escapeHtml, renderHtmlReport, renderLineChart } from '../../../app/loadtest/html.js'
import { TotalsAccumulator, type IntervalSample } from '../../../app/loadtest/interval.js'
import { buildReport, renderSummary } from '../../../app/loadtest/report.js'
import { validateScenario } from '../../../app/loadtest/scenario.js'
import { parseThreshold } from '../../../app/loadtest/thresholds.js'
import { sampleOf } from './samples.js'
import { errorCause } from '../../../app/loadtest/error-cause.js'
import { GameServerError } from '../../../app/errors.js'
import { WireError } from '../../../app/protocol/types.js'

function totalsOf(intervals: IntervalSample[]) {
  const acc = new TotalsAccumulator()
  for (const i of intervals) acc.add(i)
  return acc.totals()
}

const scenario = validateScenario({ name: 'unit', description: 'a <b>bold</b> claim', durationSeconds: 2, load: { mode: 'players', players: 3 }, mix: { ping: 1 } })

const sample = (second: number, rttsMs: number[], extra: Partial<IntervalSample> = {}): IntervalSample =>
  sampleOf(second, rttsMs, 'ping', { connected: 3, generatorUtilization: 0.3, ...extra })

const run = (intervals: IntervalSample[]) => ({ intervals, totals: totalsOf(intervals), startedAt: new Date('2026-01-01T00:00:00Z'), elapsedSeconds: 2.05, workers: 1, aborted: false })

test('summary figures add the intervals up', () => {
  const report = buildReport({
    scenario,
    targets: [{ host: '127.0.0.1', port: 7000 }],
    run: run([sample(0, [1, 1, 2, 3], { errors: 1, timeouts: 1 }), sample(1, [1, 2, 10], { disconnects: 1 })]),
    thresholds: ['p99<5ms', 'errors<=1', 'error_rate<20%', 'rps>=3'].map(parseThreshold),
  })
  const s = report.summary
  assert.is(s.answered, 7)
  assert.is(s.errors, 1)
  assert.is(s.timeouts, 1)
  assert.is(s.disconnects, 1)
  assert.is(s.errorRate, 1 / 8)
  assert.is(s.throughputPerSecond, 7 / 2)
  assert.is(s.rtt.count, 7)
  assert.is(s.rtt.maxMs, 10)
  assert.is(s.peakConnected, 3)
  assert.is(s.byAction.ping.rtt.count, 7)
  assert.is(s.byAction.ping.rtt.maxMs, 10)
  assert.is(s.byAction.move.rtt.count, 0)
  assert.equal(report.thresholds.map((t) => [t.threshold, t.passed]), [['p99<5ms', false], ['errors<=1', true], ['error_rate<20%', true], ['rps>=3', true]])
  assert.not.ok(report.passed)
  assert.is(report.timeline.length, 2)
  assert.is(report.timeline[1]!.p99Ms, 10)
  assert.not.ok(report.generator.bottleneck)
  const text = renderSummary(report)
  assert.match(text, /threshold p99<5ms\s+FAIL \(actual 10 ms\)/)
  assert.match(text, /threshold error_rate<20%\s+PASS \(actual 12.5 %\)/)
  assert.match(text, /throughput\s+3\.5 req\/s/)
})

test('errors are broken down by cause in the summary, report.json and the HTML', () => {
  const failing = (second: number, causes: Record<string, number>) => {
    const s = sample(second, [1])
    const n = Object.values(causes).reduce((a, b) => a + b, 0)
    s.errors = n
    s.errorCauses = { ...causes }
    s.byAction.ping.errors = n
    s.byAction.ping.causes = { ...causes }
    return s
  }
  const report = buildReport({ scenario, targets: [{ host: 'h', port: 1 }], run: run([failing(0, { OVERLOADED: 30, timeout: 1 }), failing(1, { OVERLOADED: 10, LOGIN_THROTTLED: 5 })]), thresholds: [] })
  assert.equal(report.summary.errorsByCause, { OVERLOADED: 40, timeout: 1, LOGIN_THROTTLED: 5 })
  assert.equal(report.summary.byAction.ping.errorsByCause, { OVERLOADED: 40, timeout: 1, LOGIN_THROTTLED: 5 })
  assert.equal((JSON.parse(JSON.stringify(report)) as { summary: { errorsByCause: object } }).summary.errorsByCause, { OVERLOADED: 40, timeout: 1, LOGIN_THROTTLED: 5 })
  assert.match(renderSummary(report), /by cause: OVERLOADED 40, LOGIN_THROTTLED 5, timeout 1/)
  assert.match(renderSummary(report), /46 errors \(OVERLOADED 40, LOGIN_THROTTLED 5, timeout 1\)/)
  assert.match(renderHtmlReport(report), /error OVERLOADED<\/t[dh]>\s*<td>40/)

  const refused = sample(2, [1])
  refused.connectFailures = 3
  refused.connectFailureCauses = { timeout: 1, 'connection-closed': 2 }
  const connects = buildReport({ scenario, targets: [{ host: 'h', port: 1 }], run: run([refused]), thresholds: [] })
  assert.equal(connects.summary.connectFailuresByCause, { timeout: 1, 'connection-closed': 2 })
  assert.match(renderSummary(connects), /connect failures 3 \(connection-closed 2, timeout 1\)/)
  assert.match(renderHtmlReport(connects), /3 \(connection-closed 2, timeout 1\)/)
})

test('errorCause labels wire errors by name, timeouts, closed connections; nothing else grows the set', () => {
  assert.is(errorCause(new GameServerError('GS_ERR_REQUEST_REJECTED', 'x', { wireCode: WireError.OVERLOADED })), 'OVERLOADED')
  assert.is(errorCause(new GameServerError('GS_ERR_CLIENT_TIMEOUT', 'x')), 'timeout')
  assert.is(errorCause(new GameServerError('GS_ERR_CLIENT_CLOSED', 'x')), 'connection-closed')
  assert.is(errorCause(new GameServerError('GS_ERR_CLIENT_CLOSED', 'x', { wireCode: WireError.TOO_MANY_CONNECTIONS })), 'connection-closed TOO_MANY_CONNECTIONS')
  assert.is(errorCause(new GameServerError('GS_ERR_CLIENT_CLOSED', 'connect failed', {}, { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) })), 'connection-closed ECONNREFUSED')
  assert.is(errorCause(new Error('boom 1234')), 'other')
})

test('a saturated generator is reported as the bottleneck', () => {
  const busy = [0, 1, 2, 3].map((i) => sample(i, [1], { generatorUtilization: 0.97, generatorLoopDelayP99Ms: 80 }))
  const report = buildReport({ scenario, targets: [{ host: 'h', port: 1 }], run: run(busy), thresholds: [] })
  assert.ok(report.generator.bottleneck)
  assert.is(report.generator.reasons.length, 2)
  assert.match(renderSummary(report), /GENERATOR WAS THE BOTTLENECK/)
  assert.match(renderHtmlReport(report), /The generator was the bottleneck/)
})

test('the HTML is self-contained and escapes what it prints', () => {
  const report = buildReport({ scenario, targets: [{ host: 'h', port: 1 }], run: run([sample(0, [1]), sample(1, [2])]), thresholds: [parseThreshold('p99<5ms')] })
  const html = renderHtmlReport(report)
  assert.not.match(html, /<script/)
  assert.not.match(html, /<link /)
  assert.ok(html.includes('a &lt;b&gt;bold&lt;/b&gt; claim'))
  assert.is((html.match(/<svg class="chart"/g) ?? []).length, 4)
  assert.is(escapeHtml(`"<&'>`), '&quot;&lt;&amp;&#39;&gt;')
})

test('line charts draw each series and survive empty data', () => {
  const svg = renderLineChart({ id: 'x', title: 'T', xLabel: 's', yUnit: 'ms', series: [{ name: 'a', points: [[0, 1], [1, 3], [2, 2]] }, { name: 'b', points: [[1, 5]] }] })
  assert.match(svg, /<polyline points="[^"]+" fill="none" stroke="#1f77b4"[^>]*data-series="a"/)
  assert.match(svg, /<circle [^>]*data-series="b"/)
  const empty = renderLineChart({ id: 'e', title: 'E', xLabel: 's', yUnit: '', series: [{ name: 'a', points: [] }] })
  assert.match(empty, /no data/)
  assert.not.match(empty, /NaN/)
  assert.not.match(svg, /NaN/)
})

test.run()
