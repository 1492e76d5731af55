/**
 * Reference: the naive server: every PONG is a freshly allocated frame written
 * with its own socket.write, one syscall per frame. What coalescing buys shows against this.
 *
 *   node --import tsx bench/references/naive-server.ts   (GAME_PORT, default 0; prints LISTENING <port>)
 */
import { createServer } from 'node:net'
import { FrameSplitter, PING, PONG } from '../net/frames.js'

const server = createServer({ noDelay: true }, (socket) => {
  const splitter = new FrameSplitter()
  socket.on('error', () => {})
  socket.on('data', (chunk: Buffer) => {
    splitter.push(chunk, (buf, start, size) => {
      if ((buf[start + 2]! | (buf[start + 3]! << 8)) !== PING) return
      const pong = Buffer.allocUnsafe(size)
      buf.copy(pong, 0, start, start + size)
      pong.writeUInt16LE(PONG, 2)
      socket.write(pong)
    })
  })
})
server.listen({ host: '127.0.0.1', port: Number(process.env.GAME_PORT ?? 0), backlog: Number(process.env.LISTEN_BACKLOG ?? 4096) }, () => {
  process.stdout.write(`LISTENING ${(server.address() as { port: number }).port}\n`)
})
process.on('SIGTERM', () => process.exit(0))
