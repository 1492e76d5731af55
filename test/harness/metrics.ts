/**
 * The base of the tests' metric doubles: every interface a game server's parts report through
 * (net, game, database, cache), recording nothing. A double extends it and overrides what it
 * counts, so a method added to a part's interface later does not break every double.
 */
import type { PoolReading } from '../../app/db/metrics.js'
import type { LoginResult } from '../../app/game/metrics.js'
import type { CloseReason, ViolationKind } from '../../app/net/connection.js'
import type { FlushReason, IoEventKind, NetMetrics } from '../../app/net/metrics.js'
import type { TransportKind } from '../../app/net/transport.js'
import type { ServerMetrics } from '../../app/processes/game-server.js'

export class NoopServerMetrics implements ServerMetrics {
  frameIn(_typeName: string, _bytes: number): void {}
  frameOut(_typeName: string, _bytes: number): void {}
  flushed(_reason: FlushReason, _frames: number, _bytes: number): void {}
  batchCompressed(_originalBytes: number, _compressedBytes: number): void {}
  bytesIn(_bytes: number): void {}
  bytesOut(_bytes: number): void {}
  sessionOpened(): void {}
  sessionClosed(_reason: CloseReason): void {}
  violation(_kind: ViolationKind): void {}
  slowClientDisconnected(): void {}
  ioEvent(_kind: IoEventKind): void {}
  /** Both transports report to the double itself. */
  forTransport(_kind: TransportKind): NetMetrics {
    return this
  }
  frameProcessed(_typeName: string, _seconds: number): void {}
  batchProcessed(_frames: number, _seconds: number): void {}
  queueDepth(_depth: number): void {}
  framesShed(_count: number): void {}
  loginFinished(_result: LoginResult): void {}
  zoneTicked(_zone: number, _recipients: number, _bytes: number, _nextIntervalSeconds: number): void {}
  dbQueryDuration(_operation: string, _seconds: number): void {}
  dbQueryError(_operation: string): void {}
  observePool(_pool: string, _source: () => PoolReading): void {}
  cacheHit(_shard: string): void {}
  cacheMiss(_shard: string): void {}
  cacheError(_shard: string): void {}
}
