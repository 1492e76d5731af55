/** Which browser origins may open the game's WebSocket (app/net/ws-listener.ts, docs/SECURITY.md). */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { originAllowed } from '../../../app/net/ws-listener.js'

const HOST = 'game.example.com:8080'
const cases: readonly [origin: string | undefined, allowed: readonly string[], expected: boolean, why: string][] = [
  [undefined, [], true, 'no Origin: not a browser (native client, tool)'],
  ['http://game.example.com:8080', [], true, 'the listener\'s own origin (the playground it served)'],
  ['https://game.example.com:8080', [], true, 'own host behind TLS termination (the scheme is the proxy\'s)'],
  ['http://GAME.example.com:8080', [], true, 'hosts compare without case'],
  ['http://game.example.com', [], false, 'another port is another origin'],
  ['https://evil.example', [], false, 'a foreign site (cross-site WebSocket hijacking)'],
  ['null', [], false, 'an opaque origin (sandboxed frame, data: page)'],
  ['https://evil.example', ['https://play.example.com'], false, 'listed origins only'],
  ['https://play.example.com', ['https://play.example.com'], true, 'a listed origin'],
  ['https://evil.example', ['*'], true, '* allows every origin'],
]

test('originAllowed: absent, own, listed or * pass; everything else is refused', () => {
  for (const [origin, allowed, expected, why] of cases) assert.is(originAllowed(origin, HOST, allowed), expected, why)
})

test.run()
