/**
 * What a virtual player's actions put on the wire. PING needs only the net layer; the game actions
 * (login, move, chat, attack) need the game's messages and are resolved by `gameActionsAvailable`.
 */
import type { ClientConnection } from '../client/connection.js'
import { GameServerError } from '../errors.js'
import { FrameType } from '../protocol/types.js'
import { trackerFor } from './request-tracker.js'
import { GAME_ACTIONS, type ActionName, type Scenario } from './scenario.js'

export interface PlayerContext {
  /** Global player number (unique across workers for one run). */
  readonly index: number
  /** The player's current connection (the `login` action replaces it). */
  conn: ClientConnection
  /** Open another connection to the player's target (for a re-login). */
  readonly connect: () => Promise<ClientConnection>
  /** Uniform in [0, 1). */
  readonly random: () => number
  /** Run id, so names of accounts created by different runs do not collide. */
  readonly runId: string
}

export interface ActionDriver {
  /** True when `start` logs in (counted as the `login` action). */
  readonly logsIn: boolean
  /** After connecting (e.g. register and log in). */
  start(player: PlayerContext, timeoutMs: number): Promise<void>
  /**
   * One action; resolves when the server has answered it: `ok`, or `rejected` when the game refused
   * it by its rules (MOVE/CHAT/ATTACK_REJECTED: answered, counted apart from errors). Rejects on any
   * other ERROR, a timeout or a closed connection.
   */
  perform(action: ActionName, player: PlayerContext, timeoutMs: number): Promise<'ok' | 'rejected'>
}

/** PING only: answered by the net layer, so it works against any build of the server. */
class PingDriver implements ActionDriver {
  readonly logsIn = false
  private readonly payload: Buffer

  constructor(payloadBytes: number) {
    this.payload = Buffer.alloc(payloadBytes, 0x61)
  }

  async start(): Promise<void> {}

  async perform(action: ActionName, player: PlayerContext, timeoutMs: number): Promise<'ok'> {
    if (action !== 'ping') throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `action ${action} needs the game driver`, { action })
    const reply = await trackerFor(player.conn).request(FrameType.PING, this.payload, timeoutMs)
    if (reply.type !== FrameType.PONG) throw new GameServerError('GS_ERR_REQUEST_REJECTED', `PING answered with type ${reply.type}`, { got: reply.type })
    return 'ok'
  }
}

/** The driver for a scenario: PING only, or the game driver when the mix has game actions. */
export async function driverFor(scenario: Scenario): Promise<ActionDriver> {
  const needsGame = GAME_ACTIONS.some((action) => (scenario.mix[action] ?? 0) > 0)
  if (!needsGame) return new PingDriver(scenario.pingPayloadBytes)
  const { GameDriver } = await import('./game-driver.js')
  return new GameDriver(scenario)
}
