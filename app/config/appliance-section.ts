/**
 * Variables of the local appliance (`npm start`): how many servers and Redis shards it runs, where
 * it keeps its data and which host ports it uses. The Pulumi program reads the same topology
 * options from stack config instead (Pulumi.yaml).
 */
import { boolean, integer, oneOf, port, text } from './schema.js'

export const applianceSection = {
  servers: integer('APPLIANCE_SERVERS', 2, 'Game servers the local appliance runs (N).', { min: 1, max: 64 }),
  redisShards: integer('APPLIANCE_REDIS_SHARDS', 2, 'Redis shards the local appliance runs (K).', { min: 1, max: 64 }),
  dir: text('APPLIANCE_DIR', '.appliance', 'Directory of the local appliance\'s data (PostgreSQL cluster, Redis, Prometheus, logs).'),
  postgresDir: text(
    'APPLIANCE_POSTGRES_DIR',
    '',
    'Directory of the local appliance\'s PostgreSQL cluster. Empty: `<APPLIANCE_DIR>/postgres`, except as root when the `postgres` user (PostgreSQL refuses to run as root) cannot reach APPLIANCE_DIR — e.g. a clone under /root — then `/var/lib/game-appliance/<id of APPLIANCE_DIR>/postgres`.',
  ),
  prometheusPort: port('PROMETHEUS_PORT', 9090, 'Host port of Prometheus in the local appliance (0 picks a free port).'),
  backendDiscovery: oneOf('APPLIANCE_BACKEND_DISCOVERY', ['cluster', 'static'] as const, 'cluster', 'How the local balancer finds the servers: cluster membership in Redis, or a fixed BACKENDS list.'),
  prometheus: boolean('APPLIANCE_PROMETHEUS', true, 'Run Prometheus (and the PostgreSQL/Redis exporters when installed) in the local appliance.'),
  readyTimeoutMs: integer('APPLIANCE_READY_TIMEOUT_MS', 60000, 'How long each service of the local appliance may take to become healthy.', { min: 1000 }),
} as const
