/**
 * Host and process readings agree with independent sources: /proc/meminfo and /proc/stat read by
 * the test itself, `df` for the filesystem, process.cpuUsage for this process, and a deliberately
 * blocked event loop for the delay gauges. Process and container figures are read through a real
 * /metrics scrape; host figures are the detector's readings (`latest()`) and are not exported —
 * node_exporter reports them once per host. Container figures come from a cgroup v2 directory made
 * by the test (a 512 MiB, 1-core budget) and from this process's own cgroup.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../app/errors.js'
import { silentLogger } from '../../app/logger.js'
import { TelemetryProvider } from '../../app/telemetry/provider.js'
import { detectCgroup, readCgroup } from '../../app/telemetry/cgroup.js'
import { EVENT_LOOP_DELAY_RESOLUTION_MS, parseMeminfo, parseProcStat, SystemMonitor } from '../../app/telemetry/system.js'
import { scrape, series } from './telemetry-support.js'

const test = suite('telemetry: system readings against /proc')

let provider: TelemetryProvider
let monitor: SystemMonitor

test.before(async () => {
  provider = await TelemetryProvider.start({ role: 'loadgen', instanceId: 'sys-test', host: '127.0.0.1', port: 0, logger: silentLogger })
  monitor = await SystemMonitor.start({ sampleIntervalMs: 60_000, diskPaths: ['/'] }, provider)
})

test.after(async () => {
  monitor?.close()
  monitor?.close()
  await provider?.close()
  await provider?.close()
})

function burn(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    /* load one core */
  }
}

test('host CPU over an interval matches /proc/stat deltas; process CPU matches cpuUsage', async () => {
  await monitor.sampleNow() // start a fresh interval; the test's own readings cover the same stretch
  const intervalStart = performance.now()
  const statBefore = parseProcStat(readFileSync('/proc/stat', 'utf8'))
  const cpuBefore = process.cpuUsage()
  // the delay histogram's first tick after a reset records no lateness (Node 20): let it tick once
  await new Promise((r) => setTimeout(r, EVENT_LOOP_DELAY_RESOLUTION_MS * 2 + 5))
  burn(400)
  // let the delay monitor's timer fire once after the blocked stretch (it records the lateness)
  await new Promise((r) => setTimeout(r, EVENT_LOOP_DELAY_RESOLUTION_MS + 5))
  const statAfter = parseProcStat(readFileSync('/proc/stat', 'utf8'))
  const cpuAfter = process.cpuUsage(cpuBefore)
  const wall = performance.now() - intervalStart
  await monitor.sampleNow()
  const intervalMs = performance.now() - intervalStart
  const expectedHost = (statAfter.busy - statBefore.busy) / (statAfter.total - statBefore.total)
  const expectedProcess = (cpuAfter.user + cpuAfter.system) / 1000 / wall
  const s = await scrape(provider.port)
  const host = monitor.latest()!.hostCpuRatio!
  const proc = series(s, 'gs_process_cpu_utilization_ratio')!
  assert.ok(Math.abs(host - expectedHost) < 0.1, `host cpu ${host} vs /proc/stat ${expectedHost}`)
  assert.ok(Math.abs(proc - expectedProcess) < 0.15, `process cpu ${proc} vs cpuUsage ${expectedProcess}`)
  assert.ok(proc > 0.03, `the burn shows as CPU time (${proc}; below 1 when other processes share the cores)`)
  // the blocked loop is visible in event-loop utilisation and delay
  const elu = series(s, 'nodejs_eventloop_utilization')!
  assert.ok(elu > (0.8 * 400) / intervalMs && elu <= 1, `ELU ${elu}: the loop was busy ≥ 400 of ${intervalMs.toFixed(0)} ms`)
  assert.ok(series(s, 'nodejs_eventloop_delay_max')! >= 0.25, `max delay ${series(s, 'nodejs_eventloop_delay_max')}`)
})

test('an idle event loop reads a delay near 0, not the sampling resolution', async () => {
  await monitor.sampleNow()
  await new Promise((r) => setTimeout(r, EVENT_LOOP_DELAY_RESOLUTION_MS * 4))
  await monitor.sampleNow()
  const s = await scrape(provider.port)
  const p50 = series(s, 'nodejs_eventloop_delay_p50')!
  assert.ok(p50 >= 0 && p50 < 0.05, `idle p50 delay ${p50} s`)
})

test('GC pauses: every scavenge an independent observer sees is counted under v8js.gc.type="minor", with its duration', async () => {
  const seen: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) seen.push(entry.duration / 1000)
  })
  observer.observe({ entryTypes: ['gc'] })
  const before = await scrape(provider.port)
  // short-lived garbage until the young generation has been collected a few times
  let keep = 0
  for (let round = 0; round < 200 && seen.length < 3; round++) {
    for (let i = 0; i < 20_000; i++) keep += new Array(16).fill(i).length
    await new Promise((r) => setImmediate(r))
  }
  await new Promise((r) => setTimeout(r, 20)) // GC entries are delivered asynchronously
  observer.disconnect()
  assert.ok(keep > 0 && seen.length >= 3, `${seen.length} scavenges seen`)
  const after = await scrape(provider.port)
  const count = (s: Map<string, number>) => series(s, 'v8js_gc_duration_count', { v8js_gc_type: 'minor' }) ?? 0
  const counted = count(after) - count(before)
  assert.ok(counted >= seen.length, `counted ${counted} ≥ seen ${seen.length}`)
  const sum = (series(after, 'v8js_gc_duration_sum', { v8js_gc_type: 'minor' }) ?? 0) - (series(before, 'v8js_gc_duration_sum', { v8js_gc_type: 'minor' }) ?? 0)
  assert.ok(sum >= seen.reduce((a, b) => a + b, 0) * 0.99, `sum ${sum} s covers the observed pauses`)
})

test('V8 heap per space matches v8.getHeapSpaceStatistics', async () => {
  const s = await scrape(provider.port)
  for (const space of getHeapSpaceStatistics()) {
    const limit = series(s, 'v8js_memory_heap_limit', { v8js_heap_space_name: space.space_name })
    assert.ok(limit !== undefined, `${space.space_name} exported`)
    assert.ok(Math.abs(limit - space.space_size) <= Math.max(1 << 20, space.space_size * 0.5), `${space.space_name}: ${limit} vs ${space.space_size}`)
  }
})

test('host memory matches /proc/meminfo (MemAvailable) within 5 % of MemTotal', async () => {
  await monitor.sampleNow()
  const expected = parseMeminfo(readFileSync('/proc/meminfo', 'utf8'))
  const reading = monitor.latest()!.hostMemory!
  assert.is(reading.totalBytes, expected.totalBytes)
  assert.ok(Math.abs(reading.availableBytes - expected.availableBytes) < 0.05 * expected.totalBytes, `available ${reading.availableBytes} vs ${expected.availableBytes}`)
})

test('disk of / matches df', async () => {
  await monitor.sampleNow()
  const [size, avail] = execFileSync('df', ['-B1', '--output=size,avail', '/'], { encoding: 'utf8' }).trim().split('\n').pop()!.trim().split(/\s+/).map(Number)
  const disk = monitor.latest()!.disks.find((d) => d.path === '/')!
  const [total, available] = [disk.totalBytes, disk.availableBytes]
  assert.ok(Math.abs(total - size!) <= 0.01 * size!, `total ${total} vs df ${size}`)
  assert.ok(Math.abs(available - avail!) <= 0.01 * size!, `available ${available} vs df ${avail}`)
})

test('host-level families are not exported: node_exporter reports them once per host', async () => {
  const s = await scrape(provider.port)
  assert.not.ok([...s.keys()].some((k) => k.startsWith('gs_host_')), 'no gs_host_* family')
})

test('this process\'s own cgroup: the working set exported equals the cgroup\'s, the limit only when one is set', async () => {
  const files = await detectCgroup()
  if (!files) return // not on Linux with a cgroup filesystem: nothing to compare
  await monitor.sampleNow()
  const expected = await readCgroup(files)
  const s = await scrape(provider.port)
  const workingSet = series(s, 'gs_container_memory_working_set_bytes')!
  assert.ok(Math.abs(workingSet - expected.memoryWorkingSetBytes!) < 0.2 * expected.memoryWorkingSetBytes! + 50e6, `working set ${workingSet} vs ${expected.memoryWorkingSetBytes}`)
  assert.is(series(s, 'gs_container_memory_limit_bytes'), expected.memoryLimitBytes)
  assert.is(series(s, 'gs_container_cpu_quota_cores'), expected.cpuQuotaCores)
})

test('a cgroup v2 budget of 512 MiB and one core: limit, working set, quota, usage of quota and throttling', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-cgroup-'))
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text)
  write('memory.max', `${512 * 1024 * 1024}\n`)
  write('memory.current', `${300 * 1024 * 1024}\n`)
  write('memory.stat', `anon 1\ninactive_file ${44 * 1024 * 1024}\n`)
  write('cpu.max', '100000 100000\n')
  write('cpu.stat', 'usage_usec 1000000\nnr_periods 100\nnr_throttled 0\nthrottled_usec 0\n')
  const budgetProvider = await TelemetryProvider.start({ role: 'server', instanceId: 'cgroup-test', host: '127.0.0.1', port: 0, logger: silentLogger })
  const limited = await SystemMonitor.start({ sampleIntervalMs: 60_000, diskPaths: [], cgroup: { version: 2, memoryDir: dir, cpuDir: dir, cpuacctDir: dir, unifiedMount: dir } }, budgetProvider)
  try {
    const started = performance.now()
    await limited.sampleNow()
    // A second of wall time in which the group used 0.9 s of CPU and was throttled in 30 of 100 periods.
    write('cpu.stat', 'usage_usec 1900000\nnr_periods 200\nnr_throttled 30\nthrottled_usec 250000\n')
    await new Promise((r) => setTimeout(r, 1000 - (performance.now() - started)))
    await limited.sampleNow()
    const s = await scrape(budgetProvider.port)
    assert.is(series(s, 'gs_container_memory_limit_bytes'), 512 * 1024 * 1024)
    assert.is(series(s, 'gs_container_memory_working_set_bytes'), 256 * 1024 * 1024)
    assert.is(series(s, 'gs_container_memory_used_ratio'), 0.5)
    assert.is(series(s, 'gs_container_cpu_quota_cores'), 1)
    const used = series(s, 'gs_container_cpu_quota_used_ratio')!
    assert.ok(used > 0.6 && used < 0.95, `0.9 s of CPU in about 1 s of a 1-core quota: ${used}`)
    assert.is(series(s, 'gs_container_cpu_throttled_ratio'), 0.3)
    assert.is(series(s, 'gs_container_cpu_throttled_seconds_total'), 0.25)
  } finally {
    limited.close()
    await budgetProvider.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a loadgen exports system families but no server families', async () => {
  const s = await scrape(provider.port)
  assert.ok([...s.keys()].some((k) => k.startsWith('target_info{') && k.includes('role="loadgen"')))
  assert.not.ok([...s.keys()].some((k) => k.startsWith('gs_frames_in_total')))
})

test('a taken metrics port is a configuration error naming METRICS_PORT', async () => {
  try {
    await TelemetryProvider.start({ role: 'server', instanceId: 'dup', host: '127.0.0.1', port: provider.port })
    assert.unreachable('second listen on the same port')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_CONFIG'), String(err))
    assert.is(err.context.variable, 'METRICS_PORT')
    assert.is(err.context.reason, 'EADDRINUSE')
  }
})

test.run()
