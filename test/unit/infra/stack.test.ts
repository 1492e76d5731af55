// The Pulumi program under Pulumi's own mocks: resources per N and K, env wiring, secrets,
// published ports, health checks and restart policies, load generators only in load-test stacks,
// and the containers are exactly the topology's services (the two adapters cannot drift).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from '../../../app/topology/index.js'
import { ALERTS } from '../../../dashboards/alert-model.js'
import { DASHBOARDS } from '../../../dashboards/index.js'
import { ALL_SECRET_VALUES, containers, envOf, plain, runProgram, SECRETS, serviceOf, type Recorded } from '../../harness/pulumi-program.js'

const cases = [
  { stack: 'dev', servers: 2, redisShards: 2, loadGenerators: 0 },
  { stack: 'big', servers: 5, redisShards: 4, loadGenerators: 0 },
  { stack: 'loadtest', servers: 3, redisShards: 3, loadGenerators: 2, smtp: true },
] as const

type Run = Awaited<ReturnType<typeof runProgram>>
const runs = new Map<string, Run>()

test.before(async () => {
  for (const c of cases) {
    const smtp: Record<string, string> = 'smtp' in c ? { smtpHost: 'mail.example.com:587', smtpUser: 'alerts', smtpPassword: 'smtp-secret-4' } : {}
    const run = await runProgram(c.stack, { servers: c.servers, redisShards: c.redisShards, loadGenerators: c.loadGenerators, balancerPort: 7000, ...SECRETS, ...smtp })
    runs.set(c.stack, run)
    stackOf.set(run, c.stack)
  }
})

const stackOf = new Map<Run, string>()
const byName = (run: Run, name: string): Recorded => {
  const found = containers(run.resources).find((c) => serviceOf(c, stackOf.get(run)!) === name)
  assert.ok(found, `no container ${name}`)
  return found!
}

for (const c of cases) {
  test(`${c.stack}: N=${c.servers} servers, K=${c.redisShards} shards, wired by env`, () => {
    const run = runs.get(c.stack)!
    const names = containers(run.resources).map((r) => serviceOf(r, c.stack))
    const games = names.filter((n) => /^game-\d+$/.test(n)).sort()
    const shards = names.filter((n) => /^redis-\d+$/.test(n)).sort()
    assert.is(games.length, c.servers)
    assert.is(shards.length, c.redisShards)
    for (const game of games) {
      const env = envOf(byName(run, game))
      assert.is(env.get('DATABASE_URL')!.value, `postgres://game:${SECRETS.postgresPassword}@postgres:5432/game`)
      assert.equal(env.get('REDIS_URLS')!.value.split(','), shards.map((s) => `redis://:${SECRETS.redisPassword}@${s}:6379`))
      assert.is(env.get('NODE_ID')!.value, game)
      assert.is(env.get('GAME_PORT')!.value, '7777')
      assert.equal(plain(byName(run, game).inputs.command), ['dist/app/main.js'])
    }
    // The balancer finds them through cluster membership on the first shard, where they register.
    const clusterUrl = `redis://:${SECRETS.redisPassword}@redis-0:6379`
    assert.is(envOf(byName(run, 'balancer')).get('CLUSTER_REDIS_URL')!.value, clusterUrl)
    for (const game of games) {
      assert.is(envOf(byName(run, game)).get('CLUSTER_REDIS_URL')!.value, clusterUrl)
      assert.is(envOf(byName(run, game)).get('ADVERTISE_ADDRESS')!.value, `${game}:7777`)
    }
    // Everything on the one private network, reachable by its service name.
    for (const container of containers(run.resources)) {
      const networks = plain(container.inputs.networksAdvanced) as { name: string; aliases: string[] }[]
      assert.is(networks.length, 1)
      assert.is(networks[0]!.name, `game-${c.stack}`)
      assert.equal(networks[0]!.aliases, [serviceOf(container, c.stack)])
    }
    // Prometheus scrapes every server, the balancer and both exporters.
    const upload = (plain(byName(run, 'prometheus').inputs.uploads) as { file: string; content: string }[]).find((u) => u.file.endsWith('prometheus.yml'))!
    for (const game of games) assert.ok(upload.content.includes(`"${game}:9464"`), `prometheus scrapes ${game}`)
    for (const target of ['balancer:9464', 'postgres-exporter:9187', 'redis-exporter:9121']) assert.ok(upload.content.includes(`"${target}"`), `prometheus scrapes ${target}`)
    for (const shard of shards) assert.ok(upload.content.includes(`"redis://${shard}:6379"`), `prometheus probes ${shard}`)
  })

  test(`${c.stack}: passwords are secrets wherever they appear`, () => {
    const run = runs.get(c.stack)!
    for (const container of containers(run.resources)) {
      const env = [...envOf(container)]
      const holds = (value: string) => ALL_SECRET_VALUES.some((s) => value.includes(s))
      for (const [name, { value, secret }] of env) if (holds(value)) assert.ok(secret, `${plain(container.inputs.name)}: ${name} holds a password but is not a secret`)
      // …and a container without passwords keeps a readable environment (secrecy is not blanket).
      if (!env.some(([, { value }]) => holds(value))) assert.not.ok(env.some(([, { secret }]) => secret), `${plain(container.inputs.name)} env needlessly secret`)
      // Never on a command line (visible in `docker inspect` and `ps`).
      const command = JSON.stringify(plain(container.inputs.command) ?? [])
      for (const s of Object.values(SECRETS)) assert.not.ok(command.includes(s), `${plain(container.inputs.name)} has a password in its command`)
    }
    assert.ok(envOf(byName(run, 'grafana')).get('GF_SECURITY_ADMIN_PASSWORD')!.secret)
    const smtpPassword = envOf(byName(run, 'grafana')).get('GF_SMTP_PASSWORD')
    if ('smtp' in c) assert.ok(smtpPassword?.secret && smtpPassword.value === 'smtp-secret-4', 'SMTP password is a secret')
    else assert.is(smtpPassword, undefined)
    assert.ok(envOf(byName(run, 'postgres')).get('POSTGRES_PASSWORD')!.secret)
    for (let i = 0; i < c.redisShards; i++) assert.ok(envOf(byName(run, `redis-${i}`)).get('REDIS_PASSWORD')!.secret)
  })

  test(`${c.stack}: only the balancer's game and WebSocket ports, Grafana and Prometheus are published`, () => {
    const run = runs.get(c.stack)!
    const published = containers(run.resources).flatMap((container) =>
      ((plain(container.inputs.ports) as { internal: number; external: number }[] | undefined) ?? []).map((p) => `${serviceOf(container, c.stack)}:${p.internal}->${p.external}`),
    )
    assert.equal(published.sort(), ['balancer:7000->7000', 'balancer:7080->7080', 'grafana:3000->3000', 'prometheus:9090->9090'])
  })

  test(`${c.stack}: every container has a health check (one-shot jobs excepted) and a restart policy`, () => {
    const run = runs.get(c.stack)!
    for (const container of containers(run.resources)) {
      const name = serviceOf(container, c.stack)
      const oneShot = name === 'migrate' || name.startsWith('loadgen-')
      const restart = plain(container.inputs.restart)
      if (oneShot) {
        // The migration job is attached to (its exit code decides the update): no restart policy.
        assert.is(restart, name === 'migrate' ? 'no' : 'on-failure', name)
        assert.is(plain(container.inputs.mustRun), false, name)
      } else {
        assert.is(restart, 'unless-stopped', name)
        const check = plain(container.inputs.healthcheck) as { tests: string[] } | undefined
        assert.ok(check && check.tests.length > 1, `${name} has no health check`)
        assert.is(plain(container.inputs.wait), true, `${name}: pulumi up waits until it is healthy`)
      }
    }
    const gameCheck = (plain(byName(run, 'game-1').inputs.healthcheck) as { tests: string[] }).tests
    assert.equal(gameCheck, ['CMD', 'node', 'dist/app/cli/healthcheck.js', '--port', '7777'])
  })

  test(`${c.stack}: containers are exactly the topology's services; outputs name the endpoints`, () => {
    const run = runs.get(c.stack)!
    const topology = buildTopology({
      ...DEFAULT_TOPOLOGY_OPTIONS,
      servers: c.servers,
      redisShards: c.redisShards,
      ...(c.loadGenerators ? { loadGenerators: { count: c.loadGenerators, playersPerGenerator: 100, durationSeconds: 60, scenario: 'mixed' } } : {}),
    })
    assert.equal(containers(run.resources).map((r) => serviceOf(r, c.stack)).sort(), topology.services.map((s) => s.name).sort())
    assert.is(run.outputs.gameEndpoint, 'localhost:7000')
    assert.is(run.outputs.playgroundUrl, 'http://localhost:7080/')
    assert.is(run.outputs.grafanaUrl, 'http://localhost:3000')
    assert.is(run.outputs.prometheusUrl, 'http://localhost:9090')
  })
}

test('load generators exist only in the load-test stack, aimed at the balancer', () => {
  for (const c of cases) {
    const generators = containers(runs.get(c.stack)!.resources).filter((r) => serviceOf(r, c.stack).startsWith('loadgen-'))
    assert.is(generators.length, c.loadGenerators, c.stack)
    for (const g of generators) assert.equal((plain(g.inputs.command) as string[]).slice(0, 3), ['dist/app/cli/loadtest.js', '--target', 'balancer:7000'])
    // …and Prometheus scrapes their client-side metrics while they run.
    const config = (plain(byName(runs.get(c.stack)!, 'prometheus').inputs.uploads) as { file: string; content: string }[]).find((u) => u.file.endsWith('prometheus.yml'))!.content
    for (let i = 1; i <= c.loadGenerators; i++) assert.ok(config.includes(`"loadgen-${i}:9464"`), `prometheus scrapes loadgen-${i}`)
    assert.is(config.includes('job_name: "load-generator"'), c.loadGenerators > 0)
  }
})

test('no container runs as root: stock images get a user, app containers use the image\'s USER node', async () => {
  const run = runs.get('dev')!
  const dockerfile = (await import('node:fs')).readFileSync(new URL('../../../Dockerfile', import.meta.url), 'utf8')
  assert.match(dockerfile, /^USER node$/m)
  for (const container of containers(run.resources)) {
    const name = serviceOf(container, 'dev')
    const user = plain(container.inputs.user) as string | undefined
    if (plain(container.inputs.image) === 'sha256:mock-app-image') assert.is(user, undefined, name)
    else assert.ok(user && user !== 'root' && user !== '0', `${name} runs as ${user ?? 'the image default'}`)
  }
})

test('Prometheus gets every alert rule; Grafana gets datasource, dashboards, alert rules and contact point', () => {
  const run = runs.get('dev')!
  const uploads = (name: string) => plain(byName(run, name).inputs.uploads) as { file: string; content: string }[]
  const rules = uploads('prometheus').find((u) => u.file === '/etc/prometheus/alerts.yml')!
  for (const alert of ALERTS) assert.match(rules.content, `alert: "${alert.name}"`)
  const files = uploads('grafana').map((u) => u.file).sort()
  for (const expected of [
    '/etc/grafana/provisioning/datasources/prometheus.yml',
    '/etc/grafana/provisioning/dashboards/game-appliance.yml',
    '/etc/grafana/provisioning/alerting/rules.yml',
    '/etc/grafana/provisioning/alerting/contact-points.yml',
    ...DASHBOARDS.map((d) => `/etc/grafana/dashboards/${d.uid}.json`),
  ]) assert.ok(files.includes(expected), expected)
  const env = envOf(byName(run, 'grafana'))
  assert.is(env.get('PROMETHEUS_URL')!.value, 'http://prometheus:9090')
})

test('one component per part, with type tokens; the image is built from the Dockerfile and not pushed', () => {
  const run = runs.get('dev')!
  const components = run.resources.filter((r) => !r.custom).map((r) => r.type)
  for (const token of ['AppImage', 'PrivateNetwork', 'Database', 'RedisShards', 'GameServers', 'Balancer', 'Prometheus', 'Grafana']) {
    assert.ok(components.includes(`game-appliance:infra:${token}`), token)
  }
  assert.not.ok(components.includes('game-appliance:infra:LoadGenerators'))
  const image = run.resources.find((r) => r.type === 'docker:index/image:Image')!
  assert.is(plain(image.inputs.skipPush), true)
  assert.match(String((plain(image.inputs.build) as { dockerfile: string }).dockerfile), /\/Dockerfile$/)
  for (const name of ['game-1', 'balancer', 'migrate']) assert.is(plain(byName(run, name).inputs.image), 'sha256:mock-app-image')
  // Host-wide Docker names carry the stack, so two stacks can share a Docker host.
  const volumes = run.resources.filter((r) => r.type === 'docker:index/volume:Volume').map((r) => plain(r.inputs.name) as string)
  assert.equal(volumes.sort(), ['dev-db-data', 'dev-grafana-data', 'dev-prom-data'])
})

test.run()
