// The stores' wiring without DATABASE_URL / REDIS_URLS (the PostgreSQL and Redis modes run in
// test/integration/db-game.test.ts and cache-game.test.ts): which implementation backs each
// interface, and the one close order.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../../app/config/index.js'
import { MemoryAccountStore } from '../../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../../app/game/memory-player-sink.js'
import { MemorySessionStore } from '../../../app/game/memory-session-store.js'
import { MemorySharedState } from '../../../app/game/memory-shared-state.js'
import { silentLogger } from '../../../app/logger.js'
import { GameStores } from '../../../app/processes/game-stores.js'
import { noNewHandles } from '../../contracts/handles.js'

test('no DATABASE_URL / REDIS_URLS: standalone in-memory stores; the sink writes through', async () => {
  const stores = await GameStores.open(loadConfig({}), { logger: silentLogger })
  assert.is(stores.mode, 'standalone')
  assert.ok(stores.accounts instanceof MemoryAccountStore)
  assert.ok(stores.playerSink instanceof MemoryPlayerStateSink)
  assert.ok(stores.sessions instanceof MemorySessionStore)
  assert.ok(stores.shared instanceof MemorySharedState)
  assert.is(stores.database, null)
  assert.is(stores.cache, null)
  assert.equal(await stores.readiness(), { ready: true, database: 'memory', cache: 'memory' })
  const player = await stores.accounts.create({ username: 'u', passwordHash: 'h', position: { zone: 0, x: 1, y: 1 }, hp: 100 })
  stores.playerSink.markDirty({ id: player.id, level: 1, experience: 5, position: player.position, hp: 50 })
  assert.is((await stores.accounts.findById(player.id))?.experience, 5)
  await stores.close()
})

test('close runs sink flush → sink → shared state → sessions → accounts, once each; a second close resolves and leaves nothing running', async () => {
  const handles = noNewHandles()
  const stores = await GameStores.open(loadConfig({}), { logger: silentLogger })
  assert.equal(stores.closeOrder, ['player sink flush', 'player sink', 'shared state', 'sessions', 'accounts'])
  const calls: string[] = []
  const spy = (name: string, target: { close(): Promise<void> }, method: 'close' | 'flush' = 'close'): void => {
    const original = (target as unknown as Record<string, () => Promise<void>>)[method]!.bind(target)
    ;(target as unknown as Record<string, () => Promise<void>>)[method] = async () => {
      calls.push(name)
      await original()
    }
  }
  spy('player sink flush', stores.playerSink, 'flush')
  spy('player sink', stores.playerSink)
  spy('shared state', stores.shared)
  spy('sessions', stores.sessions)
  spy('accounts', stores.accounts)
  await stores.close()
  await stores.close()
  assert.equal(calls, ['player sink flush', 'player sink', 'shared state', 'sessions', 'accounts'])
  await handles.assertNone()
})

test.run()
