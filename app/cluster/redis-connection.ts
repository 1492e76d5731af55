/**
 * The Redis connection of cluster membership: fail fast instead of queueing while disconnected
 * (a heartbeat or lease renewal that cannot reach Redis must fail now, not succeed late), command
 * timeout, bounded reconnect backoff. Errors become GS_ERR_CLUSTER_UNAVAILABLE.
 */
import { Redis } from 'ioredis'
import { GameServerError } from '../errors.js'

/** Connecting to the cluster's Redis gives up after this long. */
const CONNECT_TIMEOUT_MS = 5000

/** A membership or lease command not answered within this fails (the caller retries on its schedule). */
const COMMAND_TIMEOUT_MS = 1000

export interface ClusterRedisOptions {
  readonly url: string
  /** A command not answered within this time fails [1000]. */
  readonly commandTimeoutMs?: number
  /** Opening the TCP connection may take this long [5000]; longer than a command because a busy host accepts slowly. */
  readonly connectTimeoutMs?: number
  readonly connectionName?: string
}

function createClusterRedis(options: ClusterRedisOptions): Redis {
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  })
  // Errors surface through the failing commands; the event only needs a listener.
  redis.on('error', () => {})
  return redis
}

export async function connectClusterRedis(options: ClusterRedisOptions): Promise<Redis> {
  const redis = createClusterRedis(options)
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw unavailable(options.url, err)
  }
  return redis
}

export function unavailable(url: string, cause: unknown): GameServerError {
  const safeUrl = url.replace(/\/\/[^@/]*@/, '//***@')
  return new GameServerError('GS_ERR_CLUSTER_UNAVAILABLE', `cluster Redis ${safeUrl}: ${(cause as Error)?.message ?? String(cause)}`, { url: safeUrl }, { cause })
}

/** Key names under one cluster namespace. */
export function clusterKeys(clusterName: string) {
  const prefix = `cluster:${clusterName}`
  return {
    member: (id: string) => `${prefix}:member:${id}`,
    members: `${prefix}:members`,
    leader: `${prefix}:leader`,
    fencing: `${prefix}:fencing`,
  } as const
}
