/**
 * The process's open-file limit and the session cap it allows. Every session is a socket, and the
 * server needs descriptors of its own besides (listening sockets, PostgreSQL and Redis connections,
 * the metrics endpoint and its scrapes, `/proc` reads of the system sampler, log files, sockets
 * being refused). A MAX_SESSIONS at or above the limit turns a connection storm into EMFILE for
 * everything: accept() itself fails (no SERVER_FULL can be sent) and internal jobs break. So the
 * cap is the limit minus a reserve, and MAX_SESSIONS only ever lowers it.
 */
import { readFileSync } from 'node:fs'

/** Descriptors kept for the server's own files: 5 % of the limit, at least this many. */
const MIN_FD_RESERVE = 128

/** The soft `Max open files` of this process (Linux /proc/self/limits), or null where unknown. */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return null
    }
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text)
  if (match === null || match[1] === 'unlimited') return null
  return Number(match[1])
}

export function fdReserve(limit: number): number {
  return Math.max(MIN_FD_RESERVE, Math.ceil(limit * 0.05))
}

export interface SessionCap {
  /** Sessions accepted at once. */
  readonly maxSessions: number
  /** Where it came from: the configured MAX_SESSIONS, or the descriptor limit. */
  readonly source: 'MAX_SESSIONS' | 'open-file-limit'
  readonly openFileLimit: number | null
}

/** min(MAX_SESSIONS, limit − reserve), at least 1. */
export function sessionCap(configured: number, limit: number | null = openFileLimit()): SessionCap {
  if (limit === null) return { maxSessions: configured, source: 'MAX_SESSIONS', openFileLimit: null }
  const allowed = Math.max(1, limit - fdReserve(limit))
  return allowed < configured ? { maxSessions: allowed, source: 'open-file-limit', openFileLimit: limit } : { maxSessions: configured, source: 'MAX_SESSIONS', openFileLimit: limit }
}
