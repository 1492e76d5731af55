/**
 * Reference: a minimal coalescing Node server. Answers each PING with PONG (same bytes, type
 * patched in place, so a run of PINGs in one read becomes one slice of that read) and coalesces
 * everything a socket gets during one event-loop turn into ONE socket.write (flushed from
 * setImmediate, like ioredis's auto-pipelining). No sessions, limits or metrics: the ceiling a Node
 * server can reach on this machine.
 *
 *   node --import tsx bench/references/coalescing-echo.ts   (GAME_PORT, default 0; prints LISTENING <port>)
 */
import { createServer, type Socket } from 'node:net'
import { HEADER_BYTES, PING, PONG } from '../net/frames.js'

interface Peer {
  readonly socket: Socket
  readonly out: Buffer[]
  pending: Buffer | null
}

const dirty: Peer[] = []
let scheduled = false

function flush(): void {
  scheduled = false
  for (const peer of dirty) {
    const out = peer.out
    peer.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out))
    out.length = 0
  }
  dirty.length = 0
}

function queue(peer: Peer, bytes: Buffer): void {
  if (peer.out.length === 0) dirty.push(peer)
  peer.out.push(bytes)
}

function received(peer: Peer, chunk: Buffer): void {
  let buf = chunk
  if (peer.pending !== null) {
    buf = Buffer.concat([peer.pending, chunk])
    peer.pending = null
  }
  let offset = 0
  let runStart = 0
  while (buf.length - offset >= HEADER_BYTES) {
    const size = buf[offset]! | (buf[offset + 1]! << 8)
    if (size < HEADER_BYTES) {
      peer.socket.destroy()
      return
    }
    if (buf.length - offset < size) break
    if ((buf[offset + 2]! | (buf[offset + 3]! << 8)) === PING) {
      buf[offset + 2] = PONG
    } else {
      if (offset > runStart) queue(peer, buf.subarray(runStart, offset))
      runStart = offset + size
    }
    offset += size
  }
  if (offset > runStart) queue(peer, buf.subarray(runStart, offset))
  if (offset < buf.length) peer.pending = Buffer.from(buf.subarray(offset))
}

const server = createServer({ noDelay: true }, (socket) => {
  const peer: Peer = { socket, out: [], pending: null }
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    received(peer, chunk)
    if (!scheduled && dirty.length > 0) {
      scheduled = true
      setImmediate(flush)
    }
  })
})
server.listen({ host: '127.0.0.1', port: Number(process.env.GAME_PORT ?? 0), backlog: Number(process.env.LISTEN_BACKLOG ?? 4096) }, () => {
  process.stdout.write(`LISTENING ${(server.address() as { port: number }).port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
