/**
 * Joining the cluster from a long-running process without making Redis a start-up dependency:
 * `joinCluster` tries `ClusterNode.start` now and, while Redis cannot be reached, again every
 * `retryMs` (the game keeps serving meanwhile; the balancer simply does not discover this server
 * yet). `close()` stops retrying and leaves the cluster (deregister, release the lease). Idempotent.
 */
import type { AddressInfo } from 'node:net'
import type { Config } from '../config/index.js'
import { silentLogger } from '../logger.js'
import { ClusterNode, type ClusterNodeOptions } from './cluster-node.js'

/** While Redis cannot be reached, joining is retried this often. */
const RETRY_MS = 2000

/** A process leaving the cluster on shutdown gives `close()` at most this long of its deadline (a Redis that does not answer). */
export const LEAVE_CLUSTER_MS = 1000

export interface ClusterMembershipHandle {
  /** The node once joined, else null. */
  readonly node: ClusterNode | null
  /** Resolves once joined (never rejects; pending while Redis is unreachable). */
  readonly joined: Promise<ClusterNode>
  close(): Promise<void>
}

/** host:port others use to reach this server: ADVERTISE_ADDRESS, else the bound address (0.0.0.0 → 127.0.0.1). */
export function advertisedAddress(config: Config, bound: AddressInfo): string {
  if (config.cluster.advertiseAddress !== undefined) return config.cluster.advertiseAddress
  const host = bound.address === '0.0.0.0' || bound.address === '::' ? '127.0.0.1' : bound.address
  return host.includes(':') ? `[${host}]:${bound.port}` : `${host}:${bound.port}`
}

export function joinCluster(options: ClusterNodeOptions & { retryMs?: number }): ClusterMembershipHandle {
  const logger = (options.logger ?? silentLogger).child({ component: 'cluster-join' })
  let node: ClusterNode | null = null
  let closed = false
  let timer: NodeJS.Timeout | null = null
  let resolveJoined!: (node: ClusterNode) => void
  const joined = new Promise<ClusterNode>((resolve) => (resolveJoined = resolve))
  let failures = 0
  const attempt = (): void => {
    ClusterNode.start(options).then(
      async (started) => {
        if (closed) {
          await started.close()
          return
        }
        node = started
        resolveJoined(started)
      },
      (err) => {
        failures++
        if (failures === 1 || failures % 30 === 0) logger.warn({ err: (err as Error).message, failures }, 'cannot join the cluster yet; retrying')
        if (closed) return
        timer = setTimeout(attempt, options.retryMs ?? RETRY_MS)
        timer.unref()
      },
    )
  }
  attempt()
  let closing: Promise<void> | null = null
  return {
    get node() {
      return node
    },
    joined,
    close() {
      closing ??= (async () => {
        closed = true
        if (timer !== null) clearTimeout(timer)
        await node?.close()
      })()
      return closing
    },
  }
}

