/**
 * A client's live picture of its zone (docs/PROTOCOL.md §4.7–§4.8), built from the frames it
 * receives, in the order it receives them (BATCH contents unpacked in order by the connection):
 *
 * - PLAYER_JOINED adds a player to the view, replacing what was known of it; PLAYER_LEFT removes
 *   it (a PLAYER_LEFT for a player not in view is ignored);
 * - ZONE_UPDATE entries and PLAYER_RESPAWNED move players in view, ATTACK_RESULT sets the target's
 *   hit points; an entry for our own id is our position as the zone has it (`self`);
 * - when our own zone changes (our PLAYER_MOVED reply, our own ZONE_UPDATE entry or respawn names
 *   another zone) every player of another zone is forgotten: the server does not send PLAYER_LEFT
 *   for the players of the zone we left, and it sends PLAYER_JOINED for those of the new zone
 *   *before* our PLAYER_MOVED reply, so they are kept;
 * - every other frame type is ignored.
 *
 * Positions in ZONE_UPDATE are quantised; the geometry (zone size, position bits) comes from
 * LOGIN_OK. An entry or respawn for a player outside the view is a server bug under the rules of
 * docs/PROTOCOL.md §4.7: it is ignored and counted in `strays`, so tests can assert there were none.
 */
import { GameServerError } from '../errors.js'
import {
  decodeAttackResult,
  decodePlayerJoined,
  decodePlayerLeft,
  decodePlayerMoved,
  decodePlayerRespawned,
  type LoginOk,
} from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'
import { decodeZoneUpdate } from '../protocol/zone-update.js'
import type { ReceivedFrame } from './connection.js'

/** What the view knows of a player (world coordinates). */
export interface ViewedPlayer {
  readonly playerId: number
  readonly username: string
  readonly zone: number
  readonly x: number
  readonly y: number
  readonly hp: number
}

/** One position the client learned for a player (ours included). */
export interface PositionEvent {
  readonly playerId: number
  readonly zone: number
  readonly x: number
  readonly y: number
  /** A view entry (PLAYER_JOINED), the zone stream (ZONE_UPDATE), a respawn, or our own move's reply. */
  readonly source: 'joined' | 'update' | 'respawned' | 'moved'
  /** performance.now() of the read that carried it. */
  readonly receivedAt: number
}

interface MutablePlayer {
  playerId: number
  username: string
  zone: number
  x: number
  y: number
  hp: number
}

export class ZoneView {
  /** Players in view, by id (never ourselves). */
  readonly players = new Map<number, MutablePlayer>()
  /** Our own state as the server last told it. */
  readonly self: MutablePlayer
  /** ZONE_UPDATE entries and PLAYER_RESPAWNEDs for a player not in view (a protocol breach; ignored). */
  strays = 0
  private readonly geometry: { readonly zoneSize: number; readonly positionBits: number }

  constructor(login: LoginOk, private readonly onPosition: (event: PositionEvent) => void) {
    if (!(login.zoneSize >= 1) || !(login.positionBits >= 0)) {
      throw new GameServerError('GS_ERR_PAYLOAD_MALFORMED', 'LOGIN_OK carries no zone geometry', { zoneSize: login.zoneSize, positionBits: login.positionBits })
    }
    this.geometry = { zoneSize: login.zoneSize, positionBits: login.positionBits }
    this.self = { playerId: login.playerId, username: login.username, zone: login.zone, x: login.x, y: login.y, hp: login.hp }
  }

  /** Apply one received frame (a reply or a push); frames that do not change the picture are ignored. Throws GS_ERR_PAYLOAD_MALFORMED on a bad payload. */
  apply(frame: ReceivedFrame): void {
    switch (frame.type) {
      case FrameType.ZONE_UPDATE:
        this.zoneUpdate(frame)
        return
      case FrameType.PLAYER_JOINED: {
        const joined = decodePlayerJoined(frame.payload)
        if (joined.playerId === this.self.playerId) return
        this.players.set(joined.playerId, { playerId: joined.playerId, username: joined.username, zone: joined.zone, x: joined.x, y: joined.y, hp: joined.hp })
        this.onPosition({ playerId: joined.playerId, zone: joined.zone, x: joined.x, y: joined.y, source: 'joined', receivedAt: frame.receivedAt })
        return
      }
      case FrameType.PLAYER_LEFT:
        this.players.delete(decodePlayerLeft(frame.payload).playerId)
        return
      case FrameType.PLAYER_RESPAWNED: {
        const respawned = decodePlayerRespawned(frame.payload)
        const player = respawned.playerId === this.self.playerId ? this.ownZoneIs(respawned.zone) : this.players.get(respawned.playerId)
        if (player === undefined) {
          this.strays++
          return
        }
        Object.assign(player, { zone: respawned.zone, x: respawned.x, y: respawned.y, hp: respawned.hp })
        this.onPosition({ playerId: respawned.playerId, zone: respawned.zone, x: respawned.x, y: respawned.y, source: 'respawned', receivedAt: frame.receivedAt })
        return
      }
      case FrameType.PLAYER_MOVED: {
        // Only ever our own reply (protocol version 2): the accepted position, possibly in a new zone.
        const moved = decodePlayerMoved(frame.payload)
        if (moved.playerId !== this.self.playerId) return
        const self = this.ownZoneIs(moved.zone)
        self.x = moved.x
        self.y = moved.y
        this.onPosition({ ...moved, source: 'moved', receivedAt: frame.receivedAt })
        return
      }
      case FrameType.ATTACK_RESULT: {
        const result = decodeAttackResult(frame.payload)
        const target = result.targetId === this.self.playerId ? this.self : this.players.get(result.targetId)
        if (target !== undefined) target.hp = result.targetHp
        return
      }
    }
  }

  private zoneUpdate(frame: ReceivedFrame): void {
    const update = decodeZoneUpdate(frame.payload, this.geometry)
    for (const entry of update.entries) {
      const player = entry.playerId === this.self.playerId ? this.ownZoneIs(update.zone) : this.players.get(entry.playerId)
      if (player === undefined) {
        this.strays++
        continue
      }
      player.zone = update.zone
      player.x = entry.x
      player.y = entry.y
      this.onPosition({ playerId: entry.playerId, zone: update.zone, x: entry.x, y: entry.y, source: 'update', receivedAt: frame.receivedAt })
    }
  }

  /** Our zone is `zone`: on a change, forget the players of every other zone. Returns our own record. */
  private ownZoneIs(zone: number): MutablePlayer {
    if (zone !== this.self.zone) {
      this.self.zone = zone
      for (const [id, player] of this.players) if (player.zone !== zone) this.players.delete(id)
    }
    return this.self
  }
}
