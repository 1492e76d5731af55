/** The one topology description and its builders; see model.ts. */
import type { Config } from '../config/index.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from './build.js'
import type { Topology, TopologyOptions } from './model.js'

export * from './model.js'
export * from './build.js'
export * from './resolve.js'
export * from './prometheus.js'

/** Tuning variables of the game servers that a topology passes through from the environment. */
const PASSED_THROUGH_SERVER_VARIABLES = [
  'FLUSH_MAX_FRAMES',
  'FLUSH_INTERVAL_MS',
  'FLUSH_FILL_RATIO',
  'SEND_BUFFER_BYTES',
  'LATENCY_AWARE_FLUSH',
  'MAX_OUTBOUND_BYTES',
  'MAX_SESSIONS',
  'BATCH_MAX_FRAMES',
  'MAX_QUEUED_FRAMES',
  'WS_ALLOWED_ORIGINS',
] as const

/** Topology options of the local appliance, from the process configuration (APPLIANCE_* variables). */
export function topologyOptionsFromConfig(config: Config, env: Readonly<Record<string, string | undefined>> = process.env): TopologyOptions {
  const serverEnv: Record<string, string> = {}
  for (const name of PASSED_THROUGH_SERVER_VARIABLES) {
    const value = env[name]
    if (value !== undefined && value.trim() !== '') serverEnv[name] = value.trim()
  }
  return {
    ...DEFAULT_TOPOLOGY_OPTIONS,
    servers: config.appliance.servers,
    redisShards: config.appliance.redisShards,
    balancerPort: config.balancer.port,
    balancerWebSocketPort: config.balancer.webSocketPort ?? DEFAULT_TOPOLOGY_OPTIONS.balancerWebSocketPort,
    prometheusPort: config.appliance.prometheusPort,
    balanceStrategy: config.balancer.strategy,
    backendDiscovery: config.appliance.backendDiscovery,
    logLevel: config.server.logLevel,
    shutdownDeadlineMs: config.server.shutdownDeadlineMs,
    serverEnv,
    // `BALANCER_MAX_CONNECTIONS_PER_ADDRESS=0 npm start` for load tests of many players from this host
    balancerMaxConnectionsPerAddress: config.balancer.maxConnectionsPerAddress,
  }
}

export function topologyFromConfig(config: Config, env?: Readonly<Record<string, string | undefined>>): Topology {
  return buildTopology(topologyOptionsFromConfig(config, env))
}
