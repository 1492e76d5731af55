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
import { AppImage } from './components/image.js'
import { LoadGenerators } from './components/load-generators.js'
import { PrivateNetwork } from './components/network.js'
import { Prometheus } from './components/prometheus.js'
import { RedisShards } from './components/redis-shards.js'

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const stack = pulumi.getStack()
const config = readStackConfig()
const topology = buildTopology(config.topology)
const common = { topology, secrets: config.secrets }

const image = new AppImage('app', { context: repositoryRoot, imageName: config.imageName })
const network = new PrivateNetwork('net', { name: `game-${stack}` })
const database = new Database('db', { ...common, network: network.name, appImage: image.ref, memoryMb: config.postgresMemoryMb })
const redis = new RedisShards('redis', { ...common, network: network.name, memoryMb: config.redisMemoryMb })
const servers = new GameServers('game', { ...common, network: network.name, appImage: image.ref, memoryMb: config.appMemoryMb, after: [database.migrations, ...redis.shards] })
const balancer = new Balancer('lb', { ...common, network: network.name, appImage: image.ref, memoryMb: config.appMemoryMb, backends: servers.servers })
const prometheus = new Prometheus('prom', { ...common, network: network.name })
const grafana = new Grafana('grafana', { ...common, network: network.name, files: generatedFiles(), after: [prometheus.container], alertEmail: config.alertEmail, ...(config.smtp ? { smtp: config.smtp } : {}) })
if (topology.options.loadGenerators) new LoadGenerators('load', { ...common, network: network.name, appImage: image.ref, balancer: balancer.container })

export const gameEndpoint = balancer.endpoint
export const grafanaUrl = grafana.url
export const prometheusUrl = prometheus.url
export const serverCount = topology.options.servers
export const redisShardCount = topology.options.redisShards
