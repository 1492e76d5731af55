// The two adapters derive from one topology: the Pulumi program's containers and the local runner's
// plan name the same services; the local plan starts each service after everything it depends on.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { planLocal } from '../../../app/local/local-plan.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from '../../../app/topology/index.js'
import { containers, runProgram, SECRETS, serviceOf } from '../../harness/pulumi-program.js'

const everything = { has: () => true, observability: true }

for (const [servers, redisShards] of [[2, 2], [4, 3]] as const) {
  test(`N=${servers}, K=${redisShards}: Pulumi containers and local plan are the same services`, async () => {
    const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers, redisShards })
    const plan = planLocal(topology, everything)
    const stack = `adapters-${servers}-${redisShards}`
    const { resources } = await runProgram(stack, { servers, redisShards, ...SECRETS })
    const fromPulumi = containers(resources).map((c) => serviceOf(c, stack)).sort()
    const fromLocal = plan.map((s) => s.service.name).sort()
    assert.equal(fromLocal, fromPulumi)
    assert.equal(fromLocal, topology.services.map((s) => s.name).sort())
  })
}

test('local plan: levels follow dependsOn; what cannot run locally is skipped with a reason', () => {
  const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers: 3, redisShards: 2 })
  const plan = planLocal(topology, { has: (p) => p !== 'prometheus-redis-exporter', observability: true })
  const level = new Map(plan.map((s) => [s.service.name, s.level]))
  for (const step of plan) for (const dep of step.service.dependsOn) assert.ok(level.get(dep)! < step.level, `${step.service.name} after ${dep}`)
  const skipped = Object.fromEntries(plan.filter((s) => s.runner.kind === 'skipped').map((s) => [s.service.name, (s.runner as { reason: string }).reason]))
  assert.equal(Object.keys(skipped).sort(), ['grafana', 'redis-exporter'])
  assert.match(skipped['redis-exporter']!, /apt-get install -y prometheus-redis-exporter/)
  const games = plan.filter((s) => s.service.kind === 'game-server')
  assert.ok(games.every((g) => g.runner.kind === 'app' && g.runner.module === 'app/main.ts'))
  assert.is(new Set(games.map((g) => g.level)).size, 1, 'game servers start together')
  const off = planLocal(topology, { has: () => true, observability: false })
  assert.equal(off.filter((s) => s.runner.kind === 'skipped').map((s) => s.service.name).sort(), ['grafana', 'node-exporter', 'postgres-exporter', 'prometheus', 'redis-exporter'])
})

test.run()
