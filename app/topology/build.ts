/** Builds the one topology description from options (see model.ts). Pure and deterministic. */
import { GameServerError } from '../errors.js'
import { CONTAINER_PORTS, DATABASE_NAME, DATABASE_USER, SHUTDOWN_MARGIN_SECONDS, type Service, type Topology, type TopologyOptions, type Value, type ValuePart } from './model.js'

export const SERVICE_NAMES = {
  postgres: 'postgres',
  postgresExporter: 'postgres-exporter',
  redisExporter: 'redis-exporter',
  nodeExporter: 'node-exporter',
  migrate: 'migrate',
  balancer: 'balancer',
  prometheus: 'prometheus',
  grafana: 'grafana',
  gameServer: (index: number) => `game-${index}`,
  redis: (index: number) => `redis-${index}`,
  loadGenerator: (index: number) => `loadgen-${index}`,
} as const

/** Prometheus job names (dashboards and alert rules select on `job`). */
export const SCRAPE_JOBS = { gameServer: 'game-server', balancer: 'balancer', postgres: 'postgres', redis: 'redis', node: 'node', loadGenerator: 'load-generator' } as const

/**
 * Stop grace of the services that are not app processes: PostgreSQL gets time for its shutdown
 * checkpoint, Prometheus for writing its head block; the rest stop at once.
 */
const STOP_GRACE_SECONDS = { postgres: 30, prometheus: 30, other: 10 } as const

export const DEFAULT_TOPOLOGY_OPTIONS: TopologyOptions = Object.freeze({
  servers: 3,
  redisShards: 2,
  balancerPort: 7000,
  balancerWebSocketPort: 7080,
  grafanaPort: 3000,
  prometheusPort: 9090,
  publishPrometheus: true,
  balanceStrategy: 'least-connections',
  backendDiscovery: 'cluster',
  logLevel: 'info',
  serverEnv: {},
  scrapeIntervalSeconds: 5,
  shutdownDeadlineMs: 10_000,
})

const address = (service: string, port: string): ValuePart[] => [{ hostOf: service }, ':', { portOf: service, port }]

function databaseUrl(): Value {
  return [`postgres://${DATABASE_USER}:`, { secret: 'postgresPassword', encode: 'uri' }, '@', ...address(SERVICE_NAMES.postgres, 'postgres'), `/${DATABASE_NAME}`]
}

function redisUrls(shards: number): Value {
  const urls = range(shards).map((i) => ['redis://:', { secret: 'redisPassword', encode: 'uri' } as const, '@', ...address(SERVICE_NAMES.redis(i), 'redis')])
  return [{ join: urls, separator: ',' }]
}

/** Cluster membership and the leader lease live on the first shard (the servers' default too). */
function clusterRedisUrl(): Value {
  return ['redis://:', { secret: 'redisPassword', encode: 'uri' }, '@', ...address(SERVICE_NAMES.redis(0), 'redis')]
}

/** The exporter's own listen address (`host:port` inside its namespace). */
const listenOn = (service: string): Value => [{ bindHost: true }, ':', { portOf: service, port: 'metrics' }]

/** What every service's definition draws on: the options, the names and the shared environment. */
interface Wiring {
  readonly options: TopologyOptions
  readonly servers: readonly string[]
  readonly shards: readonly string[]
  /** DATABASE_URL, REDIS_URLS and CLUSTER_REDIS_URL of the app processes. */
  readonly dataEnv: Record<string, Value>
  /** How the balancer finds the servers: cluster membership, or a fixed BACKENDS list. */
  readonly discovery: Record<string, Value>
  /** App processes get their shutdown deadline and the margin before they may be killed. */
  readonly appStopGraceSeconds: number
  readonly shutdownEnv: Record<string, Value>
}

export function buildTopology(options: TopologyOptions): Topology {
  validate(options)
  const servers = range(options.servers).map((i) => SERVICE_NAMES.gameServer(i + 1))
  const w: Wiring = {
    options,
    servers,
    shards: range(options.redisShards).map((i) => SERVICE_NAMES.redis(i)),
    dataEnv: { DATABASE_URL: databaseUrl(), REDIS_URLS: redisUrls(options.redisShards), CLUSTER_REDIS_URL: clusterRedisUrl() },
    discovery: options.backendDiscovery === 'cluster' ? { CLUSTER_REDIS_URL: clusterRedisUrl() } : { BACKENDS: [{ join: servers.map((s) => [...address(s, 'game'), '/', { portOf: s, port: 'ws' }]), separator: ',' }] },
    appStopGraceSeconds: Math.ceil(options.shutdownDeadlineMs / 1000) + SHUTDOWN_MARGIN_SECONDS,
    shutdownEnv: { SHUTDOWN_DEADLINE_MS: [String(options.shutdownDeadlineMs)] },
  }
  const services: Service[] = [
    postgres(),
    ...w.shards.map(redisShard),
    postgresExporter(),
    redisExporter(w),
    nodeExporter(),
    migrate(w),
    ...w.servers.map((name, i) => gameServer(w, name, i + 1)),
    balancer(w),
    prometheus(w),
    grafana(w),
    ...range(options.loadGenerators?.count ?? 0).map((i) => loadGenerator(w, i + 1)),
  ]
  return Object.freeze({ options, services: Object.freeze(services) })
}

function postgres(): Service {
  return {
    name: SERVICE_NAMES.postgres,
    kind: 'postgres',
    index: 0,
    ports: [{ name: 'postgres', containerPort: CONTAINER_PORTS.postgres }],
    env: {},
    args: [],
    health: { kind: 'postgres-ready', port: 'postgres' },
    dependsOn: [],
    oneShot: false,
    persistent: true,
    stopGraceSeconds: STOP_GRACE_SECONDS.postgres,
  }
}

function redisShard(name: string, index: number): Service {
  return {
    name,
    kind: 'redis',
    index,
    ports: [{ name: 'redis', containerPort: CONTAINER_PORTS.redis }],
    env: {},
    args: [],
    health: { kind: 'redis-ping', port: 'redis' },
    dependsOn: [],
    oneShot: false,
    persistent: false,
    stopGraceSeconds: STOP_GRACE_SECONDS.other,
  }
}

function postgresExporter(): Service {
  return {
    name: SERVICE_NAMES.postgresExporter,
    kind: 'postgres-exporter',
    index: 0,
    ports: [{ name: 'metrics', containerPort: CONTAINER_PORTS.postgresExporter }],
    env: { DATA_SOURCE_NAME: [...databaseUrl(), '?sslmode=disable'] },
    args: [['--web.listen-address=', ...listenOn(SERVICE_NAMES.postgresExporter)]],
    health: { kind: 'http', port: 'metrics', path: '/metrics' },
    scrape: { job: SCRAPE_JOBS.postgres, port: 'metrics', path: '/metrics' },
    dependsOn: [SERVICE_NAMES.postgres],
    oneShot: false,
    persistent: false,
    stopGraceSeconds: STOP_GRACE_SECONDS.other,
  }
}

function redisExporter(w: Wiring): Service {
  return {
    name: SERVICE_NAMES.redisExporter,
    kind: 'redis-exporter',
    index: 0,
    ports: [{ name: 'metrics', containerPort: CONTAINER_PORTS.redisExporter }],
    env: { REDIS_PASSWORD: [{ secret: 'redisPassword' }] },
    args: [['--web.listen-address=', ...listenOn(SERVICE_NAMES.redisExporter)]],
    health: { kind: 'http', port: 'metrics', path: '/health' },
    scrape: {
      job: SCRAPE_JOBS.redis,
      port: 'metrics',
      path: '/scrape',
      probes: w.shards.map((shard) => ({ service: shard, target: ['redis://', ...address(shard, 'redis')] })),
    },
    dependsOn: [...w.shards],
    oneShot: false,
    persistent: false,
    stopGraceSeconds: STOP_GRACE_SECONDS.other,
  }
}

/** Host-level readings (CPU, memory, filesystems, network) come from node_exporter, once per host,
 * rather than from each app process reading the same /proc (alerts would fire N+1 times). */
function nodeExporter(): Service {
  return {
    name: SERVICE_NAMES.nodeExporter,
    kind: 'node-exporter',
    index: 0,
    ports: [{ name: 'metrics', containerPort: CONTAINER_PORTS.nodeExporter }],
    env: {},
    args: [['--web.listen-address=', ...listenOn(SERVICE_NAMES.nodeExporter)]],
    health: { kind: 'http', port: 'metrics', path: '/metrics' },
    scrape: { job: SCRAPE_JOBS.node, port: 'metrics', path: '/metrics' },
    dependsOn: [],
    oneShot: false,
    persistent: false,
    stopGraceSeconds: STOP_GRACE_SECONDS.other,
  }
}

/**
 * The migration job retries this long while PostgreSQL cannot be reached: it starts once the
 * database's own health check passes, and on a container network the name may not resolve, or the
 * port not answer, for a moment longer.
 */
const MIGRATION_JOB_WAIT_SECONDS = 60

function migrate(w: Wiring): Service {
  return {
    name: SERVICE_NAMES.migrate,
    kind: 'migrate',
    index: 0,
    ports: [],
    env: { DATABASE_URL: databaseUrl(), LOG_LEVEL: [w.options.logLevel], MIGRATE_WAIT_SECONDS: [String(MIGRATION_JOB_WAIT_SECONDS)] },
    app: { module: 'app/cli/migrate.ts' },
    args: [],
    dependsOn: [SERVICE_NAMES.postgres],
    oneShot: true,
    persistent: false,
    stopGraceSeconds: w.appStopGraceSeconds,
  }
}

function gameServer(w: Wiring, name: string, index: number): Service {
  return {
    name,
    kind: 'game-server',
    index,
    ports: [
      { name: 'game', containerPort: CONTAINER_PORTS.game },
      { name: 'ws', containerPort: CONTAINER_PORTS.webSocket },
      { name: 'metrics', containerPort: CONTAINER_PORTS.metrics },
    ],
    env: {
      ...Object.fromEntries(Object.entries(w.options.serverEnv).map(([key, value]) => [key, [value]])),
      GAME_HOST: [{ bindHost: true }],
      GAME_PORT: [{ portOf: name, port: 'game' }],
      // Browsers reach it through the balancer's WebSocket front (the server announces the port
      // through membership); the playground page is served there too.
      WS_HOST: [{ bindHost: true }],
      WS_PORT: [{ portOf: name, port: 'ws' }],
      METRICS_HOST: [{ bindHost: true }],
      METRICS_PORT: [{ portOf: name, port: 'metrics' }],
      NODE_ID: [name],
      // What cluster membership tells others (the bound address would be 0.0.0.0 or loopback).
      ADVERTISE_ADDRESS: address(name, 'game'),
      LOG_LEVEL: [w.options.logLevel],
      // Every client arrives through the balancer, which opens each connection with a PROXY line
      // naming the client: login throttling and takeover notices see real addresses. The
      // connection count per address is taken at accept (the balancer's address), so that limit
      // is the balancer's (BALANCER_MAX_CONNECTIONS_PER_ADDRESS). The port is private: only the
      // balancer (and health checks) reach it, so the header can be trusted.
      TRUST_PROXY_HEADER: ['true'],
      // the same for browser players through the balancer's WebSocket front (its port is private too)
      WS_TRUST_PROXY_HEADER: ['true'],
      MAX_CONNECTIONS_PER_ADDRESS: ['0'],
      ...w.shutdownEnv,
      ...w.dataEnv,
    },
    app: { module: 'app/main.ts' },
    args: [],
    health: { kind: 'game-ping', port: 'game' },
    scrape: { job: SCRAPE_JOBS.gameServer, port: 'metrics', path: '/metrics' },
    dependsOn: [SERVICE_NAMES.postgres, ...w.shards, SERVICE_NAMES.migrate],
    oneShot: false,
    persistent: false,
    stopGraceSeconds: w.appStopGraceSeconds,
  }
}

function balancer(w: Wiring): Service {
  return {
    name: SERVICE_NAMES.balancer,
    kind: 'balancer',
    index: 0,
    ports: [
      { name: 'game', containerPort: CONTAINER_PORTS.balancer, publishedPort: w.options.balancerPort },
      { name: 'ws', containerPort: CONTAINER_PORTS.balancerWebSocket, publishedPort: w.options.balancerWebSocketPort },
      { name: 'metrics', containerPort: CONTAINER_PORTS.metrics },
      { name: 'admin', containerPort: CONTAINER_PORTS.balancerAdmin },
    ],
    env: {
      BALANCER_HOST: [{ bindHost: true }],
      BALANCER_PORT: [{ portOf: SERVICE_NAMES.balancer, port: 'game' }],
      BALANCER_WS_PORT: [{ portOf: SERVICE_NAMES.balancer, port: 'ws' }],
      // for a backend whose WebSocket port is not known (static BACKENDS name theirs: host:port/wsPort)
      BACKEND_WS_PORT: [String(CONTAINER_PORTS.webSocket)],
      // The admin interface (drain, strategy) stays on loopback of the balancer's own namespace.
      BALANCER_ADMIN_HOST: ['127.0.0.1'],
      BALANCER_ADMIN_PORT: [{ portOf: SERVICE_NAMES.balancer, port: 'admin' }],
      BALANCER_ADMIN_TOKEN: [{ secret: 'balancerAdminToken' }],
      BALANCER_SEND_PROXY_HEADER: ['true'],
      // load generators open all their players from one address each
      ...(w.options.balancerMaxConnectionsPerAddress !== undefined || w.options.loadGenerators
        ? { BALANCER_MAX_CONNECTIONS_PER_ADDRESS: [String(w.options.balancerMaxConnectionsPerAddress ?? 0)] }
        : {}),
      METRICS_HOST: [{ bindHost: true }],
      METRICS_PORT: [{ portOf: SERVICE_NAMES.balancer, port: 'metrics' }],
      ...w.discovery,
      BALANCE_STRATEGY: [w.options.balanceStrategy],
      NODE_ID: [SERVICE_NAMES.balancer],
      LOG_LEVEL: [w.options.logLevel],
      ...w.shutdownEnv,
    },
    app: { module: 'app/cli/balance.ts' },
    args: [],
    health: { kind: 'game-ping', port: 'game' },
    scrape: { job: SCRAPE_JOBS.balancer, port: 'metrics', path: '/metrics' },
    dependsOn: w.options.backendDiscovery === 'cluster' ? [SERVICE_NAMES.redis(0), ...w.servers] : [...w.servers],
    oneShot: false,
    persistent: false,
    stopGraceSeconds: w.appStopGraceSeconds,
  }
}

function prometheus(w: Wiring): Service {
  return {
    name: SERVICE_NAMES.prometheus,
    kind: 'prometheus',
    index: 0,
    ports: [{ name: 'http', containerPort: CONTAINER_PORTS.prometheus, ...(w.options.publishPrometheus ? { publishedPort: w.options.prometheusPort } : {}) }],
    env: {},
    args: [],
    health: { kind: 'http', port: 'http', path: '/-/ready' },
    dependsOn: [],
    oneShot: false,
    persistent: true,
    stopGraceSeconds: STOP_GRACE_SECONDS.prometheus,
  }
}

function grafana(w: Wiring): Service {
  return {
    name: SERVICE_NAMES.grafana,
    kind: 'grafana',
    index: 0,
    ports: [{ name: 'http', containerPort: CONTAINER_PORTS.grafana, publishedPort: w.options.grafanaPort }],
    env: {
      GF_SECURITY_ADMIN_USER: ['admin'],
      GF_SECURITY_ADMIN_PASSWORD: [{ secret: 'grafanaAdminPassword' }],
      GF_USERS_ALLOW_SIGN_UP: ['false'],
      PROMETHEUS_URL: ['http://', ...address(SERVICE_NAMES.prometheus, 'http')],
    },
    args: [],
    health: { kind: 'http', port: 'http', path: '/api/health' },
    dependsOn: [SERVICE_NAMES.prometheus],
    oneShot: false,
    persistent: true,
    stopGraceSeconds: STOP_GRACE_SECONDS.other,
  }
}

/** A load generator of a load-test stack: its players against the balancer for the run's duration. */
function loadGenerator(w: Wiring, index: number): Service {
  const load = w.options.loadGenerators!
  return {
    name: SERVICE_NAMES.loadGenerator(index),
    kind: 'load-generator',
    index,
    ports: [{ name: 'metrics', containerPort: CONTAINER_PORTS.metrics }],
    env: { LOG_LEVEL: [w.options.logLevel], METRICS_HOST: [{ bindHost: true }], METRICS_PORT: [{ portOf: SERVICE_NAMES.loadGenerator(index), port: 'metrics' }] },
    app: { module: 'app/cli/loadtest.ts' },
    args: [
      ['--target'],
      address(SERVICE_NAMES.balancer, 'game'),
      ['--players'],
      [String(load.playersPerGenerator)],
      ['--duration'],
      [String(load.durationSeconds)],
      ['--scenario'],
      [load.scenario],
    ],
    // Its client-side view (RTT, errors) while it runs, next to the servers' own.
    scrape: { job: SCRAPE_JOBS.loadGenerator, port: 'metrics', path: '/metrics' },
    dependsOn: [SERVICE_NAMES.balancer],
    oneShot: true,
    persistent: false,
    stopGraceSeconds: w.appStopGraceSeconds,
  }
}

export function service(topology: Topology, name: string): Service {
  const found = topology.services.find((s) => s.name === name)
  if (!found) throw new GameServerError('GS_ERR_TOPOLOGY', `no service ${name} in the topology`, { service: name })
  return found
}

export function servicesOfKind(topology: Topology, kind: Service['kind']): Service[] {
  return topology.services.filter((s) => s.kind === kind)
}

/** Every service another one names in its environment or arguments (for wiring tests). */
export function referencedServices(value: Value): string[] {
  const out: string[] = []
  for (const part of value) {
    if (typeof part === 'string') continue
    if ('hostOf' in part) out.push(part.hostOf)
    else if ('portOf' in part) out.push(part.portOf)
    else if ('join' in part) for (const inner of part.join) out.push(...referencedServices(inner))
  }
  return [...new Set(out)]
}

function validate(options: TopologyOptions): void {
  const bad = (field: string, reason: string) => new GameServerError('GS_ERR_TOPOLOGY', `topology option ${field} ${reason}`, { field })
  if (!Number.isInteger(options.servers) || options.servers < 1 || options.servers > 64) throw bad('servers', 'must be an integer in 1..64')
  if (!Number.isInteger(options.redisShards) || options.redisShards < 1 || options.redisShards > 64) throw bad('redisShards', 'must be an integer in 1..64')
  for (const field of ['balancerPort', 'balancerWebSocketPort', 'grafanaPort', 'prometheusPort'] as const) {
    const port = options[field]
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(field, 'must be a port in 1..65535')
  }
  const published = [options.balancerPort, options.balancerWebSocketPort, options.grafanaPort, ...(options.publishPrometheus ? [options.prometheusPort] : [])]
  if (new Set(published).size !== published.length) throw bad('ports', 'must not publish two services on one host port')
  if (options.loadGenerators && (!Number.isInteger(options.loadGenerators.count) || options.loadGenerators.count < 1)) throw bad('loadGenerators.count', 'must be ≥ 1')
  if (!Number.isInteger(options.shutdownDeadlineMs) || options.shutdownDeadlineMs < 0 || options.shutdownDeadlineMs > 600_000) throw bad('shutdownDeadlineMs', 'must be an integer in 0..600000')
  if ('SHUTDOWN_DEADLINE_MS' in options.serverEnv) throw bad('serverEnv.SHUTDOWN_DEADLINE_MS', 'is set through shutdownDeadlineMs (it also sets the containers\' stop grace)')
  for (const key of Object.keys(options.serverEnv)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) throw bad(`serverEnv.${key}`, 'must be an upper-case variable name')
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}
