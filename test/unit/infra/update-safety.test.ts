// What makes a second `pulumi up` (and a replacement, and `pulumi destroy`) safe on a real Docker
// host, checked on the program's registrations under Pulumi's mocks. Each test fails on the program
// as it was before the fix it names.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SHIPPED_SCENARIOS } from '../../../app/loadtest/scenario.js'
import { SHUTDOWN_MARGIN_SECONDS } from '../../../app/topology/index.js'
import { DEFAULT_IMAGES } from '../../../infra/images.js'
import { containers, CONTAINER_TYPE, envOf, NETWORK_TYPE, plain, REMOTE_IMAGE_TYPE, runProgram, SECRETS, serviceOf, VOLUME_TYPE, type ProgramRun, type Recorded } from '../../harness/pulumi-program.js'
import { REPO_ROOT } from '../../harness/run-script.js'

const byService = (run: ProgramRun, stack: string, name: string): Recorded => {
  const found = containers(run.resources).find((c) => serviceOf(c, stack) === name)
  assert.ok(found, `no container ${name}`)
  return found!
}

/** The `config:` of a Pulumi.<stack>.yaml, without the project prefix (flat scalar keys only). */
function stackFile(stack: string): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), 'utf8')
  const out: Record<string, string> = {}
  for (const match of text.matchAll(/^\s+game-appliance:(\w+):\s*(\S+)\s*$/gm)) out[match[1]!] = match[2]!
  return out
}

const publishedPorts = (run: ProgramRun) =>
  containers(run.resources).flatMap((c) => ((plain(c.inputs.ports) as { external: number; ip: string }[] | undefined) ?? []).map((p) => p.external))

// 1. A fixed name or host port and create-before-delete clash on every replacement.
test('every container, the network and the volumes are replaced delete-first (their Docker names are fixed)', async () => {
  const run = await runProgram('dev', { ...SECRETS })
  const named = run.resources.filter((r) => [CONTAINER_TYPE, NETWORK_TYPE, VOLUME_TYPE].includes(r.type))
  assert.ok(named.length > 10)
  for (const resource of named) {
    assert.ok(plain(resource.inputs.name), `${resource.name} has a fixed Docker name`)
    assert.ok(resource.options.deleteBeforeReplace, `${resource.name}: a replacement would create "${plain(resource.inputs.name)}" while the old one still holds the name`)
  }
})

// 2. Force-remove on delete and a 10 s `docker stop` both cut the graceful shutdown short.
test('app containers stop gracefully: stop timeout and destroy grace ≥ SHUTDOWN_DEADLINE_MS + margin', async () => {
  for (const deadlineMs of [10_000, 30_000]) {
    const run = await runProgram('grace', { ...SECRETS, shutdownDeadlineMs: deadlineMs })
    for (const name of ['game-1', 'game-2', 'game-3', 'balancer']) {
      const container = byService(run, 'grace', name)
      assert.is(envOf(container).get('SHUTDOWN_DEADLINE_MS')?.value, String(deadlineMs), name)
      const needed = Math.ceil(deadlineMs / 1000) + SHUTDOWN_MARGIN_SECONDS
      assert.ok((plain(container.inputs.stopTimeout) as number) >= needed, `${name} stopTimeout`)
      assert.ok((plain(container.inputs.destroyGraceSeconds) as number) >= needed, `${name}: the provider force-removes without destroyGraceSeconds`)
    }
    // Every long-running container is stopped before it is removed, not killed.
    for (const container of containers(run.resources).filter((c) => !plain(c.inputs.attach))) {
      assert.ok((plain(container.inputs.destroyGraceSeconds) as number) > 0, `${serviceOf(container, 'grace')} has a destroy grace`)
    }
  }
})

// 4. `attach` waits for "not running" and never reads the exit code.
test('a failed migration fails the update and no game server starts on the old schema', async () => {
  const stateWith = (exitCode: number) => (type: string, name: string) => (type === CONTAINER_TYPE && name === 'db-migrate' ? { exitCode, containerLogs: 'GS_ERR_DB_MIGRATION migration 3 failed\n' } : undefined)
  const failed = await runProgram('migfail', { ...SECRETS }, { state: stateWith(1) })
  const migrate = byService(failed, 'migfail', 'migrate')
  assert.is(plain(migrate.inputs.attach), true)
  assert.is(plain(migrate.inputs.logs), true)
  assert.is(plain(migrate.inputs.mustRun), false)
  assert.is(plain(migrate.inputs.restart), 'no', 'a restart policy would hide the first exit code from the wait')
  assert.equal(containers(failed.resources).map((c) => serviceOf(c, 'migfail')).filter((n) => n.startsWith('game-') || n === 'balancer'), [])
  // The language host fails the update with this error (under mocks it arrives as an unhandled rejection).
  const error = failed.errors.find((e) => (e as { code?: string }).code === 'GS_ERR_DEPLOY_MIGRATION') as Error | undefined
  assert.ok(error, 'the update fails with GS_ERR_DEPLOY_MIGRATION')
  assert.match(error!.message, 'migration 3 failed')

  const ok = await runProgram('migok', { ...SECRETS }, { state: stateWith(0) })
  assert.equal(ok.errors, [])
  assert.is(containers(ok.resources).filter((c) => serviceOf(c, 'migok').startsWith('game-')).length, 3)
  assert.is(ok.outputs.gameEndpoint, 'localhost:7000')
})

// 5. The docs say several stacks share a Docker host; their host ports must then differ.
test('the dev and loadtest stacks publish different host ports and use different Docker names', async () => {
  const dev = await runProgram('dev', { ...SECRETS, ...stackFile('dev') })
  const loadtest = await runProgram('loadtest', { ...SECRETS, ...stackFile('loadtest') })
  const devPorts = publishedPorts(dev)
  const loadtestPorts = publishedPorts(loadtest)
  assert.is(devPorts.length, 4)
  assert.is(loadtestPorts.length, 4)
  assert.equal(devPorts.filter((p) => loadtestPorts.includes(p)), [], 'a host port of both stacks')
  const names = (run: ProgramRun) => run.resources.filter((r) => [CONTAINER_TYPE, NETWORK_TYPE, VOLUME_TYPE].includes(r.type)).map((r) => plain(r.inputs.name) as string)
  assert.equal(names(dev).filter((n) => names(loadtest).includes(n)), [])
})

// 6. A typo in an enumerated setting must fail at preview, not crash-loop every app container.
test('logLevel and loadScenario accept only their valid values', async () => {
  const rejects = async (config: Record<string, string | number>, key: string) => {
    try {
      await runProgram('typo', { ...SECRETS, ...config })
    } catch (err) {
      assert.match(String((err as Error).message), key)
      return
    }
    assert.unreachable(`${key} accepted an invalid value`)
  }
  await rejects({ logLevel: 'verbose' }, 'logLevel')
  await rejects({ loadGenerators: 1, loadScenario: 'mixd' }, 'loadScenario')
  for (const scenario of Object.keys(SHIPPED_SCENARIOS)) await runProgram('scenarios', { ...SECRETS, loadGenerators: 1, loadScenario: scenario, logLevel: 'warn' })
})

// 7. `redis-cli -a <password>` is readable by anyone running `ps` on the host.
test('no health check carries a password: redis-cli reads it from REDISCLI_AUTH', async () => {
  const run = await runProgram('redisauth', { ...SECRETS })
  for (const container of containers(run.resources)) {
    const tests = ((plain(container.inputs.healthcheck) as { tests: string[] } | undefined)?.tests ?? []).join(' ')
    assert.not.match(tests, /\s-a\s|--pass|requirepass|\$REDIS_PASSWORD/, `${serviceOf(container, 'redisauth')} health check`)
    for (const secret of Object.values(SECRETS)) assert.not.ok(tests.includes(secret))
  }
  const shard = byService(run, 'redisauth', 'redis-0')
  const auth = envOf(shard).get('REDISCLI_AUTH')
  assert.ok(auth?.secret && auth.value === SECRETS.redisPassword, 'REDISCLI_AUTH is the (secret) password')
})

// 8. Outputs name the Docker host clients reach, not always localhost.
test('endpoint outputs come from the Docker host (docker:host / DOCKER_HOST, publishAddress, publicHost)', async () => {
  const remote = await runProgram('remote', { ...SECRETS }, { foreignConfig: { 'docker:host': 'ssh://ops@game.example.com' } })
  assert.is(remote.outputs.gameEndpoint, 'game.example.com:7000')
  assert.is(remote.outputs.grafanaUrl, 'http://game.example.com:3000')
  assert.is(remote.outputs.prometheusUrl, 'http://game.example.com:9090')
  const tcp = await runProgram('tcp', { ...SECRETS, balancerPort: 7300 }, { foreignConfig: { 'docker:host': 'tcp://10.1.2.3:2376' } })
  assert.is(tcp.outputs.gameEndpoint, '10.1.2.3:7300')
  const local = await runProgram('bound', { ...SECRETS, publishAddress: '127.0.0.1' })
  assert.is(local.outputs.gameEndpoint, '127.0.0.1:7000')
  for (const container of containers(local.resources)) {
    for (const port of (plain(container.inputs.ports) as { ip: string }[] | undefined) ?? []) assert.is(port.ip, '127.0.0.1')
  }
  const named = await runProgram('named', { ...SECRETS, publicHost: 'play.example.org' }, { foreignConfig: { 'docker:host': 'tcp://10.1.2.3:2376' } })
  assert.is(named.outputs.gameEndpoint, 'play.example.org:7000')
})

test('the database volume survives `pulumi destroy` unless the stack says otherwise (dataVolumeRetention)', async () => {
  const volume = (run: ProgramRun) => run.resources.find((r) => r.type === VOLUME_TYPE && String(plain(r.inputs.name)).endsWith('-db-data'))!
  const retained = volume(await runProgram('keep', { ...SECRETS }))
  assert.equal(retained.options, { deleteBeforeReplace: true, protect: false, retainOnDelete: true }, 'default: retain')
  assert.equal(volume(await runProgram('guard', { ...SECRETS, dataVolumeRetention: 'protect' })).options, { deleteBeforeReplace: true, protect: true, retainOnDelete: false })
  assert.equal(volume(await runProgram('scratch', { ...SECRETS, dataVolumeRetention: 'delete' })).options, { deleteBeforeReplace: true, protect: false, retainOnDelete: false })
  try {
    await runProgram('bad', { ...SECRETS, dataVolumeRetention: 'forever' })
    assert.unreachable('an unknown retention was accepted')
  } catch (err) {
    assert.match(String((err as Error).message), 'dataVolumeRetention')
  }
})

test('third-party images are pinned to a version tag, and a digest can be pinned through the images setting', async () => {
  const run = await runProgram('pinned', { ...SECRETS })
  const pulled = run.resources.filter((r) => r.type === REMOTE_IMAGE_TYPE).map((r) => plain(r.inputs.name) as string)
  assert.equal(pulled.sort(), Object.values(DEFAULT_IMAGES).sort())
  // At least major.minor (PostgreSQL's minor is its patch level), never a floating major or `latest`.
  for (const image of pulled) assert.match(image, /:v?\d+\.\d+/, `${image} is pinned to a version`)
  const digest = 'postgres:17.4-alpine3.21@sha256:' + 'a'.repeat(64)
  const overridden = await runProgram('digest', { ...SECRETS, images: { postgres: digest } })
  assert.ok(overridden.resources.some((r) => r.type === REMOTE_IMAGE_TYPE && plain(r.inputs.name) === digest))
  try {
    await runProgram('badimage', { ...SECRETS, images: { postgress: 'x' } })
    assert.unreachable('an unknown image key was accepted')
  } catch (err) {
    assert.is((err as { code?: string }).code, 'GS_ERR_CONFIG')
  }
})

test.run()
