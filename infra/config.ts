/**
 * Stack configuration (Pulumi.yaml declares every key with its type and default) turned into the
 * topology options and secrets the components need. Only this file reads `pulumi.Config`.
 *
 * Enumerated settings are read with `allowedValues`, so a typo fails `pulumi preview` with the list
 * of valid values instead of starting containers that exit with code 2 and crash-loop until `up`
 * times out.
 */
import * as pulumi from '@pulumi/pulumi'
import { LOG_LEVELS } from '../app/config/sections.js'
import { webSocketSection } from '../app/config/websocket-section.js'
import { GameServerError } from '../app/errors.js'
import { SHIPPED_SCENARIOS } from '../app/loadtest/scenario.js'
import { DEFAULT_TOPOLOGY_OPTIONS, type LoadGeneratorOptions, type SecretName, type TopologyOptions } from '../app/topology/index.js'
import { DEFAULT_IMAGES, type ImageKey } from './images.js'

/** What `pulumi destroy` (or a replacement) does to the PostgreSQL data volume. */
const DATA_VOLUME_RETENTION = ['retain', 'protect', 'delete'] as const
export type DataVolumeRetention = (typeof DATA_VOLUME_RETENTION)[number]

export interface StackConfig {
  readonly topology: TopologyOptions
  readonly secrets: Readonly<Record<SecretName, pulumi.Output<string>>>
  readonly imageName: string
  /** Third-party images by part (pinned tags by default; a digest may be appended). */
  readonly images: Readonly<Record<ImageKey, string>>
  readonly alertEmail: string
  /** SMTP relay Grafana sends the alert e-mails through; unset = alerts only visible in Grafana. */
  readonly smtp?: { readonly host: string; readonly user: string; readonly password: pulumi.Output<string>; readonly from: string }
  /** Memory limit of each game server / balancer container, MiB. */
  readonly appMemoryMb: number
  /** CPU limit of each game server / balancer container in cores (CFS quota); 0 = none. */
  readonly appCpus: number
  readonly redisMemoryMb: number
  readonly postgresMemoryMb: number
  /** Host address the published ports bind to (`0.0.0.0` = every interface of the Docker host). */
  readonly publishAddress: string
  /** Host name clients use for the published ports (stack outputs). */
  readonly publicHost: string
  readonly dataVolumeRetention: DataVolumeRetention
}

const STRATEGIES = ['least-connections', 'round-robin', 'weighted-response-time'] as const

export function readStackConfig(config = new pulumi.Config(), dockerConfig = new pulumi.Config('docker')): StackConfig {
  const integer = (key: string, fallback: number) => config.getNumber(key) ?? fallback
  const loadGeneratorCount = integer('loadGenerators', 0)
  const loadGenerators: LoadGeneratorOptions | undefined =
    loadGeneratorCount > 0
      ? {
          count: loadGeneratorCount,
          playersPerGenerator: integer('loadPlayers', 100),
          durationSeconds: integer('loadDurationSeconds', 60),
          // Only shipped scenarios exist inside the image; a file path would not.
          scenario: config.get('loadScenario', { allowedValues: Object.keys(SHIPPED_SCENARIOS) }) ?? 'mixed',
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
  // Checked here with the servers' own parser: a bad list fails the preview, not every server's start.
  const origins = config.get('wsAllowedOrigins')
  if (origins !== undefined && origins.trim() !== '') {
    try {
      serverEnv['WS_ALLOWED_ORIGINS'] = webSocketSection.allowedOrigins.parse(origins.trim()).join(',')
    } catch (err) {
      throw new GameServerError('GS_ERR_CONFIG', `wsAllowedOrigins: ${(err as Error).message}`, { variable: 'wsAllowedOrigins' })
    }
  }
  const topology: TopologyOptions = {
    ...DEFAULT_TOPOLOGY_OPTIONS,
    servers: integer('servers', DEFAULT_TOPOLOGY_OPTIONS.servers),
    redisShards: integer('redisShards', DEFAULT_TOPOLOGY_OPTIONS.redisShards),
    balancerPort: integer('balancerPort', DEFAULT_TOPOLOGY_OPTIONS.balancerPort),
    balancerWebSocketPort: integer('balancerWebSocketPort', DEFAULT_TOPOLOGY_OPTIONS.balancerWebSocketPort),
    grafanaPort: integer('grafanaPort', DEFAULT_TOPOLOGY_OPTIONS.grafanaPort),
    prometheusPort: integer('prometheusPort', DEFAULT_TOPOLOGY_OPTIONS.prometheusPort),
    publishPrometheus: config.getBoolean('publishPrometheus') ?? DEFAULT_TOPOLOGY_OPTIONS.publishPrometheus,
    balanceStrategy: config.get('balanceStrategy', { allowedValues: [...STRATEGIES] }) ?? DEFAULT_TOPOLOGY_OPTIONS.balanceStrategy,
    backendDiscovery: config.get('backendDiscovery', { allowedValues: ['cluster', 'static'] as const }) ?? DEFAULT_TOPOLOGY_OPTIONS.backendDiscovery,
    logLevel: config.get('logLevel', { allowedValues: [...LOG_LEVELS] }) ?? DEFAULT_TOPOLOGY_OPTIONS.logLevel,
    scrapeIntervalSeconds: integer('scrapeIntervalSeconds', DEFAULT_TOPOLOGY_OPTIONS.scrapeIntervalSeconds),
    shutdownDeadlineMs: integer('shutdownDeadlineMs', DEFAULT_TOPOLOGY_OPTIONS.shutdownDeadlineMs),
    serverEnv,
    ...(loadGenerators ? { loadGenerators } : {}),
  }
  const publishAddress = config.get('publishAddress') ?? '0.0.0.0'
  return {
    topology,
    secrets: {
      postgresPassword: config.requireSecret('postgresPassword'),
      redisPassword: config.requireSecret('redisPassword'),
      grafanaAdminPassword: config.requireSecret('grafanaAdminPassword'),
      balancerAdminToken: config.requireSecret('balancerAdminToken'),
    },
    imageName: config.get('imageName') ?? 'game-appliance:latest',
    images: readImages(config),
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
    appCpus: config.getNumber('appCpus', { min: 0 }) ?? 0,
    redisMemoryMb: integer('redisMemoryMb', 256),
    postgresMemoryMb: integer('postgresMemoryMb', 1024),
    publishAddress,
    publicHost: config.get('publicHost') || publicHostOf(publishAddress, dockerConfig.get('host') ?? process.env.DOCKER_HOST),
    dataVolumeRetention: config.get('dataVolumeRetention', { allowedValues: [...DATA_VOLUME_RETENTION] }) ?? 'retain',
  }
}

/**
 * The host name clients reach published ports on: a specific publish address, else the host of a
 * remote Docker endpoint (`tcp://host:2376`, `ssh://user@host`), else `localhost` (a local socket).
 */
function publicHostOf(publishAddress: string, dockerHost: string | undefined): string {
  if (publishAddress !== '0.0.0.0' && publishAddress !== '::' && publishAddress !== '') return publishAddress.includes(':') ? `[${publishAddress}]` : publishAddress
  if (!dockerHost || dockerHost.startsWith('unix://') || dockerHost.startsWith('npipe://')) return 'localhost'
  try {
    const host = new URL(dockerHost).hostname
    return host || 'localhost'
  } catch {
    throw new GameServerError('GS_ERR_CONFIG', `cannot read a host name from the Docker endpoint ${dockerHost}; set publicHost`, { variable: 'docker:host' })
  }
}

function readImages(config: pulumi.Config): Readonly<Record<ImageKey, string>> {
  const overrides = config.getObject<Record<string, string>>('images') ?? {}
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_IMAGES)) {
      throw new GameServerError('GS_ERR_CONFIG', `images.${key} is not an image of the stack (one of ${Object.keys(DEFAULT_IMAGES).join(', ')})`, { variable: `images.${key}` })
    }
    if (typeof value !== 'string' || value.trim() === '') throw new GameServerError('GS_ERR_CONFIG', `images.${key} must be an image reference`, { variable: `images.${key}` })
  }
  return Object.freeze({ ...DEFAULT_IMAGES, ...overrides })
}
