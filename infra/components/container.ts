/**
 * The one mapping from a topology service to Docker container arguments: environment (resolved to
 * Outputs so secrets stay secret), the private network alias, published ports (only those the
 * topology publishes), the health check, the restart policy and the stop grace. Every component
 * builds its containers through `containerArgs` and `NAMED_RESOURCE`, so no container escapes these
 * rules.
 */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { CONTAINER_BIND_HOST, containerAddress, DATABASE_NAME, DATABASE_USER, resolveValue, type HealthCheck, type Resolver, type SecretName, type Service, type Topology } from '../../app/topology/index.js'

export type Secrets = Readonly<Record<SecretName, pulumi.Output<string>>>

/**
 * Options of every resource with a fixed Docker name (containers `<stack>-<service>`, the network,
 * the volumes) or a published host port. Pulumi replaces by creating the new resource before
 * deleting the old one; Docker then refuses the new one ("name already in use", "port is already
 * allocated") the first time anything forces a replacement (a new image, a changed upload, a
 * port). Deleting first costs the replaced container's downtime, which the balancer rides over.
 */
export const NAMED_RESOURCE = Object.freeze({ deleteBeforeReplace: true }) satisfies pulumi.CustomResourceOptions

/** Resolves topology values to Outputs with container-network addressing. */
export function outputResolver(topology: Topology, secrets: Secrets): Resolver<pulumi.Output<string>> {
  const address = containerAddress(topology)
  return {
    literal: (text) => pulumi.output(text),
    host: (service) => pulumi.output(address.host(service)),
    bindHost: () => pulumi.output(CONTAINER_BIND_HOST),
    port: (service, port) => pulumi.output(String(address.port(service, port))),
    secret: (name, encode) => (encode === 'uri' ? secrets[name].apply(encodeURIComponent) : secrets[name]),
    concat: (parts) => pulumi.all([...parts]).apply((values: string[]) => values.join('')),
  }
}

/** Where the compiled app lives in the image (Dockerfile: WORKDIR /app, `npm run build` → dist/). */
export function appModule(module: string): string {
  return `dist/${module.replace(/\.ts$/, '.js')}`
}

function dockerHealthcheck(service: Service, check: HealthCheck): docker.types.input.ContainerHealthcheck {
  const port = service.ports.find((p) => p.name === check.port)
  if (!port) throw new Error(`${service.name}: health check names unknown port ${check.port}`)
  const tests: Record<HealthCheck['kind'], string[]> = {
    'game-ping': ['CMD', 'node', appModule('app/cli/healthcheck.ts'), '--port', String(port.containerPort)],
    // redis-cli reads the password from REDISCLI_AUTH (set in the container's secret environment):
    // `-a <password>` would put it on a command line, readable by anyone running `ps` on the host.
    'redis-ping': ['CMD-SHELL', `redis-cli -p ${port.containerPort} ping | grep -q PONG`],
    'postgres-ready': ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', String(port.containerPort), '-U', DATABASE_USER, '-d', DATABASE_NAME],
    http: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port.containerPort}${check.kind === 'http' ? check.path : ''}`],
  }
  return { tests: tests[check.kind], interval: '10s', timeout: '5s', retries: 3, startPeriod: '20s' }
}

/** What every component's containers share: the topology, the secrets, the network, the publish address. */
export interface StackContext {
  readonly topology: Topology
  readonly secrets: Secrets
  readonly network: pulumi.Input<string>
  /** Host address published ports bind to (`0.0.0.0` = every interface of the Docker host). */
  readonly publishAddress: string
}

/** Only the shared part of a component's args (so component-specific fields never leak into a container). */
export function contextOf(args: StackContext): StackContext {
  return { topology: args.topology, secrets: args.secrets, network: args.network, publishAddress: args.publishAddress }
}

export interface ContainerOptions extends StackContext {
  readonly service: Service
  readonly image: pulumi.Input<string>
  /** Extra environment (image-specific, e.g. POSTGRES_PASSWORD), resolved values. */
  readonly extraEnv?: Readonly<Record<string, pulumi.Input<string>>>
  /** Command override; app services default to `node dist/<module> <args>`. */
  readonly command?: pulumi.Input<string>[]
  readonly user?: string
  readonly memoryMb?: number
  /** CPU limit in cores (CFS quota); 0 or absent = none. */
  readonly cpus?: number
  readonly volumes?: docker.types.input.ContainerVolume[]
  readonly uploads?: docker.types.input.ContainerUpload[]
}

/** `<stack>-<service>`: the Docker name of a service's container (on the network it is just `<service>`). */
function containerName(service: string): string {
  return `${pulumi.getStack()}-${service}`
}

/** Seconds `pulumi up` waits for a container's health check to pass before it fails the update. */
const WAIT_TIMEOUT_SECONDS = 180

export function containerArgs(options: ContainerOptions): docker.ContainerArgs {
  const { topology, service, secrets } = options
  const resolver = outputResolver(topology, secrets)
  const env: Record<string, pulumi.Input<string>> = { ...options.extraEnv }
  for (const [name, value] of Object.entries(service.env)) env[name] = resolveValue(value, resolver)
  const args = service.args.map((a) => resolveValue(a, resolver))
  const command = options.command ?? (service.app ? [appModule(service.app.module), ...args] : args.length > 0 ? args : undefined)
  return {
    // Docker names are host-wide: prefixed with the stack so dev and loadtest stacks can share a host.
    name: containerName(service.name),
    image: options.image,
    hostname: service.name,
    envs: Object.entries(env).map(([name, value]) => pulumi.interpolate`${name}=${value}`),
    ...(command ? { command } : {}),
    networksAdvanced: [{ name: options.network, aliases: [service.name] }],
    // Only what the topology publishes reaches the host; everything else stays on the private network.
    ports: service.ports
      .filter((p) => p.publishedPort !== undefined)
      .map((p) => ({ internal: p.containerPort, external: p.publishedPort!, ip: options.publishAddress, protocol: 'tcp' })),
    ...(service.health ? { healthcheck: dockerHealthcheck(service, service.health) } : {}),
    // A service counts as created once healthy, so what depends on it starts after that.
    ...(service.health && !service.oneShot ? { wait: true, waitTimeout: WAIT_TIMEOUT_SECONDS } : {}),
    // One-shot jobs retry on failure and are not expected to keep running; services always come back.
    restart: service.oneShot ? 'on-failure' : 'unless-stopped',
    ...(service.oneShot ? { maxRetryCount: 5, mustRun: false } : {}),
    // The stop grace: a plain `docker stop` (default 10 s) and the provider's delete both wait this
    // long after SIGTERM before killing. Without destroyGraceSeconds the provider force-removes
    // (SIGKILL at once): no graceful shutdown, no hand-off of the players' state.
    stopTimeout: service.stopGraceSeconds,
    destroyGraceSeconds: service.stopGraceSeconds,
    init: true,
    ...(options.user ? { user: options.user } : {}),
    ...(options.memoryMb ? { memory: options.memoryMb } : {}),
    ...(options.cpus ? { cpus: String(options.cpus) } : {}),
    ...(options.volumes ? { volumes: options.volumes } : {}),
    ...(options.uploads ? { uploads: options.uploads } : {}),
    logDriver: 'json-file',
    logOpts: { 'max-size': '10m', 'max-file': '3' },
  }
}

/** A stack-scoped named volume (`<stack>-<component>-data`) for a component's state. */
export function dataVolume(component: string, parent: pulumi.Resource, options: pulumi.CustomResourceOptions = {}): docker.Volume {
  return new docker.Volume(`${component}-data`, { name: `${pulumi.getStack()}-${component}-data` }, { ...NAMED_RESOURCE, ...options, parent })
}

/** A public image pulled once and kept on the host (not removed on destroy). */
export function pulledImage(resourceName: string, image: string, parent: pulumi.Resource): docker.RemoteImage {
  return new docker.RemoteImage(resourceName, { name: image, keepLocally: true }, { parent })
}
