/**
 * Running the Pulumi program under `pulumi.runtime.setMocks`: every registered resource is recorded
 * with its type, name and inputs (secret inputs keep Pulumi's secret wrapper, so tests can see them).
 */
import * as pulumi from '@pulumi/pulumi'
import { specialSecretSig, specialSigKey } from '@pulumi/pulumi/runtime/rpc.js'
import { setImmediate as nextTurn } from 'node:timers/promises'

export interface Recorded {
  readonly type: string
  readonly name: string
  readonly inputs: Record<string, unknown>
  readonly custom: boolean
}

export const PROJECT = 'game-appliance'
let run = 0

export function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
}

/** The plain value of an input, secret or not. */
export function plain(value: unknown): unknown {
  return isSecret(value) ? plain(value.value) : value
}

/** Set mocks and config, import the program fresh, and return what it registered and exported. */
export async function runProgram(stack: string, config: Record<string, string | number | boolean>): Promise<{ resources: Recorded[]; outputs: Record<string, unknown> }> {
  const resources: Recorded[] = []
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false })
        const state: Record<string, unknown> = { ...args.inputs }
        if (args.type === 'docker:index/image:Image') state.repoDigest = 'sha256:mock-app-image'
        if (args.type === 'docker:index/remoteImage:RemoteImage') state.imageId = `sha256:mock-${args.name}`
        return { id: `${args.name}-id`, state }
      },
      call: (args) => args.inputs,
    },
    PROJECT,
    stack,
    false,
  )
  // Each run sees only its own stack config (config persists process-wide between runs).
  pulumi.runtime.setAllConfig({})
  for (const [key, value] of Object.entries(config)) pulumi.runtime.setConfig(`${PROJECT}:${key}`, String(value))
  run += 1
  const program = (await import(`../../../infra/index.ts?run=${run}`)) as Record<string, unknown>
  const outputs: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(program)) {
    outputs[key] = pulumi.Output.isInstance(value) ? await new Promise((resolve) => value.apply(resolve)) : value
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
  return { resources, outputs }
}

export const SECRETS = { postgresPassword: 'pg-secret-1', redisPassword: 'redis-secret-2', grafanaAdminPassword: 'grafana-secret-3', balancerAdminToken: 'admin-token-secret-4567' }
/** Every secret value the tests set, for "never in plain text" checks. */
export const ALL_SECRET_VALUES = [...Object.values(SECRETS), 'smtp-secret-4']

export function containers(resources: Recorded[]): Recorded[] {
  return resources.filter((r) => r.type === 'docker:index/container:Container')
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
  const secret = isSecret(envs) || ((plain(envs) as unknown[] | undefined) ?? []).some(isSecret)
  for (const entry of (plain(envs) as unknown[] | undefined) ?? []) {
    const text = plain(entry) as string
    const at = text.indexOf('=')
    out.set(text.slice(0, at), { value: text.slice(at + 1), secret: secret || isSecret(entry) })
  }
  return out
}
