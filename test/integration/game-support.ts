/** Shared pieces of the game integration tests: an in-process server and logged-in clients. */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { GameClient } from '../../app/client/game-client.js'
import { loadConfig, type Env } from '../../app/config/index.js'
import { ManagedProcess } from '../../app/local/child-process.js'
import { silentLogger } from '../../app/logger.js'
import { startServer, type ServerHandle } from '../../app/processes/game-server.js'
import type { Harness } from '../harness/index.js'
import { CountingMetrics } from '../harness/net-server.js'

export const PASSWORD = 'correct-horse-battery'

/** Fast scrypt and a small world; override per test. */
export const TEST_ENV: Env = { GAME_HOST: '127.0.0.1', GAME_PORT: '0', PASSWORD_HASH_COST: '1024', ZONE_SIZE: '100', ZONE_COUNT: '2', MAX_SPEED: '1000' }

export interface GameFixture {
  readonly handle: ServerHandle
  readonly metrics: CountingMetrics
  connect(): Promise<GameClient>
  /** A new account, registered and logged in on a new connection. */
  player(prefix?: string): Promise<GameClient>
  close(): Promise<void>
}

const run = randomBytes(3).toString('hex')
let counter = 0
export function uniqueUsername(prefix = 'p'): string {
  return `${prefix}${run}_${++counter}`
}

/** The transports a fixture's clients can use; `ws` starts the server with a WebSocket listener. */
export type ClientTransport = 'tcp' | 'ws'

export async function startGame(env: Env = {}, metrics = new CountingMetrics(), transport: ClientTransport = 'tcp'): Promise<GameFixture> {
  const config = loadConfig({ ...TEST_ENV, ...(transport === 'ws' ? { WS_PORT: '0', WS_PLAYGROUND: 'false' } : {}), ...env })
  const handle = await startServer(config, { logger: silentLogger, metrics })
  const clients: GameClient[] = []
  const connect = async (): Promise<GameClient> => {
    const client = await GameClient.connect(transport === 'ws' ? { host: '127.0.0.1', port: handle.webSocketPort!, transport, timeoutMs: 3000 } : { host: '127.0.0.1', port: handle.port, timeoutMs: 3000 })
    clients.push(client)
    return client
  }
  return {
    handle,
    metrics,
    connect,
    async player(prefix = 'p') {
      const client = await connect()
      await client.register(uniqueUsername(prefix), PASSWORD)
      return client
    },
    async close() {
      for (const client of clients) client.connection.destroy()
      await handle.close(2000)
    },
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url))

/** `app/main.ts` as a child process owned by `harness` (loopback, free ports, standalone unless env says otherwise). */
export function spawnServer(harness: Harness, env: Record<string, string>): ManagedProcess {
  return harness.own(new ManagedProcess({
    name: 'game-server',
    command: process.execPath,
    args: ['--import', 'tsx', 'app/main.ts'],
    cwd: root,
    env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: '0', METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', REDIS_URLS: '', ...env },
    tailLines: 400,
  }))
}

export async function listeningPort(server: ManagedProcess): Promise<number> {
  await Promise.race([server.sawLine(/"event":"listening"/), server.waitForExit().then(() => { throw server.startError('exited before listening') })])
  const line = server.output().split('\n').find((l) => l.includes('"event":"listening"'))!
  return (JSON.parse(line) as { port: number }).port
}
