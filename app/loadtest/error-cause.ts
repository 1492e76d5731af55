/**
 * What a load-test error was, as a short stable label for the report's breakdown: the wire error
 * name when the server answered ERROR (`OVERLOADED`, `LOGIN_THROTTLED`, …), `timeout` when no answer
 * came within the scenario's request timeout, `connection-closed` when the connection died while
 * waiting (`connection-closed TOO_MANY_CONNECTIONS` when the server said why before closing it,
 * `connection-closed ECONNREFUSED` for a socket error), another error code when one is known, `other` otherwise. A small closed set: the report
 * counts by it, so it must not grow with messages or ids.
 */
import { isGameServerError } from '../errors.js'
import { WireError } from '../protocol/types.js'

const WIRE_NAMES = new Map<number, string>(Object.entries(WireError).map(([name, code]) => [code, name]))

export function errorCause(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  if (isGameServerError(err, 'GS_ERR_REQUEST_REJECTED') || code === 'GS_ERR_REQUEST_REJECTED') {
    const wire = (err as { context?: { wireCode?: unknown } }).context?.wireCode
    return typeof wire === 'number' ? WIRE_NAMES.get(wire) ?? `wire-${wire}` : 'rejected'
  }
  if (code === 'GS_ERR_CLIENT_TIMEOUT') return 'timeout'
  if (code === 'GS_ERR_CLIENT_CLOSED') {
    // closed by the server after an ERROR with ref_seq 0: its reason (SERVER_FULL, TOO_MANY_CONNECTIONS, …)
    const wire = (err as { context?: { wireCode?: unknown } }).context?.wireCode
    if (typeof wire === 'number') return `connection-closed ${WIRE_NAMES.get(wire) ?? `wire-${wire}`}`
    // a socket error (a refused or reset connect): its errno name, one of a small fixed set
    const errno = ((err as { cause?: { code?: unknown } }).cause)?.code
    return typeof errno === 'string' && /^E[A-Z]+$/.test(errno) ? `connection-closed ${errno}` : 'connection-closed'
  }
  return typeof code === 'string' && code.startsWith('GS_ERR_') ? code : 'other'
}

/** Add `from` into `into` (cause → count). */
export function addCauses(into: Record<string, number>, from: Readonly<Record<string, number>> | undefined): Record<string, number> {
  if (from !== undefined) for (const [cause, n] of Object.entries(from)) into[cause] = (into[cause] ?? 0) + n
  return into
}

/** `OVERLOADED 40, timeout 6` — most frequent first. */
export function formatCauses(causes: Readonly<Record<string, number>>): string {
  return Object.entries(causes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([cause, n]) => `${cause} ${n}`).join(', ')
}
