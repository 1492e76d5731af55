/**
 * Running the Pulumi program (infra/index.ts) under `pulumi.runtime.setMocks`: every registered
 * resource is recorded with its type, name, inputs (secret inputs keep Pulumi's secret wrapper, so
 * tests can see them), its resource options as the engine would receive them (deleteBeforeReplace,
 * protect, retainOnDelete) and the URNs it depends on. The unit tests check the program's
 * declarations with it; the engine test (test/integration/deploy-engine.test.ts) turns the same
 * registrations into real networks, volumes and containers.
 */
import * as pulumi from '@pulumi/pulumi'
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc.js'
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface Recorded {
  readonly type: string
  readonly name: string
  readonly urn: string
  readonly inputs: Record<string, unknown>
  readonly custom: boolean
  /** Resource options the engine would act on. */
  readonly options: { readonly deleteBeforeReplace: boolean; readonly protect: boolean; readonly retainOnDelete: boolean }
  /** URNs of every resource this one waits for (dependsOn and inputs from other resources). */
  readonly dependencies: readonly string[]
  readonly parentUrn: string
}

export interface ProgramRun {
  readonly resources: Recorded[]
  /** Stack outputs; a rejected output holds the error under `{ error }`. */
  readonly outputs: Record<string, unknown>
  /**
   * Errors the program raised asynchronously (a rejected apply reaching a resource's inputs): the
   * Pulumi language host fails the update with them; under mocks they would end the test process.
   */
  readonly errors: unknown[]
}

export interface RunOptions {
  /** Extra provider state per resource (e.g. the migration job's `exitCode`). */
  readonly state?: (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined
  /** Extra config of other namespaces, e.g. `{ 'docker:host': 'ssh://ops@game.example.com' }`. */
  readonly foreignConfig?: Record<string, string>
}

const PROJECT = 'game-appliance'
export const CONTAINER_TYPE = 'docker:index/container:Container'
export const VOLUME_TYPE = 'docker:index/volume:Volume'
export const NETWORK_TYPE = 'docker:index/network:Network'
export const REMOTE_IMAGE_TYPE = 'docker:index/remoteImage:RemoteImage'
const IMAGE_TYPE = 'docker:index/image:Image'
/** What the mocked build of the appliance image reports as its reference. */
export const MOCK_APP_IMAGE = 'sha256:mock-app-image'
let run = 0

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
}

/** The plain value of an input, secret or not (recursively). */
export function plain(value: unknown): unknown {
  if (isSecret(value)) return plain(value.value)
  if (Array.isArray(value)) return value.map(plain)
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}

interface RegisterRequest {
  getName(): string
  getType(): string
  getParent(): string
  getDeletebeforereplace(): boolean
  getProtect(): boolean
  getRetainondelete(): boolean
  getDependenciesList(): string[]
}

/** Set mocks and config, import the program fresh, and return what it registered and exported. */
export async function runProgram(stack: string, config: Record<string, string | number | boolean | object>, options: RunOptions = {}): Promise<ProgramRun> {
  const resources: Recorded[] = []
  const requests = new Map<string, RegisterRequest>()
  const urns = new Map<string, string>()
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const request = requests.get(`${args.type}::${args.name}`)
        const parent = request?.getParent() ?? ''
        const urn = `urn:pulumi:${stack}::${PROJECT}::${args.type}::${args.name}`
        resources.push({
          type: args.type,
          name: args.name,
          urn,
          inputs: args.inputs,
          custom: args.custom ?? false,
          options: {
            deleteBeforeReplace: request?.getDeletebeforereplace() ?? false,
            protect: request?.getProtect() ?? false,
            retainOnDelete: request?.getRetainondelete() ?? false,
          },
          dependencies: request?.getDependenciesList() ?? [],
          parentUrn: parent,
        })
        const state: Record<string, unknown> = { ...args.inputs }
        if (args.type === IMAGE_TYPE) state.repoDigest = MOCK_APP_IMAGE
        if (args.type === REMOTE_IMAGE_TYPE) state.imageId = `sha256:mock-${args.name}`
        // A one-shot container the provider attached to has exited (the migration job: 0 unless a test says otherwise).
        if (args.type === CONTAINER_TYPE && args.inputs.attach) Object.assign(state, { exitCode: 0, containerLogs: '' })
        Object.assign(state, options.state?.(args.type, args.name, args.inputs) ?? {})
        return { id: `${args.name}-id`, state }
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    stack,
    false,
  )
  // The mock monitor hands newResource only type, name and inputs; the options and dependencies are
  // in the registration request, so record it on the way in.
  type Callback = (err: unknown, response: { getUrn(): string } | undefined) => void
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, callback: Callback): unknown }
  const register = monitor.registerResource.bind(monitor)
  monitor.registerResource = (req, callback) => {
    const key = `${req.getType()}::${req.getName()}`
    requests.set(key, req)
    return register(req, (err, response) => {
      if (response) urns.set(key, response.getUrn())
      callback(err, response)
    })
  }
  // Each run sees only its own stack config (config persists process-wide between runs).
  pulumi.runtime.setAllConfig({})
  for (const [key, value] of Object.entries(config)) pulumi.runtime.setConfig(`${PROJECT}:${key}`, typeof value === 'object' ? JSON.stringify(value) : String(value))
  for (const [key, value] of Object.entries(options.foreignConfig ?? {})) pulumi.runtime.setConfig(key, value)
  run += 1
  const errors: unknown[] = []
  const onRejection = (reason: unknown) => errors.push(reason)
  process.on('unhandledRejection', onRejection)
  try {
    const program = (await import(`../../infra/index.ts?run=${run}`)) as Record<string, unknown>
    const outputs: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(program)) {
      outputs[key] = pulumi.Output.isInstance(value) ? await outputValue(value) : value
    }
    // Registrations finish asynchronously: wait until no new resource appears for a few turns.
    let seen = -1
    let quietTurns = 0
    while (quietTurns < 20) {
      await nextTurn()
      if (resources.length === seen) quietTurns++
      else {
        seen = resources.length
        quietTurns = 0
      }
    }
    // The URN the monitor answered with is the one other resources' dependencies name.
    return { resources: resources.map((r) => ({ ...r, urn: urns.get(`${r.type}::${r.name}`) ?? r.urn })), outputs, errors }
  } finally {
    process.off('unhandledRejection', onRejection)
  }
}

/** The value of an Output, or `{ error }` when it rejects (a failed apply, e.g. a failed migration). */
function outputValue(output: pulumi.Output<unknown>): Promise<unknown> {
  return new Promise((resolve) => {
    output.apply((value) => resolve(value))
    // A rejected output never calls apply; its promise carries the error.
    void (output as unknown as { promise(): Promise<unknown> }).promise().catch((error: unknown) => resolve({ error }))
  })
}

export const SECRETS = { postgresPassword: 'pg-secret-1', redisPassword: 'redis-secret-2', grafanaAdminPassword: 'grafana-secret-3', balancerAdminToken: 'admin-token-secret-4567' }
/** Every secret value the tests set, for "never in plain text" checks. */
export const ALL_SECRET_VALUES = [...Object.values(SECRETS), 'smtp-secret-4']

export function containers(resources: Recorded[]): Recorded[] {
  return resources.filter((r) => r.type === CONTAINER_TYPE)
}

/** The topology service a container runs: its Docker name without the `<stack>-` prefix. */
export function serviceOf(container: Recorded, stack: string): string {
  const name = plain(container.inputs.name) as string
  if (!name.startsWith(`${stack}-`)) throw new Error(`container ${name} is not prefixed with its stack ${stack}`)
  return name.slice(stack.length + 1)
}

/**
 * A container's environment. Pulumi tracks secrecy per property: when any entry is a secret the
 * whole `envs` list is stored encrypted, so `secret` is the list's secrecy.
 */
export function envOf(container: Recorded): Map<string, { value: string; secret: boolean }> {
  const out = new Map<string, { value: string; secret: boolean }>()
  const envs = container.inputs.envs
  const list = isSecret(envs) ? (envs.value as unknown[]) : ((envs as unknown[] | undefined) ?? [])
  const secret = isSecret(envs) || list.some(isSecret)
  for (const entry of list) {
    const text = plain(entry) as string
    const at = text.indexOf('=')
    out.set(text.slice(0, at), { value: text.slice(at + 1), secret: secret || isSecret(entry) })
  }
  return out
}
