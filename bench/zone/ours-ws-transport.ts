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
import { joinAs, OursConnection, OursPlayer } from './ours-player.js'
import type { PositionSink, Role, TransportTarget, ZoneConnection, ZoneTransport } from './transport.js'

/** Bytes of a server-to-client WebSocket frame header (unmasked; 2 up to 125 B of payload, 4 up to 64 KiB, else 10). */
const wsHeaderBytes = (payload: number): number => (payload < 126 ? 2 : payload < 65536 ? 4 : 10)

export class OursWebSocketTransport implements ZoneTransport {
  readonly label = 'ours (WebSocket: binary messages of whole frames, same sessions)'
  constructor(private readonly target: TransportTarget) {}

  async join(index: number, role: Role, sink: PositionSink | undefined): Promise<ZoneConnection> {
    return joinAs(new OursWebSocketConnection(`ws://${this.target.host}:${this.target.port}/ws`, role === 'observer' ? sink : undefined), `w${this.target.runId}_${index}`)
  }
}

class OursWebSocketConnection extends OursConnection {
  readonly player: OursPlayer
  readonly connected: Promise<void>
  private readonly ws: WebSocket
  protected readonly closed: Promise<void>

  constructor(url: string, sink: PositionSink | undefined) {
    super()
    const ws = new WebSocket(url, { perMessageDeflate: false })
    this.ws = ws
    this.player = new OursPlayer({ get open() { return ws.readyState === WebSocket.OPEN }, write: (frame) => ws.send(frame) }, sink, false)
    this.connected = new Promise((resolve, reject) => {
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

  private received(data: Buffer): void {
    const counters = this.player.counters
    counters.bytesIn += data.length + wsHeaderBytes(data.length)
    counters.messagesIn++
    if (this.player.onlyCounting) return
    if (!this.player.receive(data)) this.ws.terminate()
  }

  protected destroy(): void {
    this.ws.terminate()
  }
}
