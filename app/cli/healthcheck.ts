// Container health check: one PING to a game port (a server's, or the balancer's) answered by a
// PONG with the same seq and payload. Exit 0 when answered, 1 otherwise, 2 for a bad argument.
//   node dist/app/cli/healthcheck.js [--host 127.0.0.1] [--port $GAME_PORT] [--timeout-ms 3000]
import { ClientConnection } from '../client/connection.js'
import { serverSection } from '../config/sections.js'
import { FrameType } from '../protocol/types.js'
import { commandLine, EXIT_USAGE } from './command.js'

const USAGE = `usage: healthcheck [--host 127.0.0.1] [--port $GAME_PORT|7777] [--timeout-ms 3000]

Sends one PING to a game port (a server's or the balancer's) and waits for its PONG.
Exit codes: 0 answered, 1 not answered in time or refused, 2 bad argument.`

const { values } = commandLine('healthcheck', USAGE, { host: { type: 'string' }, port: { type: 'string' }, 'timeout-ms': { type: 'string' } })
const host = (values.host as string | undefined) ?? '127.0.0.1'
// GAME_PORT's default from the config table (the check runs without loading the whole configuration)
const port = Number((values.port as string | undefined) ?? process.env.GAME_PORT ?? serverSection.port.defaultValue)
const timeoutMs = Number((values['timeout-ms'] as string | undefined) ?? 3000)
if (!Number.isInteger(port) || port < 1 || port > 65535 || !(timeoutMs > 0)) {
  console.error(`healthcheck: --port must be 1–65535 and --timeout-ms positive\n${USAGE}`)
  process.exit(EXIT_USAGE)
}

async function check(): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port ${port}`)
  const connection = await ClientConnection.connect({ host, port, connectTimeoutMs: timeoutMs, timeoutMs })
  try {
    const payload = Buffer.from(`health ${process.pid}`)
    const seq = connection.send(FrameType.PING, payload)
    const pong = await connection.waitFor((f) => f.type === FrameType.PONG && f.seq === seq)
    if (!pong.payload.equals(payload)) throw new Error('PONG payload differs from the PING')
  } finally {
    void connection.close()
  }
}

check().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`unhealthy: ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)
