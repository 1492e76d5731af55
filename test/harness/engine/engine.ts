/**
 * A real container engine for tests: Debian's podman serving the Docker Engine API on a socket of
 * our own, over a storage of our own. Nothing here touches the system's podman configuration: the
 * engine reads its own containers.conf and storage.conf (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF)
 * from the engine directory, which also holds the image storage that caches base images between
 * runs (see images.ts).
 *
 *   const engine = await ContainerEngine.start()
 *   … engine.api (a DockerApi) …
 *   await engine.close()   // stops the service; no container, conmon or podman process is left
 *
 * The settings are the ones this machine needs (a hybrid cgroup v1 host without systemd):
 * - `runtime = "runc"`: crun refuses hybrid cgroups ("cgroups in hybrid mode not supported");
 * - `cgroup_manager = "cgroupfs"`, `events_logger = "file"`: there is no systemd to ask;
 * - `default_ulimits = []`: raising RLIMIT_NOFILE is not permitted here;
 * - `network_backend = "netavark"` (with aardvark-dns): name resolution on user-defined networks.
 * Without systemd podman also does not schedule health checks; health.ts runs them.
 *
 * One engine directory serves one engine at a time: a lock (a directory holding the owner's pid)
 * makes a second run on the same machine wait, and a lock left by a dead process is taken over.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { GameServerError } from '../../../app/errors.js'
import { ManagedProcess, runCommand } from '../../../app/local/child-process.js'
import { findProgram, isRoot, requireProgram } from '../../../app/local/system.js'
import { isAlive } from '../index.js'
import { DockerApi } from './docker-api.js'

export interface EngineOptions {
  /** Engine directory (storage, configuration, lock). Default: GS_ENGINE_DIR or ~/.cache/game-appliance/engine. */
  readonly dir?: string
  /** How long to wait for another run holding the engine directory. Default 20 min. */
  readonly lockTimeoutMs?: number
  /** Lines of the API service's output. */
  readonly onLine?: (line: string) => void
}

/** Age after which untagged build layers are pruned when an engine starts. */
const BUILD_CACHE_HOURS = 7 * 24

export function defaultEngineDir(): string {
  if (process.env.GS_ENGINE_DIR) return process.env.GS_ENGINE_DIR
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'game-appliance', 'engine')
}

export class ContainerEngine {
  readonly api: DockerApi
  private closing: Promise<void> | null = null

  private constructor(
    readonly dir: string,
    readonly socketPath: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly service: ManagedProcess,
    private readonly lock: EngineLock,
  ) {
    this.api = new DockerApi(socketPath)
  }

  static async start(options: EngineOptions = {}): Promise<ContainerEngine> {
    if (!isRoot()) {
      throw new GameServerError('GS_ERR_ENGINE_START', 'the container engine runs rootful podman and needs root (debootstrap, cgroups, bridge networks)', {})
    }
    const podman = requireProgram('podman', 'podman')
    requireProgram('runc', 'runc')
    requireProgram('netavark', 'netavark', ['/usr/lib/podman'])
    requireProgram('aardvark-dns', 'aardvark-dns', ['/usr/lib/podman'])
    if (!findProgram('catatonit', ['/usr/libexec/podman'])) requireProgram('catatonit', 'catatonit')
    const dir = options.dir ?? defaultEngineDir()
    await mkdir(dir, { recursive: true })
    await writeFile(
      join(dir, 'README'),
      'Container engine of the game-appliance test harness (test/harness/engine).\n' +
        'storage/ holds cached base and stand-in images (localhost/gs-harness/*) and the build cache.\n' +
        'Delete it when no engine test runs: npm run engine -- clean\n',
    )
    const lock = await EngineLock.acquire(join(dir, 'lock'), options.lockTimeoutMs ?? 20 * 60_000)
    try {
      // Nobody else uses this directory now: state of a previous (perhaps killed) service goes, and
      // podman treats the missing run directory as a reboot (containers are marked stopped).
      await rm(join(dir, 'run'), { recursive: true, force: true })
      for (const sub of ['storage', 'run/storage', 'run/libpod', 'networks']) await mkdir(join(dir, sub), { recursive: true })
      const env = await writeConfig(dir)
      const socketPath = join(tmpdir(), `gs-engine-${process.pid}-${Date.now().toString(36)}.sock`)
      const service = new ManagedProcess({
        name: 'podman-api',
        command: podman,
        args: ['system', 'service', '--time=0', `unix://${socketPath}`],
        env,
        ...(options.onLine ? { onLine: (line: string) => options.onLine!(line) } : {}),
      })
      const engine = new ContainerEngine(dir, socketPath, env, service, lock)
      const deadline = Date.now() + 30_000
      while (!(await engine.api.ping())) {
        if (!service.running) throw service.startError('podman system service exited')
        if (Date.now() > deadline) {
          await service.stop(5000)
          throw new GameServerError('GS_ERR_ENGINE_START', `podman system service did not answer on ${socketPath} within 30 s:\n${service.output()}`, { socketPath })
        }
        await sleep(100)
      }
      try {
        await engine.removeLeftovers()
      } catch (err) {
        await engine.close().catch(() => {})
        throw err
      }
      return engine
    } catch (err) {
      await lock.release()
      throw err
    }
  }

  /** Pid of the API service (podman system service). */
  get servicePid(): number | undefined {
    return this.service.pid
  }

  /**
   * Containers, networks and volumes a previous run left behind (it was killed before its own
   * cleanup). Only cached images survive between runs in this storage.
   */
  private async removeLeftovers(): Promise<void> {
    for (const container of await this.api.listContainers()) await this.api.removeContainer(container.Id, { force: true, volumes: true })
    // The engine's default network is `podman` (`bridge` through the Docker API) and stays.
    for (const network of await this.api.listNetworks()) if (network.Name !== 'podman' && network.Name !== 'bridge') await this.api.removeNetwork(network.Name)
    for (const volume of await this.api.listVolumes()) await this.api.removeVolume(volume.Name)
    // The build cache (untagged layers of earlier builds) is kept for a week, then pruned.
    await this.api.pruneImages({ dangling: ['true'], until: [`${BUILD_CACHE_HOURS}h`] })
  }

  /**
   * Stop the API service and wait until no process of this engine (conmon, podman cleanup, the
   * service) remains. Containers still present are removed first. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = []
      try {
        if (this.service.running) {
          const left = await this.api.listContainers()
          for (const container of left) await this.api.removeContainer(container.Id, { force: true, volumes: true })
        }
      } catch (err) {
        errors.push(err)
      }
      await this.service.stop(15_000).catch((err: unknown) => errors.push(err))
      const stragglers = await waitForNoProcesses(this.dir, 15_000)
      if (stragglers.length > 0) errors.push(new GameServerError('GS_ERR_ENGINE_START', `engine processes still running after close: ${stragglers.join('; ')}`, { stragglers }))
      else await unmountUnder(this.dir).catch((err: unknown) => errors.push(err))
      await rm(this.socketPath, { force: true })
      await this.lock.release()
      if (errors.length === 1) throw errors[0]
      if (errors.length > 1) throw new AggregateError(errors, 'closing the container engine failed')
    })()
    return this.closing
  }
}

/** containers.conf and storage.conf of this engine, and the environment that points podman at them. */
async function writeConfig(dir: string): Promise<NodeJS.ProcessEnv> {
  const subnets = pickSubnets(await readFile('/proc/net/route', 'utf8').catch(() => ''))
  const containersConf = join(dir, 'containers.conf')
  const storageConf = join(dir, 'storage.conf')
  const run = join(dir, 'run')
  await writeFile(
    containersConf,
    [
      '# Written by test/harness/engine/engine.ts for this engine directory only.',
      '[containers]',
      'default_ulimits = []',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${join(run, 'libpod')}"`,
      '[network]',
      // netavark with aardvark-dns: containers on a user-defined network resolve each other by name
      // (the CNI backend would need the dnsname plugin for that).
      'network_backend = "netavark"',
      `network_config_dir = "${join(dir, 'networks')}"`,
      // Subnets no route of this host uses yet (another bridge on 10.88.0.0/16, podman's default,
      // would take the containers' return traffic).
      `default_subnet = "${subnets.defaultSubnet}"`,
      `default_subnet_pools = [{ base = "${subnets.pool}", size = 24 }]`,
      '',
    ].join('\n'),
  )
  await writeFile(storageConf, ['[storage]', 'driver = "overlay"', `graphroot = "${join(dir, 'storage')}"`, `runroot = "${join(run, 'storage')}"`, ''].join('\n'))
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', CONTAINERS_CONF: containersConf, CONTAINERS_STORAGE_CONF: storageConf }
}

/**
 * Unmount what the engine left mounted under `dir`: the overlay driver keeps its storage directory
 * bind-mounted onto itself after podman exits. Deepest first.
 */
export async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '')
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length)
  for (const point of points) await runCommand('umount', [point], { timeoutMs: 30_000 })
}

/** IPv4 routes of /proc/net/route as [network, mask] (host byte order of the file: little-endian hex). */
function parseRoutes(text: string): [number, number][] {
  const out: [number, number][] = []
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields.length < 8) continue
    const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0)
    out.push([le(fields[1]!), le(fields[7]!)])
  }
  return out
}

/**
 * A /16 of 10.0.0.0/8 that no route of this host overlaps (the default route excepted): its first
 * /24 is the engine's default network, the rest the pool user-defined networks are taken from.
 */
function pickSubnets(routeTable: string): { defaultSubnet: string; pool: string } {
  const routes = parseRoutes(routeTable).filter(([, mask]) => mask !== 0)
  for (const second of [88, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140]) {
    const network = (10 << 24) | (second << 16)
    const mask = 0xffff0000 | 0
    const overlaps = routes.some(([routeNet, routeMask]) => {
      const common = routeMask & mask
      return ((routeNet & common) >>> 0) === ((network & common) >>> 0)
    })
    if (!overlaps) return { defaultSubnet: `10.${second}.0.0/24`, pool: `10.${second}.0.0/16` }
  }
  throw new GameServerError('GS_ERR_ENGINE_START', 'no free 10.x.0.0/16 subnet for the engine\'s networks on this host', {})
}

/** Pids and command lines of processes that name this engine directory (conmon, podman cleanup). */
export async function engineProcesses(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim()
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue
      if (cmdline.includes(dir)) out.push(`${entry} ${cmdline.slice(0, 200)}`)
    } catch {
      /* exited meanwhile */
    }
  }
  return out
}

async function waitForNoProcesses(dir: string, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = await engineProcesses(dir)
    if (left.length === 0 || Date.now() > deadline) return left
    await sleep(200)
  }
}

/** An exclusive claim on an engine directory: a directory created atomically, holding the owner's pid. */
class EngineLock {
  private released = false

  private constructor(private readonly path: string) {}

  static async acquire(path: string, timeoutMs: number): Promise<EngineLock> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await mkdir(path)
        await writeFile(join(path, 'owner'), `${process.pid}\n`)
        return new EngineLock(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const owner = Number((await readFile(join(path, 'owner'), 'utf8').catch(() => '')).trim())
      if (!owner || !isAlive(owner)) {
        // Left by a process that died (or is still writing its pid: give it a moment first).
        if (!owner) await sleep(500)
        const again = Number((await readFile(join(path, 'owner'), 'utf8').catch(() => '')).trim())
        if (!again || !isAlive(again)) {
          await rm(path, { recursive: true, force: true })
          continue
        }
      }
      if (Date.now() > deadline) {
        throw new GameServerError('GS_ERR_ENGINE_START', `the engine directory ${path} is in use by process ${owner} (another engine test or quick-start run); waited ${Math.round(timeoutMs / 1000)} s`, { owner })
      }
      await sleep(1000)
    }
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    if (existsSync(this.path)) await rm(this.path, { recursive: true, force: true })
  }
}
