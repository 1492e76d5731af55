// Container health check: one PING to a game port (a server's, or the balancer's) answered by a
// PONG with the same seq and payload. Exit 0 when answered, 1 otherwise.
//   node dist/app/cli/healthcheck.js [--host 127.0.0.1] [--port $GAME_PORT] [--timeout-ms 3000]
import { ClientConnection } from '../client/connection.js'
import { FrameType } from '../protocol/types.js'

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? process.argv[at + 1] : undefined
}

const host = option('host') ?? '127.0.0.1'
const port = Number(option('port') ?? process.env.GAME_PORT ?? 7777)
const timeoutMs = Number(option('timeout-ms') ?? 3000)

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
