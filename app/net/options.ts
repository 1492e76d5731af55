/**
 * Everything a session needs from the configuration, resolved once per server (the variables of
 * protocolSection + sessionSection in app/config/sections.ts, docs/CONFIG.md), plus two internal knobs.
 */
import type { Config } from '../config/index.js'
import type { IdleFlushMode } from './flush-scheduler.js'

export interface SessionOptions {
  readonly maxFrameBytes: number
  readonly batchThresholdBytes: number
  readonly batchMaxRatio: number
  readonly compressionLevel: number
  readonly maxViolations: number
  readonly flushMaxFrames: number
  readonly sendBufferBytes: number
  readonly flushFillRatio: number
  readonly flushIntervalMs: number
  readonly latencyAwareFlush: boolean
  readonly maxOutboundBytes: number
  readonly idleTimeoutMs: number
  readonly frameDeadlineMs: number
  /** TRUST_PROXY_HEADER: a PROXY v1 line may open the connection and name the client's address. */
  readonly trustProxyHeader: boolean
  readonly maxFramesPerSecond: number
  readonly maxBytesPerSecond: number
  readonly sessionPoolSize: number
  /** How an idle session's frames leave in the same turn (see FlushScheduler). */
  readonly idleFlushMode: IdleFlushMode
  /** After a graceful close started: time to flush and see the peer close before the socket is destroyed. */
  readonly closeGraceMs: number
}

const DEFAULT_IDLE_FLUSH_MODE: IdleFlushMode = 'immediate'
const DEFAULT_CLOSE_GRACE_MS = 5000

export function sessionOptionsFromConfig(config: Config, overrides: Partial<SessionOptions> = {}): SessionOptions {
  const { protocol, session } = config
  return Object.freeze({
    maxFrameBytes: protocol.maxFrameBytes,
    batchThresholdBytes: protocol.batchThresholdBytes,
    batchMaxRatio: protocol.batchMaxRatio,
    compressionLevel: protocol.compressionLevel,
    maxViolations: protocol.maxViolations,
    flushMaxFrames: session.flushMaxFrames,
    sendBufferBytes: session.sendBufferBytes,
    flushFillRatio: session.flushFillRatio,
    flushIntervalMs: session.flushIntervalMs,
    latencyAwareFlush: session.latencyAwareFlush,
    maxOutboundBytes: session.maxOutboundBytes,
    idleTimeoutMs: session.idleTimeoutMs,
    frameDeadlineMs: session.frameDeadlineMs,
    trustProxyHeader: config.server.trustProxyHeader,
    maxFramesPerSecond: session.maxFramesPerSecond,
    maxBytesPerSecond: session.maxBytesPerSecond,
    sessionPoolSize: session.sessionPoolSize,
    idleFlushMode: DEFAULT_IDLE_FLUSH_MODE,
    closeGraceMs: DEFAULT_CLOSE_GRACE_MS,
    ...overrides,
  })
}
