/**
 * MOVE, CHAT and ATTACK on the in-memory world, plus respawn. Every accepted action is answered at
 * once to the actor (its request's seq: the acknowledgement) and reaches everyone who sees the
 * actor through the zone stream with the next zone tick (zone.ts): a move as a ZONE_UPDATE entry,
 * chat and attacks as stream copies (seq 0). A rejected action is answered with an ERROR frame
 * (ref_seq = the request's seq) and changes nothing.
 */
import type { Logger } from '../logger.js'
import {
  encodeAttackResult,
  encodeChatMessage,
  encodePlayerMoved,
  type ChatMessage,
} from '../protocol/messages.js'
import { FrameType, WireError } from '../protocol/types.js'
import type { Player } from './player.js'
import type { SharedGameState } from './shared-state.js'
import {
  checkAttack,
  checkChat,
  checkMove,
  hpAfterHit,
  KILL_EXPERIENCE,
  levelFor,
  spawnPoint,
  zoneOf,
  type GameRules,
} from './rules.js'
import type { World } from './world.js'

export interface ActionCounters {
  moves: number
  movesRejected: number
  chats: number
  chatsRejected: number
  attacks: number
  attacksRejected: number
  kills: number
  respawns: number
}

export class Actions {
  readonly counters: ActionCounters = { moves: 0, movesRejected: 0, chats: 0, chatsRejected: 0, attacks: 0, attacksRejected: 0, kills: 0, respawns: 0 }

  constructor(
    private readonly world: World,
    private readonly rules: GameRules,
    private readonly maxChatTextBytes: number,
    private readonly logger: Logger,
    /** Chat history and leaderboards (the cluster's, or this server's when standalone). */
    private readonly shared: SharedGameState,
    /** Wall clock for chat timestamps (epoch ms). */
    private readonly wallClock: () => number = Date.now,
  ) {}

  move(player: Player, seq: number, x: number, y: number, nowMs: number): boolean {
    const verdict = checkMove(this.rules, player, x, y, nowMs)
    if (verdict !== 'ok') {
      this.counters.movesRejected++
      player.connection.sendError(WireError.MOVE_REJECTED, seq, verdict)
      return false
    }
    this.counters.moves++
    player.x = Math.fround(x)
    player.y = Math.fround(y)
    player.dirty = true
    const zone = zoneOf(this.rules, player.x)
    if (zone !== player.zone) this.world.changeZone(player, zone)
    player.send(FrameType.PLAYER_MOVED, seq, encodePlayerMoved({ playerId: player.id, zone: player.zone, x: player.x, y: player.y }))
    this.world.zone(player.zone).moved(player)
    return true
  }

  chat(player: Player, seq: number, text: string): boolean {
    const verdict = checkChat(this.rules, text)
    if (verdict !== 'ok') {
      this.counters.chatsRejected++
      player.connection.sendError(WireError.CHAT_REJECTED, seq, verdict)
      return false
    }
    this.counters.chats++
    const message: ChatMessage = { senderId: player.id, zone: player.zone, flags: 0, sentAtMs: this.wallClock(), username: player.username, text: text.trim() }
    this.shared.appendChat(message).catch((err: unknown) => this.logger.error({ err, zone: message.zone }, 'chat history append failed'))
    const payload = encodeChatMessage(message, this.maxChatTextBytes)
    player.send(FrameType.CHAT_MESSAGE, seq, payload)
    this.world.zone(player.zone).broadcast(player, FrameType.CHAT_MESSAGE, payload)
    return true
  }

  attack(attacker: Player, seq: number, targetId: number, nowMs: number): boolean {
    const target = this.world.get(targetId)
    const verdict = target === undefined ? 'no-target' : checkAttack(this.rules, attacker, target, nowMs)
    if (verdict !== 'ok' || target === undefined) {
      this.counters.attacksRejected++
      attacker.connection.sendError(WireError.ATTACK_REJECTED, seq, verdict)
      return false
    }
    this.counters.attacks++
    attacker.lastAttackAtMs = nowMs
    const before = target.hp
    target.hp = hpAfterHit(this.rules, target.hp)
    target.dirty = true
    const killed = target.hp === 0
    if (killed) {
      this.counters.kills++
      attacker.experience += KILL_EXPERIENCE
      attacker.level = levelFor(attacker.experience)
      attacker.dirty = true
      this.shared.recordKill(attacker.id, attacker.experience).catch((err: unknown) => this.logger.error({ err, playerId: attacker.id }, 'leaderboard update failed'))
    }
    const result = encodeAttackResult({ attackerId: attacker.id, targetId: target.id, damage: before - target.hp, targetHp: target.hp, killed })
    attacker.send(FrameType.ATTACK_RESULT, seq, result)
    this.world.zone(attacker.zone).broadcast(attacker, FrameType.ATTACK_RESULT, result)
    if (killed) this.scheduleRespawn(target)
    return true
  }

  /** Bring a dead player back at their zone's spawn point with full HP (now, or after RESPAWN_MS). */
  scheduleRespawn(player: Player): void {
    player.cancelRespawn()
    if (this.rules.respawnMs === 0) {
      this.respawn(player)
      return
    }
    player.respawnTimer = setTimeout(() => {
      player.respawnTimer = null
      try {
        this.respawn(player)
      } catch (err) {
        this.logger.error({ err, playerId: player.id }, 'respawn failed')
      }
    }, this.rules.respawnMs)
    player.respawnTimer.unref()
  }

  respawn(player: Player): void {
    if (this.world.get(player.id) !== player) return
    const spawn = spawnPoint(this.rules, player.zone)
    player.x = spawn.x
    player.y = spawn.y
    player.hp = this.rules.maxHp
    player.dirty = true
    this.counters.respawns++
    this.world.zone(player.zone).respawned(player)
  }
}
