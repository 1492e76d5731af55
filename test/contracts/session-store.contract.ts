/**
 * The SessionStore contract: every implementation (in-memory, Redis) must pass it.
 * Usage: `runSessionStoreContract('redis', async ({ ttlSeconds }) => store)`; the store is closed
 * after each test. The expiry tests use a 1 s TTL and real time (about 4 s in all).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { SessionStore } from '../../app/game/stores.js'
import { noNewHandles } from './handles.js'

export type SessionStoreFactory = (options: { ttlSeconds: number }) => Promise<SessionStore>

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export function runSessionStoreContract(name: string, factory: SessionStoreFactory): void {
  const test = suite(`SessionStore contract: ${name}`)
  let store: SessionStore | null = null
  const open = async (ttlSeconds = 3600): Promise<SessionStore> => (store = await factory({ ttlSeconds }))
  test.after.each(async () => {
    await store?.close()
    store = null
  })

  test('create yields an unguessable token bound to the player, expiring after the TTL', async () => {
    const sessions = await open(3600)
    const before = Date.now()
    const session = await sessions.create(42, 'alice')
    assert.is(session.playerId, 42)
    assert.is(session.username, 'alice')
    assert.ok(session.token.length >= 32, 'token of at least 32 characters')
    assert.ok(/^[A-Za-z0-9_-]+$/.test(session.token), 'token is URL-safe text')
    assert.ok(session.expiresAt >= before + 3600_000 - 1000 && session.expiresAt <= Date.now() + 3600_000 + 1000, 'expiresAt = now + TTL (epoch ms)')
  })

  test('tokens are distinct, also for one player', async () => {
    const sessions = await open()
    const tokens = new Set<string>()
    for (let i = 0; i < 50; i++) tokens.add((await sessions.create(7, 'bob')).token)
    assert.is(tokens.size, 50)
  })

  test('validate returns the session; unknown tokens are undefined', async () => {
    const sessions = await open()
    const session = await sessions.create(5, 'carol')
    const found = await sessions.validate(session.token)
    assert.ok(found)
    assert.is(found.playerId, 5)
    assert.is(found.username, 'carol')
    assert.is(found.token, session.token)
    assert.is(await sessions.validate('no-such-token'), undefined)
    assert.is(await sessions.validate(''), undefined)
  })

  test('invalidate ends a session; others of the same player stay', async () => {
    const sessions = await open()
    const a = await sessions.create(9, 'dave')
    const b = await sessions.create(9, 'dave')
    await sessions.invalidate(a.token)
    assert.is(await sessions.validate(a.token), undefined)
    assert.is((await sessions.validate(b.token))?.playerId, 9)
    await sessions.invalidate(a.token) // unknown token: no error
  })

  test('a token expires after the TTL', async () => {
    const sessions = await open(1)
    const session = await sessions.create(11, 'erin')
    assert.ok(await sessions.validate(session.token))
    await sleep(2100)
    assert.is(await sessions.validate(session.token), undefined)
  })

  test('validate slides the expiry forward', async () => {
    const sessions = await open(1)
    const session = await sessions.create(12, 'frank')
    await sleep(600)
    const refreshed = await sessions.validate(session.token)
    assert.ok(refreshed, 'still valid at 0.6 s')
    assert.ok(refreshed.expiresAt > session.expiresAt, 'expiresAt moved forward')
    await sleep(700)
    assert.ok(await sessions.validate(session.token), 'valid at 1.3 s thanks to the refresh at 0.6 s')
  })

  test('close: a second close resolves, and nothing the store opened is left running', async () => {
    const handles = noNewHandles()
    const sessions = await open()
    await sessions.close()
    await sessions.close()
    await handles.assertNone()
  })

  test.run()
}
