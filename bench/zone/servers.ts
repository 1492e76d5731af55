/**
 * The servers under test of the zone-replication bench, each a child process on serverNode()
 * (bench/machine.ts), compiled once to JavaScript (bench/net/processes.ts), optionally pinned:
 *
 *   ours          `npm run serve` (app/main.ts, standalone stores) with one zone that holds everyone
 *   ours-ws       the same server, its players connected over its WebSocket listener (WS_PORT)
 *   colyseus-<ms> Colyseus 0.16 (colyseus-server.ts) with patches every <ms> ms (50 is its default)
 *
 * Every server started here is stopped by its owner (and killed on exit by ManagedProcess).
 */
import { ManagedProcess } from '../../app/local/child-process.js'
import { freePort } from '../../app/local/ports.js'
import { serverNode } from '../machine.js'
import { nodeCommand, REPO_ROOT, scriptArgs, startServer } from '../net/processes.js'
import type { ProtocolKind } from './generator.js'

/** The environment variable of our server's view radius (interest management, docs/PROTOCOL.md §4.8). */
export const VIEW_RADIUS_VARIABLE = 'VIEW_RADIUS'

export interface ZoneServerSpec {
  /** As given on the command line: `ours`, `colyseus-50`, `colyseus-5`. */
  readonly name: string
  readonly protocol: ProtocolKind
  /** Colyseus patch interval; 0 for ours. */
  readonly patchRateMs: number
}

export function parseServerSpec(name: string): ZoneServerSpec {
  if (name === 'ours') return { name, protocol: 'ours', patchRateMs: 0 }
  if (name === 'ours-ws') return { name, protocol: 'ours-ws', patchRateMs: 0 }
  const m = /^colyseus-(\d+)$/.exec(name)
  if (m && Number(m[1]) > 0) return { name, protocol: 'colyseus', patchRateMs: Number(m[1]) }
  throw new Error(`unknown server ${name}: expected ours, ours-ws or colyseus-<patch ms> (e.g. colyseus-50, colyseus-5)`)
}

export interface ZoneServerSetup {
  /** Side of the one square zone (world units). */
  readonly zoneSide: number
  /** Passed to ours as VIEW_RADIUS_VARIABLE when > 0. */
  readonly viewRadius: number
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs: readonly string[]
  /** taskset CPU list, e.g. `1`; undefined = not pinned. */
  readonly cpus: string | undefined
}

export interface RunningZoneServer {
  readonly spec: ZoneServerSpec
  readonly port: number
  readonly pid: number
  stop(): Promise<void>
}

const READY_TIMEOUT_MS = 30_000

export async function startZoneServer(spec: ZoneServerSpec, setup: ZoneServerSetup): Promise<RunningZoneServer> {
  return spec.protocol === 'colyseus' ? startColyseus(spec, setup) : startOurs(spec, setup)
}

async function startOurs(spec: ZoneServerSpec, setup: ZoneServerSetup): Promise<RunningZoneServer> {
  const env: Record<string, string> = {
    // One zone as large as the layout needs, so every player stays in it and every move is accepted.
    ZONE_COUNT: '1',
    ZONE_SIZE: String(setup.zoneSide),
    // The first move teleports from the spawn point to the player's place in the layout.
    MAX_SPEED: '1000000000',
    // Standalone, in-memory stores; cheap password hashes so a thousand REGISTERs take a second.
    DATABASE_URL: '',
    REDIS_URLS: '',
    PASSWORD_HASH_COST: '1024',
  }
  if (setup.viewRadius > 0) env[VIEW_RADIUS_VARIABLE] = String(setup.viewRadius)
  // ours-ws: the players connect to the WebSocket listener (it listens before the TCP port answers PINGs)
  const webSocketPort = spec.protocol === 'ours-ws' ? await freePort() : null
  if (webSocketPort !== null) Object.assign(env, { WS_HOST: '127.0.0.1', WS_PORT: String(webSocketPort), WS_PLAYGROUND: 'false' })
  const running = await startServer('ours', env, [...setup.nodeArgs], setup.cpus)
  const pid = running.process.pid
  if (pid === undefined) {
    await running.stop()
    throw new Error('our server has no pid')
  }
  return { spec, port: webSocketPort ?? running.port, pid, stop: running.stop }
}

async function startColyseus(spec: ZoneServerSpec, setup: ZoneServerSetup): Promise<RunningZoneServer> {
  const port = await freePort()
  const options = { port, patchRateMs: spec.patchRateMs, zoneSide: setup.zoneSide }
  const proc = new ManagedProcess({
    name: `${spec.name}:${port}`,
    ...nodeCommand([...setup.nodeArgs, ...(await scriptArgs('bench/zone/colyseus-server.ts')), JSON.stringify(options)], setup.cpus, serverNode().path),
    cwd: REPO_ROOT,
    // As Colyseus is deployed: NODE_ENV=production skips its development-only checks.
    env: { ...process.env, NODE_ENV: 'production' },
  })
  let timer: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    proc.sawLine(/^listening \d+$/).then(() => 'ready' as const),
    proc.waitForExit().then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), READY_TIMEOUT_MS))),
  ])
  clearTimeout(timer)
  if (outcome !== 'ready' || proc.pid === undefined) {
    await proc.stop(2000)
    throw proc.startError(outcome === 'timeout' ? `not listening within ${READY_TIMEOUT_MS} ms` : 'exited before listening')
  }
  return { spec, port, pid: proc.pid, stop: () => proc.stop(5000) }
}
