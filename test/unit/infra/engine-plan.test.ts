// The engine test carries out what the program registers: the plan made from the mocked run holds
// every container of the program (Grafana left out, with its reason), with the provider's
// arguments turned into the Docker API's (limits, stop timeout, published ports on their address,
// volumes, health check) and the program's dependencies as its order.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_IMAGES } from '../../../infra/images.js'
import { planStack } from '../../harness/engine/stack.js'
import { NO_STAND_IN, STAND_INS } from '../../harness/engine/stand-ins.js'
import { containers, runProgram, SECRETS } from '../../harness/pulumi-program.js'

test('the plan is the program: containers, options, order', async () => {
  const run = await runProgram('plan', { ...SECRETS, publishAddress: '127.0.0.1', balancerPort: 17000, balancerWebSocketPort: 17080, appMemoryMb: 256, appCpus: 1, shutdownDeadlineMs: 20_000 })
  const remote = new Map(Object.keys(STAND_INS).map((key) => [DEFAULT_IMAGES[key as keyof typeof DEFAULT_IMAGES], `local/${key}`]))
  const plan = planStack('plan', run, { app: 'local/app', remote, missing: new Map([[DEFAULT_IMAGES.grafana, NO_STAND_IN.grafana!]]) })
  assert.is(plan.containers.length + plan.omitted.length, containers(run.resources).length)
  assert.equal(plan.omitted.map((o) => o.name), ['plan-grafana'])
  const game = plan.containers.find((c) => c.service === 'game-1')!
  const host = game.createBody.HostConfig as Record<string, unknown>
  assert.is(game.createBody.Image, 'local/app')
  assert.is(host.Memory, 256 * 1024 * 1024)
  assert.is(host.NanoCpus, 1e9)
  assert.is(host.Init, true)
  assert.is(game.createBody.StopTimeout, 25)
  assert.is(game.destroyGraceSeconds, 25)
  assert.equal((game.createBody.Healthcheck as { Interval: number }).Interval, 10e9)
  assert.ok(game.wait.healthy)
  const balancer = plan.containers.find((c) => c.service === 'balancer')!
  assert.equal((balancer.createBody.HostConfig as { PortBindings: unknown }).PortBindings, { '7000/tcp': [{ HostIp: '127.0.0.1', HostPort: '17000' }], '7080/tcp': [{ HostIp: '127.0.0.1', HostPort: '17080' }] })
  const postgres = plan.containers.find((c) => c.service === 'postgres')!
  assert.is(postgres.createBody.Image, 'local/postgres')
  assert.equal((postgres.createBody.HostConfig as { Binds: string[] }).Binds, ['plan-db-data:/var/lib/postgresql/data'])
  const migrate = plan.containers.find((c) => c.service === 'migrate')!
  assert.ok(migrate.attach && !migrate.mustRun)
  // The order: servers after the migrations and the shards, the balancer after the servers.
  const after = (service: string) => plan.containers.find((c) => c.service === service)!.after.map((name) => plan.containers.find((c) => c.resourceName === name)!.service)
  for (const dep of ['migrate', 'redis-0', 'redis-1']) assert.ok(after('game-1').includes(dep), `game-1 after ${dep}`)
  assert.ok(after('balancer').includes('game-1'))
  assert.ok(after('migrate').includes('postgres'))
})

test.run()
