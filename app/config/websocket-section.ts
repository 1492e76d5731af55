/**
 * The WebSocket listener of the game server (docs/PROTOCOL.md "WebSocket transport"): browsers
 * cannot open raw TCP, so the same protocol is also served over WebSocket on a port of its own.
 * Off unless WS_PORT is set.
 */
import { boolean, port, text } from './schema.js'
import type { Variable } from './schema.js'

export const webSocketSection = {
  port: port('WS_PORT', undefined, 'Port of the WebSocket listener (binary messages carrying protocol frames; 0 picks a free port). Unset: no WebSocket listener.'),
  host: text('WS_HOST', undefined, 'Address the WebSocket listener binds; defaults to GAME_HOST.'),
  path: text('WS_PATH', '/ws', 'Path of the WebSocket upgrade; other paths answer 404.', /^\/[A-Za-z0-9._~\/-]*$/),
  allowedOrigins: originList(
    'WS_ALLOWED_ORIGINS',
    'Browser origins allowed to open a WebSocket, comma-separated (`https://game.example.com`), besides the listener\'s own origin (the playground). A browser upgrade from any other Origin is refused with 403 (cross-site WebSocket hijacking); `*` allows every origin. Clients that send no Origin (native, tools) are always allowed.',
  ),
  trustProxyHeader: boolean('WS_TRUST_PROXY_HEADER', false, 'Accept a PROXY protocol v1 line at the start of a WebSocket connection (before its HTTP request) and use its source as the client address (login throttling, takeover notices). For servers behind the balancer\'s WebSocket front with BALANCER_SEND_PROXY_HEADER, or another proxy that sends it, on a port clients cannot reach directly: anyone who can reach the port can claim any address. Separate from TRUST_PROXY_HEADER (the game port).'),
  playground: boolean('WS_PLAYGROUND', true, 'Serve the playground page (`/`) and the browser client (`/client.js`) on the WebSocket port.'),
} as const

/** `*`, or a list of origins (scheme://host[:port], no path). */
function originList(name: string, doc: string): Variable<readonly string[]> {
  return {
    name,
    defaultValue: [],
    doc,
    parse(raw: string): readonly string[] {
      const items = raw.split(',').map((item) => item.trim()).filter(Boolean)
      if (items.length === 0) throw new Error('expected at least one origin')
      return Object.freeze(items.map((item) => {
        if (item === '*') return item
        let parsed: URL
        try {
          parsed = new URL(item)
        } catch {
          throw new Error(`"${item}" is not an origin`)
        }
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`"${item}": expected http: or https:`)
        if (parsed.origin !== item.replace(/\/$/, '')) throw new Error(`"${item}" is not an origin (scheme://host[:port], no path)`)
        return parsed.origin
      }))
    },
  }
}
