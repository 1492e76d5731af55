/**
 * The game: the FrameDispatcher the net layer hands every inbound frame to (except PING). Frames go
 * through the BatchProcessor (grouped by type: REGISTER, LOGIN, MOVE, ATTACK, CHAT, LOGOUT) into the
 * handlers below. REGISTER and LOGIN go through the LoginFlow (login-flow.ts); logins, logouts and
 * the state hand-over of leaving players are async (scrypt, stores) and tracked so `drain()` can
 * wait for them.
 *
 * Every request frame gets exactly one direct answer carrying its seq: the success frame (LOGIN_OK,
 * PLAYER_MOVED, CHAT_MESSAGE, ATTACK_RESULT, LOGOUT_OK) or an ERROR with ref_seq = its seq.
 *
 * Player state changes are marked dirty and handed to the PlayerStateSink every quarter of
 * RECOVERY_POINT_MS (the write-behind flushes every half: see persistIntervals) and whenever a
 * player leaves (logout, disconnect, replaced by a newer login).
 */
import type { Config } from '../config/index.js'
import { persistIntervals } from '../config/database-section.js'
import type { Logger } from '../logger.js'
import type { CloseReason, Connection, FrameDispatcher, InboundFrame, ViolationKind } from '../net/connection.js'
import { HEADER_BYTES } from '../protocol/header.js'
import { decodeAttack, decodeChat, decodeMove, encodeLoginOk } from '../protocol/messages.js'
import { FrameType, PROTOCOL_VERSION, WireError, type WireErrorCode } from '../protocol/types.js'
import { AccountService, type LoggedIn } from './accounts.js'
import { Actions } from './actions.js'
import { BatchProcessor, type FrameHandler } from './batch-processor.js'
import { LoginFlow } from './login-flow.js'
import type { LoginQueueStats } from './login-queue.js'
import type { LoginThrottleStats } from './login-throttle.js'
import { noopGameMetrics, type GameMetrics } from './metrics.js'
import { Player } from './player.js'
import { fullBudget, inBounds, rulesFromConfig, spawnPoint, zoneOf, type GameRules } from './rules.js'
import type { GameStoreSet } from './stores.js'
import { World } from './world.js'

/** Bytes of a CHAT_MESSAGE payload before its text: 17 + username (≤ 32). */
const CHAT_MESSAGE_OVERHEAD_BYTES = 17 + 32

export interface GameOptions {
  readonly config: Config
  /** Accounts, sessions, the player sink, and the shared state (the cluster's, or this server's when standalone). */
  readonly stores: GameStoreSet
  readonly logger: Logger
  readonly metrics?: GameMetrics
}

export interface GameStats {
  readonly online: number
  readonly pendingLogins: number
  readonly loginQueue: LoginQueueStats
  readonly loginThrottle: LoginThrottleStats
  readonly logins: number
  readonly loginFailures: number
}

export class Game implements FrameDispatcher {
  readonly rules: GameRules
  readonly world: World
  readonly processor: BatchProcessor
  readonly actions: Actions
  readonly loginFlow: LoginFlow
  private readonly accountService: AccountService
  /** The player of each logged-in connection. */
  private readonly players = new Map<Connection, Player>()
  /** Logouts and the state hand-over of leaving players in flight (logins: the LoginFlow's). */
  private readonly pending = new Set<Promise<void>>()
  private readonly persistTimer: NodeJS.Timeout
  private readonly logger: Logger
  private closed = false

  constructor(private readonly options: GameOptions) {
    const { config } = options
    this.logger = options.logger.child({ component: 'game' })
    this.rules = rulesFromConfig(config)
    const maxChatTextBytes = config.protocol.maxFrameBytes - HEADER_BYTES - CHAT_MESSAGE_OVERHEAD_BYTES
    this.world = new World({
      rules: this.rules,
      maxChatTextBytes,
      shared: options.stores.shared,
      viewRadius: config.game.viewRadius,
      ticks: { maxMs: config.game.zoneTickMaxMs, writesPerSecond: config.game.zoneTickWritesPerSecond },
      stream: {
        maxFrameBytes: config.protocol.maxFrameBytes,
        batchThresholdBytes: config.protocol.batchThresholdBytes,
        batchMaxRatio: config.protocol.batchMaxRatio,
        compressionLevel: config.protocol.compressionLevel,
      },
      logger: this.logger,
      metrics: options.metrics ?? noopGameMetrics,
    })
    this.actions = new Actions(this.world, this.rules, maxChatTextBytes, this.logger, options.stores.shared)
    const metrics = options.metrics ?? noopGameMetrics
    this.accountService = new AccountService(options.stores.accounts, options.stores.sessions, this.rules, config.game.passwordHashCost)
    this.loginFlow = new LoginFlow({
      config,
      accounts: this.accountService,
      metrics,
      logger: this.logger,
      enter: (connection, seq, loggedIn) => this.enter(connection, seq, loggedIn),
      violation: (connection, kind, code, seq, message) => this.violation(connection, kind, code, seq, message),
    })
    const handlers = new Map<number, FrameHandler>([
      [FrameType.REGISTER, (f) => this.loginFlow.start(f, 'register', this.players.has(f.connection))],
      [FrameType.LOGIN, (f) => this.loginFlow.start(f, 'login', this.players.has(f.connection))],
      [FrameType.MOVE, (f) => this.onMove(f)],
      [FrameType.ATTACK, (f) => this.onAttack(f)],
      [FrameType.CHAT, (f) => this.onChat(f)],
      [FrameType.LOGOUT, (f) => this.onLogout(f)],
    ])
    this.processor = new BatchProcessor({
      batchMaxFrames: config.game.batchMaxFrames,
      tickMs: config.game.tickMs,
      maxQueuedFrames: config.game.maxQueuedFrames,
      handlers,
      typeOrder: [FrameType.REGISTER, FrameType.LOGIN, FrameType.MOVE, FrameType.ATTACK, FrameType.CHAT, FrameType.LOGOUT],
      onShed: (f) => f.connection.sendError(WireError.OVERLOADED, f.seq, 'server overloaded; frame dropped'),
      onUnhandled: (f) => f.connection.sendError(WireError.UNKNOWN_TYPE, f.seq, `type ${f.type} is not handled`),
      metrics,
      logger: this.logger,
    })
    this.persistTimer = setInterval(() => this.persistDirty(), persistIntervals(config.data.recoveryPointMs).handOverMs)
    this.persistTimer.unref()
  }

  // ── FrameDispatcher ──────────────────────────────────────────────────────────────────────────

  dispatch(frame: InboundFrame): void {
    this.processor.enqueue(frame)
  }

  disconnected(connection: Connection, reason: CloseReason): void {
    const player = this.players.get(connection)
    this.players.delete(connection)
    if (player) this.leave(player, reason)
  }

  /**
   * Shutdown (GameServer.close calls it after it stopped reading): process every queued frame,
   * answer password logins still waiting for a hashing slot with SHUTTING_DOWN, and wait for the
   * logins and releases in progress — so every frame read gets its reply.
   */
  async drain(): Promise<void> {
    this.processor.drain()
    this.loginFlow.close()
    await this.settle()
    this.world.flushTicks() // what the zones gathered goes out before the sessions are flushed and closed
  }

  /** Process every queued frame and wait until no login, logout or release is in flight. */
  async settle(): Promise<void> {
    for (;;) {
      this.processor.drain()
      const pending = [...this.loginFlow.pending, ...this.pending]
      if (pending.length === 0) return
      await Promise.allSettled(pending)
    }
  }

  /** After the server closed: stop timers and hand every player's state to the sink. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.processor.close()
    await this.drain()
    clearInterval(this.persistTimer)
    this.world.close()
    for (const player of [...this.world.players()]) this.leave(player, 'shutdown')
    await this.settle() // the releases just started
  }

  stats(): GameStats {
    const logins = this.loginFlow.stats()
    return { online: this.world.size, pendingLogins: logins.inProgress, loginQueue: logins.queue, loginThrottle: logins.throttle, logins: logins.logins, loginFailures: logins.loginFailures }
  }

  // ── accounts ─────────────────────────────────────────────────────────────────────────────────

  /** An authenticated player enters the world (LOGIN_OK, then the zone); false when the client left meanwhile. */
  private enter(connection: Connection, seq: number, loggedIn: LoggedIn): boolean {
    if (connection.closed) return false
    const { record, session } = loggedIn
    const existing = this.world.get(record.id)
    const player = new Player(record, connection, session.token, fullBudget(this.rules, performance.now()))
    if (existing !== undefined) {
      // A newer login wins: take over the live state, end the older connection.
      player.zone = existing.zone
      player.x = existing.x
      player.y = existing.y
      player.hp = existing.hp
      player.level = existing.level
      player.experience = existing.experience
      // gold is the record's: the database owns it (a grant may have landed since the older login)
      player.lastAttackAtMs = existing.lastAttackAtMs
      player.budget.units = existing.budget.units // reconnecting does not refill the movement budget
      player.budget.updatedAtMs = existing.budget.updatedAtMs
      const old = existing.connection
      this.players.delete(old)
      this.leave(existing, 'replaced')
      // A takeover from another address is worth telling apart: the old client may not have made
      // it (a stolen token), so it gets TAKEN_OVER and can warn its user. Same address: a reconnect.
      if (old.remoteAddress !== connection.remoteAddress) {
        old.sendError(WireError.TAKEN_OVER, 0, 'logged in from another address')
        this.logger.warn({ playerId: record.id, oldConnectionId: old.id, newConnectionId: connection.id }, 'session taken over from another address')
      } else {
        old.sendError(WireError.ALREADY_LOGGED_IN, 0, 'logged in from another connection')
      }
      old.close('replaced')
    }
    if (!inBounds(this.rules, player.x, player.y)) {
      const spawn = spawnPoint(this.rules, 0)
      player.x = spawn.x
      player.y = spawn.y
      player.dirty = true
    }
    player.zone = zoneOf(this.rules, player.x)
    player.hp = Math.min(player.hp, this.rules.maxHp)
    this.players.set(connection, player)
    connection.playerId = player.id
    player.send(FrameType.LOGIN_OK, seq, encodeLoginOk({
      playerId: player.id, zone: player.zone, x: player.x, y: player.y, hp: player.hp, maxHp: this.rules.maxHp,
      tokenTtlSeconds: this.options.config.game.sessionTokenTtlSeconds, token: session.token, username: player.username,
      protocolVersion: PROTOCOL_VERSION, positionBits: this.world.positionBits, zoneSize: this.rules.zoneSize, viewRadius: this.options.config.game.viewRadius,
    }))
    this.world.add(player)
    this.options.stores.shared.reportOnline(this.world.size)
    if (!player.alive) this.actions.respawn(player)
    return true
  }

  private onLogout(frame: InboundFrame): void {
    const player = this.playerFor(frame)
    if (player === null) return
    const { connection, seq } = frame
    if (frame.payload.length !== 0) {
      // LOGOUT's payload is empty; a longer one is malformed like any other payload (nothing happens).
      this.violation(connection, 'malformed-payload', WireError.MALFORMED_FRAME, seq, 'LOGOUT payload must be empty')
      return
    }
    this.players.delete(connection)
    this.leave(player, 'logout')
    const work = this.accountService.logout(player.token)
      .then(() => {
        connection.send(FrameType.LOGOUT_OK, seq, player.id)
      })
      .catch((err: unknown) => {
        this.logger.error({ err, playerId: player.id }, 'logout: invalidating the token failed')
        connection.sendError(WireError.SESSION_STORE_UNAVAILABLE, seq, 'token could not be invalidated')
      })
      .finally(() => {
        connection.close('logout')
        this.pending.delete(work)
      })
    this.pending.add(work)
  }

  // ── actions ──────────────────────────────────────────────────────────────────────────────────

  private onMove(frame: InboundFrame): void {
    const player = this.playerFor(frame)
    if (player === null) return
    let move
    try {
      move = decodeMove(frame.payload)
    } catch {
      this.violation(frame.connection, 'malformed-payload', WireError.MALFORMED_FRAME, frame.seq, 'MOVE payload malformed')
      return
    }
    this.actions.move(player, frame.seq, move.x, move.y, frame.receivedAt)
  }

  private onChat(frame: InboundFrame): void {
    const player = this.playerFor(frame)
    if (player === null) return
    let text
    try {
      text = decodeChat(frame.payload)
    } catch {
      this.violation(frame.connection, 'malformed-payload', WireError.CHAT_REJECTED, frame.seq, 'CHAT text is not valid UTF-8')
      return
    }
    this.actions.chat(player, frame.seq, text)
  }

  private onAttack(frame: InboundFrame): void {
    const player = this.playerFor(frame)
    if (player === null) return
    let attack
    try {
      attack = decodeAttack(frame.payload)
    } catch {
      this.violation(frame.connection, 'malformed-payload', WireError.MALFORMED_FRAME, frame.seq, 'ATTACK payload malformed')
      return
    }
    this.actions.attack(player, frame.seq, attack.targetId, frame.receivedAt)
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────

  /** The logged-in player a frame acts for; answers and counts NOT_LOGGED_IN / spoofing otherwise. */
  private playerFor(frame: InboundFrame): Player | null {
    const player = this.players.get(frame.connection) ?? null
    if (player === null) {
      this.violation(frame.connection, 'not-logged-in', WireError.NOT_LOGGED_IN, frame.seq, 'log in first')
      return null
    }
    if (frame.playerId !== player.id) {
      // The net layer already checks the header; this guards frames queued across a login change.
      frame.connection.sendError(WireError.PLAYER_ID_MISMATCH, frame.seq, 'player_id does not match the session')
      frame.connection.violation('player-id-mismatch')
      frame.connection.close('protocol-violation')
      return null
    }
    return player
  }

  /**
   * A tolerated violation: answered, then counted by the net layer (the metric and the
   * connection's one violation total, shared with its own rate-limit and unknown-type checks);
   * closed at MAX_VIOLATIONS.
   */
  private violation(connection: Connection, kind: ViolationKind, code: WireErrorCode, seq: number, message: string): void {
    connection.sendError(code, seq, message)
    connection.violation(kind)
  }

  /** Take a player out of the world and persist their state promptly. */
  private leave(player: Player, reason: CloseReason): void {
    if (!this.world.remove(player)) return
    this.options.stores.shared.reportOnline(this.world.size)
    player.dirty = false
    // release() takes the final state even when the sink is full for new players: a logout never loses it
    const work = this.options.stores.playerSink.release(player.state())
      .catch((err: unknown) => this.logger.error({ err, playerId: player.id, reason }, 'persisting a leaving player failed'))
      .finally(() => this.pending.delete(work))
    this.pending.add(work)
  }

  private persistDirty(): void {
    try {
      for (const player of this.world.players()) {
        if (!player.dirty) continue
        // cleared only once the sink accepted the state: a refused mark (write-behind full) is retried
        this.options.stores.playerSink.markDirty(player.state())
        player.dirty = false
      }
    } catch (err) {
      this.logger.error({ err }, 'persisting player state failed')
    }
  }
}
