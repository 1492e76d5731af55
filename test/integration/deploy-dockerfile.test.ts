// The Dockerfile's steps without Docker: copy exactly what its stages COPY into clean directories,
// build (`npm run build` → dist/), install production dependencies only (`npm ci --omit=dev`, offline
// from the local npm cache), then run the image's CMD as an unprivileged user until the image's
// HEALTHCHECK (a PING answered by a PONG) passes, and stop it with SIGTERM (its STOPSIGNAL).
import { existsSync } from 'node:fs'
import { chmod, cp, readFile, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManagedProcess, runCommand } from '../../app/local/child-process.js'
import { freePort, waitUntil } from '../../app/local/ports.js'
import { isRoot, lookupUser } from '../../app/local/system.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from '../../app/topology/index.js'
import { appModule } from '../../infra/components/container.js'
import { Harness } from '../harness/index.js'

const root = join(new URL('.', import.meta.url).pathname, '..', '..')
const harness = new Harness()

interface Stage {
  name: string
  copies: { from?: string; sources: string[]; dest: string }[]
  runs: string[]
  cmd?: string[]
  entrypoint?: string[]
  healthcheck?: string[]
  user?: string
}

/** The stages of the Dockerfile with their COPY, RUN, USER, ENTRYPOINT, CMD and HEALTHCHECK. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [instruction, ...rest] = line.split(/\s+/)
    const args = rest.join(' ')
    const stage = stages[stages.length - 1]
    switch (instruction!.toUpperCase()) {
      case 'FROM':
        stages.push({ name: /\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(stages.length), copies: [], runs: [] })
        break
      case 'COPY': {
        const words = rest.filter((w) => !w.startsWith('--chown'))
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
        const paths = words.filter((w) => !w.startsWith('--'))
        stage!.copies.push({ ...(from ? { from } : {}), sources: paths.slice(0, -1), dest: paths[paths.length - 1]! })
        break
      }
      case 'RUN':
        stage!.runs.push(args)
        break
      case 'USER':
        stage!.user = args
        break
      case 'CMD':
        stage!.cmd = JSON.parse(args) as string[]
        break
      case 'ENTRYPOINT':
        stage!.entrypoint = JSON.parse(args) as string[]
        break
      case 'HEALTHCHECK':
        stage!.healthcheck = JSON.parse(args.slice(args.indexOf('CMD') + 3).trim()) as string[]
        break
    }
  }
  return stages
}

async function copyContext(stage: Stage, into: string): Promise<void> {
  for (const copy of stage.copies.filter((c) => !c.from)) {
    for (const source of copy.sources) {
      const target = copy.dest.endsWith('/') || copy.sources.length > 1 ? join(into, copy.dest, source) : join(into, copy.dest)
      await cp(join(root, source), target, { recursive: true })
    }
  }
}

test.after(() => harness.close())

test('Dockerfile: build stage → dist, deps stage → production node_modules, runtime answers PING and stops on SIGTERM', async () => {
  const dockerfile = parseDockerfile(await readFile(join(root, 'Dockerfile'), 'utf8'))
  const [build, deps, runtime] = [dockerfile.find((s) => s.name === 'build')!, dockerfile.find((s) => s.name === 'deps')!, dockerfile.find((s) => s.name === 'runtime')!]
  assert.ok(build && deps && runtime, 'stages build, deps, runtime')
  assert.ok(deps.runs.some((r) => r.includes('npm ci --omit=dev')), 'deps stage installs production dependencies only')
  assert.is(runtime.user, 'node')
  assert.ok(runtime.healthcheck && runtime.entrypoint && runtime.cmd)

  // Build stage. Its `npm ci` (full dependency set) is the repository's own install: link it.
  const buildDir = await harness.tempDir('gs-docker-build-')
  await copyContext(build, buildDir)
  await symlink(join(root, 'node_modules'), join(buildDir, 'node_modules'))
  assert.ok(build.runs.includes('npm run build'))
  await runCommand('npm', ['run', 'build'], { cwd: buildDir, timeoutMs: 120_000 })

  // Deps stage: a real production-only install, offline from the npm cache.
  const appDir = await harness.tempDir('gs-docker-runtime-')
  await copyContext(deps, appDir)
  await runCommand('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], { cwd: appDir, timeoutMs: 120_000 })
  // What is installed, not the directory listing: npm 10 leaves empty scope directories
  // (`node_modules/@pulumi`, `@colyseus`, …) behind after --omit=dev, which hold no package; npm 11
  // does not. A package is installed when its package.json is there. Every lockfile entry marked
  // dev must be absent and every production one present, whichever npm ran the install.
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> }
  const locked = Object.entries(lock.packages).filter(([path]) => path.startsWith('node_modules/'))
  const installed = (path: string): boolean => existsSync(join(appDir, path, 'package.json'))
  const devInstalled = locked.filter(([path, entry]) => entry.dev && installed(path)).map(([path]) => path)
  assert.equal(devInstalled, [], `dev dependencies installed by npm ci --omit=dev: ${devInstalled.join(', ')}`)
  const production = locked.filter(([, entry]) => !entry.dev && !entry.optional)
  assert.ok(production.length > 0, 'the lockfile has production packages')
  const missing = production.filter(([path]) => !installed(path)).map(([path]) => path)
  assert.equal(missing, [], `production packages not installed: ${missing.join(', ')}`)

  // Runtime stage: COPY --from=build dist, package.json.
  for (const copy of runtime.copies) {
    if (copy.from === 'build') for (const s of copy.sources) await cp(join(buildDir, s.replace(/^\/app\//, '')), join(appDir, copy.dest), { recursive: true })
    else if (!copy.from) for (const s of copy.sources) await cp(join(root, s), join(appDir, copy.dest.endsWith('/') ? s : copy.dest))
  }
  // USER node: run as an unprivileged user when we are root.
  const user = isRoot() ? lookupUser('nobody') : undefined
  if (user) {
    await chmod(appDir, 0o755)
    await runCommand('chmod', ['-R', 'a+rX', appDir])
  }
  const gamePort = await freePort()
  const metricsPort = await freePort()
  const env = { PATH: process.env.PATH, HOME: appDir, NODE_ENV: 'production', GAME_HOST: '127.0.0.1', GAME_PORT: String(gamePort), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info' }
  const [command, ...entryArgs] = runtime.entrypoint!
  const server = harness.own(
    new ManagedProcess({ name: 'image-cmd', command: command!, args: [...entryArgs, ...runtime.cmd!], cwd: appDir, env, ...(user ? { uid: user.uid, gid: user.gid } : {}) }),
  )
  const [checkCommand, ...checkArgs] = runtime.healthcheck!
  const healthy = () =>
    runCommand(checkCommand!, checkArgs, { cwd: appDir, env, timeoutMs: 10_000, ...(user ? { uid: user.uid, gid: user.gid } : {}) }).then(
      () => true,
      () => false,
    )
  assert.not.ok(await healthy(), 'the health check must fail while nothing listens')
  await waitUntil(healthy, { what: 'image CMD answering the HEALTHCHECK', timeoutMs: 30_000, intervalMs: 200, abortIf: () => (server.running ? undefined : `${server.exitDescription()}\n${server.output()}`) })

  // Every module the topology runs from the image was compiled into it.
  const topology = buildTopology({ ...DEFAULT_TOPOLOGY_OPTIONS, loadGenerators: { count: 1, playersPerGenerator: 1, durationSeconds: 1, scenario: 'mixed' } })
  for (const service of topology.services) if (service.app) assert.ok(existsSync(join(appDir, appModule(service.app.module))), `${appModule(service.app.module)} missing from the image`)

  // The balancer container: same image, its command, health-checked through its own port.
  const balancerPort = await freePort()
  const balancerEnv = { ...env, BALANCER_HOST: '127.0.0.1', BALANCER_PORT: String(balancerPort), BACKENDS: `127.0.0.1:${gamePort}`, METRICS_PORT: String(await freePort()), BALANCER_ADMIN_PORT: String(await freePort()) }
  const balancer = harness.own(
    new ManagedProcess({ name: 'image-balancer', command: command!, args: [...entryArgs, appModule('app/cli/balance.ts')], cwd: appDir, env: balancerEnv, ...(user ? { uid: user.uid, gid: user.gid } : {}) }),
  )
  const balancerHealthy = () => runCommand(checkCommand!, [...checkArgs, '--port', String(balancerPort)], { cwd: appDir, env, timeoutMs: 10_000 }).then(() => true, () => false)
  await waitUntil(balancerHealthy, { what: 'balancer from the image answering PING', timeoutMs: 30_000, intervalMs: 200, abortIf: () => (balancer.running ? undefined : `${balancer.exitDescription()}\n${balancer.output()}`) })
  balancer.signal('SIGTERM')
  await balancer.waitForExit()

  server.signal('SIGTERM')
  await server.waitForExit()
  assert.is(server.exitDescription(), 'exited with code 0', server.output())
})

test.run()
