/**
 * A real GameServer with telemetry on free ports; real clients drive traffic; /metrics is scraped
 * over HTTP and the families must exist with the right labels and move by exactly what was sent.
 */
import { cpus } from 'node:os'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ClientConnection } from '../../app/client/connection.js'
import { loadConfig } from '../../app/config/index.js'
import { silentLogger } from '../../app/logger.js'
import { GameServer } from '../../app/net/server.js'
import { FrameType } from '../../app/protocol/types.js'
import { METRIC_LIST } from '../../app/telemetry/catalogue.js'
import { Telemetry } from '../../app/telemetry/telemetry.js'
import { family, scrape, scrapeText, series, TimedEchoDispatcher, type Scrape } from './telemetry-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('telemetry: /metrics of a real server')

let telemetry: Telemetry
let server: GameServer
let port = 0
const clients: ClientConnection[] = []

test.before(async () => {
  const config = loadConfig({
    GAME_HOST: '127.0.0.1',
    GAME_PORT: '0',
    WS_PORT: '0',
    WS_HOST: '127.0.0.1',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    SYSTEM_SAMPLE_INTERVAL_MS: '200',
    REPORT_INTERVAL_MS: '600000', // started, but the test calls report() itself
    NODE_ID: 'telemetry-test-1',
  })
  telemetry = (await Telemetry.start(config, silentLogger, 'server'))!
  const dispatcher = new TimedEchoDispatcher(telemetry.metrics)
  server = new GameServer({ config, dispatcher, metrics: telemetry.metrics })
  telemetry.observeServer(server)
  port = (await server.listen()).port
})

test.after(async () => {
  for (const c of clients) c.destroy()
  await server?.close(2000)
  await telemetry?.close()
})

async function connect(): Promise<ClientConnection> {
  const client = await ClientConnection.connect({ host: '127.0.0.1', port })
  clients.push(client)
  return client
}

const delta = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number =>
  (series(after, name, labels) ?? 0) - (series(before, name, labels) ?? 0)

test('the endpoint serves every family with resource attributes; close is idempotent elsewhere', async () => {
  assert.ok(telemetry.port! > 0)
  const text = await scrapeText(telemetry.port!)
  assert.match(text, /target_info\{[^}]*service_name="game-server"/)
  assert.match(text, /service_instance_id="telemetry-test-1"/)
  assert.match(text, /role="server"/)
  const res = await fetch(`http://127.0.0.1:${telemetry.port}/nope`)
  assert.is(res.status, 404)
})

test('frames, bytes, flushes, sessions and processing time move by what the client sent', async () => {
  const before = await scrape(telemetry.port!)
  const client = await connect()
  for (let i = 0; i < 40; i++) await client.ping()
  for (let i = 0; i < 25; i++) await client.request(FrameType.CHAT, Buffer.from(`hello ${i}`))
  const after = await scrape(telemetry.port!)

  assert.is(delta(before, after, 'gs_frames_in_total', { type: 'PING' }), 40)
  assert.is(delta(before, after, 'gs_frames_in_total', { type: 'CHAT' }), 25)
  assert.is(delta(before, after, 'gs_frames_out_total', { type: 'PONG' }), 40)
  assert.is(delta(before, after, 'gs_frames_out_total', { type: 'CHAT_MESSAGE' }), 25)
  assert.is(delta(before, after, 'gs_frame_processing_seconds_count', { type: 'CHAT' }), 25)
  assert.is(series(after, 'gs_frame_processing_seconds_bucket', { type: 'CHAT', le: '+Inf' }), series(after, 'gs_frame_processing_seconds_count', { type: 'CHAT' }))
  assert.ok(series(after, 'gs_frame_processing_seconds_bucket', { type: 'CHAT', le: '0.01' }) !== undefined, 'a bucket at the 10 ms threshold')
  assert.ok(delta(before, after, 'gs_received_bytes_total') >= 65 * 12, 'bytes in')
  assert.ok(delta(before, after, 'gs_sent_bytes_total') >= 65 * 12, 'bytes out')
  assert.is(delta(before, after, 'gs_sessions_accepted_total'), 1)
  assert.is(series(after, 'gs_sessions_active'), 1)
  const flushes = family(after, 'gs_flushes_total').reduce((sum, key) => sum + after.get(key)!, 0)
  assert.ok(flushes >= 65, `one flush per answer at least (idle flush), got ${flushes}`)
  assert.ok(delta(before, after, 'gs_io_events_total', { kind: 'read' }) >= 1)
  assert.ok(delta(before, after, 'gs_io_events_total', { kind: 'write' }) >= 1)
  assert.is(series(after, 'gs_outbound_backlog_bytes'), 0)
})

test('sessions, frames and bytes are split by transport (tcp, ws); the totals count both', async () => {
  const before = await scrape(telemetry.port!)
  const tcp = await connect()
  const ws = await ClientConnection.connect({ host: '127.0.0.1', port: server.webSocketAddress()!.port, transport: 'ws' })
  clients.push(ws)
  for (let i = 0; i < 3; i++) await tcp.ping()
  for (let i = 0; i < 5; i++) await ws.ping()
  const after = await scrape(telemetry.port!)
  assert.is(delta(before, after, 'gs_transport_sessions_accepted_total', { transport: 'tcp' }), 1)
  assert.is(delta(before, after, 'gs_transport_sessions_accepted_total', { transport: 'ws' }), 1)
  assert.is(delta(before, after, 'gs_sessions_accepted_total'), 2)
  assert.is(series(after, 'gs_transport_sessions_active', { transport: 'ws' }), 1)
  assert.is(delta(before, after, 'gs_transport_frames_in_total', { transport: 'tcp' }), 3)
  assert.is(delta(before, after, 'gs_transport_frames_in_total', { transport: 'ws' }), 5)
  assert.is(delta(before, after, 'gs_transport_received_bytes_total', { transport: 'ws' }), 5 * 12)
  assert.ok(delta(before, after, 'gs_transport_sent_bytes_total', { transport: 'ws' }) >= 5 * 12)
  assert.is(delta(before, after, 'gs_frames_in_total', { type: 'PING' }), 8)
  await ws.close()
  await eventually(async () => series(await scrape(telemetry.port!), 'gs_transport_sessions_active', { transport: 'ws' }) === 0, 3000, 'the WebSocket session to close')
})

test('closed label sets are all exported and each value counts under its own label', async () => {
  const before = await scrape(telemetry.port!)
  const reasons = ['count', 'fill', 'timer', 'idle', 'drain', 'close'] as const
  reasons.forEach((reason, i) => telemetry.metrics.flushed(reason, i + 1, 0))
  const kinds = ['read', 'write', 'timeout', 'error'] as const
  kinds.forEach((kind, i) => {
    for (let n = 0; n <= i; n++) telemetry.metrics.ioEvent(kind)
  })
  const after = await scrape(telemetry.port!)
  reasons.forEach((reason, i) => {
    assert.is(delta(before, after, 'gs_flushes_total', { reason }), 1, reason)
    assert.is(delta(before, after, 'gs_flushed_frames_total', { reason }), i + 1, reason)
  })
  kinds.forEach((kind, i) => assert.is(delta(before, after, 'gs_io_events_total', { kind }), i + 1, kind))
})

test('the performance report gives rates over its interval', async () => {
  telemetry.reporter!.report() // closes the previous interval
  const client = await connect()
  const started = performance.now()
  for (let i = 0; i < 30; i++) await client.request(FrameType.CHAT, Buffer.from(`r${i}`))
  await new Promise((r) => setTimeout(r, 50))
  const line = telemetry.reporter!.report() as { intervalSeconds: number; framesInPerSecond: number; framesOutPerSecond: number; framesProcessed: number; frameProcessingP95Seconds: number; sessionsActive: number }
  const seconds = (performance.now() - started) / 1000
  assert.is(line.framesProcessed, 30)
  assert.ok(line.intervalSeconds >= seconds * 0.9, `interval ${line.intervalSeconds} s`)
  // 30 frames in, over the interval: a rate, not a total
  assert.ok(Math.abs(line.framesInPerSecond * line.intervalSeconds - 30) < 1.5, `rate ${line.framesInPerSecond}/s × ${line.intervalSeconds} s`)
  assert.ok(line.framesOutPerSecond > 0)
  assert.ok(line.frameProcessingP95Seconds > 0 && line.frameProcessingP95Seconds < 0.01)
  assert.ok(line.sessionsActive >= 1)
})

test('BATCH compression ratio and bytes saved move when a flush is large and compressible', async () => {
  const before = await scrape(telemetry.port!)
  const client = await connect()
  const answers = []
  for (let i = 0; i < 20; i++) answers.push(client.request(FrameType.CHAT, Buffer.alloc(200, 'a')))
  await Promise.all(answers)
  const after = await scrape(telemetry.port!)
  assert.ok(delta(before, after, 'gs_batch_frames_sent_total') >= 1, 'a BATCH was sent')
  assert.ok(delta(before, after, 'gs_batch_saved_bytes_total') > 0, 'bytes saved')
  assert.ok(delta(before, after, 'gs_batch_compression_ratio_count') >= 1)
  const ratioSum = series(after, 'gs_batch_compression_ratio_sum')! / series(after, 'gs_batch_compression_ratio_count')!
  assert.ok(ratioSum > 0 && ratioSum < 0.9, `mean ratio below BATCH_MAX_RATIO, got ${ratioSum}`)
  assert.ok(client.stats.batchesIn >= 1, 'the client did receive a BATCH')
})

test('violations and close reasons are labelled', async () => {
  const before = await scrape(telemetry.port!)
  const client = await connect()
  await client.request(0x7777, undefined, { expect: FrameType.ERROR })
  await client.close()
  await eventually(async () => delta(before, await scrape(telemetry.port!), 'gs_sessions_closed_total', { reason: 'client-closed' }) === 1, 3000, 'client-closed count')
  const after = await scrape(telemetry.port!)
  assert.is(delta(before, after, 'gs_protocol_violations_total', { kind: 'unknown-type' }), 1)
  assert.is(delta(before, after, 'gs_frames_in_total', { type: 'unknown' }), 1)
})

test('system, event-loop and detector families are present with plausible values', async () => {
  await telemetry.system!.sampleNow()
  telemetry.detector!.evaluate()
  const s = await scrape(telemetry.port!)
  const v = series(s, 'nodejs_eventloop_utilization')
  assert.ok(v !== undefined && v >= 0 && v <= 1, `event-loop utilisation = ${v}`)
  // one core = 1; GC and libuv threads can take it above 1, never above the host's cores
  const processCpu = series(s, 'gs_process_cpu_utilization_ratio')
  assert.ok(processCpu !== undefined && processCpu >= 0 && processCpu <= cpus().length, `process cpu ${processCpu}`)
  assert.ok(series(s, 'process_memory_usage')! > 10_000_000)
  assert.ok(series(s, 'nodejs_eventloop_delay_p99')! >= 0)
  assert.ok(series(s, 'process_cpu_time_total', { cpu_mode: 'user' })! > 0)
  // OpenTelemetry's runtime semantic conventions: heap per space, GC pauses by type, loop time by state
  assert.ok(series(s, 'v8js_memory_heap_used', { v8js_heap_space_name: 'old_space' })! > 0)
  assert.ok(series(s, 'v8js_memory_heap_limit', { v8js_heap_space_name: 'new_space' })! > 0)
  assert.ok(series(s, 'nodejs_eventloop_time_total', { nodejs_eventloop_state: 'active' })! > 0)
  assert.is(series(s, 'gs_bottleneck_active', { name: 'frame-processing-p95', severity: 'warning' }), 0)
  // The memory threshold the detector applies: the container's when its cgroup has a limit, else the host's.
  const limited = series(s, 'gs_container_memory_limit_bytes') !== undefined
  assert.is(series(s, 'gs_bottleneck_active', { name: limited ? 'container-memory' : 'host-memory', severity: 'critical' }), 0)
  assert.is(series(s, 'gs_bottleneck_value', { name: limited ? 'host-memory' : 'container-memory' }), undefined)
  // every exported family is in the catalogue (nothing named ad hoc)
  const names = new Set(METRIC_LIST.flatMap((d) => (d.kind === 'histogram' ? [`${d.name}_bucket`, `${d.name}_sum`, `${d.name}_count`] : [d.name])))
  for (const key of s.keys()) {
    const name = key.slice(0, key.indexOf('{'))
    if (name === 'target_info') continue
    assert.ok(names.has(name), `${name} is not in the catalogue`)
  }
  // balancer-only families are not exported by a server
  assert.is(family(s, 'gs_balancer_rejected_total').length, 0)
})

test.run()
