/**
 * Our server's side of the zone-replication workload over TCP (docs/PROTOCOL.md, protocol version
 * 2): REGISTER → LOGIN_OK (which names the zone geometry), MOVE frames answered by PLAYER_MOVED to
 * the mover only, and the zone stream: per zone tick one set of ZONE_UPDATE frames written as the
 * same bytes to everyone who sees the movers, packed into zlib BATCH frames with seq 0 once per
 * tick when that pays; with a view radius, PLAYER_JOINED / PLAYER_LEFT (reason 2) as players enter
 * and leave an observer's view. The protocol is ours-player.ts; this file moves the bytes.
 *
 * Observers decode every frame; counters split the byte stream into top-level frames and count them.
 */
import { connect, type Socket } from 'node:net'
import { joinAs, OursConnection, OursPlayer } from './ours-player.js'
import type { PositionSink, Role, TransportTarget, ZoneConnection, ZoneTransport } from './transport.js'

export class OursTransport implements ZoneTransport {
  readonly label = 'ours (TCP, protocol 2: MOVE → zone stream of quantised ZONE_UPDATEs per tick, shared zlib BATCH)'
  constructor(private readonly target: TransportTarget) {}

  async join(index: number, role: Role, sink: PositionSink | undefined): Promise<ZoneConnection> {
    return joinAs(new OursTcpConnection(this.target.host, this.target.port, role === 'observer' ? sink : undefined), `z${this.target.runId}_${index}`)
  }
}

/**
 * Every connection reads into this one buffer (net's `onread`): no Buffer is allocated per read,
 * which keeps the generator's cost per received chunk low when thousands of sockets each receive
 * thousands of small frames a second. Safe because a chunk is fully processed before the next
 * read, and the decoder copies what it keeps (a frame split across reads).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024)

class OursTcpConnection extends OursConnection {
  readonly player: OursPlayer
  readonly connected: Promise<void>
  protected readonly closed: Promise<void>
  private readonly socket: Socket

  constructor(host: string, port: number, sink: PositionSink | undefined) {
    super()
    const socket = connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: (bytes) => this.received(bytes) } })
    this.socket = socket
    this.player = new OursPlayer({ get open() { return !socket.destroyed }, write: (frame) => socket.write(frame) }, sink, true)
    this.connected = new Promise((resolve, reject) => {
      socket.once('connect', () => {
        socket.removeListener('error', reject)
        resolve()
      })
      socket.once('error', reject)
    })
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('error', (err) => this.player.ended(err.message))
    socket.on('close', () => this.player.ended('closed by the server'))
  }

  /** One read of `bytes` bytes into READ_BUFFER. */
  private received(bytes: number): boolean {
    this.player.counters.bytesIn += bytes
    if (!this.player.receive(READ_BUFFER.subarray(0, bytes))) this.socket.destroy()
    return true
  }

  protected destroy(): void {
    this.socket.destroy()
  }
}
