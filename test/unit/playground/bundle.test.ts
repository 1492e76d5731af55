/**
 * The checked-in browser bundle (app/playground/generated/client-bundle.ts) is what
 * `npm run playground` builds from the sources today, and the bundle is a browser script: no
 * Node module is left in it.
 */
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { bundleBrowserClient } from '../../../app/playground/build.js'
import { CLIENT_BUNDLE } from '../../../app/playground/generated/client-bundle.js'
import { playgroundAssets } from '../../../app/playground/assets.js'

test('the generated bundle is up to date (run `npm run playground` after changing the client or the protocol)', async () => {
  const fresh = await bundleBrowserClient()
  assert.ok(fresh === CLIENT_BUNDLE, 'app/playground/generated/client-bundle.ts is stale: run `npm run playground`')
})

test('the bundle requires no Node module', () => {
  assert.not.match(CLIENT_BUNDLE, /require\(["']node:/)
  assert.not.match(CLIENT_BUNDLE, /from ["']node:/)
})

test('assets: the page names the WebSocket path and loads client.js', () => {
  const assets = playgroundAssets('/play')
  const page = assets.get('/')!.body.toString()
  assert.match(page, /name="gs-websocket-path" content="\/play"/)
  assert.match(page, /<script src="client.js"><\/script>/)
  assert.is(assets.get('/client.js')!.contentType, 'text/javascript; charset=utf-8')
})

test.run()
