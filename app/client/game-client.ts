/**
 * The typed game client: requests (register, login, loginWithToken, move, chat, attack, logout)
 * that resolve with the decoded reply or reject with GS_ERR_REQUEST_REJECTED carrying the wire
 * error code, and `next(type)` for server pushes (broadcasts, history). Pushes are kept in a
 * bounded inbox, so a frame that arrived before `next` was called is not missed.
 */
import { GameServerError } from '../errors.js'
import { decodeErrorPayload } from '../protocol/error-frame.js'
import {
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
import { FrameType } from '../protocol/types.js'
import { ClientConnection, type ClientConnectionOptions, type ReceivedFrame } from './connection.js'

/** How long a request waits for its reply. */
const REPLY_TIMEOUT_MS = 5000

/** Pushed frames kept for `next()` by default (oldest dropped first); 0 keeps none. */
const DEFAULT_INBOX_CAPACITY = 1000

export interface GameClientOptions {
  /** Default for requests and `next()` [5000]. */
  readonly timeoutMs?: number
  /** Pushed frames kept for `next()` [1000]; 0 for load generation (only live waiters see pushes). */
  readonly inboxCapacity?: number
}

interface InboxWaiter {
  readonly match: (frame: ReceivedFrame) => boolean
  readonly resolve: (frame: ReceivedFrame) => void
  readonly reject: (err: Error) => void
  readonly timer: NodeJS.Timeout
}

export class GameClient {
  /** After login: who we are. */
  session: LoginOk | null = null
  private readonly inbox: ReceivedFrame[] = []
  private readonly waiters = new Set<InboxWaiter>()
  private readonly timeoutMs: number
  private readonly inboxCapacity: number

  private constructor(readonly connection: ClientConnection, options: GameClientOptions) {
    this.timeoutMs = options.timeoutMs ?? REPLY_TIMEOUT_MS
    this.inboxCapacity = options.inboxCapacity ?? DEFAULT_INBOX_CAPACITY
    connection.onFrame((frame) => this.received(frame))
    void connection.closed.then(() => {
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer)
        waiter.reject(new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', {}))
      }
      this.waiters.clear()
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

  async register(username: string, password: string): Promise<LoginOk> {
    return this.loggedIn(await this.request(FrameType.REGISTER, encodeRegister({ username, password }), FrameType.LOGIN_OK))
  }

  async login(username: string, password: string): Promise<LoginOk> {
    return this.loggedIn(await this.request(FrameType.LOGIN, encodeLogin({ mode: 'password', username, password }), FrameType.LOGIN_OK))
  }

  async loginWithToken(token: string): Promise<LoginOk> {
    return this.loggedIn(await this.request(FrameType.LOGIN, encodeLogin({ mode: 'token', token }), FrameType.LOGIN_OK))
  }

  /** Resolves with our accepted position. */
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
   * arrived, else awaited. Replies to our own requests are not in the inbox.
   */
  next(type: number, predicate: (frame: ReceivedFrame) => boolean = () => true, timeoutMs = this.timeoutMs): Promise<ReceivedFrame> {
    const match = (f: ReceivedFrame): boolean => f.type === type && predicate(f)
    const index = this.inbox.findIndex(match)
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!)
    if (this.connection.status === 'closed') return Promise.reject(new GameServerError('GS_ERR_CLIENT_CLOSED', 'connection closed', {}))
    return new Promise((resolve, reject) => {
      const waiter: InboxWaiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          reject(new GameServerError('GS_ERR_CLIENT_TIMEOUT', `no ${type} frame within ${timeoutMs} ms`, { type, timeoutMs }))
        }, timeoutMs),
      }
      this.waiters.add(waiter)
    })
  }

  /** Pushed frames received and not yet taken by `next`. */
  pending(type?: number): readonly ReceivedFrame[] {
    return type === undefined ? [...this.inbox] : this.inbox.filter((f) => f.type === type)
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

  private loggedIn(frame: ReceivedFrame): LoginOk {
    const ok = decodeLoginOk(frame.payload)
    this.session = ok
    this.connection.playerId = ok.playerId
    return ok
  }

  private received(frame: ReceivedFrame): void {
    if (frame.seq !== 0 && frame.type !== FrameType.ERROR) return // a reply to one of our requests
    for (const waiter of this.waiters) {
      if (waiter.match(frame)) {
        this.waiters.delete(waiter)
        clearTimeout(waiter.timer)
        waiter.resolve(frame)
        return
      }
    }
    if (this.inboxCapacity === 0) return
    this.inbox.push(frame)
    if (this.inbox.length > this.inboxCapacity) this.inbox.shift()
  }
}
