/**
 * Payload codecs of the game messages (docs/PROTOCOL.md §4). All integers little-endian; positions
 * are IEEE-754 f32; strings are UTF-8, prefixed by a u8 byte length (`str8`) except chat text,
 * which is the rest of the payload. Decoders accept exactly the documented layout (no trailing
 * bytes) and throw GS_ERR_PAYLOAD_MALFORMED otherwise; they never read outside the payload.
 * Encoders return a fresh Buffer.
 */
import { GameServerError } from '../errors.js'
import { PROTOCOL_VERSION } from './types.js'

const utf8Strict = new TextDecoder('utf-8', { fatal: true })

// ── client → server ────────────────────────────────────────────────────────────────────────────

const LoginMode = { PASSWORD: 0, TOKEN: 1 } as const

export interface Credentials {
  readonly username: string
  readonly password: string
}

/**
 * The optional last byte of REGISTER and LOGIN: the highest protocol version the client speaks
 * (docs/PROTOCOL.md §4.2). Decoded as `undefined` when absent; encoders write PROTOCOL_VERSION
 * unless told `null` (a client from before versioning).
 */
interface VersionedRequest {
  readonly version?: number | undefined
}

export type RegisterRequest = Credentials & VersionedRequest

export type LoginRequest = (({ readonly mode: 'password' } & Credentials) | { readonly mode: 'token'; readonly token: string }) & VersionedRequest

/** Target position in world coordinates; the zone follows from x (docs/PROTOCOL.md §4.1). */
export interface MoveRequest {
  readonly x: number
  readonly y: number
}

export interface AttackRequest {
  readonly targetId: number
}

// ── server → client ────────────────────────────────────────────────────────────────────────────

export interface LoginOk {
  readonly playerId: number
  readonly zone: number
  readonly x: number
  readonly y: number
  readonly hp: number
  readonly maxHp: number
  readonly tokenTtlSeconds: number
  readonly token: string
  readonly username: string
  /** The protocol version the server chose (≤ the client's). */
  readonly protocolVersion: number
  /** Positions in ZONE_UPDATE are in units of 2^-positionBits (docs/PROTOCOL.md §4.8). */
  readonly positionBits: number
  /** ZONE_SIZE: to turn a ZONE_UPDATE's zone-local position into world coordinates. */
  readonly zoneSize: number
  /** VIEW_RADIUS: you see players at least this close (0: your whole zone). */
  readonly viewRadius: number
}

export interface PlayerMoved {
  readonly playerId: number
  readonly zone: number
  readonly x: number
  readonly y: number
}

export const ChatFlags = { HISTORY: 0x01 } as const

export interface ChatMessage {
  readonly senderId: number
  readonly zone: number
  /** Bit 0: replayed from the zone's history (sent on entering a zone), not live. */
  readonly flags: number
  /** Server wall-clock time the message was accepted, epoch ms. */
  readonly sentAtMs: number
  readonly username: string
  readonly text: string
}

export interface AttackResult {
  readonly attackerId: number
  readonly targetId: number
  readonly damage: number
  readonly targetHp: number
  readonly killed: boolean
}

export interface PlayerJoined {
  readonly playerId: number
  readonly zone: number
  readonly x: number
  readonly y: number
  readonly hp: number
  readonly username: string
}

/** PLAYER_LEFT reasons: 2 = the player is still in the zone but no longer within your view. */
export const LeaveReason = { DISCONNECTED: 0, ZONE_CHANGE: 1, OUT_OF_VIEW: 2 } as const

export interface PlayerLeft {
  readonly playerId: number
  readonly zone: number
  readonly reason: number
}

export interface PlayerRespawned {
  readonly playerId: number
  readonly zone: number
  readonly x: number
  readonly y: number
  readonly hp: number
}

// ── reader / writer ────────────────────────────────────────────────────────────────────────────

function malformed(what: string, context: Record<string, unknown> = {}): GameServerError {
  return new GameServerError('GS_ERR_PAYLOAD_MALFORMED', `${what} payload is malformed`, context)
}

class Reader {
  private offset = 0
  constructor(private readonly buf: Buffer, private readonly what: string) {}

  private need(bytes: number): number {
    const at = this.offset
    if (at + bytes > this.buf.length) throw malformed(this.what, { offset: at, need: bytes, bytes: this.buf.length })
    this.offset += bytes
    return at
  }
  u8(): number { return this.buf.readUInt8(this.need(1)) }
  /** The optional trailing protocol version: absent (undefined) or one u8 in 1…255. */
  version(): number | undefined {
    if (this.offset === this.buf.length) return undefined
    const version = this.u8()
    if (version === 0) throw malformed(this.what, { field: 'protocol_version', value: 0 })
    return version
  }
  u16(): number { return this.buf.readUInt16LE(this.need(2)) }
  u32(): number { return this.buf.readUInt32LE(this.need(4)) }
  f32(): number {
    const value = this.buf.readFloatLE(this.need(4))
    if (!Number.isFinite(value)) throw malformed(this.what, { field: 'f32', value })
    return value
  }
  f64(): number { return this.buf.readDoubleLE(this.need(8)) }
  str8(): string {
    const length = this.u8()
    return this.text(this.need(length), length)
  }
  rest(): string {
    const at = this.offset
    return this.text(this.need(this.buf.length - at), this.buf.length - at)
  }
  end(): void {
    if (this.offset !== this.buf.length) throw malformed(this.what, { trailingBytes: this.buf.length - this.offset })
  }
  private text(at: number, length: number): string {
    try {
      return utf8Strict.decode(this.buf.subarray(at, at + length))
    } catch {
      throw malformed(this.what, { field: 'utf8' })
    }
  }
}

class Writer {
  readonly buf: Buffer
  private offset = 0
  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafe(bytes)
  }
  u8(v: number): this { this.offset = this.buf.writeUInt8(v, this.offset); return this }
  u16(v: number): this { this.offset = this.buf.writeUInt16LE(v, this.offset); return this }
  u32(v: number): this { this.offset = this.buf.writeUInt32LE(v >>> 0, this.offset); return this }
  f32(v: number): this { this.offset = this.buf.writeFloatLE(v, this.offset); return this }
  f64(v: number): this { this.offset = this.buf.writeDoubleLE(v, this.offset); return this }
  bytes(b: Buffer): this { this.offset += b.copy(this.buf, this.offset); return this }
  str8(b: Buffer): this { return this.u8(b.length).bytes(b) }
  done(): Buffer { return this.buf.subarray(0, this.offset) }
}

/** UTF-8 bytes of a str8 field; throws RangeError above 255 bytes (caller bug, not wire input). */
function str8Bytes(value: string, field: string): Buffer {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length > 255) throw new RangeError(`${field} is ${bytes.length} bytes; str8 holds at most 255`)
  return bytes
}

/** Cut a string to at most `maxBytes` of UTF-8 without splitting a character. */
function truncatedUtf8(value: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length <= maxBytes) return bytes
  let end = maxBytes
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}

// ── REGISTER (7) / LOGIN (6) ───────────────────────────────────────────────────────────────────

/** `version`: the protocol version byte to append (PROTOCOL_VERSION by default; null: none, as clients before versioning). */
export function encodeRegister(credentials: Credentials, version: number | null = PROTOCOL_VERSION): Buffer {
  const user = str8Bytes(credentials.username, 'username')
  const pass = str8Bytes(credentials.password, 'password')
  return withVersion(new Writer(3 + user.length + pass.length).str8(user).str8(pass), version)
}

export function decodeRegister(payload: Buffer): RegisterRequest {
  const r = new Reader(payload, 'REGISTER')
  const username = r.str8()
  const password = r.str8()
  const version = r.version()
  r.end()
  return { username, password, version }
}

export function encodeLogin(request: LoginRequest, version: number | null = PROTOCOL_VERSION): Buffer {
  if (request.mode === 'token') {
    const token = str8Bytes(request.token, 'token')
    return withVersion(new Writer(3 + token.length).u8(LoginMode.TOKEN).str8(token), version)
  }
  const user = str8Bytes(request.username, 'username')
  const pass = str8Bytes(request.password, 'password')
  return withVersion(new Writer(4 + user.length + pass.length).u8(LoginMode.PASSWORD).str8(user).str8(pass), version)
}

export function decodeLogin(payload: Buffer): LoginRequest {
  const r = new Reader(payload, 'LOGIN')
  const mode = r.u8()
  if (mode === LoginMode.PASSWORD) {
    const username = r.str8()
    const password = r.str8()
    const version = r.version()
    r.end()
    return { mode: 'password', username, password, version }
  }
  if (mode === LoginMode.TOKEN) {
    const token = r.str8()
    const version = r.version()
    r.end()
    return { mode: 'token', token, version }
  }
  throw malformed('LOGIN', { mode })
}

function withVersion(writer: Writer, version: number | null): Buffer {
  if (version === null) return writer.done()
  if (!Number.isInteger(version) || version < 1 || version > 255) throw new RangeError(`protocol version ${version} is not in 1…255`)
  return writer.u8(version).done()
}

// ── MOVE (1) / CHAT (2) / ATTACK (3) ───────────────────────────────────────────────────────────

export function encodeMove(move: MoveRequest): Buffer {
  return new Writer(8).f32(move.x).f32(move.y).done()
}

export function decodeMove(payload: Buffer): MoveRequest {
  const r = new Reader(payload, 'MOVE')
  const move = { x: r.f32(), y: r.f32() }
  r.end()
  return move
}

/** CHAT payload: the message text, UTF-8, no prefix (its length is the payload length). */
export function encodeChat(text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

export function decodeChat(payload: Buffer): string {
  return new Reader(payload, 'CHAT').rest()
}

export function encodeAttack(attack: AttackRequest): Buffer {
  return new Writer(4).u32(attack.targetId).done()
}

export function decodeAttack(payload: Buffer): AttackRequest {
  const r = new Reader(payload, 'ATTACK')
  const attack = { targetId: r.u32() }
  r.end()
  return attack
}

// ── server → client ────────────────────────────────────────────────────────────────────────────

export function encodeLoginOk(m: LoginOk): Buffer {
  const token = str8Bytes(m.token, 'token')
  const user = str8Bytes(m.username, 'username')
  return new Writer(34 + token.length + user.length)
    .u32(m.playerId).u16(m.zone).f32(m.x).f32(m.y).u16(m.hp).u16(m.maxHp).u32(m.tokenTtlSeconds).str8(token).str8(user)
    .u8(m.protocolVersion).u8(m.positionBits).u32(m.zoneSize).f32(m.viewRadius).done()
}

export function decodeLoginOk(payload: Buffer): LoginOk {
  const r = new Reader(payload, 'LOGIN_OK')
  const m = {
    playerId: r.u32(), zone: r.u16(), x: r.f32(), y: r.f32(), hp: r.u16(), maxHp: r.u16(), tokenTtlSeconds: r.u32(), token: r.str8(), username: r.str8(),
    protocolVersion: r.u8(), positionBits: r.u8(), zoneSize: r.u32(), viewRadius: r.f32(),
  }
  r.end()
  return m
}

export function encodePlayerMoved(m: PlayerMoved): Buffer {
  return new Writer(14).u32(m.playerId).u16(m.zone).f32(m.x).f32(m.y).done()
}

export function decodePlayerMoved(payload: Buffer): PlayerMoved {
  const r = new Reader(payload, 'PLAYER_MOVED')
  const m = { playerId: r.u32(), zone: r.u16(), x: r.f32(), y: r.f32() }
  r.end()
  return m
}

/** `maxTextBytes` bounds the text so the frame fits the max frame size (cut on a character boundary). */
export function encodeChatMessage(m: ChatMessage, maxTextBytes = 0xffff): Buffer {
  const user = str8Bytes(m.username, 'username')
  const text = truncatedUtf8(m.text, maxTextBytes)
  return new Writer(17 + user.length + text.length).u32(m.senderId).u16(m.zone).u8(m.flags).u8(0).f64(m.sentAtMs).str8(user).bytes(text).done()
}

export function decodeChatMessage(payload: Buffer): ChatMessage {
  const r = new Reader(payload, 'CHAT_MESSAGE')
  const senderId = r.u32()
  const zone = r.u16()
  const flags = r.u8()
  r.u8()
  const sentAtMs = r.f64()
  const username = r.str8()
  const text = r.rest()
  return { senderId, zone, flags, sentAtMs, username, text }
}

export function encodeAttackResult(m: AttackResult): Buffer {
  return new Writer(13).u32(m.attackerId).u32(m.targetId).u16(m.damage).u16(m.targetHp).u8(m.killed ? 1 : 0).done()
}

export function decodeAttackResult(payload: Buffer): AttackResult {
  const r = new Reader(payload, 'ATTACK_RESULT')
  const m = { attackerId: r.u32(), targetId: r.u32(), damage: r.u16(), targetHp: r.u16(), killed: r.u8() !== 0 }
  r.end()
  return m
}

export function encodePlayerJoined(m: PlayerJoined): Buffer {
  const user = str8Bytes(m.username, 'username')
  return new Writer(17 + user.length).u32(m.playerId).u16(m.zone).f32(m.x).f32(m.y).u16(m.hp).str8(user).done()
}

export function decodePlayerJoined(payload: Buffer): PlayerJoined {
  const r = new Reader(payload, 'PLAYER_JOINED')
  const m = { playerId: r.u32(), zone: r.u16(), x: r.f32(), y: r.f32(), hp: r.u16(), username: r.str8() }
  r.end()
  return m
}

export function encodePlayerLeft(m: PlayerLeft): Buffer {
  return new Writer(7).u32(m.playerId).u16(m.zone).u8(m.reason).done()
}

export function decodePlayerLeft(payload: Buffer): PlayerLeft {
  const r = new Reader(payload, 'PLAYER_LEFT')
  const m = { playerId: r.u32(), zone: r.u16(), reason: r.u8() }
  r.end()
  return m
}

export function encodePlayerRespawned(m: PlayerRespawned): Buffer {
  return new Writer(16).u32(m.playerId).u16(m.zone).f32(m.x).f32(m.y).u16(m.hp).done()
}

export function decodePlayerRespawned(payload: Buffer): PlayerRespawned {
  const r = new Reader(payload, 'PLAYER_RESPAWNED')
  const m = { playerId: r.u32(), zone: r.u16(), x: r.f32(), y: r.f32(), hp: r.u16() }
  r.end()
  return m
}
