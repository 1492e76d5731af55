import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { MemorySessionStore } from '../../../app/game/memory-session-store.js'
import { hashPassword, verifyPassword, type ScryptParameters } from '../../../app/game/passwords.js'

const fast: ScryptParameters = { cost: 1024, blockSize: 8, parallelization: 1, saltBytes: 16, keyBytes: 32 }

test('scrypt hash verifies the right password only, salted per hash', async () => {
  const a = await hashPassword('correct horse', fast)
  const b = await hashPassword('correct horse', fast)
  assert.ok(a.startsWith('scrypt$1024$8$1$'))
  assert.is.not(a, b, 'random salt')
  assert.ok(await verifyPassword('correct horse', a))
  assert.ok(await verifyPassword('correct horse', b))
  assert.not.ok(await verifyPassword('correct horsf', a))
  assert.not.ok(await verifyPassword('', a))
})

test('default parameters verify too', async () => {
  const hash = await hashPassword('pässwörd')
  assert.ok(hash.startsWith('scrypt$16384$8$1$'))
  assert.ok(await verifyPassword('pässwörd', hash))
})

test('malformed stored hashes never verify and never throw', async () => {
  for (const stored of ['', 'plain', 'scrypt$x$8$1$AAAA$AAAA', 'scrypt$1024$8$1$AAAA$', 'bcrypt$1024$8$1$AAAA$AAAA', 'scrypt$99999999$8$1$AAAA$AAAA']) {
    assert.not.ok(await verifyPassword('x', stored), stored)
  }
})

test('memory session store: expiry on an injected clock, sweep bounds memory, closed store throws', async () => {
  let now = 1_000_000
  const store = new MemorySessionStore({ ttlSeconds: 10, now: () => now })
  const a = await store.create(1, 'a')
  await store.create(2, 'b')
  assert.is(a.expiresAt, now + 10_000)
  now += 9_999
  assert.ok(await store.validate(a.token), 'valid just before expiry, refreshed')
  now += 9_999
  assert.ok(await store.validate(a.token), 'sliding refresh kept it alive')
  assert.is(store.sweep(), 1, 'b expired and swept')
  assert.is(store.size, 1)
  now += 10_000
  assert.is(await store.validate(a.token), undefined)
  assert.is(store.size, 0)
  await store.close()
  try {
    await store.create(3, 'c')
    assert.unreachable()
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_STORE_CLOSED'))
  }
})

test.run()
