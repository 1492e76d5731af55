import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isConnectionFailure, mapDatabaseError, mapIfDatabaseError, redactUrl } from '../../../app/db/errors.js'
import { GameServerError } from '../../../app/errors.js'

const url = 'postgres://game:hunter2@db.internal:5432/game'
const socketError = (code: string) => Object.assign(new Error(`connect ${code}`), { code })

test('redactUrl hides the password and keeps the rest', () => {
  assert.is(redactUrl(url), 'postgres://game:***@db.internal:5432/game')
  assert.is(redactUrl('postgres://game@h/db'), 'postgres://game@h/db')
  assert.is(redactUrl('not a url'), '<unparseable DATABASE_URL>')
})

test('connection failures become one GS_ERR_DB_UNAVAILABLE naming DATABASE_URL, password redacted', () => {
  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED']) {
    const err = socketError(code)
    assert.ok(isConnectionFailure(err), code)
    const mapped = mapDatabaseError(err, 'player.findById', url) as GameServerError
    assert.is(mapped.code, 'GS_ERR_DB_UNAVAILABLE')
    assert.is(mapped.context.variable, 'DATABASE_URL')
    assert.is(mapped.context.reason, code)
    assert.match(mapped.message, /DATABASE_URL/)
    assert.not.match(mapped.message, /hunter2/)
    assert.is(mapped.cause, err)
  }
})

test('other failures are GS_ERR_DB_QUERY with the operation; catalogue errors pass through', () => {
  const mapped = mapDatabaseError(new Error('weird'), 'player.update', url) as GameServerError
  assert.is(mapped.code, 'GS_ERR_DB_QUERY')
  assert.is(mapped.context.op, 'player.update')
  const own = new GameServerError('GS_ERR_DB_VERSION_CONFLICT', 'lost', {})
  assert.is(mapDatabaseError(own, 'x', url), own)
})

test('mapIfDatabaseError leaves a caller\'s own error unchanged', () => {
  const mine = new Error('caller aborts')
  assert.is(mapIfDatabaseError(mine, 'transaction', url), mine)
  assert.is((mapIfDatabaseError(socketError('ECONNRESET'), 'transaction', url) as GameServerError).code, 'GS_ERR_DB_UNAVAILABLE')
})

test.run()
