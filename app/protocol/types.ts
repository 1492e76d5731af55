/**
 * Frame types and error codes on the wire (docs/PROTOCOL.md). MOVE=1, CHAT=2, ATTACK=3, PING=4,
 * PONG=5 and BATCH=0xFFFF are fixed: clients written against them exist; the rest is ours.
 * Client→server types are < 0x8000; server→client types have the high bit set (except PONG).
 */
export const FrameType = {
  MOVE: 1,
  CHAT: 2,
  ATTACK: 3,
  PING: 4,
  PONG: 5,
  LOGIN: 6,
  REGISTER: 7,
  LOGOUT: 8,

  LOGIN_OK: 0x8001,
  ERROR: 0x8002,
  PLAYER_MOVED: 0x8003,
  CHAT_MESSAGE: 0x8004,
  ATTACK_RESULT: 0x8005,
  PLAYER_JOINED: 0x8006,
  PLAYER_LEFT: 0x8007,
  PLAYER_RESPAWNED: 0x8008,
  LOGOUT_OK: 0x8009,
  ZONE_UPDATE: 0x800a,

  BATCH: 0xffff,
} as const

/**
 * The protocol version this server speaks (docs/PROTOCOL.md §4.2): LOGIN and REGISTER may end with
 * the highest version the client speaks, LOGIN_OK names the one the server chose. Version 1 was the
 * unversioned protocol before zone streams (every move a PLAYER_MOVED to every member of the zone);
 * this server no longer speaks it.
 */
export const PROTOCOL_VERSION = 2
/** The oldest version a client may ask for. */
export const MIN_PROTOCOL_VERSION = 2

export type FrameTypeName = keyof typeof FrameType

const namesByCode = new Map<number, FrameTypeName>(Object.entries(FrameType).map(([name, code]) => [code, name as FrameTypeName]))

/** Low-cardinality label for metrics and logs: the type's name, or `unknown`. */
export function frameTypeName(type: number): FrameTypeName | 'unknown' {
  return namesByCode.get(type) ?? 'unknown'
}

/** Codes carried by ERROR frames (u16). Stable: clients switch on them. */
export const WireError = {
  MALFORMED_FRAME: 1,
  FRAME_TOO_LARGE: 2,
  NOT_LOGGED_IN: 3,
  PLAYER_ID_MISMATCH: 4,
  UNKNOWN_TYPE: 5,
  RATE_LIMITED: 6,
  BAD_CREDENTIALS: 7,
  ACCOUNT_EXISTS: 8,
  TOKEN_INVALID: 9,
  MOVE_REJECTED: 10,
  CHAT_REJECTED: 11,
  ATTACK_REJECTED: 12,
  SERVER_FULL: 13,
  SHUTTING_DOWN: 14,
  OVERLOADED: 15,
  NO_BACKEND: 16,
  SESSION_STORE_UNAVAILABLE: 17,
  ALREADY_LOGGED_IN: 18,
  BATCH_FROM_CLIENT: 19,
  IDLE_TIMEOUT: 20,
  INTERNAL: 21,
  LOGIN_THROTTLED: 22,
  ACCOUNT_STORE_UNAVAILABLE: 23,
  TAKEN_OVER: 24,
  FRAME_TIMEOUT: 25,
  TOO_MANY_CONNECTIONS: 26,
  UNSUPPORTED_VERSION: 27,
} as const

type WireErrorName = keyof typeof WireError
export type WireErrorCode = (typeof WireError)[WireErrorName]

/**
 * Types a client may send: every pinned or designed type below 0x8000 except PONG (5, which only
 * the server sends). Anything else from a client is an unknown-type violation (BATCH is its own,
 * session-closing violation).
 */
export function isClientFrameType(type: number): boolean {
  return type < 0x8000 && type !== FrameType.PONG && namesByCode.has(type)
}
