/**
 * SIGTERM draining: `app/main.ts` runs as a real child process; clients get requests acknowledged
 * (a PING sent after them came back, so the server had read them all), the server is sent SIGTERM
 * while those requests still sit in its queue (TICK_MS makes the queue hold them), and every
 * acknowledged request's reply must arrive before the SHUTTING_DOWN error and the close; the
 * process must exit 0 within the deadline. Also: a bad variable exits 2 naming it.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import type { ReceivedFrame } from '../../app/client/connection.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeChat, encodeMove, encodeRegister } from '../../app/protocol/messages.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { Harness } from '../harness/index.js'
import { listeningPort, PASSWORD, spawnServer, uniqueUsername } from './game-support.js'

const test = suite('game server process: SIGTERM drains acknowledged requests, exits 0')
const DEADLINE_MS = 5000

test('every acknowledged request is answered before the server closes; exit code 0 within the deadline', async () => {
  const harness = new Harness()
  try {
    // Frames wait in the queue for the 2 s tick, so they are still unprocessed at SIGTERM.
    const server = spawnServer(harness, { TICK_MS: '2000', BATCH_MAX_FRAMES: '100000', SHUTDOWN_DEADLINE_MS: String(DEADLINE_MS), PASSWORD_HASH_COST: '1024', ZONE_SIZE: '100', MAX_SPEED: '100000' })
    const port = await listeningPort(server)

    const clients = await Promise.all(Array.from({ length: 4 }, () => GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 8000 })))
    await Promise.all(clients.map((c) => c.register(uniqueUsername('drain'), PASSWORD))) // processed on a tick: up to 2 s
    const newcomer = await GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 8000 })

    // Requests whose reply we require: 30 chats + 30 moves per client, and one registration.
    const expected = new Map<GameClient, Set<number>>()
    const received = new Map<GameClient, ReceivedFrame[]>()
    for (const client of [...clients, newcomer]) {
      expected.set(client, new Set())
      received.set(client, [])
      client.connection.onFrame((f) => received.get(client)!.push(f))
    }
    for (const client of clients) {
      for (let i = 0; i < 30; i++) {
        expected.get(client)!.add(client.connection.send(FrameType.CHAT, encodeChat(`msg ${i}`)))
        expected.get(client)!.add(client.connection.send(FrameType.MOVE, encodeMove({ x: 50 + (i % 10), y: 50 })))
      }
    }
    expected.get(newcomer)!.add(newcomer.connection.send(FrameType.REGISTER, encodeRegister({ username: uniqueUsername('late'), password: PASSWORD })))
    // Acknowledged: a PING sent after them was answered, so the server has read and queued them all.
    await Promise.all([...clients, newcomer].map((c) => c.connection.ping()))
    for (const [client, seqs] of expected) {
      const answered = received.get(client)!.filter((f) => seqs.has(f.seq))
      assert.ok(answered.length < seqs.size, 'requests are still queued (the test must exercise the drain)')
    }

    const signalledAt = performance.now()
    server.signal('SIGTERM')
    await Promise.all([...clients, newcomer].map((c) => c.connection.closed))
    await server.waitForExit()
    const tookMs = performance.now() - signalledAt

    for (const [client, seqs] of expected) {
      const frames = received.get(client)!
      const replies = frames.filter((f) => seqs.has(f.seq))
      const answeredSeqs = new Set(replies.map((f) => f.seq))
      assert.is(answeredSeqs.size, seqs.size, `every acknowledged request answered (${answeredSeqs.size}/${seqs.size})`)
      for (const reply of replies) {
        assert.ok([FrameType.CHAT_MESSAGE, FrameType.PLAYER_MOVED, FrameType.LOGIN_OK].includes(reply.type as 0x8004), `success reply, got type ${reply.type}${reply.type === FrameType.ERROR ? ` code ${decodeErrorPayload(reply.payload).code}` : ''}`)
      }
      const shuttingDown = frames.findIndex((f) => f.type === FrameType.ERROR && decodeErrorPayload(f.payload).code === WireError.SHUTTING_DOWN)
      assert.ok(shuttingDown >= 0, 'SHUTTING_DOWN error received')
      const lastReply = Math.max(...replies.map((r) => frames.indexOf(r)))
      assert.ok(lastReply < shuttingDown, 'replies come before SHUTTING_DOWN')
    }
    assert.is(server.exitDescription(), 'exited with code 0')
    assert.ok(tookMs < DEADLINE_MS, `exited in ${Math.round(tookMs)} ms`)
    assert.match(server.output(), /"event":"stopped"/)
  } finally {
    await harness.close()
  }
})

test('a bad variable stops the process with exit code 2 and a line naming it', async () => {
  const harness = new Harness()
  try {
    const server = spawnServer(harness, { GAME_PORT: 'not-a-port' })
    await server.waitForExit()
    assert.is(server.exitDescription(), 'exited with code 2')
    const line = server.output().split('\n').find((l) => l.includes('GS_ERR_CONFIG'))
    assert.ok(line, server.output())
    assert.is((JSON.parse(line) as { variable: string }).variable, 'GAME_PORT')
  } finally {
    await harness.close()
  }
})

test.run()
