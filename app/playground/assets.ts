/**
 * What the WebSocket listener serves over HTTP when WS_PLAYGROUND is on: the page at `/` and the
 * browser client at `/client.js` (the checked-in bundle, see build.ts).
 */
import { CLIENT_BUNDLE } from './generated/client-bundle.js'
import { playgroundPage } from './page.js'

export interface PlaygroundAsset {
  readonly contentType: string
  readonly body: Buffer
}

export function playgroundAssets(webSocketPath: string): ReadonlyMap<string, PlaygroundAsset> {
  const page = { contentType: 'text/html; charset=utf-8', body: Buffer.from(playgroundPage(webSocketPath)) }
  return new Map([
    ['/', page],
    ['/index.html', page],
    ['/client.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(CLIENT_BUNDLE) }],
  ])
}
