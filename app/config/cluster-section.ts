/**
 * Cluster membership and leader election (app/cluster) on Redis: where, how often, how long.
 * The lease and TTLs are in milliseconds; `MEMBER_TTL_MS` should cover a few heartbeats.
 */
import { integer, oneOf, text, url } from './schema.js'

export const clusterSection = {
  clusterRedisUrl: url('CLUSTER_REDIS_URL', ['redis:', 'rediss:'], undefined, 'Redis holding cluster membership and the leader lease; unset uses the first of `REDIS_URLS`, and with neither the process runs outside any cluster.'),
  clusterName: text('CLUSTER_NAME', 'game', 'Namespace of the membership keys (several clusters may share one Redis).', /^[A-Za-z0-9._-]{1,64}$/),
  nodeRole: oneOf('NODE_ROLE', ['game', 'balancer', 'worker'] as const, 'game', 'Role this process registers with; the balancer discovers members of role `game`.'),
  advertiseAddress: text('ADVERTISE_ADDRESS', undefined, 'host:port others should use to reach this node\'s game port; defaults to GAME_HOST (or 127.0.0.1 for 0.0.0.0) and the bound port.'),
  heartbeatIntervalMs: integer('HEARTBEAT_INTERVAL_MS', 1000, 'How often a member refreshes its registration.', { min: 10 }),
  memberTtlMs: integer('MEMBER_TTL_MS', 3000, 'A member whose last heartbeat is older than this is dead (its key expires).', { min: 20 }),
  leaderLeaseMs: integer('LEADER_LEASE_MS', 5000, 'Lease of the leader key; the leader renews it every third of the lease and steps down if it cannot.', { min: 30 }),
  discoveryIntervalMs: integer('DISCOVERY_INTERVAL_MS', 1000, 'How often the balancer reads membership when `BACKENDS` is unset.', { min: 10 }),
} as const
