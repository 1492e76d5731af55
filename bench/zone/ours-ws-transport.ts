/**
 * Our server over its WebSocket transport (docs/PROTOCOL.md §7) in the zone-replication workload:
 * the same frames as ours-transport.ts, in binary WebSocket messages (whole frames, several per
 * message), through the `ws` package — the same WebSocket implementation as the Colyseus clients
 * of colyseus-transport.ts, so the two servers are compared on one transport.
 *
 * The protocol is ours-player.ts, as over TCP; observers decode every frame of every message.
 * Counters count WebSocket messages and their bytes without decoding (as the Colyseus counters do).
 */
import WebSocket from 'ws'
import { OursPlayer } from './ours-player.js'
import type { PositionSink, Role, TransportTarget, ZoneConnection, ZoneTransport } from './transport.js'

/** Bytes of a server-to-client WebSocket frame header (unmasked; 2 up to 125 B of payload, 4 up to 64 KiB, else 10). */
const wsHeaderBytes = (payload: number): number => (payload < 126 ? 2 : payload < 65536 ? 4 : 10)

export class OursWebSocketTransport implements ZoneTransport {
  readonly label = 'ours (WebSocket: binary messages of whole frames, same sessions)'
  constructor(private readonly target: TransportTarget) {}

  async join(index: number, role: Role, sink: PositionSink | undefined): Promise<ZoneConnection> {
    const connection = new OursWebSocketConnection(`ws://${this.target.host}:${this.target.port}/ws`, role === 'observer' ? sink : undefined)
    try {
      await connection.opened
      await connection.player.register(`w${this.target.runId}_${index}`)
      return connection
    } catch (err) {
      await connection.close()
      throw err
    }
  }
}

class OursWebSocketConnection implements ZoneConnection {
  readonly player: OursPlayer
  readonly opened: Promise<void>
  private readonly ws: WebSocket
  private readonly closed: Promise<void>

  constructor(url: string, sink: PositionSink | undefined) {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    this.ws = ws
    this.player = new OursPlayer({ get open() { return ws.readyState === WebSocket.OPEN }, write: (frame) => ws.send(frame) }, sink, false)
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject)
        resolve()
      })
      ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()))
    ws.on('message', (data: Buffer) => this.received(data))
    ws.on('error', (err) => this.player.ended(err.message))
    ws.on('close', (code) => this.player.ended(`closed by the server (${code})`))
  }

  get key(): number {
    return this.player.key
  }

  get counters() {
    return this.player.counters
  }

  get failure(): string | undefined {
    return this.player.failure
  }

  private received(data: Buffer): void {
    const counters = this.player.counters
    counters.bytesIn += data.length + wsHeaderBytes(data.length)
    counters.messagesIn++
    if (this.player.onlyCounting) return
    if (!this.player.receive(data)) this.ws.terminate()
  }

  sendMove(x: number, y: number): void {
    this.player.sendMove(x, y)
  }

  keepAlive(): void {
    this.player.keepAlive()
  }

  async close(): Promise<void> {
    this.player.closing = true
    this.ws.terminate()
    await this.closed
  }
}
