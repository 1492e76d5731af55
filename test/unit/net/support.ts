/**
 * Shared pieces of the net unit tests: a real loopback socket pair (no fake sockets), a peer-side
 * frame collector, and an Outbound wired to a socket the way Session wires it.
 */
import { createServer, connect, type Socket } from 'node:net'
import { loadConfig } from '../../../app/config/index.js'
import { FlushScheduler } from '../../../app/net/flush-scheduler.js'
import { sessionOptionsFromConfig, type SessionOptions } from '../../../app/net/options.js'
import { Outbound, type OutboundOwner } from '../../../app/net/outbound.js'
import { BufferPool } from '../../../app/net/buffer-pool.js'
import { unpackBatch } from '../../../app/protocol/batch.js'
import { FrameDecoder } from '../../../app/protocol/decoder.js'
import { FrameType } from '../../../app/protocol/types.js'
import { CountingMetrics } from '../../harness/net-server.js'

interface SocketPair {
  /** The accepted (server-side) socket. */
  readonly local: Socket
  /** The connecting (client-side) socket. */
  readonly peer: Socket
  close(): void
}

/**
 * A connected TCP pair over 127.0.0.1. `highWaterMark` sets the accepted socket's stream buffer
 * threshold (the runtime's default otherwise: 16 KiB up to Node 20, 64 KiB from Node 22).
 */
async function socketPair(highWaterMark?: number): Promise<SocketPair> {
  const server = createServer(highWaterMark === undefined ? { noDelay: true } : { noDelay: true, highWaterMark })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const peer = connect({ host: '127.0.0.1', port, noDelay: true })
  await new Promise<void>((resolve, reject) => {
    peer.once('connect', resolve)
    peer.once('error', reject)
  })
  const local = await accepted
  server.close()
  local.on('error', () => {})
  peer.on('error', () => {})
  return {
    local,
    peer,
    close() {
      local.destroy()
      peer.destroy()
    },
  }
}

interface PeerFrame {
  readonly type: number
  readonly seq: number
  readonly playerId: number
  readonly payload: Buffer
  readonly batched: boolean
  readonly at: number
}

/** Decodes what arrives on a socket (BATCH unpacked), counting reads and BATCH frames. */
class PeerCollector {
  readonly frames: PeerFrame[] = []
  batches = 0
  reads = 0
  bytes = 0
  private readonly decoder = new FrameDecoder(0xffff)

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reads++
      this.bytes += chunk.length
      const at = performance.now()
      this.decoder.push(chunk, {
        onFrame: (type, seq, playerId, source, start, end) => {
          const payload = Buffer.from(source.subarray(start, end))
          if (type !== FrameType.BATCH) {
            this.frames.push({ type, seq, playerId, payload, batched: false, at })
            return true
          }
          this.batches++
          for (const f of unpackBatch(payload, { maxFrameBytes: 0xffff, maxInflatedBatchBytes: 1 << 22 })) {
            this.frames.push({ ...f, payload: Buffer.from(f.payload), batched: true, at })
          }
          return true
        },
      })
    })
  }
}

class RecordingOwner implements OutboundOwner {
  slowClientCalls = 0
  drainedCalls = 0
  batchPlayerId = 0
  slowClient(): void {
    this.slowClientCalls++
  }
  outboundDrained(): void {
    this.drainedCalls++
  }
}

export interface OutboundRig {
  readonly outbound: Outbound
  readonly owner: RecordingOwner
  readonly metrics: CountingMetrics
  readonly pool: BufferPool
  readonly options: SessionOptions
  readonly pair: SocketPair
  readonly received: PeerCollector
  /** Writes the rig saw reach socket.write, in order: [reason, frames, bytes]. */
  readonly writes: [string, number, number][]
  close(): void
}

/**
 * An Outbound on the local end of a real loopback pair, 'drain' wired like Session does;
 * `socketHighWaterMark` as in socketPair.
 */
export async function outboundRig(overrides: Partial<SessionOptions> = {}, socketHighWaterMark?: number): Promise<OutboundRig> {
  const options = sessionOptionsFromConfig(loadConfig({}), overrides)
  const pool = new BufferPool({ bufferBytes: options.sendBufferBytes, maxFree: 16 })
  const metrics = new CountingMetrics()
  const writes: [string, number, number][] = []
  const flushed = metrics.flushed.bind(metrics)
  metrics.flushed = (reason: string, frames?: number, bytes?: number) => {
    writes.push([reason, frames ?? 0, bytes ?? 0])
    flushed(reason)
  }
  const scheduler = new FlushScheduler(options.idleFlushMode, (err) => {
    throw err
  })
  const owner = new RecordingOwner()
  const outbound = new Outbound(options, pool, scheduler, metrics, owner)
  const pair = await socketPair(socketHighWaterMark)
  outbound.attach(pair.local)
  pair.local.on('drain', () => outbound.drained())
  const received = new PeerCollector(pair.peer)
  return {
    outbound,
    owner,
    metrics,
    pool,
    options,
    pair,
    received,
    writes,
    close() {
      outbound.detach()
      pair.close()
    },
  }
}

/** Resolves after the current event-loop turn (all microtasks and already-queued immediates ran). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
