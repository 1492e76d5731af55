/**
 * Reference: a minimal coalescing Node server. Answers each PING with PONG (same bytes, type
 * patched in place) and coalesces everything a socket gets during one event-loop turn into ONE
 * socket.write (flushed from setImmediate, like ioredis's auto-pipelining). No sessions, limits or
 * metrics: the ceiling a Node server can reach on this machine.
 *
 *   node --import tsx bench/references/coalescing-echo.ts   (GAME_PORT, default 0; prints LISTENING <port>)
 */
import { createServer, type Socket } from 'node:net'
import { FrameSplitter, PING, PONG } from '../net/frames.js'

interface Peer {
  readonly socket: Socket
  readonly out: Buffer[]
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

const server = createServer({ noDelay: true }, (socket) => {
  const peer: Peer = { socket, out: [] }
  const splitter = new FrameSplitter()
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    splitter.push(chunk, (buf, start, size) => {
      if ((buf[start + 2]! | (buf[start + 3]! << 8)) !== PING) return
      buf[start + 2] = PONG
      buf[start + 3] = 0
      if (peer.out.length === 0) dirty.push(peer)
      peer.out.push(buf.subarray(start, start + size))
    })
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
