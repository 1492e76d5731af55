/**
 * The PlayerStateSink contract: state marked dirty is durable in the account store after
 * `flush()` / `release()`. Usage: `runPlayerStateSinkContract('postgres', async () => ({ accounts, sink, close }))`.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { AccountStore, PlayerState, PlayerStateSink } from '../../app/game/stores.js'
import { newAccount } from './account-store.contract.js'
import { noNewHandles } from './handles.js'

interface SinkFixture {
  readonly accounts: AccountStore
  readonly sink: PlayerStateSink
  /** Close the sink and the stores. */
  close(): Promise<void>
}

export type PlayerStateSinkFactory = () => Promise<SinkFixture>

function state(id: number, overrides: Partial<PlayerState> = {}): PlayerState {
  return { id, level: 1, experience: 0, position: { zone: 0, x: 0, y: 0 }, hp: 100, ...overrides }
}

export function runPlayerStateSinkContract(name: string, factory: PlayerStateSinkFactory): void {
  const test = suite(`PlayerStateSink contract: ${name}`)
  let fixture: SinkFixture | null = null
  const open = async (): Promise<SinkFixture> => (fixture = await factory())
  test.after.each(async () => {
    await fixture?.close()
    fixture = null
  })

  test('flush makes marked state durable; the last mark wins', async () => {
    const { accounts, sink } = await open()
    const player = await accounts.create(newAccount())
    sink.markDirty(state(player.id, { position: { zone: 1, x: 5, y: 6 }, hp: 80 }))
    sink.markDirty(state(player.id, { position: { zone: 2, x: 7.5, y: 8.25 }, hp: 60, experience: 9, level: 2 }))
    await sink.flush()
    const stored = await accounts.findById(player.id)
    assert.ok(stored)
    assert.equal({ ...stored.position }, { zone: 2, x: 7.5, y: 8.25 })
    assert.is(stored.hp, 60)
    assert.is(stored.experience, 9)
    assert.is(stored.level, 2)
    assert.ok(stored.version > player.version, 'version bumped')
  })

  test('release persists one player promptly', async () => {
    const { accounts, sink } = await open()
    const player = await accounts.create(newAccount())
    sink.markDirty(state(player.id, { hp: 5 }))
    await sink.release(state(player.id, { hp: 1 }))
    assert.is((await accounts.findById(player.id))?.hp, 1)
  })

  test('many players in one flush', async () => {
    const { accounts, sink } = await open()
    const players = await Promise.all(Array.from({ length: 20 }, () => accounts.create(newAccount())))
    for (const [i, p] of players.entries()) sink.markDirty(state(p.id, { experience: i }))
    await sink.flush()
    for (const [i, p] of players.entries()) assert.is((await accounts.findById(p.id))?.experience, i)
  })

  test('an unknown player id does not break flush for the others', async () => {
    const { accounts, sink } = await open()
    const player = await accounts.create(newAccount())
    sink.markDirty(state(2_000_000_000))
    sink.markDirty(state(player.id, { hp: 42 }))
    await sink.flush()
    assert.is((await accounts.findById(player.id))?.hp, 42)
  })

  test('flush with nothing dirty resolves', async () => {
    const { sink } = await open()
    await sink.flush()
  })

  test('close: a second close resolves, and nothing the sink and its stores opened is left running', async () => {
    const handles = noNewHandles()
    const fixture = await open()
    await fixture.sink.close()
    await fixture.sink.close()
    await fixture.close()
    await handles.assertNone()
  })

  test.run()
}
