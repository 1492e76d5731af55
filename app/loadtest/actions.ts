/**
 * What a virtual player's actions put on the wire. PING needs only the net layer; the game actions
 * (login, move, chat, attack) need the game's messages and are resolved by `gameActionsAvailable`.
 */
import type { ClientConnection } from '../client/connection.js'
import { GameServerError } from '../errors.js'
import { GAME_ACTIONS, type ActionName, type Scenario } from './scenario.js'

export interface PlayerContext {
  /** Global player number (unique across workers for one run). */
  readonly index: number
  readonly conn: ClientConnection
  /** Uniform in [0, 1). */
  readonly random: () => number
  /** Run id, so names of accounts created by different runs do not collide. */
  readonly runId: string
}

export interface ActionDriver {
  /** After connecting (e.g. register and log in). */
  start(player: PlayerContext, timeoutMs: number): Promise<void>
  /** One action; resolves when the server has answered it, rejects on an error or timeout. */
  perform(action: ActionName, player: PlayerContext, timeoutMs: number): Promise<void>
}

/** PING only: answered by the net layer, so it works against any build of the server. */
export class PingDriver implements ActionDriver {
  private readonly payload: Buffer

  constructor(payloadBytes: number) {
    this.payload = Buffer.alloc(payloadBytes, 0x61)
  }

  async start(): Promise<void> {}

  async perform(action: ActionName, player: PlayerContext, timeoutMs: number): Promise<void> {
    if (action !== 'ping') throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `action ${action} needs the game driver`, { action })
    await player.conn.ping(this.payload, timeoutMs)
  }
}

/** The driver for a scenario; throws GS_ERR_LOADTEST_SCENARIO when it needs messages this build lacks. */
export async function driverFor(scenario: Scenario): Promise<ActionDriver> {
  const needsGame = GAME_ACTIONS.filter((action) => (scenario.mix[action] ?? 0) > 0)
  if (needsGame.length === 0) return new PingDriver(scenario.pingPayloadBytes)
  throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `scenario "${scenario.name}" uses ${needsGame.join(', ')}, which need the game messages (app/protocol/messages.ts); this build supports mix.ping only`, {
    scenario: scenario.name,
    actions: needsGame,
  })
}
