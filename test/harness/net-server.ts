/** A game server for the tests of the net layer and of what sits on it: an echo dispatcher, counting metrics, a GameServer on a free loopback port. */
import type { AddressInfo } from 'node:net'
import { loadConfig, type Env } from '../../app/config/index.js'
import { ClientConnection, type ClientConnectionOptions } from '../../app/client/connection.js'
import type { CloseReason, Connection, FrameDispatcher, InboundFrame } from '../../app/net/connection.js'
import type { SessionOptions } from '../../app/net/options.js'
import { GameServer } from '../../app/net/server.js'
import { FrameType } from '../../app/protocol/types.js'
import type { ViolationKind } from '../../app/net/connection.js'
import { NoopServerMetrics } from './metrics.js'

/** Answers every frame with CHAT_MESSAGE carrying the same seq, player_id and payload. */
export class EchoDispatcher implements FrameDispatcher {
  readonly frames: InboundFrame[] = []
  readonly disconnects: { connection: Connection; reason: CloseReason }[] = []
  answered = 0
  echoType: number = FrameType.CHAT_MESSAGE

  dispatch(frame: InboundFrame): void {
    this.frames.push(frame)
    if (frame.connection.send(this.echoType, frame.seq, frame.playerId, frame.payload)) this.answered++
  }

  disconnected(connection: Connection, reason: CloseReason): void {
    this.disconnects.push({ connection, reason })
  }
}

/** Counts what the hot path reports (assert numbers, not logs). */
export class CountingMetrics extends NoopServerMetrics {
  readonly violations = new Map<ViolationKind, number>()
  readonly flushes = new Map<string, number>()
  readonly closes = new Map<CloseReason, number>()
  slowClients = 0
  batches = 0
  override flushed(reason: string): void {
    this.flushes.set(reason, (this.flushes.get(reason) ?? 0) + 1)
  }
  override batchCompressed(): void {
    this.batches++
  }
  /** Bytes the server read from all sockets. */
  bytesInTotal = 0
  override bytesIn(bytes: number): void {
    this.bytesInTotal += bytes
  }
  override sessionClosed(reason: CloseReason): void {
    this.closes.set(reason, (this.closes.get(reason) ?? 0) + 1)
  }
  override violation(kind: ViolationKind): void {
    this.violations.set(kind, (this.violations.get(kind) ?? 0) + 1)
  }
  override slowClientDisconnected(): void {
    this.slowClients++
  }
}

export interface TestServer {
  readonly server: GameServer
  readonly dispatcher: EchoDispatcher
  readonly metrics: CountingMetrics
  readonly address: AddressInfo
  /** The WebSocket listener's address when the env set WS_PORT, else null. */
  readonly webSocketAddress: AddressInfo | null
  /** A client over TCP, or over WebSocket with `{ transport: 'ws' }`. */
  connect(options?: Partial<ClientConnectionOptions>): Promise<ClientConnection>
  stop(): Promise<void>
}

export async function startServer(env: Env = {}, session: Partial<SessionOptions> = {}, dispatcher = new EchoDispatcher(), metrics = new CountingMetrics()): Promise<TestServer> {
  const config = loadConfig({ GAME_HOST: '127.0.0.1', GAME_PORT: '0', ...env })
  const server = new GameServer({ config, dispatcher, metrics, session })
  const address = await server.listen()
  const clients: ClientConnection[] = []
  return {
    server,
    dispatcher,
    metrics,
    address,
    webSocketAddress: server.webSocketAddress(),
    async connect(options = {}) {
      const port = options.transport === 'ws' ? server.webSocketAddress()!.port : address.port
      const client = await ClientConnection.connect({ host: '127.0.0.1', port, ...options })
      clients.push(client)
      return client
    },
    async stop() {
      for (const client of clients) client.destroy()
      await server.close(2000)
    },
  }
}

/** Every CHAT is fanned out `copies` times to every open connection (a zone broadcast). */
export class BroadcastDispatcher implements FrameDispatcher {
  server: GameServer | null = null
  readonly disconnects: { connection: Connection; reason: CloseReason }[] = []
  constructor(private readonly copies: number) {}
  dispatch(frame: InboundFrame): void {
    for (const connection of this.server!.connections()) {
      for (let i = 0; i < this.copies; i++) connection.send(FrameType.CHAT_MESSAGE, frame.seq, 0, frame.payload)
    }
  }
  disconnected(connection: Connection, reason: CloseReason): void {
    this.disconnects.push({ connection, reason })
  }
}
