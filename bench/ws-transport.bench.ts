/**
 * WebSocket vs TCP on one game server, in one run (BENCHMARKS.md "WebSocket transport"): the server
 * (`app/main.ts`, standalone, a child process) listens on both; this process loads it over each
 * transport in turn, in interleaved paired rounds (the order alternates per round), and reads the
 * server's CPU time from /proc between the phases.
 *
 *   1. PING throughput: 100 connections × 16 PINGs in flight (closed loop): PONG/s and server CPU
 *      µs per PONG;
 *   2. latency: 100 connections × 1 in flight: RTT p50 / p99;
 *   3. game workload: --players players in one zone, each moving 4 times a second and chatting
 *      every 5 s (every move and chat goes to the whole zone): server CPU per player (µs of CPU
 *      per player-second), and the bytes a player receives per second.
 *   4. permessage-deflate, estimated offline: one WebSocket observer of the game workload records
 *      every message the server sent it; each is deflated as permessage-deflate would (raw deflate,
 *      level 1 and the default level, with and without context takeover), giving the bytes it would
 *      save and the CPU the server would spend per message and per recipient.
 *
 * WebSocket clients are the `ws` package's (the server side is `ws` too); TCP clients are net
 * sockets; both through the same typed client (`ClientConnection`).
 *
 *   npx tsx bench/ws-transport.bench.ts [--rounds 1] [--seconds 2] [--players 100]
 */
import { readdirSync, readFileSync } from 'node:fs'
import { constants, deflateRawSync } from 'node:zlib'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { ClientConnection, type ClientConnectionOptions } from '../app/client/connection.js'
import type { WebSocketLike } from '../app/client/websocket-stream.js'
import { GameClient } from '../app/client/game-client.js'
import { formatMachineFacts, percentile, requireFdLimit, round } from './machine.js'
import { startStandaloneServer } from './standalone-server.js'
import { median } from './stats.js'

// Defaults keep `npm run bench` short (≈ 25 s); BENCHMARKS.md's figures: --rounds 5 --seconds 4 --players 200
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1' }, seconds: { type: 'string', default: '2' }, players: { type: 'string', default: '100' } } })
const ROUNDS = Number(values.rounds)
const SECONDS = Number(values.seconds)
const PLAYERS = Number(values.players)
const WARMUP_MS = 500
const PING_PAYLOAD = Buffer.alloc(16, 0x61)
type Transport = 'tcp' | 'ws'

interface Ports {
  readonly tcp: number
  readonly ws: number
}

/**
 * CPU time of the server process in seconds, all its threads: the scheduler's run time in ns
 * (/proc/<pid>/task/<tid>/schedstat), not /proc/<pid>/stat's 10 ms ticks, too coarse for a
 * 3-second phase at a few hundred µs per player-second.
 */
function cpuSeconds(pid: number): number {
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e9
}

function connectOptions(transport: Transport, ports: Ports, tap?: (data: Buffer) => void): ClientConnectionOptions {
  if (transport === 'tcp') return { host: '127.0.0.1', port: ports.tcp, timeoutMs: 10_000 }
  return {
    host: '127.0.0.1',
    port: ports.ws,
    transport: 'ws',
    timeoutMs: 10_000,
    webSocket: (url) => {
      const ws = new WebSocket(url, { perMessageDeflate: false })
      if (tap) ws.on('message', (data: Buffer) => tap(data))
      return ws as unknown as WebSocketLike
    },
  }
}

interface PingResult {
  readonly pongsPerSecond: number
  readonly cpuMicrosPerPong: number
  readonly p50Ms: number
  readonly p99Ms: number
}

async function pingPhase(transport: Transport, ports: Ports, pid: number, connections: number, inFlight: number): Promise<PingResult> {
  const clients = await Promise.all(Array.from({ length: connections }, () => ClientConnection.connect(connectOptions(transport, ports))))
  try {
    let measuring = false
    let running = true
    const rtts: number[] = []
    const loops = clients.flatMap((client) => Array.from({ length: inFlight }, async () => {
      while (running) {
        const rtt = await client.ping(PING_PAYLOAD)
        if (measuring) rtts.push(rtt)
      }
    }))
    await sleep(WARMUP_MS)
    const cpu0 = cpuSeconds(pid)
    const t0 = performance.now()
    measuring = true
    await sleep(SECONDS * 1000)
    measuring = false
    const elapsed = (performance.now() - t0) / 1000
    const cpu = cpuSeconds(pid) - cpu0
    running = false
    await Promise.all(loops)
    return { pongsPerSecond: rtts.length / elapsed, cpuMicrosPerPong: (cpu * 1e6) / rtts.length, p50Ms: percentile(rtts, 50), p99Ms: percentile(rtts, 99) }
  } finally {
    for (const client of clients) client.destroy()
  }
}

interface GameResult {
  readonly cpuMicrosPerPlayerSecond: number
  readonly bytesInPerPlayerSecond: number
  readonly moveP99Ms: number
  /** Messages one WebSocket observer received during the measurement (ws only). */
  readonly observed: readonly Buffer[]
}

let accounts = 0
const RUN = process.pid.toString(36)

async function gamePhase(transport: Transport, ports: Ports, pid: number): Promise<GameResult> {
  const observed: Buffer[] = []
  let recording = false
  const players = await Promise.all(Array.from({ length: PLAYERS }, (_, i) => GameClient.connect({ ...connectOptions(transport, ports, i === 0 ? (data) => recording && observed.push(Buffer.from(data)) : undefined), inboxCapacity: 0 })))
  try {
    await Promise.all(players.map((p) => p.register(`ws${RUN}_${++accounts}`, 'bench-password')))
    let running = true
    let measuring = false
    const rtts: number[] = []
    const loops = players.map(async (player, i) => {
      const x = 100 + (i % 40) * 20
      const y = 100 + Math.floor(i / 40) * 20
      for (let k = 0; running; k++) {
        const t0 = performance.now()
        if (k % 20 === 19) await player.chat(`hello from ${i} (${k})`)
        else await player.move(x + (k % 2), y)
        if (measuring) rtts.push(performance.now() - t0)
        await sleep(250 - Math.min(250, performance.now() - t0))
      }
    })
    await sleep(WARMUP_MS * 2)
    const bytes0 = players.reduce((n, p) => n + p.connection.stats.bytesIn, 0)
    const cpu0 = cpuSeconds(pid)
    const t0 = performance.now()
    measuring = true
    recording = true
    await sleep(SECONDS * 1000)
    recording = false
    measuring = false
    const elapsed = (performance.now() - t0) / 1000
    const cpu = cpuSeconds(pid) - cpu0
    const bytes = players.reduce((n, p) => n + p.connection.stats.bytesIn, 0) - bytes0
    running = false
    await Promise.all(loops)
    return { cpuMicrosPerPlayerSecond: (cpu * 1e6) / (PLAYERS * elapsed), bytesInPerPlayerSecond: bytes / (PLAYERS * elapsed), moveP99Ms: percentile(rtts, 99), observed }
  } finally {
    for (const player of players) player.connection.destroy()
  }
}

/** What permessage-deflate would do to `messages` (the server's messages to one client). */
function deflateEstimate(messages: readonly Buffer[]): string[] {
  const original = messages.reduce((n, m) => n + m.length, 0)
  const lines: string[] = []
  for (const level of [1, constants.Z_DEFAULT_COMPRESSION]) {
    // no context takeover: each message compressed on its own (RFC 7692 drops the 4-byte trailer);
    // the fastest of 10 passes (the first ones warm zlib and the JIT up)
    let alone = 0
    let micros = Number.POSITIVE_INFINITY
    for (let pass = 0; pass < 10; pass++) {
      alone = 0
      const t0 = performance.now()
      for (const m of messages) alone += deflateRawSync(m, { level }).length - 4
      micros = Math.min(micros, ((performance.now() - t0) * 1000) / Math.max(1, messages.length))
    }
    // context takeover: one stream per connection, so later messages refer back to earlier ones;
    // bounded below by compressing them back to back (+1 byte of flush per message)
    const shared = deflateRawSync(Buffer.concat(messages as Buffer[]), { level }).length + messages.length
    const name = level === 1 ? 'level 1' : 'default level (6)'
    lines.push(`  ${name}, no context takeover: ${pct(alone, original)} of the bytes, ${round(micros, 2)} µs CPU per message and recipient`)
    lines.push(`  ${name}, context takeover: ≥ ${pct(shared, original)} of the bytes, plus a zlib context per client (${level === 1 ? '≈ 64' : '≈ 256'} KiB at the default window)`)
  }
  return [`permessage-deflate estimate on ${messages.length} messages (${original} bytes, mean ${round(original / Math.max(1, messages.length), 1)} B) one WebSocket player received in the game phase:`, ...lines]
}

function pct(part: number, whole: number): string {
  return `${round((100 * part) / Math.max(1, whole), 1)} %`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}

async function main(): Promise<void> {
  if (!(ROUNDS >= 1 && SECONDS > 0 && PLAYERS >= 2)) throw new Error('--rounds ≥ 1, --seconds > 0, --players ≥ 2')
  requireFdLimit(2 * (100 + PLAYERS) + 200, 'ws-transport bench')
  const started = await startStandaloneServer({
    WS_HOST: '127.0.0.1', WS_PORT: '0', WS_PLAYGROUND: 'false',
    MAX_CONNECTIONS_PER_ADDRESS: '0', MAX_FRAMES_PER_SECOND: '1000000', MAX_BYTES_PER_SECOND: '1000000000', IDLE_TIMEOUT_MS: '0', ZONE_COUNT: '1', MAX_SPEED: '1000000', PASSWORD_HASH_COST: '1024', CHAT_HISTORY: '10',
  })
  const server = started.process
  try {
    const ports: Ports = { tcp: started.port, ws: started.webSocketPort! }
    const pid = server.pid!
    console.log(`ws-transport bench: one server (app/main.ts, standalone) on TCP and WebSocket; ${ROUNDS} paired rounds, order alternating; ${SECONDS} s per phase`)
    console.log(formatMachineFacts())

    const results: Record<Transport, { ping: PingResult[]; latency: PingResult[]; game: GameResult[] }> = { tcp: { ping: [], latency: [], game: [] }, ws: { ping: [], latency: [], game: [] } }
    let observed: readonly Buffer[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const order: Transport[] = round % 2 === 0 ? ['tcp', 'ws'] : ['ws', 'tcp']
      for (const transport of order) results[transport].ping.push(await pingPhase(transport, ports, pid, 100, 16))
      for (const transport of order) results[transport].latency.push(await pingPhase(transport, ports, pid, 100, 1))
      for (const transport of order) {
        const game = await gamePhase(transport, ports, pid)
        results[transport].game.push(game)
        if (transport === 'ws' && game.observed.length > observed.length) observed = game.observed
      }
      const r = (t: Transport) => `${t}: ${Math.round(results[t].ping[round]!.pongsPerSecond)} PONG/s, ${round2(results[t].ping[round]!.cpuMicrosPerPong)} µs CPU/PONG, p99 ${round2(results[t].latency[round]!.p99Ms)} ms, game ${round2(results[t].game[round]!.cpuMicrosPerPlayerSecond)} µs CPU per player-second`
      console.log(`round ${round + 1} (${order.join(' then ')}): ${r('tcp')} | ${r('ws')}`)
    }

    const med = (t: Transport, pick: (x: { ping: PingResult; latency: PingResult; game: GameResult }) => number): number =>
      median(results[t].ping.map((_, i) => pick({ ping: results[t].ping[i]!, latency: results[t].latency[i]!, game: results[t].game[i]! })))
    const ratio = (pick: (x: { ping: PingResult; latency: PingResult; game: GameResult }) => number): string => {
      const per = results.tcp.ping.map((_, i) => pick({ ping: results.ws.ping[i]!, latency: results.ws.latency[i]!, game: results.ws.game[i]! }) / pick({ ping: results.tcp.ping[i]!, latency: results.tcp.latency[i]!, game: results.tcp.game[i]! }))
      return per.map((x) => round2(x)).join(' / ')
    }
    const rows: [string, (x: { ping: PingResult; latency: PingResult; game: GameResult }) => number][] = [
      ['PONG/s at 100 × 16', (x) => x.ping.pongsPerSecond],
      ['server CPU µs per PONG at 100 × 16', (x) => x.ping.cpuMicrosPerPong],
      ['RTT p50 ms at 100 × 1', (x) => x.latency.p50Ms],
      ['RTT p99 ms at 100 × 1', (x) => x.latency.p99Ms],
      [`game, ${PLAYERS} players in one zone: server CPU µs per player-second`, (x) => x.game.cpuMicrosPerPlayerSecond],
      ['game: bytes received per player-second', (x) => x.game.bytesInPerPlayerSecond],
      ['game: MOVE/CHAT RTT p99 ms', (x) => x.game.moveP99Ms],
    ]
    console.log('')
    console.log('| measure (median of the rounds) | TCP | WebSocket | WebSocket / TCP per round |')
    console.log('|---|---|---|---|')
    for (const [name, pick] of rows) console.log(`| ${name} | ${round2(med('tcp', pick))} | ${round2(med('ws', pick))} | ${ratio(pick)} |`)
    console.log('')
    for (const line of deflateEstimate(observed)) console.log(line)
  } finally {
    await server.stop(15_000)
  }
}

function round2(value: number): number {
  return round(value, value >= 100 ? 0 : 2)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
