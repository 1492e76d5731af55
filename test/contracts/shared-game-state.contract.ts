/**
 * The SharedGameState contract: every implementation (in memory for a standalone server, Redis for
 * a cluster) must pass it. Usage: `runSharedGameStateContract('redis', async ({ chatHistory }) => state)`;
 * the factory is called once per test with a fresh, empty state and the state is closed after the
 * test. One server's view: what it appended, scored and reported is what it reads back.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SharedGameState } from '../../app/game/shared-state.js'
import type { ChatMessage } from '../../app/protocol/messages.js'
import { eventually } from '../harness/eventually.js'
import { noNewHandles } from './handles.js'

export type SharedGameStateFactory = (options: { readonly chatHistory: number }) => Promise<SharedGameState>

const message = (zone: number, text: string, senderId = 7): ChatMessage => ({ senderId, zone, flags: 0, sentAtMs: 1_700_000_000_000 + senderId, username: `player${senderId}`, text })

export function runSharedGameStateContract(name: string, factory: SharedGameStateFactory): void {
  const test = suite(`SharedGameState contract: ${name}`)
  let state: SharedGameState | null = null
  const open = async (chatHistory = 50): Promise<SharedGameState> => (state = await factory({ chatHistory }))
  test.after.each(async () => {
    await state?.close()
    state = null
  })

  test('a zone replays its last messages oldest first, at most `count` and at most CHAT_HISTORY', async () => {
    const shared = await open(3)
    for (const text of ['one', 'two', 'three', 'four']) await shared.appendChat(message(1, text))
    assert.equal((await shared.recentChat(1, 10)).map((m) => m.text), ['two', 'three', 'four'], 'capped at CHAT_HISTORY = 3')
    assert.equal((await shared.recentChat(1, 2)).map((m) => m.text), ['three', 'four'])
    assert.equal(await shared.recentChat(1, 0), [])
    const [last] = await shared.recentChat(1, 1)
    assert.equal(last, message(1, 'four'), 'sender, zone, time, name and text come back as appended')
  })

  test('zones keep separate histories; an empty zone has none', async () => {
    const shared = await open()
    await shared.appendChat(message(0, 'zero'))
    await shared.appendChat(message(2, 'two'))
    assert.equal((await shared.recentChat(0, 10)).map((m) => m.text), ['zero'])
    assert.equal((await shared.recentChat(2, 10)).map((m) => m.text), ['two'])
    assert.equal(await shared.recentChat(3, 10), [])
  })

  test('kills count per attacker and set their experience; boards rank highest first from 1', async () => {
    const shared = await open()
    for (let i = 0; i < 3; i++) await shared.recordKill(11, 100 * (i + 1))
    await shared.recordKill(12, 900)
    for (let i = 0; i < 2; i++) await shared.recordKill(13, 50 * (i + 1))
    assert.equal(await shared.leaderboard('kills', 10), [
      { playerId: 11, score: 3, rank: 1 },
      { playerId: 13, score: 2, rank: 2 },
      { playerId: 12, score: 1, rank: 3 },
    ])
    assert.equal(await shared.leaderboard('experience', 2), [
      { playerId: 12, score: 900, rank: 1 },
      { playerId: 11, score: 300, rank: 2 },
    ])
    assert.equal(await shared.leaderboard('kills', 0), [])
  })

  test('leaderboardAround: the player with `radius` neighbours each side; unranked is empty', async () => {
    const shared = await open()
    for (let id = 21; id <= 25; id++) await shared.recordKill(id, id * 10)
    assert.equal((await shared.leaderboardAround('experience', 23, 1)).map((r) => [r.playerId, r.rank]), [[24, 2], [23, 3], [22, 4]])
    assert.equal((await shared.leaderboardAround('experience', 25, 2)).map((r) => r.rank), [1, 2, 3], 'clipped at the top')
    assert.equal(await shared.leaderboardAround('experience', 99, 1), [])
  })

  test('the online count is what this server reported last', async () => {
    const shared = await open()
    assert.is(await shared.onlineTotal(), 0)
    shared.reportOnline(4)
    shared.reportOnline(3)
    await eventually(async () => (await shared.onlineTotal()) === 3, 5000, 'the last report (3) to count')
  })

  test('close: a second close resolves, and nothing the state opened is left running', async () => {
    const handles = noNewHandles()
    const shared = await open()
    shared.reportOnline(1)
    await shared.close()
    await shared.close()
    await handles.assertNone()
  })

  test.run()
}
