// The local appliance (npm start's topology) as an operator meets it: time until ready (per
// service), PING round trips through the balancer against the same PINGs sent straight to a game
// server in the same run (the cost of the balancer hop), and the time to stop everything.
//   npx tsx bench/appliance.bench.ts [--servers 2] [--shards 2] [--pings 2000]
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClientConnection } from '../app/client/connection.js'
import { Appliance } from '../app/local/appliance.js'
import { freePort } from '../app/local/ports.js'
import { createLogger } from '../app/logger.js'
import { FrameType } from '../app/protocol/types.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from '../app/topology/index.js'
import { formatMachineFacts, percentile, round } from './machine.js'

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}

const servers = option('servers', 2)
const shards = option('shards', 2)
const pings = option('pings', 2000)

/** Sequential PINGs on one connection: round-trip times in ms. */
async function pingRtts(host: string, port: number, count: number): Promise<number[]> {
  const connection = await ClientConnection.connect({ host, port })
  const payload = Buffer.alloc(16)
  const rtts: number[] = []
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now()
      const seq = connection.send(FrameType.PING, payload)
      await connection.waitFor((f) => f.type === FrameType.PONG && f.seq === seq)
      rtts.push(performance.now() - started)
    }
  } finally {
    await connection.close()
  }
  return rtts
}

const summary = (rtts: number[]) => ({ p50: round(percentile(rtts, 50), 3), p99: round(percentile(rtts, 99), 3), perSecond: Math.round(rtts.length / (rtts.reduce((a, b) => a + b, 0) / 1000)) })

console.log(formatMachineFacts())
console.log(`appliance: ${servers} servers, ${shards} Redis shards, PostgreSQL, exporters and Prometheus when installed; ${pings} sequential PINGs per path, in 4 alternating slices`)
const dir = await mkdtemp(join(tmpdir(), 'gs-bench-appliance-'))
const ready = new Map<string, number>()
const logger = createLogger({ level: 'info', name: 'bench', destination: { write: (line: string) => void (/"msg":"ready"/.test(line) && ready.set(JSON.parse(line).service, performance.now())) } })
const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers, redisShards: shards, balancerPort: await freePort(), balancerWebSocketPort: await freePort(), prometheusPort: await freePort(), logLevel: 'warn' })
const started = performance.now()
const appliance = await Appliance.start({ topology, dir, logger, readyTimeoutMs: 120_000, observability: true })
const readyMs = performance.now() - started
try {
  console.log(`\nready after ${Math.round(readyMs)} ms (a PING through the balancer answered); per service, ms after start:`)
  for (const [service, at] of [...ready].sort((a, b) => a[1] - b[1])) console.log(`  ${service.padEnd(18)} ${Math.round(at - started)}`)
  const [host, port] = appliance.endpoints.game.split(':')
  // Alternating slices (warm-up first), so machine noise hits both paths alike.
  await pingRtts(host!, Number(port), 200)
  const direct: number[] = []
  const balanced: number[] = []
  for (let slice = 0; slice < 4; slice++) {
    direct.push(...(await pingRtts('127.0.0.1', appliance.port('game-1', 'game'), pings / 4)))
    balanced.push(...(await pingRtts(host!, Number(port), pings / 4)))
  }
  const d = summary(direct)
  const b = summary(balanced)
  console.log('\n| path | RTT p50 ms | RTT p99 ms | sequential PINGs/s | vs direct |')
  console.log('|---|---|---|---|---|')
  console.log(`| straight to game-1 (reference) | ${d.p50} | ${d.p99} | ${d.perSecond} | 1.00 |`)
  console.log(`| through the balancer | ${b.p50} | ${b.p99} | ${b.perSecond} | ${round(b.perSecond / d.perSecond, 2)} |`)
} finally {
  const stopping = performance.now()
  await appliance.stop()
  console.log(`\nstopped everything in ${Math.round(performance.now() - stopping)} ms`)
  await rm(dir, { recursive: true, force: true })
}
