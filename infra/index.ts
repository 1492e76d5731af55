/**
 * The Pulumi program: stack config → topology → one component per part. Wiring only; every
 * container is described by the topology (app/topology) and built by its component.
 */
import * as pulumi from '@pulumi/pulumi'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildTopology } from '../app/topology/index.js'
import { generatedFiles } from '../dashboards/generate.js'
import { readStackConfig } from './config.js'
import { Balancer } from './components/balancer.js'
import { Database } from './components/database.js'
import { GameServers } from './components/game-servers.js'
import { Grafana } from './components/grafana.js'
import { HostMetrics } from './components/host-metrics.js'
import { AppImage } from './components/image.js'
import { LoadGenerators } from './components/load-generators.js'
import { PrivateNetwork } from './components/network.js'
import { Prometheus } from './components/prometheus.js'
import { RedisShards } from './components/redis-shards.js'

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const stack = pulumi.getStack()
const config = readStackConfig()
const topology = buildTopology(config.topology)
const network = new PrivateNetwork('net', { name: `game-${stack}` })
const context = { topology, secrets: config.secrets, network: network.name, publishAddress: config.publishAddress }
const app = { memoryMb: config.appMemoryMb, cpus: config.appCpus }

const image = new AppImage('app', { context: repositoryRoot, imageName: config.imageName })
const database = new Database('db', {
  ...context,
  appImage: image.ref,
  image: config.images.postgres,
  exporterImage: config.images.postgresExporter,
  memoryMb: config.postgresMemoryMb,
  volumeRetention: config.dataVolumeRetention,
})
const redis = new RedisShards('redis', { ...context, image: config.images.redis, exporterImage: config.images.redisExporter, memoryMb: config.redisMemoryMb })
// The servers' image resolves only once the migrations exited 0: a failed migration fails the update
// before any server starts on the old schema.
const migratedImage = pulumi.all([image.ref, database.migrated]).apply(([ref]) => ref)
const servers = new GameServers('game', { ...context, ...app, appImage: migratedImage, after: [database.migrations, ...redis.shards] })
const balancer = new Balancer('lb', { ...context, ...app, appImage: image.ref, backends: servers.servers, publicHost: config.publicHost })
new HostMetrics('host', { ...context, image: config.images.nodeExporter })
const prometheus = new Prometheus('prom', { ...context, image: config.images.prometheus, publicHost: config.publicHost })
const grafana = new Grafana('grafana', {
  ...context,
  image: config.images.grafana,
  publicHost: config.publicHost,
  files: generatedFiles(),
  after: [prometheus.container],
  alertEmail: config.alertEmail,
  ...(config.smtp ? { smtp: config.smtp } : {}),
})
if (topology.options.loadGenerators) new LoadGenerators('load', { ...context, appImage: image.ref, balancer: balancer.container })

// The stack's outputs (`pulumi stack output`); Pulumi reads the program's exports, no module imports them.
/** @public */
export const gameEndpoint = balancer.endpoint
/** @public */
export const playgroundUrl = balancer.playground
/** @public */
export const grafanaUrl = grafana.url
/** @public */
export const prometheusUrl = prometheus.url
/** @public */
export const serverCount = topology.options.servers
/** @public */
export const redisShardCount = topology.options.redisShards
