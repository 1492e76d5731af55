/** Overload over real TCP: a full inbound queue sheds with OVERLOADED and counts; tick mode batches. */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ReceivedFrame } from '../../app/client/connection.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeChat } from '../../app/protocol/messages.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { startGame } from './game-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('game overload over TCP')

test('with a 300 ms tick and a queue of 20, a burst of 50 chats: 20 answered, 30 shed with OVERLOADED', async () => {
  const game = await startGame({ TICK_MS: '300', BATCH_MAX_FRAMES: '1000', MAX_QUEUED_FRAMES: '20' })
  try {
    const client = await game.player('burst')
    const frames: ReceivedFrame[] = []
    client.connection.onFrame((f) => frames.push(f))
    const seqs = Array.from({ length: 50 }, (_, i) => client.connection.send(FrameType.CHAT, encodeChat(`m${i}`)))
    const all = new Set(seqs)
    await eventually(() => frames.filter((f) => all.has(f.seq)).length >= 50, 5000, 'a reply to each of the 50 frames').catch(() => {}) // the count is asserted below
    const replies = frames.filter((f) => all.has(f.seq))
    const shed = replies.filter((f) => f.type === FrameType.ERROR && decodeErrorPayload(f.payload).code === WireError.OVERLOADED)
    const answered = replies.filter((f) => f.type === FrameType.CHAT_MESSAGE)
    assert.is(replies.length, 50, 'every frame got exactly one reply')
    assert.is(answered.length, 20)
    assert.is(shed.length, 30)
    assert.equal(answered.map((f) => f.seq), seqs.slice(0, 20), 'the first 20 were queued, in order')
    const stats = game.handle.game.processor.stats()
    assert.is(stats.shed, 30)
    assert.ok(stats.byTrigger.tick >= 1)
    assert.is(stats.byTrigger.turn, 0, 'tick mode never processes at the end of a turn')
  } finally {
    await game.close()
  }
})

test('end-of-turn mode: 40 clients × 25 pipelined moves, all answered; batches run by count and at turn ends', async () => {
  const game = await startGame({ MAX_SPEED: '100000' })
  try {
    const clients = await Promise.all(Array.from({ length: 40 }, (_, i) => game.player(`crowd${i}_`)))
    const results = await Promise.all(clients.map((client, i) => Promise.all(Array.from({ length: 25 }, (_, k) => client.move(10 + ((i + k) % 80), 10 + (k % 80))))))
    for (const [i, moves] of results.entries()) {
      assert.is(moves.length, 25)
      assert.ok(moves.every((m) => m.playerId === clients[i]!.playerId))
      assert.equal([moves[24]!.x, moves[24]!.y], [10 + ((i + 24) % 80), 10 + (24 % 80)])
    }
    const stats = game.handle.game.processor.stats()
    assert.is(stats.shed, 0)
    assert.ok(stats.processedByType.MOVE! >= 1000)
    assert.ok(stats.byTrigger.turn > 0, 'end-of-turn batches')
    assert.ok(stats.byTrigger.count > 0, `count-triggered batches (${JSON.stringify(stats.byTrigger)})`)
  } finally {
    await game.close()
  }
})

test.run()
