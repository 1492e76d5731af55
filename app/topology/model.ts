/**
 * The topology of one appliance: which services run, how many, their ports, the environment that
 * wires them to one another, their health checks and what Prometheus scrapes. It is pure data
 * built by `buildTopology` from options; two adapters turn it into something that runs: the Pulumi
 * program (`infra/`, containers on a private Docker network) and the local process runner
 * (`app/local/appliance.ts`, processes on loopback). Neither adapter invents a service, a port or
 * a variable of its own, so the two cannot drift.
 *
 * Addresses are symbolic: an environment value is a list of parts, literal text or references to
 * another service's host / port or to a secret. Each adapter resolves references its own way
 * (Docker: the service name and its container port; local: 127.0.0.1 and a free port).
 */

type ServiceKind =
  | 'postgres'
  | 'redis'
  | 'postgres-exporter'
  | 'redis-exporter'
  | 'node-exporter'
  | 'game-server'
  | 'balancer'
  | 'migrate'
  | 'prometheus'
  | 'grafana'
  | 'load-generator'

/** Secrets the topology needs; adapters supply them (Pulumi config secrets, or generated per run). */
export type SecretName = 'postgresPassword' | 'redisPassword' | 'grafanaAdminPassword' | 'balancerAdminToken'

interface PortSpec {
  /** Name used by references, e.g. `game`, `metrics`. */
  readonly name: string
  /** Port the service listens on inside its own network namespace (a container). */
  readonly containerPort: number
  /** Host port it is published on; absent = private network only. */
  readonly publishedPort?: number
}

/** One part of an environment value or argument. */
export type ValuePart =
  | string
  | { readonly hostOf: string }
  /** The address a service binds its listeners to: all interfaces in a container, loopback locally. */
  | { readonly bindHost: true }
  | { readonly portOf: string; readonly port: string }
  /** A secret; `uri` percent-encodes it for use inside a URL. */
  | { readonly secret: SecretName; readonly encode?: 'uri' }
  /** Several values joined by `separator` (e.g. REDIS_URLS, BACKENDS). */
  | { readonly join: readonly (readonly ValuePart[])[]; readonly separator: string }

export type Value = readonly ValuePart[]

export type HealthCheck =
  /** A PING frame answered by a PONG on a game-protocol port (game server, balancer). */
  | { readonly kind: 'game-ping'; readonly port: string }
  | { readonly kind: 'redis-ping'; readonly port: string }
  | { readonly kind: 'postgres-ready'; readonly port: string }
  | { readonly kind: 'http'; readonly port: string; readonly path: string }

interface ScrapeSpec {
  /** Prometheus job name; dashboards select on it. */
  readonly job: string
  readonly port: string
  readonly path: string
  /**
   * Multi-target exporters (redis_exporter): Prometheus asks this service to probe each of these
   * addresses (`?target=`), and labels the samples with the probed service.
   */
  readonly probes?: readonly { readonly service: string; readonly target: Value }[]
}

/** What an app-image service runs: a module of this repository. */
interface AppEntry {
  /** Module path from the repository root, e.g. `app/main.ts` (the image runs the compiled `dist/app/main.js`). */
  readonly module: string
}

export interface Service {
  readonly name: string
  readonly kind: ServiceKind
  /** Index within its group (game-server 1..N, redis 0..K-1), else 0. */
  readonly index: number
  readonly ports: readonly PortSpec[]
  readonly env: Readonly<Record<string, Value>>
  /** Runs the appliance image (app code) rather than a stock image / system program. */
  readonly app?: AppEntry
  /** Arguments after the app module, or after the stock program (the image's entrypoint). */
  readonly args: readonly Value[]
  /** Absent only for one-shot jobs (`migrate`), which exit when done. */
  readonly health?: HealthCheck
  readonly scrape?: ScrapeSpec
  /** Started only after these are healthy (jobs: after they finished). */
  readonly dependsOn: readonly string[]
  /** Runs to completion instead of staying up. */
  readonly oneShot: boolean
  /** Holds data that survives a restart (a volume in Docker, a directory locally). */
  readonly persistent: boolean
  /**
   * Seconds between the stop signal and a forced kill. For app services this is the shutdown
   * deadline (SHUTDOWN_DEADLINE_MS) plus SHUTDOWN_MARGIN_SECONDS, so a `docker stop`, a replacement
   * or `pulumi destroy` lets the process hand its players' state to the store before it is killed.
   */
  readonly stopGraceSeconds: number
}

export interface LoadGeneratorOptions {
  readonly count: number
  readonly playersPerGenerator: number
  readonly durationSeconds: number
  readonly scenario: string
}

export interface TopologyOptions {
  /** N game servers. */
  readonly servers: number
  /** K Redis shards. */
  readonly redisShards: number
  /** Host port of the balancer (the only published game port). */
  readonly balancerPort: number
  /** Host port of the balancer's WebSocket front (browsers; TLS terminates in front of it, docs/DEPLOY.md). */
  readonly balancerWebSocketPort: number
  readonly grafanaPort: number
  readonly prometheusPort: number
  /** Publish Prometheus on the host too (Grafana always is). */
  readonly publishPrometheus: boolean
  readonly balanceStrategy: 'least-connections' | 'round-robin' | 'weighted-response-time'
  /**
   * How the balancer finds the game servers: `cluster` = membership in Redis (servers register
   * themselves, so adding one needs no balancer change); `static` = a fixed BACKENDS list.
   */
  readonly backendDiscovery: 'cluster' | 'static'
  readonly logLevel: string
  /** Extra tuning variables for every game server (flush policy, limits…), passed through verbatim. */
  readonly serverEnv: Readonly<Record<string, string>>
  /**
   * BALANCER_MAX_CONNECTIONS_PER_ADDRESS of the balancer; unset keeps its default (256), except in
   * stacks with load generators (0: a generator opens all its players from one address).
   */
  readonly balancerMaxConnectionsPerAddress?: number
  /** Load generators; only load-test stacks set this. */
  readonly loadGenerators?: LoadGeneratorOptions
  /** Scrape interval of Prometheus. */
  readonly scrapeIntervalSeconds: number
  /** SHUTDOWN_DEADLINE_MS of the game servers and the balancer (graceful shutdown on SIGTERM). */
  readonly shutdownDeadlineMs: number
}

export interface Topology {
  readonly options: TopologyOptions
  readonly services: readonly Service[]
}

/** Container ports (the same in every container; local runs pick free ports instead). */
export const CONTAINER_PORTS = {
  game: 7777,
  metrics: 9464,
  balancer: 7000,
  /** The game servers' WebSocket listener (WS_PORT) and the balancer's WebSocket front (BALANCER_WS_PORT). */
  webSocket: 7780,
  balancerWebSocket: 7080,
  postgres: 5432,
  redis: 6379,
  prometheus: 9090,
  grafana: 3000,
  balancerAdmin: 9470,
  postgresExporter: 9187,
  redisExporter: 9121,
  nodeExporter: 9100,
} as const

/**
 * Added to the shutdown deadline to get an app service's stop grace: the process exits at the latest
 * 1 s after its deadline (app/main.ts hard stop), plus time for the exit itself and the init process.
 */
export const SHUTDOWN_MARGIN_SECONDS = 5

export const DATABASE_NAME = 'game'
export const DATABASE_USER = 'game'
