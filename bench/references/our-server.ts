/**
 * Our net layer alone: GameServer (app/net/server.ts) with a dispatcher that does nothing (PING is
 * answered by the net layer itself), no metrics, silent logger. Configured from the environment
 * like `npm run serve` (GAME_PORT, FLUSH_*, MAX_FRAMES_PER_SECOND, …). `--idle-flush microtask`
 * switches the latency-aware flush from setImmediate (the default) to a microtask.
 *
 *   node --import tsx bench/references/our-server.ts   (prints LISTENING <port>)
 */
import { loadConfig } from '../../app/config/index.js'
import type { FrameDispatcher } from '../../app/net/connection.js'
import { GameServer } from '../../app/net/server.js'

const noopDispatcher: FrameDispatcher = {
  dispatch() {},
  disconnected() {},
}

const idleFlushArg = process.argv.indexOf('--idle-flush')
const idleFlushMode = idleFlushArg > 0 ? process.argv[idleFlushArg + 1] : undefined
if (idleFlushMode !== undefined && idleFlushMode !== 'microtask' && idleFlushMode !== 'immediate') {
  throw new Error(`--idle-flush must be microtask or immediate, got ${idleFlushMode}`)
}

const config = loadConfig({ GAME_HOST: '127.0.0.1', GAME_PORT: '0', ...process.env })
const server = new GameServer({ config, dispatcher: noopDispatcher, ...(idleFlushMode ? { session: { idleFlushMode } } : {}) })
const address = await server.listen()
process.stdout.write(`LISTENING ${address.port}\n`)
const stop = (): void => {
  void server.close(2000).then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
