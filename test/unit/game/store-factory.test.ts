import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../../app/config/index.js'
import { isGameServerError } from '../../../app/errors.js'
import { MemoryAccountStore } from '../../../app/game/memory-account-store.js'
import { MemorySessionStore } from '../../../app/game/memory-session-store.js'
import { createStores } from '../../../app/game/store-factory.js'
import type { PlayerStateSink, SessionStore } from '../../../app/game/stores.js'
import { silentLogger } from '../../../app/logger.js'

test('no DATABASE_URL / REDIS_URLS: standalone in-memory stores, close idempotent', async () => {
  const stores = await createStores(loadConfig({}), silentLogger, {})
  assert.is(stores.mode, 'standalone')
  assert.equal(stores.backends, { accounts: 'memory', playerSink: 'memory', sessions: 'memory' })
  assert.ok(stores.accounts instanceof MemoryAccountStore)
  assert.ok(stores.sessions instanceof MemorySessionStore)
  const player = await stores.accounts.create({ username: 'u', passwordHash: 'h', position: { zone: 0, x: 1, y: 1 }, hp: 100 })
  stores.playerSink.markDirty({ id: player.id, level: 1, experience: 5, position: player.position, hp: 50 })
  assert.is((await stores.accounts.findById(player.id))?.experience, 5, 'sink writes through to the account store')
  await stores.close()
  await stores.close()
})

test('DATABASE_URL without a registered backend is GS_ERR_STORE_UNSUPPORTED naming the variable', async () => {
  try {
    await createStores(loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/game' }), silentLogger, {})
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_STORE_UNSUPPORTED'))
    assert.is(err.context.variable, 'DATABASE_URL')
  }
})

test('REDIS_URLS without a registered backend fails and closes the accounts part it built', async () => {
  try {
    await createStores(loadConfig({ REDIS_URLS: 'redis://127.0.0.1:6379' }), silentLogger, {})
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_STORE_UNSUPPORTED'))
    assert.is(err.context.variable, 'REDIS_URLS')
  }
})

test('registered backends are used, and close runs sink flush → sink → sessions → accounts → backend', async () => {
  const order: string[] = []
  const accounts = new MemoryAccountStore()
  const sink: PlayerStateSink = { markDirty() {}, release: async () => {}, flush: async () => void order.push('flush'), close: async () => void order.push('sink') }
  const sessions: SessionStore = { create: async () => { throw new Error('unused') }, validate: async () => undefined, invalidate: async () => {}, close: async () => void order.push('sessions') }
  const originalClose = accounts.close.bind(accounts)
  accounts.close = async () => { order.push('accounts'); await originalClose() }
  const stores = await createStores(loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1/game', REDIS_URLS: 'redis://127.0.0.1:1' }), silentLogger, {
    database: async () => ({ accounts, playerSink: sink, close: async () => void order.push('backend') }),
    cache: async () => sessions,
  })
  assert.is(stores.mode, 'database+cache')
  assert.is(stores.sessions, sessions)
  await stores.close()
  assert.equal(order, ['flush', 'sink', 'sessions', 'accounts', 'backend'])
})

test.run()
