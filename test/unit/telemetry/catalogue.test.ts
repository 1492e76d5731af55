import { readFileSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { EXPORTER_METRICS, METRIC_LIST, METRICS, metricDefinition, type MetricDefinition } from '../../../app/telemetry/catalogue.js'
import { renderMetricsDocs } from '../../../app/telemetry/docs.js'
import { alertRule, promqlExpr, THRESHOLDS } from '../../../app/telemetry/thresholds.js'

const test = suite('telemetry catalogue and thresholds')

/** 0/1 flags: unit '1' but not a ratio. */
const FLAGS = new Set(['gs_balancer_backend_healthy', 'gs_cluster_leader', 'gs_bottleneck_active', 'gs_bottleneck_value'])

/** Our own names: gs_ prefix, unit suffixes, _total iff counter. */
const OWN = METRIC_LIST.filter((d) => d.otelName === undefined)
/** OpenTelemetry semantic-convention names (Node.js runtime and process metrics). */
const SEMCONV = METRIC_LIST.filter((d) => d.otelName !== undefined)

test('names follow Prometheus conventions on the wire', () => {
  const seen = new Set<string>()
  for (const def of METRIC_LIST) {
    assert.ok(/^[a-z][a-z0-9_]*[a-z0-9]$/.test(def.name), def.name)
    assert.not.ok(def.name.includes('__'), def.name)
    assert.not.ok(seen.has(def.name), `duplicate ${def.name}`)
    seen.add(def.name)
    assert.is(def.name.endsWith('_total'), def.kind === 'counter', `${def.name}: _total iff counter`)
    assert.ok(def.help.length > 10, `${def.name} has help`)
    assert.ok(def.roles.length > 0)
    for (const label of def.labels) {
      assert.ok(/^[a-z][a-z0-9_]*$/.test(label), `${def.name} label ${label}`)
      assert.not.ok(['le', 'quantile', 'job', 'instance'].includes(label), `${def.name} uses reserved label ${label}`)
    }
  }
  for (const def of OWN) {
    assert.ok(def.name.startsWith('gs_'), def.name)
    const base = def.name.replace(/_total$/, '')
    if (def.unit === 's') assert.ok(base.endsWith('_seconds'), `${def.name} is in seconds`)
    if (def.unit === 'By') assert.ok(base.endsWith('_bytes'), `${def.name} is in bytes`)
    if (def.unit === '1') assert.ok(base.endsWith('_ratio') || FLAGS.has(def.name), `${def.name} is a ratio or a flag`)
    if (base.endsWith('_seconds')) assert.is(def.unit, 's', def.name)
    if (base.endsWith('_bytes')) assert.is(def.unit, 'By', def.name)
  }
})

test('runtime and process metrics carry OpenTelemetry semantic-convention names, exported as the exporter derives them', () => {
  const expected = [
    'nodejs.eventloop.delay.min', 'nodejs.eventloop.delay.max', 'nodejs.eventloop.delay.mean', 'nodejs.eventloop.delay.stddev',
    'nodejs.eventloop.delay.p50', 'nodejs.eventloop.delay.p90', 'nodejs.eventloop.delay.p99', 'nodejs.eventloop.utilization',
    'nodejs.eventloop.time', 'v8js.gc.duration', 'v8js.memory.heap.used', 'v8js.memory.heap.limit',
    'v8js.memory.heap.space.available_size', 'v8js.memory.heap.space.physical_size', 'process.cpu.time', 'process.memory.usage',
  ]
  assert.equal(SEMCONV.map((d) => d.otelName).sort(), [...expected].sort())
  for (const def of SEMCONV) {
    const wire = def.otelName!.replaceAll('.', '_') + (def.kind === 'counter' ? '_total' : '')
    assert.is(def.name, wire)
    assert.ok(def.roles.length === 3, `${def.name}: every process kind`)
  }
  // attribute names as the conventions spell them (the exporter turns the dots into underscores)
  assert.equal(METRICS.processCpu.labels, ['cpu_mode'])
  assert.equal(METRICS.gcDuration.labels, ['v8js_gc_type'])
  assert.equal(METRICS.heapUsed.labels, ['v8js_heap_space_name'])
  assert.equal(METRICS.eventLoopTime.labels, ['nodejs_eventloop_state'])
  for (const def of [METRICS.eventLoopDelayP99, METRICS.gcDuration, METRICS.processCpu]) assert.is(def.unit, 's')
  for (const def of [METRICS.heapUsed, METRICS.processMemory]) assert.is(def.unit, 'By')
})

test('histogram buckets are strictly increasing and positive; only histograms have buckets', () => {
  for (const def of METRIC_LIST as MetricDefinition[]) {
    if (def.kind !== 'histogram') {
      assert.is(def.buckets, undefined, def.name)
      continue
    }
    const buckets = def.buckets!
    assert.ok(buckets.length >= 5, def.name)
    assert.ok(buckets[0]! > 0, def.name)
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]! > buckets[i - 1]!, `${def.name} bucket ${i}`)
  }
})

test('buckets bracket the thresholds read from histograms', () => {
  for (const threshold of THRESHOLDS) {
    const match = /([a-z][a-z0-9_]+)_bucket/.exec(threshold.promql)
    if (!match) continue
    const def = METRIC_LIST.find((d) => d.name === match[1])!
    const buckets = def.buckets!
    const at = buckets.indexOf(threshold.limit)
    assert.ok(at > 0 && at < buckets.length - 1, `${threshold.name}: ${threshold.limit} is an inner bucket bound of ${def.name}`)
  }
  // the frame-processing alert's 10 ms has neighbours close on both sides
  const frame = METRICS.frameProcessing.buckets!
  assert.ok(frame.includes(0.0075) && frame.includes(0.01) && frame.includes(0.015))
})

test('every threshold reads catalogue metrics and yields an alert rule', () => {
  const names = new Set<string>(THRESHOLDS.map((t) => t.name))
  assert.is(names.size, THRESHOLDS.length)
  for (const t of ['container-memory', 'container-cpu', 'container-cpu-throttled', 'host-cpu', 'host-memory', 'host-disk', 'frame-processing-p95', 'event-loop-delay-p99', 'outbound-backlog', 'pool-waiters', 'cache-errors', 'unhealthy-backends']) {
    assert.ok(names.has(t), t)
  }
  const known = new Set([...METRIC_LIST, ...Object.values(EXPORTER_METRICS)].map((d) => d.name))
  const PROMQL_FUNCTIONS = new Set(['histogram_quantile', 'max_over_time', 'min_over_time', 'avg_over_time'])
  for (const threshold of THRESHOLDS) {
    // every identifier with an underscore that is not a PromQL function is a metric name
    const metrics = [...threshold.promql.matchAll(/\b[a-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b/g)]
      .map((m) => m[0])
      .filter((name) => !PROMQL_FUNCTIONS.has(name))
      .map((name) => name.replace(/_(bucket|sum|count)$/, ''))
    assert.ok(metrics.length > 0, threshold.name)
    for (const m of metrics) assert.ok(known.has(m), `${threshold.name} reads unknown ${m}`)
    // Host thresholds alert on node_exporter (once per host), the others on the process's own metrics.
    assert.is(metrics.every((m) => m.startsWith('node_')), threshold.scope === 'host', `${threshold.name}: scope ${threshold.scope}`)
    const expr = promqlExpr(threshold, '2m')
    assert.not.ok(expr.includes('$range'))
    assert.ok(expr.endsWith(`> ${threshold.limit}`))
    assert.ok(threshold.promql.includes(metricDefinition(threshold.metric).name), `${threshold.name} reads ${threshold.metric}`)
    assert.ok(threshold.description.length > 20)
    const rule = alertRule(threshold)
    assert.ok(/^Bottleneck[A-Z][A-Za-z0-9]+$/.test(rule.alert), rule.alert)
    assert.is(rule.for, `${threshold.forSeconds}s`)
    assert.is(rule.labels.severity, threshold.severity)
  }
  assert.is(THRESHOLDS.find((t) => t.name === 'host-cpu')!.limit, 0.9)
  assert.is(THRESHOLDS.find((t) => t.name === 'container-memory')!.limit, 0.85)
  assert.is(THRESHOLDS.find((t) => t.name === 'host-memory')!.limit, 0.85)
  assert.is(THRESHOLDS.find((t) => t.name === 'frame-processing-p95')!.limit, 0.01)
  assert.is(
    promqlExpr(THRESHOLDS.find((t) => t.name === 'frame-processing-p95')!),
    'histogram_quantile(0.95, sum by (job, instance, le) (rate(gs_frame_processing_seconds_bucket[1m]))) > 0.01',
  )
})

test('docs/METRICS.md is generated from the catalogue and up to date (npm run docs:metrics)', () => {
  const onDisk = readFileSync(new URL('../../../docs/METRICS.md', import.meta.url), 'utf8')
  assert.is(onDisk, renderMetricsDocs())
})

test.run()
