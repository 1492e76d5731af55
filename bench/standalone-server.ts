/**
 * One standalone game server (app/main.ts: no database, no Redis, no metrics) as a child process on
 * the benches' server runtime ($BENCH_NODE, machine.ts), started and ready: it resolves with the
 * ports of the server's "listening" log line. The caller owns the process and stops it.
 */
import { fileURLToPath } from 'node:url'
import { ManagedProcess } from '../app/local/child-process.js'
import { serverNode } from './machine.js'

export interface StandaloneServer {
  readonly process: ManagedProcess
  /** The game port, and the WebSocket port when WS_PORT was set. */
  readonly port: number
  readonly webSocketPort: number | undefined
}

/** Start app/main.ts with `env` over a standalone base (loopback, port 0, LOG_LEVEL info). */
export async function startStandaloneServer(env: Record<string, string>): Promise<StandaloneServer> {
  const server = new ManagedProcess({
    name: 'game-server',
    command: serverNode().path,
    args: ['--import', 'tsx', 'app/main.ts'],
    cwd: fileURLToPath(new URL('../', import.meta.url)),
    env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', REDIS_URLS: '', METRICS_ENABLED: 'false', ...env },
  })
  try {
    await Promise.race([server.sawLine(/"event":"listening"/), server.waitForExit().then(() => { throw server.startError('exited') })])
    const line = server.output().split('\n').find((l) => l.includes('"event":"listening"'))!
    const listening = JSON.parse(line) as { port: number; webSocketPort?: number }
    return { process: server, port: listening.port, webSocketPort: listening.webSocketPort }
  } catch (err) {
    await server.stop()
    throw err
  }
}
