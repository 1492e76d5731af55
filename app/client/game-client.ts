/**
 * The typed game client (protocol version 2, docs/PROTOCOL.md): requests (register, login,
 * loginWithToken, move, chat, attack, logout) that resolve with the decoded reply or reject with
 * GS_ERR_REQUEST_REJECTED carrying the wire error code, and `next(type)` for server pushes (the
 * zone stream, presence, history). Pushes are kept in a bounded inbox, so a frame that arrived
 * before `next` was called is not missed; the zone stream's copies of our own CHAT_MESSAGE and
 * ATTACK_RESULT are not (we had them as replies).
 *
 * With `trackView` (the default) the client keeps the live picture of its zone (`view`, `self`;
 * zone-view.ts) and `nextPositionOf` / `untilView` wait on it. A load generator that wants no cost
 * per frame turns it off and sets `inboxCapacity` 0.
 */
import { GameServerError } from '../errors.js'
import { decodeErrorPayload } from '../protocol/error-frame.js'
import {
  ChatFlags,
  decodeAttackResult,
  decodeChatMessage,
  decodeLoginOk,
  decodePlayerMoved,
  encodeAttack,
  encodeChat,
  encodeLogin,
  encodeMove,
  encodeRegister,
  type AttackResult,
  type ChatMessage,
  type LoginOk,
  type PlayerMoved,
} from '../protocol/messages.js'
import { FrameType, PROTOCOL_VERSION } from '../protocol/types.js'
import { ClientConnection, type ClientConnectionOptions, type ReceivedFrame } from './connection.js'
import { ZoneView, type PositionEvent, type ViewedPlayer } from './zone-view.js'

/** How long a request waits for its reply. */
const REPLY_TIMEOUT_MS = 5000

/** Pushed frames kept for `next()` by default (oldest dropped first); 0 keeps none. */
const DEFAULT_INBOX_CAPACITY = 1000

export interface GameClientOptions {
  /** Default for requests, `next()` and the view's waits [5000]. */
  readonly timeoutMs?: number
  /** Pushed frames kept for `next()` [1000]; 0 for load generation (only live waiters see pushes). */
  readonly inboxCapacity?: number
  /** Keep the live picture of the zone (`view`, `self`, `nextPositionOf`, `untilView`) [true]. */
  readonly trackView?: boolean
  /** The protocol version byte sent in REGISTER and LOGIN [PROTOCOL_VERSION]; null sends none (conformance tests). */
  readonly protocolVersion?: number | null
}

interface Waiter<T> {
  readonly match: (value: T) => boolean
  readonly resolve: (value: T) => void
  readonly reject: (err: Error) => void
  readonly timer: NodeJS.Timeout
}

const EMPTY_VIEW: ReadonlyMap<number, ViewedPlayer> = new Map()

export class GameClient {
  /** After login: who we are. */
  session: LoginOk | null = null
  private readonly inbox: ReceivedFrame[] = []
  private readonly waiters = new Set<Waiter<ReceivedFrame>>()
  private readonly positionWaiters = new Set<Waiter<PositionEvent>>()
  private readonly viewWaiters = new Set<Waiter<null>>()
  private readonly timeoutMs: number
  private readonly inboxCapacity: number
  private readonly trackView: boolean
  private readonly protocolVersion: number | null
  private zoneView: ZoneView | null = null

  private constructor(readonly connection: ClientConnection, options: GameClientOptions) {
    this.timeoutMs = options.timeoutMs ?? REPLY_TIMEOUT_MS
    this.inboxCapacity = options.inboxCapacity ?? DEFAULT_INBOX_CAPACITY
    this.trackView = options.trackView ?? true
    this.protocolVersion = options.protocolVersion === undefined ? PROTOCOL_VERSION : options.protocolVersion
    connection.onFrame((frame) => this.received(frame))
    void connection.closed.then(() => {
      const closed = new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', {}, connection.error ? { cause: connection.error } : undefined)
      for (const waiters of [this.waiters, this.positionWaiters, this.viewWaiters] as Set<Waiter<unknown>>[]) {
        for (const waiter of waiters) {
          clearTimeout(waiter.timer)
          waiter.reject(closed)
        }
        waiters.clear()
      }
    })
  }

  static async connect(options: ClientConnectionOptions & GameClientOptions): Promise<GameClient> {
    return new GameClient(await ClientConnection.connect(options), options)
  }

  /** Game helpers over an already open connection (e.g. the load generator's). */
  static wrap(connection: ClientConnection, options: GameClientOptions = {}): GameClient {
    return new GameClient(connection, options)
  }

  get playerId(): number {
    return this.connection.playerId
  }

  /** The players we see, by id (ourselves excluded); empty before login or with `trackView` off. */
  get view(): ReadonlyMap<number, ViewedPlayer> {
    return this.zoneView?.players ?? EMPTY_VIEW
  }

  /** Our own state as the server last told it (LOGIN_OK, our moves' replies, our ZONE_UPDATE entries); null before login or with `trackView` off. */
  get self(): ViewedPlayer | null {
    return this.zoneView?.self ?? null
  }

  /** ZONE_UPDATE entries and respawns received for players not in view (0 unless the server breaks docs/PROTOCOL.md §4.7). */
  get strayUpdates(): number {
    return this.zoneView?.strays ?? 0
  }

  async register(username: string, password: string): Promise<LoginOk> {
    return this.loggedIn(await this.request(FrameType.REGISTER, encodeRegister({ username, password }, this.protocolVersion), FrameType.LOGIN_OK))
  }

  async login(username: string, password: string): Promise<LoginOk> {
    return this.loggedIn(await this.request(FrameType.LOGIN, encodeLogin({ mode: 'password', username, password }, this.protocolVersion), FrameType.LOGIN_OK))
  }

  async loginWithToken(token: string): Promise<LoginOk> {
    return this.loggedIn(await this.request(FrameType.LOGIN, encodeLogin({ mode: 'token', token }, this.protocolVersion), FrameType.LOGIN_OK))
  }

  /** Resolves with our accepted position (the reply; others learn it from the zone stream). */
  async move(x: number, y: number): Promise<PlayerMoved> {
    return decodePlayerMoved((await this.request(FrameType.MOVE, encodeMove({ x, y }), FrameType.PLAYER_MOVED)).payload)
  }

  /** Resolves with our message as the zone received it. */
  async chat(text: string): Promise<ChatMessage> {
    return decodeChatMessage((await this.request(FrameType.CHAT, encodeChat(text), FrameType.CHAT_MESSAGE)).payload)
  }

  async attack(targetId: number): Promise<AttackResult> {
    return decodeAttackResult((await this.request(FrameType.ATTACK, encodeAttack({ targetId }), FrameType.ATTACK_RESULT)).payload)
  }

  /** Log out (the token becomes invalid); the server then closes the connection. */
  async logout(): Promise<void> {
    await this.request(FrameType.LOGOUT, undefined, FrameType.LOGOUT_OK)
    this.session = null
  }

  /**
   * The next pushed frame of `type` (matching `predicate`), taken from the inbox if it already
   * arrived, else awaited. Replies to our own requests are not in the inbox, nor are the zone
   * stream's copies of our own live CHAT_MESSAGE and ATTACK_RESULT.
   */
  next(type: number, predicate: (frame: ReceivedFrame) => boolean = () => true, timeoutMs = this.timeoutMs): Promise<ReceivedFrame> {
    const match = (f: ReceivedFrame): boolean => f.type === type && predicate(f)
    const index = this.inbox.findIndex(match)
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!)
    return this.wait(this.waiters, match, timeoutMs, `no ${type} frame`)
  }

  /** Pushed frames received and not yet taken by `next`. */
  pending(type?: number): readonly ReceivedFrame[] {
    return type === undefined ? [...this.inbox] : this.inbox.filter((f) => f.type === type)
  }

  /**
   * The next position learned for `playerId` from now on (matching `predicate`): a ZONE_UPDATE
   * entry, a PLAYER_JOINED, a PLAYER_RESPAWNED, or — for our own id — our move's reply. Needs `trackView`.
   */
  nextPositionOf(playerId: number, predicate: (event: PositionEvent) => boolean = () => true, timeoutMs = this.timeoutMs): Promise<PositionEvent> {
    this.needView()
    return this.wait(this.positionWaiters, (e) => e.playerId === playerId && predicate(e), timeoutMs, `no position of player ${playerId}`)
  }

  /**
   * Resolves once `condition` holds for the view (at once if it already does); checked after every
   * frame that reached the view. Needs `trackView`.
   */
  untilView(condition: (view: ReadonlyMap<number, ViewedPlayer>) => boolean, timeoutMs = this.timeoutMs): Promise<void> {
    this.needView()
    if (condition(this.view)) return Promise.resolve()
    return this.wait(this.viewWaiters, () => condition(this.view), timeoutMs, 'the view did not reach the condition').then(() => {})
  }

  close(): Promise<void> {
    return this.connection.close()
  }

  /**
   * Send a request and await the frame carrying its seq: `expect` resolves, ERROR rejects with
   * GS_ERR_REQUEST_REJECTED (context.wireCode).
   */
  async request(type: number, payload: Uint8Array | undefined, expect: number): Promise<ReceivedFrame> {
    const seq = this.connection.nextSeq()
    const answer = this.connection.waitFor((f) => f.seq === seq && (f.type === expect || f.type === FrameType.ERROR))
    this.connection.send(type, payload, { seq })
    const frame = await answer
    if (frame.type === FrameType.ERROR) {
      const error = decodeErrorPayload(frame.payload)
      throw new GameServerError('GS_ERR_REQUEST_REJECTED', `request type ${type} rejected: ${error.message}`, { wireCode: error.code, refSeq: error.refSeq, type })
    }
    return frame
  }

  private wait<T>(waiters: Set<Waiter<T>>, match: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    if (this.connection.status === 'closed') return Promise.reject(new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', {}))
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter)
          reject(new GameServerError('GS_ERR_CLIENT_TIMEOUT', `${what} within ${timeoutMs} ms`, { timeoutMs }))
        }, timeoutMs),
      }
      waiters.add(waiter)
    })
  }

  /** Settle the first waiter `value` matches; true when one took it. */
  private settle<T>(waiters: Set<Waiter<T>>, value: T, all: boolean): boolean {
    let taken = false
    for (const waiter of waiters) {
      if (!waiter.match(value)) continue
      waiters.delete(waiter)
      clearTimeout(waiter.timer)
      waiter.resolve(value)
      taken = true
      if (!all) break
    }
    return taken
  }

  private needView(): void {
    if (!this.trackView) throw new Error('this client does not track the view (created with trackView: false)') // a caller bug
  }

  /** LOGIN_OK was applied synchronously in `received` (before the zone snapshot behind it). */
  private loggedIn(frame: ReceivedFrame): LoginOk {
    if (this.session === null) this.startSession(frame) // throws what it threw in `received`
    return this.session!
  }

  private startSession(frame: ReceivedFrame): void {
    const ok = decodeLoginOk(frame.payload)
    if (ok.protocolVersion !== PROTOCOL_VERSION) {
      // docs/PROTOCOL.md §4.2: a client that cannot speak the server's choice closes the connection.
      const err = new GameServerError('GS_ERR_CLIENT_CLOSED', `the server chose protocol version ${ok.protocolVersion}; this client speaks ${PROTOCOL_VERSION}`, { protocolVersion: ok.protocolVersion })
      this.connection.destroy()
      throw err
    }
    this.session = ok
    this.connection.playerId = ok.playerId
    this.zoneView = this.trackView ? new ZoneView(ok, (event) => this.settle(this.positionWaiters, event, true)) : null
  }

  private received(frame: ReceivedFrame): void {
    if (frame.type === FrameType.LOGIN_OK) {
      // Applied here, not when the request's promise resumes: the zone snapshot follows in the same read.
      try {
        this.startSession(frame)
      } catch {
        return // the connection is destroyed; the request rejects through loggedIn
      }
      return
    }
    if (this.zoneView !== null) {
      try {
        this.zoneView.apply(frame)
      } catch (err) {
        // A payload that breaks its layout: the picture can no longer be trusted (as the connection does with a bad BATCH).
        this.connection.error ??= err as Error
        this.connection.destroy()
        return
      }
      if (this.viewWaiters.size > 0) this.settle(this.viewWaiters, null, true)
    }
    if (frame.seq !== 0 && frame.type !== FrameType.ERROR) return // a reply to one of our requests
    if (this.isOwnStreamCopy(frame)) return
    if (this.settle(this.waiters, frame, false)) return
    if (this.inboxCapacity === 0) return
    this.inbox.push(frame)
    if (this.inbox.length > this.inboxCapacity) this.inbox.shift()
  }

  /** docs/PROTOCOL.md §4.8 rule 4: the zone stream's copy (seq 0) of our own live chat or attack, which we had as the reply. */
  private isOwnStreamCopy(frame: ReceivedFrame): boolean {
    const me = this.connection.playerId
    if (me === 0 || frame.seq !== 0 || frame.payload.length < 8) return false
    if (frame.type === FrameType.ATTACK_RESULT) return frame.payload.readUInt32LE(0) === me
    if (frame.type === FrameType.CHAT_MESSAGE) return frame.payload.readUInt32LE(0) === me && (frame.payload[6]! & ChatFlags.HISTORY) === 0
    return false
  }
}
