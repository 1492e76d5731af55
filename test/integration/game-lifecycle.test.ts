/** startServer's shutdown order, observed from outside over TCP with recording stores. */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { loadConfig } from '../../app/config/index.js'
import { isGameServerError } from '../../app/errors.js'
import { MemoryAccountStore } from '../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../app/game/memory-player-sink.js'
import { MemorySessionStore } from '../../app/game/memory-session-store.js'
import type { PlayerState } from '../../app/game/stores.js'
import { silentLogger } from '../../app/logger.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { startServer } from '../../app/processes/game-server.js'
import { PASSWORD, TEST_ENV, uniqueUsername } from './game-support.js'
import { MemorySharedState } from '../../app/game/memory-shared-state.js'

const test = suite('startServer lifecycle')

class RecordingSink extends MemoryPlayerStateSink {
  constructor(accounts: MemoryAccountStore, private readonly events: string[]) {
    super(accounts)
  }
  override markDirty(state: PlayerState): void {
    this.events.push(`sink.markDirty:${state.id}`)
    super.markDirty(state)
  }
  override async release(finalState: PlayerState): Promise<void> {
    this.events.push(`sink.release:${finalState.id}`)
    await super.release(finalState)
  }
  override async flush(): Promise<void> {
    this.events.push('sink.flush')
  }
  override async close(): Promise<void> {
    this.events.push('sink.close')
    await super.close()
  }
}

test('close: SHUTTING_DOWN to clients → player state to the sink → resolved; injected stores stay open; idempotent', async () => {
  const events: string[] = []
  const accounts = new MemoryAccountStore()
  const sessions = new MemorySessionStore({ ttlSeconds: 60 })
  const playerSink = new RecordingSink(accounts, events)
  const handle = await startServer(loadConfig(TEST_ENV), { logger: silentLogger, stores: { accounts, sessions, playerSink, shared: new MemorySharedState(10) } })
  try {
    const client = await GameClient.connect({ host: '127.0.0.1', port: handle.port })
    const ok = await client.register(uniqueUsername('life'), PASSWORD)
    await client.move(60, 45)
    client.connection.onFrame((f) => {
      if (f.type === FrameType.ERROR && decodeErrorPayload(f.payload).code === WireError.SHUTTING_DOWN) events.push('client.shutting-down')
    })
    void client.connection.closed.then(() => events.push('client.closed'))
    const closing = handle.close(3000)
    assert.is(handle.close(), closing, 'idempotent: the same promise')
    await closing
    events.push('close.resolved')
    await client.connection.closed
    const order = events.filter((e) => !e.startsWith('client.closed'))
    assert.ok(order.indexOf('client.shutting-down') < order.indexOf(`sink.markDirty:${ok.playerId}`), order.join(' '))
    assert.ok(order.indexOf(`sink.release:${ok.playerId}`) < order.indexOf('close.resolved'), order.join(' '))
    assert.not.ok(events.includes('sink.close'), 'injected stores belong to the caller')
    assert.equal({ ...(await accounts.findById(ok.playerId))!.position }, { zone: 0, x: 60, y: 45 }, 'state persisted')
    assert.ok(await sessions.validate(ok.token), 'session store still open')
  } finally {
    await handle.close()
    await sessions.close()
  }
})

test('own stores are closed by close(); a failed listen closes what was built', async () => {
  const handle = await startServer(loadConfig(TEST_ENV), { logger: silentLogger })
  await handle.close(1000)
  try {
    await handle.stores.accounts.findById(1)
    assert.unreachable('the account store must be closed')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_STORE_CLOSED'), String(err))
  }
  const clash = await startServer(loadConfig(TEST_ENV), { logger: silentLogger })
  try {
    await startServer(loadConfig({ ...TEST_ENV, GAME_PORT: String(clash.port) }), { logger: silentLogger })
    assert.unreachable('listening on a taken port must fail')
  } catch (err) {
    // a configuration error naming the variable, the socket error kept as its reason
    assert.is((err as { code?: string }).code, 'GS_ERR_CONFIG')
    assert.is((err as { context: Record<string, unknown> }).context.variable, 'GAME_PORT')
    assert.is((err as { context: Record<string, unknown> }).context.reason, 'EADDRINUSE')
  } finally {
    await clash.close(1000)
  }
})

test.run()
