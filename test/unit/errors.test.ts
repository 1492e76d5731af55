import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ErrorCodes, GameServerError, isGameServerError } from '../../app/errors.js'
import { WireError } from '../../app/protocol/types.js'

test('every error code is documented in docs/ERRORS.md', () => {
  const doc = readFileSync(new URL('../../docs/ERRORS.md', import.meta.url), 'utf8')
  for (const code of Object.keys(ErrorCodes)) assert.ok(doc.includes(`\`${code}\``), `${code} missing from docs/ERRORS.md`)
})

test('every wire error code is in the table of docs/PROTOCOL.md §5 with its number', () => {
  const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')
  for (const [name, code] of Object.entries(WireError)) assert.ok(doc.includes(`| ${code} | ${name} |`), `${code} ${name} missing from docs/PROTOCOL.md`)
})

test('docs/PROTOCOL.md does not send an outside client author to source files', () => {
  const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8')
  assert.not.match(doc, /app\/[a-z-]+\/[a-z-]+\.ts/)
})

test('GameServerError carries code, frozen context and cause', () => {
  const cause = new Error('root')
  const err = new GameServerError('GS_ERR_CONFIG', 'bad', { variable: 'X' }, { cause })
  assert.ok(isGameServerError(err, 'GS_ERR_CONFIG'))
  assert.not.ok(isGameServerError(err, 'GS_ERR_DB_UNAVAILABLE'))
  assert.is(err.cause, cause)
  assert.ok(Object.isFrozen(err.context))
})

test.run()
