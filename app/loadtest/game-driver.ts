/**
 * The game actions of a virtual player, over the protocol of docs/PROTOCOL.md §4:
 *
 * - start: REGISTER a fresh account `lt<run>_<index>` (or LOGIN when it exists), keep the token and
 *   position; OVERLOADED (too many logins in progress) is retried with back-off until the timeout.
 * - move: a small step (within the MAX_SPEED budget at the scenario's rate) in a random direction,
 *   staying inside the spawn zone (ZONE_SIZE from LOGIN_OK) → PLAYER_MOVED (the mover's own reply).
 * - chat: a short line → CHAT_MESSAGE (the reply; the zone stream's copy follows with the tick).
 * - attack: a player in our view (PLAYER_JOINED adds, PLAYER_LEFT removes) → ATTACK_RESULT.
 *
 * Protocol version 2 (docs/PROTOCOL.md §4.8): others' moves arrive as ZONE_UPDATE frames of the zone
 * stream. The driver does not decode them (a virtual player keeps no picture of the zone: its cost
 * per received frame stays a header read); attack targets come from the presence frames alone.
 * - login: re-login with the token on a new connection (the server closes the old one as
 *   replaced); the RTT is connect + LOGIN.
 * - ping: PING → PONG.
 *
 * MOVE/CHAT/ATTACK_REJECTED are answers (the game applying its rules, e.g. the attack cooldown or
 * range) and are reported as `rejected`; every other ERROR is an error.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { ClientConnection, ReceivedFrame } from '../client/connection.js'
import { GameServerError } from '../errors.js'
import { decodeErrorPayload } from '../protocol/error-frame.js'
import { decodeLoginOk, decodePlayerMoved, encodeAttack, encodeChat, encodeLogin, encodeMove, encodeRegister } from '../protocol/messages.js'
import { FrameType, WireError } from '../protocol/types.js'
import type { ActionDriver, PlayerContext } from './actions.js'
import { trackerFor } from './request-tracker.js'
import type { ActionName, Scenario } from './scenario.js'

const PASSWORD = 'loadtest-password'
/** Step per move in world units: 20 moves/s stay inside the default MAX_SPEED budget of 10 units/s. */
const STEP_UNITS = 0.4
const KNOWN_PLAYERS = 64
const RULE_REJECTIONS = new Set<number>([WireError.MOVE_REJECTED, WireError.CHAT_REJECTED, WireError.ATTACK_REJECTED])

interface GamePlayer {
  playerId: number
  token: string
  zone: number
  /** ZONE_SIZE, from LOGIN_OK. */
  zoneSize: number
  x: number
  y: number
  chats: number
  /** Players who entered our view most recently (attack targets), bounded. */
  readonly others: number[]
  unsubscribe: () => void
}

class RequestRejected extends GameServerError {}

export class GameDriver implements ActionDriver {
  readonly logsIn = true
  private readonly players = new WeakMap<PlayerContext, GamePlayer>()
  private readonly ping: Buffer

  constructor(scenario: Scenario) {
    this.ping = Buffer.alloc(scenario.pingPayloadBytes, 0x61)
  }

  async start(player: PlayerContext, timeoutMs: number): Promise<void> {
    const username = `lt${player.runId}_${player.index}`.slice(0, 32)
    const deadline = performance.now() + timeoutMs * 4
    let frame: ReceivedFrame | null = null
    for (let attempt = 0; frame === null; attempt++) {
      try {
        frame = await this.request(player.conn, FrameType.REGISTER, encodeRegister({ username, password: PASSWORD }), FrameType.LOGIN_OK, timeoutMs)
      } catch (err) {
        const code = (err as GameServerError).context?.['wireCode']
        if (code === WireError.ACCOUNT_EXISTS) {
          frame = await this.request(player.conn, FrameType.LOGIN, encodeLogin({ mode: 'password', username, password: PASSWORD }), FrameType.LOGIN_OK, timeoutMs)
        } else if (code === WireError.OVERLOADED && performance.now() < deadline) {
          await sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + player.random()))
        } else throw err
      }
    }
    const ok = decodeLoginOk(frame.payload)
    player.conn.playerId = ok.playerId
    const state: GamePlayer = { playerId: ok.playerId, token: ok.token, zone: ok.zone, zoneSize: ok.zoneSize, x: ok.x, y: ok.y, chats: 0, others: [], unsubscribe: () => {} }
    this.watch(player.conn, state)
    this.players.set(player, state)
  }

  async perform(action: ActionName, player: PlayerContext, timeoutMs: number): Promise<'ok' | 'rejected'> {
    const state = this.players.get(player)
    if (!state) throw new GameServerError('GS_ERR_LOADTEST_WORKER', 'game action before login', { action })
    try {
      switch (action) {
        case 'ping':
          await this.request(player.conn, FrameType.PING, this.ping, FrameType.PONG, timeoutMs)
          return 'ok'
        case 'move': {
          const angle = player.random() * 2 * Math.PI
          const minX = state.zone * state.zoneSize + 1
          const x = Math.min(minX + state.zoneSize - 2, Math.max(minX, state.x + Math.cos(angle) * STEP_UNITS))
          const y = Math.min(state.zoneSize - 1, Math.max(1, state.y + Math.sin(angle) * STEP_UNITS))
          const moved = decodePlayerMoved((await this.request(player.conn, FrameType.MOVE, encodeMove({ x, y }), FrameType.PLAYER_MOVED, timeoutMs)).payload)
          state.x = moved.x
          state.y = moved.y
          state.zone = moved.zone
          return 'ok'
        }
        case 'chat':
          await this.request(player.conn, FrameType.CHAT, encodeChat(`load test ${player.index} #${++state.chats}`), FrameType.CHAT_MESSAGE, timeoutMs)
          return 'ok'
        case 'attack': {
          const targetId = state.others.length > 0 ? state.others[Math.floor(player.random() * state.others.length)]! : state.playerId
          await this.request(player.conn, FrameType.ATTACK, encodeAttack({ targetId }), FrameType.ATTACK_RESULT, timeoutMs)
          return 'ok'
        }
        case 'login':
          await this.relogin(player, state, timeoutMs)
          return 'ok'
      }
    } catch (err) {
      if (err instanceof RequestRejected && RULE_REJECTIONS.has(err.context['wireCode'] as number)) return 'rejected'
      throw err
    }
  }

  private async relogin(player: PlayerContext, state: GamePlayer, timeoutMs: number): Promise<void> {
    const fresh = await player.connect()
    try {
      const frame = await this.request(fresh, FrameType.LOGIN, encodeLogin({ mode: 'token', token: state.token }), FrameType.LOGIN_OK, timeoutMs)
      const ok = decodeLoginOk(frame.payload)
      fresh.playerId = ok.playerId
      Object.assign(state, { playerId: ok.playerId, token: ok.token, zone: ok.zone, zoneSize: ok.zoneSize, x: ok.x, y: ok.y })
    } catch (err) {
      fresh.destroy()
      throw err
    }
    const old = player.conn
    state.unsubscribe()
    state.others.length = 0
    this.watch(fresh, state)
    player.conn = fresh
    await old.close(1000)
  }

  /**
   * Track who is in our view from the presence frames (attack targets): PLAYER_JOINED (u32
   * player_id first) adds, PLAYER_LEFT removes. Every other frame costs one type check.
   */
  private watch(conn: ClientConnection, state: GamePlayer): void {
    state.unsubscribe = conn.onFrame((frame) => {
      if (frame.seq !== 0 || (frame.type !== FrameType.PLAYER_JOINED && frame.type !== FrameType.PLAYER_LEFT) || frame.payload.length < 4) return
      const id = frame.payload.readUInt32LE(0)
      const at = state.others.indexOf(id)
      if (at >= 0) state.others.splice(at, 1)
      if (frame.type === FrameType.PLAYER_LEFT || id === state.playerId) return
      state.others.push(id)
      if (state.others.length > KNOWN_PLAYERS) state.others.shift()
    })
  }

  /** Send a request and await its direct reply (same seq): `expect`, or ERROR → RequestRejected. */
  private async request(conn: ClientConnection, type: number, payload: Uint8Array, expect: number, timeoutMs: number): Promise<ReceivedFrame> {
    const frame = await trackerFor(conn).request(type, payload, timeoutMs)
    if (frame.type === FrameType.ERROR) {
      const error = decodeErrorPayload(frame.payload)
      throw new RequestRejected('GS_ERR_REQUEST_REJECTED', `request type ${type} answered ERROR ${error.code}: ${error.message}`, { wireCode: error.code, type })
    }
    if (frame.type !== expect) throw new GameServerError('GS_ERR_REQUEST_REJECTED', `request type ${type} answered with type ${frame.type}`, { type, got: frame.type })
    return frame
  }
}
