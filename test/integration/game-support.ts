/** Shared pieces of the game integration tests: an in-process server and logged-in clients. */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import type { WebSocketLike } from '../../app/client/websocket-stream.js'
import { GameClient, type GameClientOptions } from '../../app/client/game-client.js'
import { loadConfig, type Env } from '../../app/config/index.js'
import { isGameServerError } from '../../app/errors.js'
import { ManagedProcess } from '../../app/local/child-process.js'
import { silentLogger } from '../../app/logger.js'
import { startServer, type ServerHandle } from '../../app/processes/game-server.js'
import { unpackBatch } from '../../app/protocol/batch.js'
import { encodeFrame } from '../../app/protocol/header.js'
import { decodeLoginOk, encodeRegister, type LoginOk } from '../../app/protocol/messages.js'
import { FrameType } from '../../app/protocol/types.js'
import { eventually } from '../harness/eventually.js'
import type { Harness } from '../harness/index.js'
import { CountingMetrics } from '../harness/net-server.js'

export const PASSWORD = 'correct-horse-battery'

/** Fast scrypt and a small world; override per test. */
export const TEST_ENV: Env = { GAME_HOST: '127.0.0.1', GAME_PORT: '0', PASSWORD_HASH_COST: '1024', ZONE_SIZE: '100', ZONE_COUNT: '2', MAX_SPEED: '1000' }

export interface GameFixture {
  readonly handle: ServerHandle
  readonly metrics: CountingMetrics
  connect(options?: GameClientOptions & { localAddress?: string }): Promise<GameClient>
  /** A new account, registered and logged in on a new connection. */
  player(prefix?: string): Promise<GameClient>
  close(): Promise<void>
}

const run = randomBytes(3).toString('hex')
let counter = 0
/** The wire error code a typed-client request was rejected with; throws when it was not rejected. */
export async function rejected(work: Promise<unknown>): Promise<number> {
  try {
    await work
  } catch (err) {
    if (isGameServerError(err, 'GS_ERR_REQUEST_REJECTED')) return err.context.wireCode as number
    throw err
  }
  throw new Error('the request was not rejected')
}

export function uniqueUsername(prefix = 'p'): string {
  return `${prefix}${run}_${++counter}`
}

/** The transports a fixture's clients can use; `ws` starts the server with a WebSocket listener. */
export type ClientTransport = 'tcp' | 'ws'

export async function startGame(env: Env = {}, metrics = new CountingMetrics(), transport: ClientTransport = 'tcp'): Promise<GameFixture> {
  const config = loadConfig({ ...TEST_ENV, ...(transport === 'ws' ? { WS_PORT: '0', WS_PLAYGROUND: 'false' } : {}), ...env })
  const handle = await startServer(config, { logger: silentLogger, metrics })
  const clients: GameClient[] = []
  const connect = async (options: GameClientOptions & { localAddress?: string } = {}): Promise<GameClient> => {
    const { localAddress, ...rest } = options
    // over WebSocket a local address is the `ws` package's option (the standard WebSocket API has none)
    const client = await GameClient.connect(transport === 'ws'
      ? { host: '127.0.0.1', port: handle.webSocketPort!, transport, timeoutMs: 3000, ...rest, ...(localAddress ? { webSocket: (url: string) => new WebSocket(url, { localAddress }) as unknown as WebSocketLike } : {}) }
      : { host: '127.0.0.1', port: handle.port, timeoutMs: 3000, ...options })
    clients.push(client)
    return client
  }
  return {
    handle,
    metrics,
    connect,
    async player(prefix = 'p') {
      const client = await connect()
      await client.register(uniqueUsername(prefix), PASSWORD)
      return client
    },
    async close() {
      for (const client of clients) client.connection.destroy()
      await handle.close(2000)
    },
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url))

/** `app/main.ts` as a child process owned by `harness` (loopback, free ports, standalone unless env says otherwise). */
export function spawnServer(harness: Harness, env: Record<string, string>): ManagedProcess {
  return harness.own(new ManagedProcess({
    name: 'game-server',
    command: process.execPath,
    args: ['--import', 'tsx', 'app/main.ts'],
    cwd: root,
    env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: '0', METRICS_HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', REDIS_URLS: '', ...env },
    tailLines: 400,
  }))
}

export async function listeningPort(server: ManagedProcess): Promise<number> {
  await Promise.race([server.sawLine(/"event":"listening"/), server.waitForExit().then(() => { throw server.startError('exited before listening') })])
  const line = server.output().split('\n').find((l) => l.includes('"event":"listening"'))!
  return (JSON.parse(line) as { port: number }).port
}

export interface RawFrame {
  readonly size: number
  readonly type: number
  readonly seq: number
  readonly playerId: number
  readonly payload: Buffer
  /** For a frame that came inside a BATCH: that BATCH's header seq and player_id. */
  readonly batch?: { readonly seq: number; readonly playerId: number }
}

const RAW_BATCH_LIMITS = { maxFrameBytes: 65535, maxInflatedBatchBytes: 1 << 20 }

/** A connection that keeps the frames exactly as the server wrote them (BATCH frames not unpacked). */
/** What a raw reader writes to: a TCP socket, or a WebSocket (each write one binary message). */
interface RawStream {
  write(bytes: Uint8Array): void
  destroy(): void
}

export class RawReader {
  readonly frames: RawFrame[] = []
  private pending = Buffer.alloc(0)
  readonly socket: RawStream
  readonly closed: Promise<void>
  /** `ws`: `port` is a WebSocket listener's; writes wait for the upgrade. */
  constructor(port: number, transport: ClientTransport = 'tcp') {
    if (transport === 'tcp') {
      const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true })
      this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
      socket.on('error', () => {})
      socket.on('data', (chunk: Buffer) => this.received(chunk))
      this.socket = socket
      return
    }
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    const opened = new Promise<void>((resolve) => ws.once('open', () => resolve()))
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()))
    ws.on('error', () => {})
    ws.on('message', (data: Buffer) => this.received(data))
    this.socket = { write: (bytes) => void opened.then(() => ws.send(bytes)), destroy: () => ws.terminate() }
  }

  private received(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk])
    while (this.pending.length >= 12) {
      const size = this.pending.readUInt16LE(0)
      if (this.pending.length < size) break
      this.frames.push({ size, type: this.pending.readUInt16LE(2), seq: this.pending.readUInt32LE(4), playerId: this.pending.readUInt32LE(8), payload: Buffer.from(this.pending.subarray(12, size)) })
      this.pending = this.pending.subarray(size)
    }
  }

  until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    return eventually(predicate, timeoutMs, `the frames to arrive; frames so far: ${this.frames.map((f) => f.type.toString(16)).join(',')}`)
  }

  /** The frames as a client handles them: each BATCH replaced by its inner frames, in order. */
  unpacked(): RawFrame[] {
    const out: RawFrame[] = []
    for (const frame of this.frames) {
      if (frame.type !== FrameType.BATCH) {
        out.push(frame)
        continue
      }
      for (const inner of unpackBatch(frame.payload, RAW_BATCH_LIMITS)) {
        out.push({ size: 12 + inner.payload.length, type: inner.type, seq: inner.seq, playerId: inner.playerId, payload: Buffer.from(inner.payload), batch: { seq: frame.seq, playerId: frame.playerId } })
      }
    }
    return out
  }

  /** REGISTER a new account on this connection (seq 1) and return its LOGIN_OK. */
  async register(username: string, password = PASSWORD): Promise<LoginOk> {
    this.socket.write(encodeFrame(FrameType.REGISTER, 1, 0, encodeRegister({ username, password })))
    await this.until(() => this.unpacked().some((f) => f.seq === 1))
    const reply = this.unpacked().find((f) => f.seq === 1)!
    if (reply.type !== FrameType.LOGIN_OK) throw new Error(`REGISTER answered with type ${reply.type.toString(16)}`)
    return decodeLoginOk(reply.payload)
  }
}
