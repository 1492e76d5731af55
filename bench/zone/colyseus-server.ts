/**
 * The Colyseus 0.16 server of the zone-replication bench, run as its own process (started by
 * servers.ts, pinned to the server's core like ours): @colyseus/core with the WebSocket transport
 * (the `ws` package, no per-message compression: Colyseus's defaults), local presence and
 * matchmaking, one room type `zone` (colyseus-room.ts). Prints `listening <port>` when ready;
 * SIGTERM shuts it down through Colyseus's own graceful shutdown.
 *
 *   node .tmp/bench-build/bench/zone/colyseus-server.js '{"port":2567,"patchRateMs":50,"zoneSide":1000}'
 */
import { Server } from '@colyseus/core'
import { WebSocketTransport } from '@colyseus/ws-transport'
import { ZoneRoom, type ZoneRoomOptions } from './colyseus-room.js'
import { COLYSEUS_ROOM_NAME } from './workload.js'

interface ColyseusServerOptions extends ZoneRoomOptions {
  readonly port: number
}

async function main(options: ColyseusServerOptions): Promise<void> {
  if (!(options.port > 0) || !(options.patchRateMs > 0) || !(options.zoneSide > 0)) {
    throw new Error(`expected {"port","patchRateMs","zoneSide"} > 0, got ${JSON.stringify(options)}`)
  }
  const server = new Server({ transport: new WebSocketTransport(), greet: false })
  server.define(COLYSEUS_ROOM_NAME, ZoneRoom, { patchRateMs: options.patchRateMs, zoneSide: options.zoneSide })
  await server.listen(options.port, '127.0.0.1')
  process.stdout.write(`listening ${options.port}\n`)
}

if (/colyseus-server\.[jt]s$/.test(process.argv[1] ?? '')) {
  main(JSON.parse(process.argv[2] ?? '{}') as ColyseusServerOptions).catch((err: unknown) => {
    process.stderr.write(`colyseus server failed: ${String((err as Error)?.stack ?? err)}\n`)
    process.exit(1)
  })
}
