/**
 * Server process of bench/sessions-memory: `ours` (GameServer, no-op dispatcher) or `bare` (a bare
 * net server answering PING, the cost of a Node socket alone). Forked with an IPC channel and
 * --expose-gc; on a 'measure' message it collects garbage and replies with its memory usage.
 */
import { createServer } from 'node:net'
import { loadConfig } from '../../app/config/index.js'
import { GameServer } from '../../app/net/server.js'
import { FrameSplitter, PING, PONG } from './frames.js'

export interface MemoryReport {
  readonly rss: number
  readonly heapUsed: number
  readonly external: number
  readonly arrayBuffers: number
}

const kind = process.argv[2]
let port: number
if (kind === 'ours') {
  const config = loadConfig({ ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: '0' })
  const server = new GameServer({ config, dispatcher: { dispatch() {}, disconnected() {} } })
  port = (await server.listen()).port
} else if (kind === 'bare') {
  const server = createServer({ noDelay: true }, (socket) => {
    const splitter = new FrameSplitter()
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) =>
      splitter.push(chunk, (buf, start, size) => {
        if ((buf[start + 2]! | (buf[start + 3]! << 8)) !== PING) return
        buf[start + 2] = PONG
        socket.write(buf.subarray(start, start + size))
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve))
  port = (server.address() as { port: number }).port
} else {
  throw new Error(`memory-server: kind must be ours or bare, got ${kind}`)
}

const gc = (globalThis as { gc?: () => void }).gc
process.on('message', (message) => {
  if (message !== 'measure') return
  for (let i = 0; i < 3; i++) gc?.()
  const m = process.memoryUsage()
  process.send?.({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } satisfies MemoryReport)
})
process.on('disconnect', () => process.exit(0))
process.send?.({ port })
