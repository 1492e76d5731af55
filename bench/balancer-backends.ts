/**
 * Child process of bench/balancer.bench.ts: N game servers (net layer answers PING; the
 * dispatcher drops everything else) on free loopback ports. Prints one JSON line
 * `{"ports":[…]}` when listening; exits on SIGTERM.
 */
import { loadConfig } from '../app/config/index.js'
import type { FrameDispatcher } from '../app/net/connection.js'
import { GameServer } from '../app/net/server.js'

const count = Number(process.argv[2] ?? 3)
const dispatcher: FrameDispatcher = { dispatch() {}, disconnected() {} }
const config = loadConfig({
  GAME_HOST: '127.0.0.1',
  GAME_PORT: '0',
  LOG_LEVEL: 'silent',
  IDLE_TIMEOUT_MS: '0',
  MAX_CONNECTIONS_PER_ADDRESS: '0',
  // The benchmark measures the proxies, not compression or rate limits.
  BATCH_THRESHOLD_BYTES: '100000000',
  MAX_FRAMES_PER_SECOND: '100000000',
  MAX_BYTES_PER_SECOND: '1000000000',
})
const servers: GameServer[] = []
for (let i = 0; i < count; i++) {
  const server = new GameServer({ config, dispatcher })
  await server.listen()
  servers.push(server)
}
process.stdout.write(`${JSON.stringify({ ports: servers.map((s) => s.address()!.port) })}\n`)
process.once('SIGTERM', () => {
  void Promise.all(servers.map((s) => s.close(1000))).then(() => process.exit(0))
})
