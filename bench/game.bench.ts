/**
 * The game path of `npm run serve` (a child process), measured from this process's clients:
 *   1. PING → PONG (the net layer only: the reference, same run, same clients);
 *   2. MOVE → PLAYER_MOVED with every player in ONE zone (each move reaches all C players through the
 *      zone stream: ZONE_UPDATE entries per zone tick);
 *   3. MOVE → PLAYER_MOVED with every player alone in its zone (no fan-out);
 *   4. CHAT → CHAT_MESSAGE in the shared zone.
 * C clients × 1 request in flight each, for --seconds per phase.
 *
 *   npx tsx bench/game.bench.ts [--clients 50] [--seconds 4]
 */
import { GameClient } from '../app/client/game-client.js'
import { describeMachine, percentile } from './machine.js'
import { startStandaloneServer } from './standalone-server.js'

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`)
  return value
}

const CLIENTS = Math.min(1000, Math.floor(option('clients', 50)))
const SECONDS = option('seconds', 4)
const ZONE_SIZE = 100

interface PhaseResult {
  readonly name: string
  readonly ops: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly framesReceived: number
}

async function phase(name: string, clients: GameClient[], op: (client: GameClient, i: number, k: number) => Promise<unknown>): Promise<PhaseResult> {
  const rtts: number[] = []
  const framesBefore = clients.reduce((n, c) => n + c.connection.stats.framesIn, 0)
  const started = performance.now()
  const end = started + SECONDS * 1000
  await Promise.all(clients.map(async (client, i) => {
    for (let k = 0; performance.now() < end; k++) {
      const t0 = performance.now()
      await op(client, i, k)
      rtts.push(performance.now() - t0)
    }
  }))
  const elapsedS = (performance.now() - started) / 1000
  const framesReceived = clients.reduce((n, c) => n + c.connection.stats.framesIn, 0) - framesBefore
  return { name, ops: rtts.length, perSecond: rtts.length / elapsedS, p50: percentile(rtts, 50), p99: percentile(rtts, 99), framesReceived }
}

async function main(): Promise<void> {
  const { process: server, port } = await startStandaloneServer({
    MAX_CONNECTIONS_PER_ADDRESS: '0', ZONE_COUNT: String(Math.max(2, CLIENTS)), ZONE_SIZE: String(ZONE_SIZE), MAX_SPEED: '1000000000', PASSWORD_HASH_COST: '1024', CHAT_HISTORY: '10', MAX_FRAMES_PER_SECOND: '100000',
  })
  try {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000, trackView: false })))
    const run = process.pid.toString(36)
    await Promise.all(clients.map((c, i) => c.register(`bench${run}_${i}`, 'bench-password')))
    const centre = ZONE_SIZE / 2

    const results: PhaseResult[] = []
    results.push(await phase('PING→PONG (net only)', clients, (c) => c.connection.ping()))
    results.push(await phase(`MOVE, ${CLIENTS} players in one zone`, clients, (c, _i, k) => c.move(centre + (k % 2), centre)))
    results.push(await phase(`CHAT, ${CLIENTS} players in one zone`, clients, (c, _i, k) => c.chat(`hello ${k}`)))
    await Promise.all(clients.map((c, i) => c.move((i + 0.5) * ZONE_SIZE, centre)))
    results.push(await phase('MOVE, one player per zone', clients, (c, i, k) => c.move((i + 0.5) * ZONE_SIZE + (k % 2), centre)))

    const reference = results[0]!.perSecond
    console.log(`game bench: ${CLIENTS} clients × 1 in flight, ${SECONDS} s per phase; server = app/main.ts child process (standalone)`)
    console.log(`machine: ${describeMachine()}`)
    console.log('| phase | requests/s | vs PING | RTT p50 ms | RTT p99 ms | frames received/s |')
    console.log('|---|---|---|---|---|---|')
    for (const r of results) {
      console.log(`| ${r.name} | ${Math.round(r.perSecond)} | ${(r.perSecond / reference).toFixed(2)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.framesReceived / SECONDS)} |`)
    }
    for (const c of clients) c.connection.destroy()
  } finally {
    await server.stop(15_000)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
