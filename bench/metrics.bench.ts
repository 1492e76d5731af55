/**
 * Metrics cost (the budget: throughput with metrics on within 5 % of off, BENCHMARKS.md). PING/PONG throughput of
 * real GameServers in two child processes — telemetry on (OtelServerMetrics + system sampler +
 * detector + report, /metrics scraped every --scrape-ms by the loader) and off (METRICS_ENABLED=false: the parts' no-op metrics) — driven by
 * a loader in a third child process that loads one server at a time in short slices alternating
 * off/on/off/on…, so drift of the shared machine hits both alike. Prints machine facts, per-slice
 * numbers, medians and the ratio.
 *
 *   npx tsx bench/metrics.bench.ts [--slices 10] [--slice-ms 1000] [--warmup-ms 2000] [--scrape-ms 5000] [--connections 32] [--pipeline 16]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ClientConnection } from '../app/client/connection.js'
import { loadConfig } from '../app/config/index.js'
import { silentLogger } from '../app/logger.js'
import type { CloseReason, Connection, FrameDispatcher, InboundFrame } from '../app/net/connection.js'
import { GameServer } from '../app/net/server.js'
import { FrameType } from '../app/protocol/types.js'
import { noopNetMetrics, type NetMetrics } from '../app/net/metrics.js'
import { Telemetry } from '../app/telemetry/telemetry.js'
import { describeMachine, serverNode } from './machine.js'
import { median } from './stats.js'

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'parent' },
    metrics: { type: 'string', default: 'off' },
    port: { type: 'string', default: '0' },
    'metrics-port': { type: 'string', default: '0' },
    'port-on': { type: 'string', default: '0' },
    slices: { type: 'string', default: '10' },
    'slice-ms': { type: 'string', default: '1000' },
    'warmup-ms': { type: 'string', default: '2000' },
    'scrape-ms': { type: 'string', default: '5000' },
    /** Metrics of the two servers; `off,off` or `on,on` is an A/A run that shows the noise of the method. */
    modes: { type: 'string', default: 'off,on' },
    connections: { type: 'string', default: '32' },
    pipeline: { type: 'string', default: '16' },
  },
})

const SELF = fileURLToPath(import.meta.url)

/** The game part is not involved in PING/PONG; a dispatcher that answers anything else. */
class EchoDispatcher implements FrameDispatcher {
  dispatch(frame: InboundFrame): void {
    frame.connection.send(FrameType.CHAT_MESSAGE, frame.seq, frame.playerId, frame.payload)
  }
  disconnected(_connection: Connection, _reason: CloseReason): void {}
}

async function runServer(): Promise<void> {
  const on = values.metrics === 'on'
  const config = loadConfig({
    ...process.env,
    GAME_HOST: '127.0.0.1',
    GAME_PORT: '0',
    METRICS_ENABLED: on ? 'true' : 'false',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    REPORT_INTERVAL_MS: '5000',
    IDLE_TIMEOUT_MS: '0',
    MAX_CONNECTIONS_PER_ADDRESS: '0',
    MAX_FRAMES_PER_SECOND: '1000000',
    MAX_BYTES_PER_SECOND: '100000000',
  })
  const telemetry = await Telemetry.start(config, silentLogger, 'server')
  const server = new GameServer({ config, dispatcher: new EchoDispatcher(), ...(telemetry ? { metrics: telemetry.metrics } : {}) })
  telemetry?.observeServer(server)
  const { port } = await server.listen()
  process.stdout.write(JSON.stringify({ port, metricsPort: telemetry?.port ?? null }) + '\n')
  // the parent asks for our CPU time (µs) by writing a line to stdin
  createInterface({ input: process.stdin }).on('line', () => {
    const cpu = process.cpuUsage()
    process.stdout.write(JSON.stringify({ cpuMicros: cpu.user + cpu.system }) + '\n')
  })
  const stop = async (): Promise<void> => {
    await server.close(2000)
    await telemetry?.close()
    process.exit(0)
  }
  process.once('SIGTERM', () => void stop())
}

interface Group {
  readonly name: 'off' | 'on'
  readonly clients: ClientConnection[]
  active: boolean
  inFlight: number
  pongs: number
  /** Every PONG, warm-up and drains included (for CPU per PONG). */
  total: number
}

async function runLoader(): Promise<void> {
  const connections = Number(values.connections)
  const pipeline = Number(values.pipeline)
  const sliceMs = Number(values['slice-ms'])
  const slices = Number(values.slices)
  const metricsPort = Number(values['metrics-port'])
  const payload = Buffer.alloc(8)
  const group = async (name: 'off' | 'on', port: number): Promise<Group> => {
    const g: Group = { name, clients: [], active: false, inFlight: 0, pongs: 0, total: 0 }
    for (let i = 0; i < connections; i++) {
      const client = await ClientConnection.connect({ host: '127.0.0.1', port })
      client.onFrame((frame) => {
        if (frame.type !== FrameType.PONG) return
        g.pongs++
        g.total++
        g.inFlight--
        if (g.active && client.status === 'open') {
          client.send(FrameType.PING, payload)
          g.inFlight++
        }
      })
      g.clients.push(client)
    }
    return g
  }
  const groups = [await group('off', Number(values.port)), await group('on', Number(values['port-on']))]
  let scrapes = 0
  const scraper = setInterval(() => {
    if (metricsPort > 0)
      void fetch(`http://127.0.0.1:${metricsPort}/metrics`).then(async (r) => {
        await r.text()
        scrapes++
      })
  }, Number(values['scrape-ms']))
  // slice boundaries: tell the parent (it reads the server's CPU time) and wait for its ack
  const acks = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  const mark = async (record: Record<string, unknown>): Promise<void> => {
    process.stdout.write(JSON.stringify(record) + '\n')
    await acks.next()
  }
  const drive = async (g: Group, ms: number, measured = true): Promise<number> => {
    if (measured) await mark({ mark: 'start', metrics: g.name })
    g.active = true
    g.pongs = 0
    g.total = 0
    for (const client of g.clients) for (let i = 0; i < pipeline; i++) {
      client.send(FrameType.PING, payload)
      g.inFlight++
    }
    const started = performance.now()
    await new Promise((r) => setTimeout(r, ms))
    const perSecond = g.pongs / ((performance.now() - started) / 1000)
    g.active = false
    while (g.inFlight > 0) await new Promise((r) => setImmediate(r))
    if (measured) await mark({ mark: 'end', metrics: g.name, pongs: g.total })
    return perSecond
  }
  for (const g of groups) await drive(g, Number(values['warmup-ms']), false)
  // a long-running server has scraped many times: warm the scrape path up as Prometheus would have
  if (metricsPort > 0) for (let i = 0; i < 10; i++) await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
  for (let i = 0; i < slices; i++) {
    // alternate which mode goes first, so neither always follows the other
    const order = i % 2 === 0 ? groups : [...groups].reverse()
    for (const g of order) process.stdout.write(JSON.stringify({ slice: i + 1, metrics: g.name, perSecond: await drive(g, sliceMs) }) + '\n')
  }
  clearInterval(scraper)
  for (const g of groups) for (const client of g.clients) client.destroy()
  process.stdout.write(JSON.stringify({ done: true, scrapes }) + '\n')
  process.stdin.destroy()
}

/** A child of this script: the servers on serverNode() (the runtime under test), the loader on ours. */
function child(args: string[]): { proc: ChildProcess; lines: AsyncIterableIterator<string>; exited: Promise<unknown> } {
  const node = args.includes('server') ? serverNode().path : process.execPath
  const proc = spawn(node, ['--import', 'tsx', SELF, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]()
  return { proc, lines, exited: once(proc, 'exit') }
}

async function firstLine(c: ReturnType<typeof child>): Promise<Record<string, number>> {
  const next = await c.lines.next()
  if (next.done) throw new Error('child exited before reporting')
  return JSON.parse(next.value)
}

/** CPU time a server child has used so far, µs. */
async function cpuOf(c: ReturnType<typeof child>): Promise<number> {
  c.proc.stdin!.write('cpu\n')
  return (await firstLine(c)).cpuMicros!
}

/** In-process cost of the metric calls the net layer makes for one PING/PONG, on vs off (ns). */
async function hotPathCost(): Promise<{ onNs: number; offNs: number }> {
  const config = loadConfig({ METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', REPORT_INTERVAL_MS: '0' })
  const telemetry = (await Telemetry.start(config, silentLogger, 'server'))!
  const measure = (m: NetMetrics): number => {
    const n = 2_000_000
    const run = (count: number): void => {
      for (let i = 0; i < count; i++) {
        m.ioEvent('read')
        m.bytesIn(20)
        m.frameIn('PING', 20)
        m.frameOut('PONG', 20)
        m.flushed('idle', 1, 20)
        m.bytesOut(20)
        m.ioEvent('write')
      }
    }
    run(200_000)
    // CPU time, not wall time: other processes on the shared cores do not count
    const started = process.cpuUsage()
    run(n)
    const used = process.cpuUsage(started)
    return ((used.user + used.system) * 1000) / n
  }
  const result = { onNs: measure(telemetry.metrics), offNs: measure(noopNetMetrics) }
  await telemetry.close()
  return result
}

async function parent(): Promise<void> {
  console.log(describeMachine())
  const cost = await hotPathCost()
  console.log(`metric calls of one PING/PONG (7 calls), in process, CPU time: on ${cost.onNs.toFixed(0)} ns, off ${cost.offNs.toFixed(0)} ns`)
  console.log(`PING/PONG, ${values.connections} connections × ${values.pipeline} in flight, ${values.slices} slices of ${values['slice-ms']} ms per mode, alternating; /metrics scraped every ${values['scrape-ms']} ms`)
  const [firstMode, secondMode] = values.modes!.split(',') as ['off' | 'on', 'off' | 'on']
  const off = child(['--role', 'server', '--metrics', firstMode])
  const on = child(['--role', 'server', '--metrics', secondMode])
  if (firstMode !== 'off' || secondMode !== 'on') console.log(`A/A calibration: the "off" server runs with metrics ${firstMode}, the "on" server with metrics ${secondMode}`)
  try {
    const [a, b] = await Promise.all([firstLine(off), firstLine(on)])
    const loader = child([
      '--role', 'loader',
      '--port', String(a.port),
      '--port-on', String(b.port),
      '--metrics-port', String(b.metricsPort ?? 0),
      '--slices', values.slices!,
      '--slice-ms', values['slice-ms']!,
      '--warmup-ms', values['warmup-ms']!,
      '--connections', values.connections!,
      '--pipeline', values.pipeline!,
      '--scrape-ms', values['scrape-ms']!,
    ])
    const results: Record<'off' | 'on', number[]> = { off: [], on: [] }
    // CPU time of each server during its own slices only (idle time excluded), and the PONGs it sent then
    const totals = { off: 0, on: 0 }
    const cpu = { off: 0, on: 0 }
    const perSlice: Record<'off' | 'on', number[]> = { off: [], on: [] }
    const servers = { off, on }
    let sliceStart = 0
    for await (const line of loader.lines) {
      const r = JSON.parse(line) as { slice?: number; metrics?: 'off' | 'on'; perSecond?: number; done?: boolean; mark?: 'start' | 'end'; pongs?: number; scrapes?: number }
      if (r.mark === 'start') {
        sliceStart = await cpuOf(servers[r.metrics!])
        loader.proc.stdin!.write('ok\n')
        continue
      }
      if (r.mark === 'end') {
        const used = (await cpuOf(servers[r.metrics!])) - sliceStart
        cpu[r.metrics!] += used
        totals[r.metrics!] += r.pongs!
        perSlice[r.metrics!].push(used / r.pongs!)
        loader.proc.stdin!.write('ok\n')
        continue
      }
      if (r.done) {
        console.log(`${r.scrapes} scrapes of /metrics on the metrics-on server during the run`)
        break
      }
      results[r.metrics!].push(r.perSecond!)
      console.log(`slice ${r.slice} metrics ${r.metrics === 'on' ? 'on: ' : 'off:'} ${Math.round(r.perSecond!)} PONG/s`)
    }
    await loader.exited
    const mOff = median(results.off)
    const mOn = median(results.on)
    const diff = (mOn - mOff) / mOff
    console.log(`median off ${Math.round(mOff)} PONG/s, median on ${Math.round(mOn)} PONG/s, on/off = ${(mOn / mOff).toFixed(3)} (${diff >= 0 ? '+' : ''}${(diff * 100).toFixed(1)} %); target |difference| < 5 %: ${Math.abs(diff) < 0.05 ? 'met' : 'NOT met'}`)
    // CPU time per PONG is robust against other processes taking the cores (throughput is not)
    const perPong = { off: cpu.off / totals.off, on: cpu.on / totals.on }
    console.log(`hot-path metric calls = ${(((cost.onNs - cost.offNs) / 1000 / perPong.off) * 100).toFixed(1)} % of the metrics-off server's CPU per PONG`)
    let scrapeMs: number | undefined
    if (b.metricsPort) {
      const before = await cpuOf(on)
      const n = 20
      for (let i = 0; i < n; i++) await (await fetch(`http://127.0.0.1:${b.metricsPort}/metrics`)).text()
      const perScrapeMs = ((await cpuOf(on)) - before) / n / 1000
      scrapeMs = perScrapeMs
      console.log(`one warm /metrics scrape costs the server ${perScrapeMs.toFixed(2)} ms CPU: ${((perScrapeMs / 5000) * 100).toFixed(3)} % of a core at the deployment's 5 s scrape interval`)
    }
    // paired: slice i of each mode ran back to back, under the same conditions of the shared machine
    const ratios = perSlice.on.map((on, i) => on / perSlice.off[i]!).sort((a, b) => a - b)
    const q = (p: number): number => ratios[Math.min(ratios.length - 1, Math.floor(p * ratios.length))]!
    const pairedMedian = median(ratios)
    console.log(`server CPU per PONG, on/off per slice pair: median ${pairedMedian.toFixed(3)} (${((pairedMedian - 1) * 100).toFixed(1)} %), quartiles ${q(0.25).toFixed(3)}–${q(0.75).toFixed(3)}; target < 5 %: ${Math.abs(pairedMedian - 1) < 0.05 ? 'met' : 'NOT met'}`)
    console.log(`server CPU per PONG during its slices: off ${perPong.off.toFixed(2)} µs (${totals.off} PONGs), on ${perPong.on.toFixed(2)} µs (${totals.on} PONGs), on/off = ${(perPong.on / perPong.off).toFixed(3)} (${(((perPong.on - perPong.off) / perPong.off) * 100).toFixed(1)} %); target < 5 %: ${Math.abs(perPong.on - perPong.off) / perPong.off < 0.05 ? 'met' : 'NOT met'}`)
    console.log(`RESULT ${JSON.stringify({ offPerSecond: mOff, onPerSecond: mOn, cpuUsPerPongOff: perPong.off, cpuUsPerPongOn: perPong.on, pairedCpuRatio: pairedMedian, callsOnNs: cost.onNs, callsOffNs: cost.offNs, scrapeMs })}`)
  } finally {
    for (const c of [off, on]) {
      if (c.proc.exitCode === null) c.proc.kill('SIGTERM')
      if (c.proc.exitCode === null) await c.exited
    }
  }
}

if (values.role === 'server') await runServer()
else if (values.role === 'loader') await runLoader()
else await parent()
