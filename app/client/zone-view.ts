/**
 * A client's picture of its zone, kept by the rules of docs/PROTOCOL.md §4.7–4.8 ("a client in six
 * rules"): the players it sees with their positions and hit points, the chat it heard and the hits
 * it saw. Feed it every frame the connection delivers (BATCH contents arrive unpacked) and the
 * LOGIN_OK of the login; it holds no socket and imports nothing of Node, so the browser playground
 * draws from it and tests assert on it.
 */
import {
  decodeAttackResult,
  decodeChatMessage,
  decodeLoginOk,
  decodePlayerJoined,
  decodePlayerLeft,
  decodePlayerMoved,
  decodePlayerRespawned,
  type LoginOk,
} from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'
import { decodeZoneUpdate } from '../protocol/zone-update.js'

export interface SeenPlayer {
  readonly id: number
  username: string
  x: number
  y: number
  hp: number
}

export interface HeardChat {
  readonly senderId: number
  readonly username: string
  readonly text: string
  readonly history: boolean
  readonly sentAtMs: number
}

export interface SeenHit {
  readonly attackerId: number
  readonly targetId: number
  readonly damage: number
  readonly killed: boolean
  /** performance.now() when it arrived. */
  readonly at: number
}

/** What the view needs of a received frame (`ReceivedFrame` fits). */
export interface ViewFrame {
  readonly type: number
  readonly seq: number
  readonly payload: Buffer
  readonly receivedAt: number
}

/** Chat lines and hits kept for display (oldest dropped first). */
const KEPT_CHAT = 200
const KEPT_HITS = 50

export class ZoneView {
  selfId = 0
  zone = -1
  zoneSize = 0
  maxHp = 0
  readonly players = new Map<number, SeenPlayer>()
  readonly chat: HeardChat[] = []
  readonly hits: SeenHit[] = []
  private positionBits = 0

  /** Start over from a login: our id, zone, position and the zone geometry. */
  loggedIn(ok: LoginOk): void {
    this.selfId = ok.playerId
    this.zoneSize = ok.zoneSize
    this.positionBits = ok.positionBits
    this.maxHp = ok.maxHp
    this.enterZone(ok.zone)
    this.players.set(ok.playerId, { id: ok.playerId, username: ok.username, x: ok.x, y: ok.y, hp: ok.hp })
  }

  get self(): SeenPlayer | undefined {
    return this.players.get(this.selfId)
  }

  /**
   * Apply one frame; returns whether the picture changed. Unknown types are ignored (rule 5).
   * LOGIN_OK starts the picture over: fed every frame from before the login on, the view also
   * keeps the zone snapshot that arrives right behind LOGIN_OK (in the same read, before the
   * code awaiting the login resumes).
   */
  apply(frame: ViewFrame): boolean {
    if (frame.type === FrameType.LOGIN_OK) {
      this.loggedIn(decodeLoginOk(frame.payload))
      return true
    }
    if (this.selfId === 0) return false
    switch (frame.type) {
      case FrameType.PLAYER_JOINED: {
        const m = decodePlayerJoined(frame.payload)
        if (m.zone !== this.zone) return false
        this.players.set(m.playerId, { id: m.playerId, username: m.username, x: m.x, y: m.y, hp: m.hp })
        return true
      }
      case FrameType.PLAYER_LEFT: {
        const m = decodePlayerLeft(frame.payload)
        return m.playerId !== this.selfId && this.players.delete(m.playerId)
      }
      case FrameType.PLAYER_RESPAWNED: {
        const m = decodePlayerRespawned(frame.payload)
        return this.place(m.playerId, m.zone, m.x, m.y, m.hp)
      }
      case FrameType.ZONE_UPDATE: {
        if (this.zoneSize === 0) return false
        const update = decodeZoneUpdate(frame.payload, { zoneSize: this.zoneSize, positionBits: this.positionBits })
        if (update.zone !== this.zone) return false
        let changed = false
        for (const entry of update.entries) changed = this.place(entry.playerId, update.zone, entry.x, entry.y) || changed
        return changed
      }
      case FrameType.PLAYER_MOVED: {
        // The reply to our MOVE (and, from a server of protocol version 1, others' moves).
        const m = decodePlayerMoved(frame.payload)
        if (m.playerId === this.selfId && m.zone !== this.zone) {
          const self = this.self!
          this.enterZone(m.zone)
          this.players.set(self.id, { ...self, x: m.x, y: m.y })
          return true
        }
        return this.place(m.playerId, m.zone, m.x, m.y)
      }
      case FrameType.CHAT_MESSAGE: {
        const m = decodeChatMessage(frame.payload)
        // rule 4: the stream copy (seq 0) of our own message repeats the reply
        if (frame.seq === 0 && m.senderId === this.selfId && (m.flags & 1) === 0) return false
        this.chat.push({ senderId: m.senderId, username: m.username, text: m.text, history: (m.flags & 1) !== 0, sentAtMs: m.sentAtMs })
        if (this.chat.length > KEPT_CHAT) this.chat.shift()
        return true
      }
      case FrameType.ATTACK_RESULT: {
        const m = decodeAttackResult(frame.payload)
        if (frame.seq === 0 && m.attackerId === this.selfId) return false
        const target = this.players.get(m.targetId)
        if (target) target.hp = m.targetHp
        this.hits.push({ attackerId: m.attackerId, targetId: m.targetId, damage: m.damage, killed: m.killed, at: frame.receivedAt })
        if (this.hits.length > KEPT_HITS) this.hits.shift()
        return true
      }
      default:
        return false
    }
  }

  private place(playerId: number, zone: number, x: number, y: number, hp?: number): boolean {
    if (zone !== this.zone) return false
    const player = this.players.get(playerId)
    if (player === undefined) return false
    player.x = x
    player.y = y
    if (hp !== undefined) player.hp = hp
    return true
  }

  private enterZone(zone: number): void {
    this.zone = zone
    this.players.clear()
  }
}
