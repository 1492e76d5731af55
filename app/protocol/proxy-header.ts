/**
 * The PROXY protocol, version 1 (HAProxy's text header): one line a proxy writes at the start of a
 * connection to say whom it is relaying,
 *
 *   PROXY TCP4 203.0.113.7 10.0.0.2 51234 7777\r\n      (or TCP6, or "PROXY UNKNOWN …\r\n")
 *
 * so that a game server behind the balancer sees the real client address (per-address login
 * throttling, takeover notices) instead of the balancer's. At most 107 bytes. A server accepts it
 * only when TRUST_PROXY_HEADER is set: whoever can reach the server's port can claim any address.
 */
import { isIP } from 'node:net'

const PROXY_V1_MAX_BYTES = 107
const PROXY_V1_PREFIX = Buffer.from('PROXY ')

export type ProxyHeaderParse =
  | { readonly kind: 'header'; readonly consumed: number; readonly source: string | null }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly reason: string }

/** Look at the first bytes of a connection: a whole PROXY v1 line, the start of one, none, or a bad one. */
export function parseProxyV1(bytes: Buffer): ProxyHeaderParse {
  const n = Math.min(bytes.length, PROXY_V1_PREFIX.length)
  if (!bytes.subarray(0, n).equals(PROXY_V1_PREFIX.subarray(0, n))) return { kind: 'absent' }
  const end = bytes.indexOf('\r\n')
  if (end < 0) return bytes.length >= PROXY_V1_MAX_BYTES ? { kind: 'invalid', reason: 'no CRLF within 107 bytes' } : { kind: 'incomplete' }
  if (end + 2 > PROXY_V1_MAX_BYTES) return { kind: 'invalid', reason: 'longer than 107 bytes' }
  const parts = bytes.toString('latin1', 0, end).split(' ')
  if (parts[1] === 'UNKNOWN') return { kind: 'header', consumed: end + 2, source: null }
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return { kind: 'invalid', reason: 'expected PROXY TCP4|TCP6 src dst sport dport' }
  const family = parts[1] === 'TCP4' ? 4 : 6
  if (isIP(parts[2]!) !== family || isIP(parts[3]!) !== family) return { kind: 'invalid', reason: 'bad address' }
  for (const port of [parts[4]!, parts[5]!]) if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return { kind: 'invalid', reason: 'bad port' }
  return { kind: 'header', consumed: end + 2, source: parts[2]! }
}

/** The header a proxy writes for a client at `source:sourcePort` that reached it at `destination:destinationPort`. */
export function encodeProxyV1(source: string | undefined, sourcePort: number | undefined, destination: string | undefined, destinationPort: number | undefined): Buffer {
  const src = unmapped(source)
  const dst = unmapped(destination)
  const family = isIP(src)
  if (family === 0 || isIP(dst) !== family || sourcePort === undefined || destinationPort === undefined) return Buffer.from('PROXY UNKNOWN\r\n')
  return Buffer.from(`PROXY TCP${family} ${src} ${dst} ${sourcePort} ${destinationPort}\r\n`, 'latin1')
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) → `1.2.3.4`. */
function unmapped(address: string | undefined): string {
  if (address === undefined) return ''
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
}
