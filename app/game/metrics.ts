/**
 * What the game reports, as the interface it reports through: the telemetry part implements it
 * (app/telemetry/server-metrics.ts), `noopGameMetrics` records nothing. Labels are frame type
 * names and closed sets, never ids.
 */

export interface GameMetrics {
  /** Processing time of one frame by its handler, in seconds. */
  frameProcessed(typeName: string, seconds: number): void
  /** One run of the batch processor: how many frames it took, and how long. */
  batchProcessed(frames: number, seconds: number): void
  queueDepth(depth: number): void
  framesShed(count: number): void
}

export const noopGameMetrics: GameMetrics = {
  frameProcessed() {},
  batchProcessed() {},
  queueDepth() {},
  framesShed() {},
}
