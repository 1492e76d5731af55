import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { encodeProxyV1, parseProxyV1 } from '../../../app/protocol/proxy-header.js'

test('a whole PROXY v1 line names the client; the bytes after it are the stream', () => {
  const bytes = Buffer.concat([encodeProxyV1('203.0.113.7', 51234, '10.0.0.2', 7777), Buffer.from([14, 0, 4, 0])])
  const parsed = parseProxyV1(bytes)
  assert.equal(parsed, { kind: 'header', consumed: bytes.length - 4, source: '203.0.113.7' })
  assert.is(encodeProxyV1('::ffff:198.51.100.1', 1, '::ffff:10.0.0.2', 2).toString(), 'PROXY TCP4 198.51.100.1 10.0.0.2 1 2\r\n')
  assert.equal(parseProxyV1(encodeProxyV1('2001:db8::1', 5, '2001:db8::2', 6)), { kind: 'header', consumed: 40, source: '2001:db8::1' })
  assert.equal(parseProxyV1(Buffer.from('PROXY UNKNOWN\r\n')), { kind: 'header', consumed: 15, source: null })
})

test('a prefix waits; a frame is not a header; a malformed or overlong line is refused', () => {
  assert.equal(parseProxyV1(Buffer.from('PRO')), { kind: 'incomplete' })
  assert.equal(parseProxyV1(Buffer.from('PROXY TCP4 1.2.3.4')), { kind: 'incomplete' })
  assert.equal(parseProxyV1(Buffer.from([14, 0, 4, 0, 1, 0, 0, 0])), { kind: 'absent' })
  assert.is(parseProxyV1(Buffer.from('PROXY TCP4 1.2.3.999 10.0.0.2 1 2\r\n')).kind, 'invalid')
  assert.is(parseProxyV1(Buffer.from('PROXY TCP4 1.2.3.4 10.0.0.2 1 99999\r\n')).kind, 'invalid')
  assert.is(parseProxyV1(Buffer.from('PROXY TCP6 1.2.3.4 10.0.0.2 1 2\r\n')).kind, 'invalid')
  assert.is(parseProxyV1(Buffer.from(`PROXY ${'x'.repeat(120)}`)).kind, 'invalid')
})

test.run()
