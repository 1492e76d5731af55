/**
 * The AccountStore contract: every implementation (in-memory, Postgres) must pass it.
 * Usage: `runAccountStoreContract('postgres', async () => store)` in a test file; the factory is
 * called once per test and the store it returns is closed after the test. Usernames are unique per
 * run, so a shared database works.
 */
import { randomBytes } from 'node:crypto'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../app/errors.js'
import type { AccountStore, NewAccount } from '../../app/game/stores.js'
import { noNewHandles } from './handles.js'

export type AccountStoreFactory = () => Promise<AccountStore>

const runId = randomBytes(4).toString('hex')
let counter = 0
function uniqueName(prefix = 'user'): string {
  return `${prefix}_${runId}_${++counter}`
}

export function newAccount(overrides: Partial<NewAccount> = {}): NewAccount {
  return { username: uniqueName(), passwordHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==', position: { zone: 0, x: 10, y: 20 }, hp: 100, ...overrides }
}

export function runAccountStoreContract(name: string, factory: AccountStoreFactory): void {
  const test = suite(`AccountStore contract: ${name}`)
  let store: AccountStore | null = null
  const open = async (): Promise<AccountStore> => (store = await factory())
  test.after.each(async () => {
    await store?.close()
    store = null
  })

  test('create returns the record with an id, defaults and the given fields', async () => {
    const accounts = await open()
    const input = newAccount({ email: `${uniqueName('mail')}@example.test` })
    const record = await accounts.create(input)
    assert.ok(Number.isInteger(record.id) && record.id > 0, 'positive integer id')
    assert.is(record.username, input.username)
    assert.is(record.email, input.email)
    assert.is(record.passwordHash, input.passwordHash)
    assert.equal({ ...record.position }, { ...input.position })
    assert.is(record.hp, 100)
    assert.is(record.level, 1)
    assert.is(record.experience, 0)
    assert.is(record.gold, 0)
    assert.ok(record.createdAt instanceof Date)
    assert.is(record.lastLogin, null)
    assert.ok(record.version >= 1)
  })

  test('usernames that differ only in case are one name: a second create is GS_ERR_ACCOUNT_EXISTS, lookups ignore case', async () => {
    const accounts = await open()
    const name = uniqueName('Case')
    const first = await accounts.create(newAccount({ username: name }))
    for (const variant of [name.toLowerCase(), name.toUpperCase()]) {
      try {
        await accounts.create(newAccount({ username: variant }))
        assert.unreachable(`${variant} must be refused`)
      } catch (err) {
        assert.ok(isGameServerError(err, 'GS_ERR_ACCOUNT_EXISTS'), String(err))
      }
    }
    const found = await accounts.findByUsername(name.toUpperCase())
    assert.is(found?.id, first.id)
    assert.is(found?.username, name, 'the name keeps the case it was registered with')
  })

  test('ids are distinct', async () => {
    const accounts = await open()
    const a = await accounts.create(newAccount())
    const b = await accounts.create(newAccount())
    assert.is.not(a.id, b.id)
  })

  test('findByUsername and findById return the stored record', async () => {
    const accounts = await open()
    const created = await accounts.create(newAccount())
    const byName = await accounts.findByUsername(created.username)
    const byId = await accounts.findById(created.id)
    assert.ok(byName && byId)
    assert.is(byName.id, created.id)
    assert.is(byId.username, created.username)
    assert.is(byId.passwordHash, created.passwordHash)
    assert.equal({ ...byId.position }, { ...created.position })
  })

  test('unknown name or id is undefined', async () => {
    const accounts = await open()
    assert.is(await accounts.findByUsername(uniqueName('nobody')), undefined)
    assert.is(await accounts.findById(2_000_000_000), undefined)
  })

  test('a taken username rejects with GS_ERR_ACCOUNT_EXISTS and leaves the first account intact', async () => {
    const accounts = await open()
    const first = await accounts.create(newAccount())
    try {
      await accounts.create(newAccount({ username: first.username, passwordHash: 'other' }))
      assert.unreachable('second create must reject')
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_ACCOUNT_EXISTS'), `got ${String(err)}`)
    }
    assert.is((await accounts.findByUsername(first.username))?.passwordHash, first.passwordHash)
  })

  test('a taken email rejects with GS_ERR_ACCOUNT_EXISTS', async () => {
    const accounts = await open()
    const email = `${uniqueName('mail')}@example.test`
    await accounts.create(newAccount({ email }))
    try {
      await accounts.create(newAccount({ email }))
      assert.unreachable('second create must reject')
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_ACCOUNT_EXISTS'), `got ${String(err)}`)
    }
  })

  test('usernames are compared exactly and may hold any UTF-8', async () => {
    const accounts = await open()
    const base = uniqueName('Ünï')
    const a = await accounts.create(newAccount({ username: base }))
    assert.is((await accounts.findByUsername(base))?.id, a.id)
    assert.is(await accounts.findByUsername(`${base} `), undefined)
    assert.is(await accounts.findByUsername(`${base}'; DROP TABLE players; --`), undefined)
  })

  test('concurrent creates of one name: exactly one wins', async () => {
    const accounts = await open()
    const username = uniqueName('race')
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => accounts.create(newAccount({ username }))))
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const r of results) if (r.status === 'rejected') assert.ok(isGameServerError(r.reason, 'GS_ERR_ACCOUNT_EXISTS'))
  })

  test('close: a second close resolves, and nothing the store opened is left running', async () => {
    const handles = noNewHandles()
    const accounts = await open()
    await accounts.close()
    await accounts.close()
    await handles.assertNone()
  })

  test.run()
}
