/**
 * Stack configuration (Pulumi.yaml declares every key with its type and default) turned into the
 * topology options and secrets the components need. Only this file reads `pulumi.Config`.
 */
import * as pulumi from '@pulumi/pulumi'
import { DEFAULT_TOPOLOGY_OPTIONS, type LoadGeneratorOptions, type SecretName, type TopologyOptions } from '../app/topology/index.js'

export interface StackConfig {
  readonly topology: TopologyOptions
  readonly secrets: Readonly<Record<SecretName, pulumi.Output<string>>>
  readonly imageName: string
  readonly alertEmail: string
  /** SMTP relay Grafana sends the alert e-mails through; unset = alerts only visible in Grafana. */
  readonly smtp?: { readonly host: string; readonly user: string; readonly password: pulumi.Output<string>; readonly from: string }
  /** Memory limit of each game server / balancer container, MiB. */
  readonly appMemoryMb: number
  readonly redisMemoryMb: number
  readonly postgresMemoryMb: number
}

const STRATEGIES = ['least-connections', 'round-robin', 'weighted-response-time'] as const

export function readStackConfig(config = new pulumi.Config()): StackConfig {
  const integer = (key: string, fallback: number) => config.getNumber(key) ?? fallback
  const loadGeneratorCount = integer('loadGenerators', 0)
  const loadGenerators: LoadGeneratorOptions | undefined =
    loadGeneratorCount > 0
      ? {
          count: loadGeneratorCount,
          playersPerGenerator: integer('loadPlayers', 100),
          durationSeconds: integer('loadDurationSeconds', 60),
          scenario: config.get('loadScenario') ?? 'mixed',
        }
      : undefined
  const serverEnv: Record<string, string> = {}
  const tuning: Record<string, string> = {
    flushIntervalMs: 'FLUSH_INTERVAL_MS',
    flushMaxFrames: 'FLUSH_MAX_FRAMES',
    batchMaxFrames: 'BATCH_MAX_FRAMES',
    maxSessions: 'MAX_SESSIONS',
  }
  for (const [key, variable] of Object.entries(tuning)) {
    const value = config.getNumber(key)
    if (value !== undefined) serverEnv[variable] = String(value)
  }
  const topology: TopologyOptions = {
    ...DEFAULT_TOPOLOGY_OPTIONS,
    servers: integer('servers', DEFAULT_TOPOLOGY_OPTIONS.servers),
    redisShards: integer('redisShards', DEFAULT_TOPOLOGY_OPTIONS.redisShards),
    balancerPort: integer('balancerPort', DEFAULT_TOPOLOGY_OPTIONS.balancerPort),
    grafanaPort: integer('grafanaPort', DEFAULT_TOPOLOGY_OPTIONS.grafanaPort),
    prometheusPort: integer('prometheusPort', DEFAULT_TOPOLOGY_OPTIONS.prometheusPort),
    publishPrometheus: config.getBoolean('publishPrometheus') ?? DEFAULT_TOPOLOGY_OPTIONS.publishPrometheus,
    balanceStrategy: config.get('balanceStrategy', { allowedValues: [...STRATEGIES] }) ?? DEFAULT_TOPOLOGY_OPTIONS.balanceStrategy,
    backendDiscovery: config.get('backendDiscovery', { allowedValues: ['cluster', 'static'] as const }) ?? DEFAULT_TOPOLOGY_OPTIONS.backendDiscovery,
    logLevel: config.get('logLevel') ?? DEFAULT_TOPOLOGY_OPTIONS.logLevel,
    scrapeIntervalSeconds: integer('scrapeIntervalSeconds', DEFAULT_TOPOLOGY_OPTIONS.scrapeIntervalSeconds),
    serverEnv,
    ...(loadGenerators ? { loadGenerators } : {}),
  }
  return {
    topology,
    secrets: {
      postgresPassword: config.requireSecret('postgresPassword'),
      redisPassword: config.requireSecret('redisPassword'),
      grafanaAdminPassword: config.requireSecret('grafanaAdminPassword'),
      balancerAdminToken: config.requireSecret('balancerAdminToken'),
    },
    imageName: config.get('imageName') ?? 'game-appliance:latest',
    alertEmail: config.get('alertEmail') ?? 'operators@example.com',
    ...(config.get('smtpHost')
      ? {
          smtp: {
            host: config.require('smtpHost'),
            user: config.get('smtpUser') ?? '',
            password: (config.getSecret('smtpPassword') ?? pulumi.secret('')).apply((p) => p ?? ''),
            from: config.get('smtpFrom') ?? 'grafana@localhost',
          },
        }
      : {}),
    appMemoryMb: integer('appMemoryMb', 512),
    redisMemoryMb: integer('redisMemoryMb', 256),
    postgresMemoryMb: integer('postgresMemoryMb', 1024),
  }
}
