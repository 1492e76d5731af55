import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../../app/config/index.js'
import { isGameServerError } from '../../../app/errors.js'
import {
  buildTopology,
  containerAddress,
  DEFAULT_TOPOLOGY_OPTIONS,
  prometheusConfig,
  referencedServices,
  resolveEnv,
  resolveValue,
  scrapeTargets,
  service,
  servicesOfKind,
  stringResolver,
  topologyFromConfig,
  type TopologyOptions,
} from '../../../app/topology/index.js'
import { toYaml } from '../../../app/topology/yaml.js'
import { advertisedAddress } from '../../../app/cluster/join.js'

const secrets = { postgresPassword: 'p@ss/word', redisPassword: 'r:edis', grafanaAdminPassword: 'g', balancerAdminToken: 'balancer-admin-token' }
const options = (over: Partial<TopologyOptions> = {}): TopologyOptions => ({ ...DEFAULT_TOPOLOGY_OPTIONS, ...over })
const containerEnv = (topology: ReturnType<typeof buildTopology>, name: string) =>
  resolveEnv(service(topology, name), stringResolver({ ...containerAddress(topology), secret: (s) => secrets[s] }))

for (const [servers, shards] of [[1, 1], [3, 2], [5, 4]] as const) {
  test(`N=${servers} servers and K=${shards} shards become that many services, wired by env`, () => {
    const topology = buildTopology(options({ servers, redisShards: shards }))
    const games = servicesOfKind(topology, 'game-server')
    const redis = servicesOfKind(topology, 'redis')
    assert.equal(games.map((s) => s.name), Array.from({ length: servers }, (_, i) => `game-${i + 1}`))
    assert.equal(redis.map((s) => s.name), Array.from({ length: shards }, (_, i) => `redis-${i}`))
    const env = containerEnv(topology, games[games.length - 1]!.name)
    assert.is(env.DATABASE_URL, 'postgres://game:p%40ss%2Fword@postgres:5432/game')
    assert.equal(env.REDIS_URLS!.split(','), redis.map((r) => `redis://:r%3Aedis@${r.name}:6379`))
    assert.is(env.GAME_PORT, '7777')
    // Default: the balancer discovers the servers through cluster membership on the first shard.
    const balancer = containerEnv(topology, 'balancer')
    assert.is(balancer.BACKENDS, undefined)
    assert.is(balancer.CLUSTER_REDIS_URL, 'redis://:r%3Aedis@redis-0:6379')
    assert.is(env.CLUSTER_REDIS_URL, balancer.CLUSTER_REDIS_URL)
    assert.is(env.ADVERTISE_ADDRESS, `${games[games.length - 1]!.name}:7777`)
    // Static: a fixed BACKENDS list of every server, each with its WebSocket port (host:port/wsPort).
    const fixed = buildTopology(options({ servers, redisShards: shards, backendDiscovery: 'static' }))
    assert.equal(containerEnv(fixed, 'balancer').BACKENDS!.split(','), games.map((g) => `${g.name}:7777/7780`))
    assert.equal(referencedServices(service(fixed, 'balancer').env.BACKENDS!), games.map((g) => g.name))
    assert.is(containerEnv(fixed, 'balancer').CLUSTER_REDIS_URL, undefined)
  })
}

test('every reference names an existing service and port; every long-running service has a health check', () => {
  const topology = buildTopology(options({ servers: 3, redisShards: 3, loadGenerators: { count: 2, playersPerGenerator: 10, durationSeconds: 30, scenario: 'mixed' } }))
  const address = containerAddress(topology)
  for (const s of topology.services) {
    for (const value of [...Object.values(s.env), ...s.args]) {
      for (const name of referencedServices(value)) assert.ok(topology.services.some((t) => t.name === name), `${s.name} names ${name}`)
    }
    resolveEnv(s, stringResolver({ ...address, secret: (n) => secrets[n] })) // throws on an unknown port
    if (!s.oneShot) assert.ok(s.health, `${s.name} has a health check`)
    for (const dep of s.dependsOn) assert.ok(topology.services.some((t) => t.name === dep), `${s.name} depends on ${dep}`)
  }
})

test('game servers bound to 0.0.0.0 advertise their service host:port to the cluster, not 127.0.0.1', () => {
  const topology = buildTopology(options({ servers: 3, redisShards: 2 }))
  const advertised = servicesOfKind(topology, 'game-server').map((game) => {
    const env = containerEnv(topology, game.name)
    assert.is(env.GAME_HOST, '0.0.0.0', `${game.name} binds every interface in its container`)
    assert.is(env.ADVERTISE_ADDRESS, `${game.name}:${env.GAME_PORT}`)
    // what cluster membership registers for this server, from its resolved environment
    return advertisedAddress(loadConfig(env), { address: '0.0.0.0', family: 'IPv4', port: Number(env.GAME_PORT) })
  })
  assert.equal(advertised, ['game-1:7777', 'game-2:7777', 'game-3:7777'])
  // without it the same servers would all register the unreachable loopback address
  const env = containerEnv(topology, 'game-1')
  delete env.ADVERTISE_ADDRESS
  assert.is(advertisedAddress(loadConfig(env), { address: '0.0.0.0', family: 'IPv4', port: 7777 }), '127.0.0.1:7777')
})

test('only the balancer\'s game and WebSocket ports, Grafana and (optionally) Prometheus are published', () => {
  const published = (t: ReturnType<typeof buildTopology>) => t.services.flatMap((s) => s.ports.filter((p) => p.publishedPort !== undefined).map((p) => `${s.name}.${p.name}:${p.publishedPort}`))
  assert.equal(published(buildTopology(options())), ['balancer.game:7000', 'balancer.ws:7080', 'prometheus.http:9090', 'grafana.http:3000'])
  assert.equal(published(buildTopology(options({ publishPrometheus: false, balancerPort: 17000, balancerWebSocketPort: 17080 }))), ['balancer.game:17000', 'balancer.ws:17080', 'grafana.http:3000'])
})

test('WebSocket: every game server listens on its ws port; the balancer\'s front passes through to it', () => {
  const topology = buildTopology(options({ servers: 2 }))
  for (const game of servicesOfKind(topology, 'game-server')) {
    assert.equal(game.env['WS_PORT'], [{ portOf: game.name, port: 'ws' }])
    assert.equal(game.env['WS_HOST'], [{ bindHost: true }])
  }
  const balancer = topology.services.find((s) => s.kind === 'balancer')!
  assert.equal(balancer.env['BALANCER_WS_PORT'], [{ portOf: 'balancer', port: 'ws' }])
  assert.equal(balancer.env['BACKEND_WS_PORT'], ['7780'])
  assert.throws(() => buildTopology(options({ balancerWebSocketPort: 7000 })), /publish two services/)
})

test('the stack binds metrics on the private network only, the admin token comes from the stack secret, the balancer relays client addresses', () => {
  const topology = buildTopology(options({ servers: 2 }))
  for (const game of servicesOfKind(topology, 'game-server')) {
    const env = containerEnv(topology, game.name)
    assert.is(env.METRICS_HOST, '0.0.0.0', 'inside the container: the private network (its metrics port is not published)')
    assert.is(env.MAX_CONNECTIONS_PER_ADDRESS, '0', 'a server accepts only the balancer address')
    assert.is(env.TRUST_PROXY_HEADER, 'true', 'and learns each client address from its PROXY line')
    assert.is(env.LOGIN_ADDRESS_BURST, undefined, 'so per-address login throttling stays on')
  }
  const balancer = containerEnv(topology, 'balancer')
  assert.is(balancer.BALANCER_ADMIN_TOKEN, secrets.balancerAdminToken)
  assert.is(balancer.BALANCER_SEND_PROXY_HEADER, 'true')
  assert.is(balancer.BALANCER_ADMIN_HOST, '127.0.0.1')
  assert.is(balancer.BALANCER_MAX_CONNECTIONS_PER_ADDRESS, undefined, 'the default limit applies to real clients')
  assert.is(loadConfig({}).telemetry.host, '127.0.0.1', 'local runs: loopback by default')
})

test('load generators exist only when configured', () => {
  assert.is(servicesOfKind(buildTopology(options()), 'load-generator').length, 0)
  const topology = buildTopology(options({ loadGenerators: { count: 2, playersPerGenerator: 50, durationSeconds: 60, scenario: 'mixed' } }))
  const generators = servicesOfKind(topology, 'load-generator')
  assert.is(generators.length, 2)
  const resolver = stringResolver({ ...containerAddress(topology), secret: () => '' })
  const args = generators[0]!.args.map((a) => resolveValue(a, resolver))
  assert.equal(args, ['--target', 'balancer:7000', '--players', '50', '--duration', '60', '--scenario', 'mixed'])
  assert.equal(referencedServices(generators[0]!.args.flat()), ['balancer'])
})

test('bad options are refused with GS_ERR_TOPOLOGY', () => {
  for (const bad of [{ servers: 0 }, { redisShards: 1.5 }, { balancerPort: 70000 }, { grafanaPort: 7000 }, { serverEnv: { 'bad name': 'x' } }]) {
    try {
      buildTopology(options(bad))
      assert.unreachable(`accepted ${JSON.stringify(bad)}`)
    } catch (err) {
      assert.ok(isGameServerError(err, 'GS_ERR_TOPOLOGY'), String(err))
    }
  }
})

test('scrape targets: every game server, the balancer, the exporters (node_exporter once per host); redis probed per shard', () => {
  const topology = buildTopology(options({ servers: 2, redisShards: 3 }))
  const targets = scrapeTargets(topology, containerAddress(topology))
  assert.equal(
    targets.map((t) => `${t.job}/${t.service}@${t.address}${t.probe ? `?${t.probe}` : ''}`),
    [
      'postgres/postgres-exporter@postgres-exporter:9187',
      'redis/redis-0@redis-exporter:9121?redis://redis-0:6379',
      'redis/redis-1@redis-exporter:9121?redis://redis-1:6379',
      'redis/redis-2@redis-exporter:9121?redis://redis-2:6379',
      'node/node-exporter@node-exporter:9100',
      'game-server/game-1@game-1:9464',
      'game-server/game-2@game-2:9464',
      'balancer/balancer@balancer:9464',
    ],
  )
  const yaml = toYaml(prometheusConfig(topology, containerAddress(topology), { ruleFiles: ['alerts.yml'] }))
  assert.match(yaml, /job_name: "game-server"/)
  assert.match(yaml, /- "game-1:9464"/)
})

test('local options come from APPLIANCE_* variables; tuning variables pass through', () => {
  const topology = topologyFromConfig(loadConfig({ APPLIANCE_SERVERS: '4', APPLIANCE_REDIS_SHARDS: '3', BALANCER_PORT: '7100' }), { FLUSH_INTERVAL_MS: '5' })
  assert.is(servicesOfKind(topology, 'game-server').length, 4)
  assert.is(servicesOfKind(topology, 'redis').length, 3)
  assert.is(service(topology, 'balancer').ports[0]!.publishedPort, 7100)
  assert.equal(service(topology, 'game-1').env.FLUSH_INTERVAL_MS, ['5'])
})

test('yaml writer: nested maps, lists, quoting, multi-line blocks', () => {
  const text = toYaml({ a: { b: [1, 'x y'], 'c d': true }, e: [{ f: 'line1\nline2' }], g: [], h: {} })
  assert.is(text, 'a:\n  b:\n  - 1\n  - "x y"\n  "c d": true\ne:\n- f: |-\n    line1\n    line2\ng: []\nh: {}\n')
})

test.run()
