/**
 * The Colyseus side of the zone-replication workload: seat reservation over HTTP
 * (`POST /matchmake/joinOrCreate/zone`), then a WebSocket to the room.
 *
 * Observers are real Colyseus clients: colyseus.js 0.16 consumes the reservation, decodes every
 * state patch with @colyseus/schema and reports each player whose state changed (its onChange
 * callback, once per player per patch) with the position it now holds. Counters speak the room
 * protocol directly over a minimal WebSocket client (ws-counter.ts) — acknowledge JOIN_ROOM, send
 * moves, count the messages and their bytes — so thousands of them fit on the generator's core;
 * their moves are byte for byte what colyseus.js's `room.send('move', { x, y })` sends.
 */
import { Client, getStateCallbacks, Room, type SeatReservation as SdkSeatReservation } from 'colyseus.js'
import type { ConnectionCounters, PositionSink, Role, TransportTarget, ZoneConnection, ZoneTransport } from './transport.js'
import { COLYSEUS_ROOM_NAME } from './workload.js'
import { WsCounter } from './ws-counter.js'

const JOIN_TIMEOUT_MS = 30_000

/** Colyseus wire codes (@colyseus/core Protocol). */
const JOIN_ROOM = 10

/** The matchmaker's answer; the server also sends the room's processId (part of the WebSocket path), which the SDK's type leaves out. */
type SeatReservation = SdkSeatReservation & { readonly room: { readonly processId: string } }

export class ColyseusTransport implements ZoneTransport {
  readonly label: string
  private readonly sdk: Client

  constructor(private readonly target: TransportTarget, patchRateMs: number) {
    this.label = `Colyseus 0.16 (WebSocket, schema patches every ${patchRateMs} ms)`
    this.sdk = new Client({ hostname: target.host, port: target.port, secure: false })
  }

  async join(_index: number, role: Role, sink: PositionSink | undefined): Promise<ZoneConnection> {
    const reservation = await this.reserveSeat()
    if (role === 'observer' && sink !== undefined) return withTimeout(ColyseusObserver.join(this.sdk, reservation, sink), `joining room ${reservation.room.roomId}`)
    const path = `/${reservation.room.processId}/${reservation.room.roomId}?sessionId=${reservation.sessionId}`
    return withTimeout(ColyseusCounter.join(this.target.host, this.target.port, path, reservation.sessionId), `joining room ${reservation.room.roomId}`)
  }

  private async reserveSeat(): Promise<SeatReservation> {
    const response = await fetch(`http://${this.target.host}:${this.target.port}/matchmake/joinOrCreate/${COLYSEUS_ROOM_NAME}`, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(JOIN_TIMEOUT_MS),
    })
    const body = (await response.json()) as Partial<SeatReservation> & { error?: string; code?: number }
    if (!response.ok || body.error !== undefined || body.room === undefined || body.sessionId === undefined) {
      throw new Error(`Colyseus matchmaking refused the seat (HTTP ${response.status}): ${body.error ?? JSON.stringify(body)} (code ${body.code})`)
    }
    return body as SeatReservation
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${JOIN_TIMEOUT_MS} ms`)), JOIN_TIMEOUT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Bytes of the WebSocket frame header of an unmasked server message of `length` bytes (RFC 6455 §5.2). */
function frameHeaderBytes(length: number): number {
  return length < 126 ? 2 : length < 65536 ? 4 : 10
}

/**
 * The counters' moves, encoded by colyseus.js itself: a Room that is never connected, whose
 * `send('move', { x, y })` (ROOM_DATA, the type, msgpackr-packed { x, y }) is captured instead of
 * written. The bytes are the SDK's, whatever msgpackr makes of each number.
 */
class MoveEncoder {
  private readonly room = new Room(COLYSEUS_ROOM_NAME)
  private captured: Buffer | undefined

  constructor() {
    this.room.connection = {
      send: (data: Uint8Array) => {
        // The room reuses its buffer for the next message: copy.
        this.captured = Buffer.from(data)
      },
    } as unknown as Room['connection']
  }

  encode(x: number, y: number): Buffer {
    this.room.send('move', { x, y })
    const bytes = this.captured!
    this.captured = undefined
    return bytes
  }
}
const moveEncoder = new MoveEncoder()

class ColyseusCounter implements ZoneConnection {
  failure: string | undefined
  private closing = false

  private constructor(private readonly ws: WsCounter, readonly key: string) {}

  get counters(): ConnectionCounters {
    return { bytesIn: this.ws.bytesIn, messagesIn: this.ws.messagesIn, movesRefused: 0, lastRefusalCode: 0 }
  }

  static async join(host: string, port: number, path: string, sessionId: string): Promise<ColyseusCounter> {
    let connection: ColyseusCounter | undefined
    let joined: () => void = () => undefined
    let refused: (err: Error) => void = () => undefined
    const join = new Promise<void>((resolve, reject) => {
      joined = resolve
      refused = reject
    })
    const ws = new WsCounter(host, port, path, {
      onMessageStart: (firstByte) => {
        if (connection !== undefined || firstByte !== JOIN_ROOM) return
        connection = new ColyseusCounter(ws, sessionId)
        // Acknowledge the join; the server then sends the full state and the patches.
        ws.send(Buffer.of(JOIN_ROOM))
        joined()
      },
      onClose: (reason) => {
        if (connection === undefined) refused(new Error(`Colyseus WebSocket: ${reason} before JOIN_ROOM`))
        else if (!connection.closing) connection.failure ??= reason
      },
    })
    try {
      await ws.open()
      await join
    } catch (err) {
      ws.destroy()
      throw err
    }
    return connection!
  }

  sendMove(x: number, y: number): void {
    this.ws.send(moveEncoder.encode(x, y))
  }

  /** Colyseus has no idle timeout (its own WebSocket pings, answered here, keep the connection). */
  keepAlive(): void {}

  async close(): Promise<void> {
    this.closing = true
    this.ws.destroy()
    await this.ws.closed
  }
}

interface PlayerView {
  readonly x: number
  readonly y: number
}

class ColyseusObserver implements ZoneConnection {
  readonly counters: ConnectionCounters = { bytesIn: 0, messagesIn: 0, movesRefused: 0, lastRefusalCode: 0 }
  failure: string | undefined
  private closing = false
  readonly key: string

  private constructor(private readonly room: Room) {
    this.key = room.sessionId
  }

  static async join(sdk: Client, reservation: SeatReservation, sink: PositionSink): Promise<ColyseusObserver> {
    const room = await sdk.consumeSeatReservation(reservation)
    const observer = new ColyseusObserver(room)
    // Count what arrives on the room's socket (a listener beside the SDK's own).
    const transport = room.connection.transport as { ws?: { addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void } }
    transport.ws?.addEventListener('message', (event) => {
      const data = event.data as ArrayBuffer | Buffer
      observer.counters.bytesIn += data.byteLength + frameHeaderBytes(data.byteLength)
      observer.counters.messagesIn++
    })
    room.onLeave((code) => {
      if (!observer.closing) observer.failure ??= `left the room (code ${code})`
    })
    const $ = getStateCallbacks(room)
    if ($ === undefined) throw new Error('colyseus.js: the room has no schema serializer')
    // The reflected state's types are not known statically; the callbacks proxy is typed loosely here.
    const players = ($(room.state) as unknown as { players: { onAdd(cb: (player: PlayerView, key: string) => void, immediate?: boolean): void; onRemove(cb: (player: PlayerView, key: string) => void): void } }).players
    players.onAdd((player, key) => {
      ;($(player as never) as unknown as { onChange(cb: () => void): void }).onChange(() => sink.position(key, player.x, player.y, performance.now()))
    })
    players.onRemove((_player, key) => sink.left(key))
    return observer
  }

  sendMove(x: number, y: number): void {
    if (this.room.connection.isOpen) this.room.send('move', { x, y })
  }

  keepAlive(): void {}

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    if (!this.room.connection.isOpen) return
    await Promise.race([this.room.leave(true), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    this.room.connection.close()
  }
}
