/**
 * What the game reports, as the interface it reports through: the telemetry part implements it
 * (app/telemetry/server-metrics.ts), `noopGameMetrics` records nothing. Labels are frame type
 * names and closed sets, never ids.
 */

/**
 * How a REGISTER or LOGIN ended: `ok` (the player entered the world), `failed` (wrong credentials,
 * unknown token, name taken, already logged in), `throttled` (LOGIN_THROTTLED), `refused`
 * (OVERLOADED, SHUTTING_DOWN), `unavailable` (a store is down), `abandoned` (the client left before
 * its answer), `error` (anything else: a bug).
 */
export type LoginResult = 'ok' | 'failed' | 'throttled' | 'refused' | 'unavailable' | 'abandoned' | 'error'

export interface GameMetrics {
  /** Processing time of one frame by its handler, in seconds. */
  frameProcessed(typeName: string, seconds: number): void
  /** One run of the batch processor: how many frames it took, and how long. */
  batchProcessed(frames: number, seconds: number): void
  queueDepth(depth: number): void
  framesShed(count: number): void
  /** One REGISTER or LOGIN answered (or abandoned), by result. */
  loginFinished(result: LoginResult): void
  /** A zone ticked: the sessions it wrote to, the stream bytes it encoded, and its next interval. */
  zoneTicked(zone: number, recipients: number, bytes: number, nextIntervalSeconds: number): void
}

export const noopGameMetrics: GameMetrics = {
  frameProcessed() {},
  batchProcessed() {},
  queueDepth() {},
  framesShed() {},
  loginFinished() {},
  zoneTicked() {},
}
