import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cleanLine } from '../../app/logger.js'
import { redactSecrets, redactValue } from '../../app/redact.js'

test('URL passwords are redacted, also in URLs no parser accepts (an unescaped @ or / in the password)', () => {
  assert.is(redactSecrets('postgres://game:hunter2@db:5432/game'), 'postgres://game:***@db:5432/game')
  assert.is(redactSecrets('redis://:s3cret@cache:6379/0'), 'redis://:***@cache:6379/0')
  assert.is(redactSecrets('postgres://game:hun@ter/2@db:notaport/game'), 'postgres://game:***@db:notaport/game')
  assert.is(redactSecrets('cannot connect to postgres://game:pw@db/game: refused'), 'cannot connect to postgres://game:***@db/game: refused')
  assert.is(redactSecrets('postgres://game@db/game and http://host/path'), 'postgres://game@db/game and http://host/path', 'no password, nothing changed')
})

test('a secret variable is hidden whole; other values only lose URL passwords', () => {
  assert.is(redactValue('BALANCER_ADMIN_TOKEN', 'abc123-token'), '***')
  assert.is(redactValue('DATABASE_URL', 'postgres://u:pw@h/db'), 'postgres://u:***@h/db')
  assert.is(redactValue('GAME_PORT', '70000'), '70000')
})

test('a JSON log line: passwords redacted in every field (message, error, stack), each key once', () => {
  const line = JSON.stringify({ msg: 'failed redis://:a@h:1', err: { message: 'postgres://u:b@h/db', stack: 'Error: postgres://u:b@h/db\n    at x' } })
  const cleaned = cleanLine(line)
  assert.not.match(cleaned, /:a@|:b@/)
  assert.match(cleaned, /redis:\/\/:\*\*\*@h:1/)
  assert.is(cleanLine('{"name":"a","name":"b"}'), '{"name":"b"}\n')
})

test.run()
