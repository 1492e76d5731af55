/** `node:net` in the browser bundle: browsers have no raw TCP; the client connects over WebSocket there. */
/** @public */
export function connect(): never {
  throw new Error('TCP is not available in a browser: connect with { transport: "ws" } or { url }')
}

/** @public */
export function isIP(address: string): number {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(address) ? 4 : address.includes(':') ? 6 : 0
}
