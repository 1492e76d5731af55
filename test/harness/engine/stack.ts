/**
 * The Pulumi program's declarations carried out on a real engine, the way the Docker provider
 * would: networks, volumes and containers are taken from the resources the program registers under
 * mocks (test/harness/pulumi-program.ts), never from a list of our own. For each container the
 * provider's arguments become the Docker Engine API calls the provider makes (create with the same
 * config and host config, upload files, start), in the order the program's dependencies give, with
 * the waits it declares: `wait` (healthy within `waitTimeout`), `attach` (until it exits; the
 * program's own exit-code check then decides), `mustRun` (still running afterwards). Independent
 * containers are created concurrently, as Pulumi does.
 *
 * `replaceAll()` is a second `pulumi up` that replaces every container as deleteBeforeReplace makes
 * Pulumi do it: dependents are deleted first (stopped with their destroy grace, then removed), then
 * everything is created again in order, over the same names and host ports. `down()` is
 * `pulumi destroy`: containers stopped with their grace and removed, then the network and volumes.
 */
import { GameServerError } from '../../../app/errors.js'
import { checkMigrationExit } from '../../../infra/components/database.js'
import { tar } from './build-context.js'
import type { ContainerInspect, DockerApi } from './docker-api.js'
import type { HealthScheduler } from './health.js'
import { CONTAINER_TYPE, MOCK_APP_IMAGE, NETWORK_TYPE, plain, REMOTE_IMAGE_TYPE, VOLUME_TYPE, type ProgramRun, type Recorded } from '../pulumi-program.js'

/** Label on everything the harness creates (leftovers of a killed run are found by it). */
export const HARNESS_LABEL = 'io.game-appliance.harness'

export interface PlannedContainer {
  readonly resourceName: string
  readonly urn: string
  /** Docker name (`<stack>-<service>`). */
  readonly name: string
  /** Topology service (the name without the stack prefix). */
  readonly service: string
  readonly createBody: Record<string, unknown>
  readonly uploads: readonly { file: string; content: string; executable: boolean }[]
  readonly wait: { readonly healthy: boolean; readonly timeoutSeconds: number }
  readonly attach: boolean
  readonly logs: boolean
  readonly mustRun: boolean
  readonly destroyGraceSeconds: number
  readonly healthIntervalMs: number | undefined
  /** Resource names of the containers it waits for. */
  readonly after: readonly string[]
}

export interface StackPlan {
  readonly stack: string
  readonly networks: readonly { name: string; driver: string }[]
  readonly volumes: readonly string[]
  readonly containers: readonly PlannedContainer[]
  /** Containers of the program left out (no image on this engine), with the reason. */
  readonly omitted: readonly { name: string; reason: string }[]
}

export interface ImageMapping {
  /** What the program's built image (docker.Image) is on this engine. */
  readonly app: string
  /** Program image reference (RemoteImage `name`) → image on this engine. */
  readonly remote: ReadonlyMap<string, string>
  /** Program image references with no image here, and why. */
  readonly missing: ReadonlyMap<string, string>
}

const durationNs = (text: unknown): number | undefined => {
  if (typeof text !== 'string') return undefined
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text)
  if (!match) throw new Error(`unsupported duration ${text}`)
  const factor = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[match[2] as 'ms' | 's' | 'm' | 'h']
  return Math.round(Number(match[1]) * factor)
}

/** The engine operations for what the program registered. */
export function planStack(stack: string, run: ProgramRun, images: ImageMapping): StackPlan {
  const byUrn = new Map(run.resources.map((r) => [r.urn, r]))
  const imageOf = new Map<string, string>()
  const missingOf = new Map<string, string>()
  for (const r of run.resources) {
    if (r.type === REMOTE_IMAGE_TYPE) {
      const name = plain(r.inputs.name) as string
      const local = images.remote.get(name)
      if (local) imageOf.set(`sha256:mock-${r.name}`, local)
      else missingOf.set(`sha256:mock-${r.name}`, images.missing.get(name) ?? `no image for ${name}`)
    }
  }
  const networks = run.resources.filter((r) => r.type === NETWORK_TYPE).map((r) => ({ name: plain(r.inputs.name) as string, driver: (plain(r.inputs.driver) as string | undefined) ?? 'bridge' }))
  const volumes = run.resources.filter((r) => r.type === VOLUME_TYPE).map((r) => plain(r.inputs.name) as string)
  const containerResources = run.resources.filter((r) => r.type === CONTAINER_TYPE)
  const omitted: { name: string; reason: string }[] = []
  const planned: PlannedContainer[] = []
  for (const r of containerResources) {
    const inputs = plain(r.inputs) as Record<string, unknown>
    const name = inputs.name as string
    const programImage = inputs.image as string
    // The program's own image (docker.Image, mocked as MOCK_APP_IMAGE) is the one the test built.
    const image = programImage === MOCK_APP_IMAGE ? images.app : imageOf.get(programImage)
    if (!image) {
      omitted.push({ name, reason: missingOf.get(programImage) ?? `unknown image ${programImage}` })
      continue
    }
    planned.push(planContainer(stack, r, inputs, image, byUrn))
  }
  // Nothing may depend on a container that is left out: the plan would not be the program's.
  const omittedNames = new Set(omitted.map((o) => o.name))
  for (const c of planned) {
    for (const dep of c.after) {
      const target = containerResources.find((r) => r.name === dep)
      if (target && omittedNames.has(plain(target.inputs.name) as string)) throw new GameServerError('GS_ERR_TOPOLOGY', `${c.name} depends on ${dep}, which has no image on this engine`, { container: c.name })
    }
  }
  return { stack, networks, volumes, containers: planned, omitted }
}

function planContainer(stack: string, r: Recorded, inputs: Record<string, unknown>, image: string, byUrn: Map<string, Recorded>): PlannedContainer {
  const name = inputs.name as string
  const network = (inputs.networksAdvanced as { name: string; aliases?: string[] }[] | undefined) ?? []
  const ports = (inputs.ports as { internal: number; external?: number; ip?: string; protocol?: string }[] | undefined) ?? []
  const volumes = (inputs.volumes as { volumeName?: string; hostPath?: string; containerPath: string; readOnly?: boolean }[] | undefined) ?? []
  const healthcheck = inputs.healthcheck as { tests: string[]; interval?: string; timeout?: string; startPeriod?: string; retries?: number } | undefined
  const exposed: Record<string, object> = {}
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {}
  for (const p of ports) {
    const key = `${p.internal}/${p.protocol ?? 'tcp'}`
    exposed[key] = {}
    if (p.external !== undefined) bindings[key] = [{ HostIp: p.ip ?? '', HostPort: String(p.external) }]
  }
  const binds = volumes.map((v) => `${v.volumeName ?? v.hostPath}:${v.containerPath}${v.readOnly ? ':ro' : ''}`)
  const primary = network[0]
  const createBody: Record<string, unknown> = {
    Image: image,
    Hostname: inputs.hostname,
    Env: (inputs.envs as string[] | undefined) ?? [],
    ...(inputs.command ? { Cmd: inputs.command } : {}),
    ...(inputs.entrypoint ? { Entrypoint: inputs.entrypoint } : {}),
    ...(inputs.user ? { User: inputs.user } : {}),
    ExposedPorts: exposed,
    ...(inputs.stopTimeout !== undefined ? { StopTimeout: inputs.stopTimeout } : {}),
    ...(inputs.stopSignal ? { StopSignal: inputs.stopSignal } : {}),
    ...(healthcheck
      ? {
          Healthcheck: {
            Test: healthcheck.tests,
            Interval: durationNs(healthcheck.interval),
            Timeout: durationNs(healthcheck.timeout),
            StartPeriod: durationNs(healthcheck.startPeriod),
            Retries: healthcheck.retries,
          },
        }
      : {}),
    Labels: { [HARNESS_LABEL]: '1', [`${HARNESS_LABEL}.stack`]: stack },
    HostConfig: {
      RestartPolicy: { Name: (inputs.restart as string | undefined) ?? 'no', MaximumRetryCount: (inputs.maxRetryCount as number | undefined) ?? 0 },
      PortBindings: bindings,
      Binds: binds,
      Init: inputs.init ?? false,
      ...(inputs.memory ? { Memory: (inputs.memory as number) * 1024 * 1024 } : {}),
      ...(inputs.cpus ? { NanoCpus: Math.round(Number(inputs.cpus) * 1e9) } : {}),
      LogConfig: { Type: (inputs.logDriver as string | undefined) ?? 'json-file', Config: (inputs.logOpts as Record<string, string> | undefined) ?? {} },
      ...(primary ? { NetworkMode: primary.name } : {}),
    },
    ...(primary ? { NetworkingConfig: { EndpointsConfig: { [primary.name]: { Aliases: primary.aliases ?? [] } } } } : {}),
  }
  const after = r.dependencies
    .map((urn) => byUrn.get(urn))
    .filter((d): d is Recorded => d !== undefined && d.type === CONTAINER_TYPE)
    .map((d) => d.name)
  const attach = inputs.attach === true
  return {
    resourceName: r.name,
    urn: r.urn,
    name,
    service: name.slice(stack.length + 1),
    createBody,
    uploads: ((inputs.uploads as { file: string; content?: string; executable?: boolean }[] | undefined) ?? []).map((u) => ({ file: u.file, content: u.content ?? '', executable: u.executable ?? false })),
    wait: { healthy: inputs.wait === true, timeoutSeconds: (inputs.waitTimeout as number | undefined) ?? 60 },
    attach,
    logs: inputs.logs === true,
    // The provider's default: a container must be running after create unless mustRun is false.
    mustRun: inputs.mustRun !== false,
    // The provider force-removes at once unless destroyGraceSeconds is set (and never stops attached ones).
    destroyGraceSeconds: attach ? 0 : ((inputs.destroyGraceSeconds as number | undefined) ?? 0),
    healthIntervalMs: healthcheck ? (durationNs(healthcheck.interval) ?? 30e9) / 1e6 : undefined,
    after,
  }
}

interface ContainerTiming {
  readonly name: string
  /** ms since `up()` began. */
  readonly createdAt: number
  readonly readyAt: number
}

/** What one `up()` did: per container, when it was created and when its declared wait was over. */
export interface UpReport {
  readonly totalMs: number
  readonly containers: readonly ContainerTiming[]
}

export class StackDeployment {
  private readonly ids = new Map<string, string>()
  private networksCreated = false
  private downing: Promise<void> | null = null

  constructor(
    private readonly api: DockerApi,
    readonly plan: StackPlan,
    private readonly health: HealthScheduler,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Engine id of a container by its Docker name. */
  id(name: string): string {
    const id = this.ids.get(name)
    if (!id) throw new GameServerError('GS_ERR_ENGINE_API', `no container ${name} in this deployment`, { name })
    return id
  }

  container(service: string): PlannedContainer {
    const found = this.plan.containers.find((c) => c.service === service)
    if (!found) throw new GameServerError('GS_ERR_TOPOLOGY', `no container for service ${service}`, { service })
    return found
  }

  inspect(service: string): Promise<ContainerInspect> {
    return this.api.inspectContainer(this.id(this.container(service).name))
  }

  /** `pulumi up` on an empty engine: networks, volumes, then every container in dependency order. */
  async up(): Promise<UpReport> {
    if (!this.networksCreated) {
      for (const network of this.plan.networks) await this.api.createNetwork({ Name: network.name, Driver: network.driver, Labels: { [HARNESS_LABEL]: '1' } })
      for (const volume of this.plan.volumes) await this.api.createVolume({ Name: volume, Labels: { [HARNESS_LABEL]: '1' } })
      this.networksCreated = true
    }
    return this.createContainers()
  }

  /**
   * A second `pulumi up` that replaces every container (a new image, a changed upload): with
   * deleteBeforeReplace, dependents go first, each stopped within its destroy grace and removed,
   * then the replacements are created under the same names and host ports.
   */
  async replaceAll(): Promise<UpReport> {
    await this.deleteContainers()
    return this.createContainers()
  }

  /** `pulumi destroy`: every container (graceful), then networks and volumes. Idempotent. */
  down(): Promise<void> {
    this.downing ??= (async () => {
      await this.deleteContainers()
      // Anything else labelled with this stack (a container a failed step created) goes too.
      for (const stray of await this.api.listContainers({ label: [`${HARNESS_LABEL}.stack=${this.plan.stack}`] })) await this.api.removeContainer(stray.Id, { force: true })
      for (const network of this.plan.networks) await this.api.removeNetwork(network.name)
      for (const volume of this.plan.volumes) await this.api.removeVolume(volume)
    })()
    return this.downing
  }

  private async createContainers(): Promise<UpReport> {
    const started = performance.now()
    const done = new Map<string, Promise<ContainerTiming>>()
    const byResource = new Map(this.plan.containers.map((c) => [c.resourceName, c]))
    const create = (c: PlannedContainer): Promise<ContainerTiming> => {
      let promise = done.get(c.resourceName)
      if (!promise) {
        promise = (async () => {
          await Promise.all(c.after.map((dep) => create(byResource.get(dep)!)))
          const createdAt = performance.now() - started
          await this.createOne(c)
          return { name: c.name, createdAt, readyAt: performance.now() - started }
        })()
        done.set(c.resourceName, promise)
      }
      return promise
    }
    const results = await Promise.allSettled(this.plan.containers.map(create))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
    return { totalMs: performance.now() - started, containers: results.map((r) => (r as PromiseFulfilledResult<ContainerTiming>).value) }
  }

  private async createOne(c: PlannedContainer): Promise<void> {
    this.log(`create ${c.name}`)
    const id = await this.api.createContainer(c.name, c.createBody)
    this.ids.set(c.name, id)
    if (c.uploads.length > 0) {
      // As the provider does: one tar per file, extracted at the container's root before it starts.
      for (const upload of c.uploads) {
        const archive = tar([{ path: upload.file.replace(/^\/+/, ''), kind: 'file', mode: upload.executable ? 0o744 : 0o644, content: Buffer.from(upload.content) }])
        await this.api.putArchive(id, '/', archive)
      }
    }
    await this.api.startContainer(id)
    if (c.healthIntervalMs !== undefined) this.health.watch(id, c.healthIntervalMs)
    if (c.attach) {
      const exitCode = await this.api.waitContainer(id, 15 * 60_000)
      const logs = c.logs ? await this.api.logs(id) : undefined
      // The program's own verdict on the job (infra/components/database.ts).
      checkMigrationExit(exitCode, logs)
      this.log(`${c.name} exited ${exitCode}`)
    }
    if (c.wait.healthy) await this.waitHealthy(c, id)
    if (c.mustRun && !c.attach) {
      const state = await this.api.inspectContainer(id)
      if (!state.State.Running) throw new GameServerError('GS_ERR_ENGINE_API', `${c.name} is not running after create (exit code ${state.State.ExitCode}):\n${(await this.api.logs(id)).slice(-3000)}`, { name: c.name })
    }
    this.log(`${c.name} ready`)
  }

  private async waitHealthy(c: PlannedContainer, id: string): Promise<void> {
    const deadline = Date.now() + c.wait.timeoutSeconds * 1000
    for (;;) {
      const state = await this.api.inspectContainer(id)
      if (state.State.Health?.Status === 'healthy') return
      if (!state.State.Running || state.State.Health?.Status === 'unhealthy' || Date.now() > deadline) {
        const why = !state.State.Running ? `exited with code ${state.State.ExitCode}` : state.State.Health?.Status === 'unhealthy' ? 'unhealthy' : `not healthy within ${c.wait.timeoutSeconds} s`
        const checks = (state.State.Health?.Log ?? []).map((l) => `[${l.ExitCode}] ${l.Output.trim()}`).slice(-3).join('\n')
        throw new GameServerError('GS_ERR_ENGINE_API', `${c.name} ${why}; last health checks:\n${checks}\nlogs:\n${(await this.api.logs(id)).slice(-3000)}`, { name: c.name })
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  /** Reverse dependency order: a container goes after everything that depends on it. */
  private async deleteContainers(): Promise<void> {
    const byResource = new Map(this.plan.containers.map((c) => [c.resourceName, c]))
    const dependents = new Map<string, PlannedContainer[]>()
    for (const c of this.plan.containers) for (const dep of c.after) dependents.set(dep, [...(dependents.get(dep) ?? []), c])
    const done = new Map<string, Promise<void>>()
    const remove = (c: PlannedContainer): Promise<void> => {
      let promise = done.get(c.resourceName)
      if (!promise) {
        promise = (async () => {
          await Promise.all((dependents.get(c.resourceName) ?? []).map(remove))
          const id = this.ids.get(c.name)
          if (!id) return
          this.health.unwatch(id)
          // The provider: stop within destroyGraceSeconds when set, then force-remove.
          if (c.destroyGraceSeconds > 0) await this.api.stopContainer(id, c.destroyGraceSeconds)
          await this.api.removeContainer(id, { force: true })
          this.ids.delete(c.name)
        })()
        done.set(c.resourceName, promise)
      }
      return promise
    }
    const results = await Promise.allSettled([...byResource.values()].map(remove))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  }
}
