/**
 * The local appliance: the topology (app/topology) as processes on loopback — PostgreSQL (initdb in
 * a data directory we own), K redis-server shards, the exporters and Prometheus when installed,
 * migrations, N game servers and the balancer — started level by level along `dependsOn`, each
 * level only once the previous one passed its health checks. Ready once a PING through the balancer
 * is answered. `stop()` stops everything it started in reverse order; nothing is left behind.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { chmod, mkdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ClientConnection } from '../client/connection.js'
import { GameServerError } from '../errors.js'
import type { Logger } from '../logger.js'
import { FrameType } from '../protocol/types.js'
import { prometheusConfig } from '../topology/prometheus.js'
import { LOCAL_BIND_HOST, resolveEnv, resolveValue, stringResolver } from '../topology/resolve.js'
import type { HealthCheck, SecretName, Service, Topology } from '../topology/model.js'
import { toYaml } from '../topology/yaml.js'
import { ManagedProcess, runCommand } from './child-process.js'
import { planLocal, type LocalStep } from './local-plan.js'
import { freePort, waitUntil } from './ports.js'
import { canConnect } from '../tcp.js'
import { PostgresServer } from './postgres-server.js'
import { PrometheusServer } from './prometheus-server.js'
import { RedisServer } from './redis-server.js'
import { findProgram, isRoot, postgresBinDir, requireProgram } from './system.js'

export const REPOSITORY_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')

export interface ApplianceOptions {
  readonly topology: Topology
  /** Data directory (Redis, Prometheus, logs/, and the PostgreSQL cluster unless `postgresDir`). */
  readonly dir: string
  /** The PostgreSQL cluster's directory; unset: see postgresHome(). */
  readonly postgresDir?: string
  readonly logger: Logger
  /** Per service: how long it may take to become healthy. */
  readonly readyTimeoutMs: number
  /** Run Prometheus and the exporters when installed. */
  readonly observability: boolean
  /** Alert rules file content for Prometheus (dashboards/generated/prometheus/alerts.yml). */
  readonly alertRules?: string
}

interface Started {
  readonly service: Service
  readonly pid: number | undefined
  readonly process: ManagedProcess | undefined
  stop(): Promise<void>
}

export interface ApplianceEndpoints {
  /** host:port of the balancer: where players connect. */
  readonly game: string
  /** host:port of the balancer's WebSocket front: where browsers connect (path WS_PATH). */
  readonly webSocket: string
  /** The playground page, served through the WebSocket front. */
  readonly playground: string
  readonly prometheus: string | undefined
  /** Metrics URL per scraped app process. */
  readonly metrics: Readonly<Record<string, string>>
  readonly database: string
  readonly redis: readonly string[]
}

export class Appliance {
  private readonly started: Started[] = []
  private readonly logs: WriteStream[] = []
  private stopping: Promise<void> | null = null
  readonly skipped: { service: string; reason: string }[] = []
  /** Called when a long-running process exits on its own (not during stop()). */
  onUnexpectedExit: (service: string, description: string) => void = () => {}

  private constructor(
    readonly topology: Topology,
    private readonly options: ApplianceOptions,
    private readonly ports: ReadonlyMap<string, number>,
    private readonly secrets: Readonly<Record<SecretName, string>>,
    /** Where the PostgreSQL cluster lives (see postgresHome). */
    readonly postgresDir: string,
  ) {}

  /** Start the whole topology; on any failure everything already started is stopped again. */
  static async start(options: ApplianceOptions): Promise<Appliance> {
    await mkdir(join(options.dir, 'logs'), { recursive: true })
    const postgresDir = await postgresHome(options.dir, options.postgresDir)
    if (postgresDir !== join(options.dir, 'postgres')) options.logger.info({ postgresDir, dir: options.dir }, 'PostgreSQL data outside the appliance directory')
    const ports = await allocatePorts(options.topology)
    const secrets = { postgresPassword: token(), redisPassword: token(), grafanaAdminPassword: token(), balancerAdminToken: token() }
    const appliance = new Appliance(options.topology, options, ports, secrets, postgresDir)
    const plan = planLocal(options.topology, {
      has: (program) => (program === 'initdb' ? postgresBinDir() !== undefined : findProgram(program) !== undefined),
      observability: options.observability,
    })
    try {
      for (const step of plan.filter((s) => s.runner.kind === 'skipped')) {
        const reason = (step.runner as { reason: string }).reason
        appliance.skipped.push({ service: step.service.name, reason })
        options.logger.info({ service: step.service.name, reason }, 'not started locally')
      }
      const levels = [...new Set(plan.map((s) => s.level))].sort((a, b) => a - b)
      for (const level of levels) {
        const steps = plan.filter((s) => s.level === level && s.runner.kind !== 'skipped')
        const results = await Promise.allSettled(steps.map((step) => appliance.startStep(step)))
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
        if (failed) throw failed.reason
      }
    } catch (err) {
      await appliance.stop()
      if (err instanceof GameServerError && (err.code === 'GS_ERR_APPLIANCE_START' || err.code === 'GS_ERR_DEPENDENCY_MISSING')) throw err
      throw new GameServerError('GS_ERR_APPLIANCE_START', `the local appliance did not start: ${(err as Error).message}`, {}, { cause: err })
    }
    return appliance
  }

  get endpoints(): ApplianceEndpoints {
    const runs = (name: string) => this.started.some((s) => s.service.name === name)
    const metrics: Record<string, string> = {}
    for (const s of this.started) if (s.service.scrape) metrics[s.service.name] = `http://${LOCAL_BIND_HOST}:${this.port(s.service.name, s.service.scrape.port)}${s.service.scrape.path}`
    return {
      game: `${LOCAL_BIND_HOST}:${this.port('balancer', 'game')}`,
      webSocket: `${LOCAL_BIND_HOST}:${this.port('balancer', 'ws')}`,
      playground: `http://${LOCAL_BIND_HOST}:${this.port('balancer', 'ws')}/`,
      prometheus: runs('prometheus') ? `http://${LOCAL_BIND_HOST}:${this.port('prometheus', 'http')}` : undefined,
      metrics,
      database: `postgres://game@${LOCAL_BIND_HOST}:${this.port('postgres', 'postgres')}/game`,
      redis: this.topology.services.filter((s) => s.kind === 'redis').map((s) => `redis://${LOCAL_BIND_HOST}:${this.port(s.name, 'redis')}`),
    }
  }

  /** The balancer admin interface's URL and bearer token (BALANCER_ADMIN_TOKEN) of this run. */
  get admin(): { readonly url: string; readonly token: string } {
    return { url: `http://${LOCAL_BIND_HOST}:${this.port('balancer', 'admin')}`, token: this.secrets.balancerAdminToken }
  }

  /** Loopback port of a service's named port. */
  port(service: string, port: string): number {
    const found = this.ports.get(`${service}.${port}`)
    if (found === undefined) throw new GameServerError('GS_ERR_TOPOLOGY', `no port ${service}.${port}`, { service, port })
    return found
  }

  /** The process of a service (tests kill servers through it). */
  process(service: string): ManagedProcess | undefined {
    return this.started.find((s) => s.service.name === service)?.process
  }

  /** Pids of every process started and still tracked. */
  pids(): number[] {
    return this.started.map((s) => s.pid).filter((pid): pid is number => pid !== undefined)
  }

  /** Stop everything in reverse start order. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const errors: unknown[] = []
      for (const started of [...this.started].reverse()) {
        try {
          await started.stop()
        } catch (err) {
          errors.push(err)
        }
      }
      await Promise.all(this.logs.map((log) => new Promise<void>((done) => log.end(done))))
      if (errors.length > 0) throw new AggregateError(errors, 'some appliance processes failed to stop')
    })()
    return this.stopping
  }

  private resolver() {
    return stringResolver({
      host: () => LOCAL_BIND_HOST,
      port: (service, port) => this.port(service, port),
      secret: (name) => this.secrets[name],
      bindHost: LOCAL_BIND_HOST,
    })
  }

  private logFor(service: string): (line: string) => void {
    const log = createWriteStream(join(this.options.dir, 'logs', `${service}.log`), { flags: 'a' })
    this.logs.push(log)
    return (line) => log.write(line + '\n')
  }

  private childEnv(service: Service): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG ?? 'C.UTF-8', TZ: process.env.TZ }
    return { ...base, ...resolveEnv(service, this.resolver()) }
  }

  private async startStep(step: LocalStep): Promise<void> {
    const { service, runner } = step
    const timeoutMs = this.options.readyTimeoutMs
    const onLine = this.logFor(service.name)
    this.options.logger.info({ service: service.name }, 'starting')
    switch (runner.kind) {
      case 'postgres': {
        const server = await PostgresServer.start({ dir: this.postgresDir, port: this.port(service.name, 'postgres'), database: 'game', readyTimeoutMs: timeoutMs, onLine })
        this.track(service, server.process, () => server.stop())
        // The same role, password and database the containers get (trust auth on loopback).
        await server.psql(
          `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'game') THEN CREATE ROLE game LOGIN; END IF; END $$; ` +
            `ALTER ROLE game PASSWORD '${this.secrets.postgresPassword}'; ALTER DATABASE game OWNER TO game;`,
          'postgres',
        )
        break
      }
      case 'redis': {
        const server = await RedisServer.start({ dir: join(this.options.dir, service.name), port: this.port(service.name, 'redis'), password: this.secrets.redisPassword, readyTimeoutMs: timeoutMs, onLine })
        this.track(service, server.process, () => server.stop())
        break
      }
      case 'prometheus': {
        const config = prometheusConfig(this.topology, { host: () => LOCAL_BIND_HOST, port: (s, p) => this.port(s, p) }, { ruleFiles: this.options.alertRules ? ['alerts.yml'] : [] })
        const server = await PrometheusServer.start({
          dir: join(this.options.dir, service.name),
          port: this.port(service.name, 'http'),
          config: toYaml(config),
          ...(this.options.alertRules ? { files: { 'alerts.yml': this.options.alertRules } } : {}),
          readyTimeoutMs: timeoutMs,
          onLine,
        })
        this.track(service, server.process, () => server.stop())
        break
      }
      case 'program': {
        const command = requireProgram(runner.program, runner.debianPackage)
        const child = new ManagedProcess({ name: service.name, command, args: service.args.map((a) => resolveValue(a, this.resolver())), env: this.childEnv(service), onLine })
        this.track(service, child, () => child.stop())
        await this.waitHealthy(service, child, timeoutMs)
        break
      }
      case 'app': {
        const args = ['--import', 'tsx', runner.module, ...service.args.map((a) => resolveValue(a, this.resolver()))]
        if (service.oneShot && service.kind !== 'load-generator') {
          const output = await runCommand(process.execPath, args, { cwd: REPOSITORY_ROOT, env: this.childEnv(service), timeoutMs })
          for (const line of output.split('\n')) if (line) onLine(line)
          break
        }
        const child = new ManagedProcess({ name: service.name, command: process.execPath, args, cwd: REPOSITORY_ROOT, env: this.childEnv(service), onLine })
        // The same grace a container gets before it is killed (shutdown deadline + margin).
        this.track(service, child, () => child.stop(service.stopGraceSeconds * 1000))
        if (!service.oneShot) await this.waitHealthy(service, child, timeoutMs)
        break
      }
      case 'skipped':
        break
    }
    this.options.logger.info({ service: service.name }, 'ready')
  }

  private track(service: Service, child: ManagedProcess, stop: () => Promise<void>): void {
    this.started.push({ service, pid: child.pid, process: child, stop })
    void child.waitForExit().then(() => {
      if (this.stopping === null && !service.oneShot) this.onUnexpectedExit(service.name, child.exitDescription())
    })
  }

  private async waitHealthy(service: Service, child: ManagedProcess, timeoutMs: number): Promise<void> {
    const check = service.health
    if (!check) return
    try {
      await waitUntil(() => this.probe(service, check), {
        what: `${service.name} health check (${check.kind})`,
        timeoutMs,
        intervalMs: 100,
        abortIf: () => (child.running ? undefined : child.exitDescription()),
      })
    } catch (err) {
      throw child.startError((err as Error).message, err)
    }
  }

  /** One health check, the local equivalent of the container's. */
  probe(service: Service, check: HealthCheck): Promise<boolean> {
    const port = this.port(service.name, check.port)
    switch (check.kind) {
      case 'game-ping':
        return pingOnce(LOCAL_BIND_HOST, port)
      case 'http':
        return fetch(`http://${LOCAL_BIND_HOST}:${port}${check.path}`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        )
      case 'redis-ping':
      case 'postgres-ready':
        return canConnect(LOCAL_BIND_HOST, port, 1000)
    }
  }
}

/** A PING answered by a PONG with the same seq (what app/cli/healthcheck.ts does in containers). */
export async function pingOnce(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  let connection: ClientConnection | undefined
  try {
    connection = await ClientConnection.connect({ host, port, connectTimeoutMs: timeoutMs, timeoutMs })
    const seq = connection.send(FrameType.PING, Buffer.from('appliance'))
    await connection.waitFor((f) => f.type === FrameType.PONG && f.seq === seq)
    return true
  } catch {
    return false
  } finally {
    await connection?.close()
  }
}

/** Loopback ports: the published ones as configured (checked free), every other one picked free. */
async function allocatePorts(topology: Topology): Promise<Map<string, number>> {
  const ports = new Map<string, number>()
  for (const service of topology.services) {
    for (const port of service.ports) {
      let value = port.publishedPort
      if (value !== undefined) {
        if (await canConnect(LOCAL_BIND_HOST, value, 500)) {
          throw new GameServerError('GS_ERR_APPLIANCE_START', `port ${value} (${service.name} ${port.name}) is already in use; choose another (BALANCER_PORT, BALANCER_WS_PORT, PROMETHEUS_PORT) or stop what uses it`, {
            service: service.name,
            port: value,
          })
        }
      } else {
        const taken = new Set(ports.values())
        do value = await freePort(LOCAL_BIND_HOST)
        while (taken.has(value))
      }
      ports.set(`${service.name}.${port.name}`, value)
    }
  }
  return ports
}

/**
 * Where the PostgreSQL cluster lives. PostgreSQL refuses to run as root, so as root it runs as the
 * `postgres` user, which must be able to reach its directory: every ancestor must be searchable by
 * others. A clone under /root (mode 0700) is not, so by default the cluster then goes to
 * `/var/lib/game-appliance/<id>/postgres`, the id derived from the appliance directory so that each
 * clone keeps its own cluster across runs. A configured directory must be reachable.
 */
export async function postgresHome(dir: string, configured: string | undefined): Promise<string> {
  const inside = join(dir, 'postgres')
  if (!isRoot()) return configured || inside
  if (configured) {
    const blocked = await unsearchableAncestor(configured)
    if (blocked !== undefined) {
      throw new GameServerError('GS_ERR_APPLIANCE_START', `the postgres user cannot reach APPLIANCE_POSTGRES_DIR=${configured}: ${blocked} is not searchable by others; choose a directory under /var/lib, /var/tmp or /tmp, or leave it unset`, { dir: configured, parent: blocked })
    }
    return configured
  }
  if ((await unsearchableAncestor(dir)) === undefined) {
    // Search permission (not read) on the appliance directory itself, for the postgres user.
    const mode = (await stat(dir)).mode & 0o7777
    if ((mode & 0o001) === 0) await chmod(dir, mode | 0o011)
    return inside
  }
  const id = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12)
  const home = join(OUTSIDE_POSTGRES_ROOT, id)
  await mkdir(home, { recursive: true, mode: 0o711 })
  await chmod(OUTSIDE_POSTGRES_ROOT, 0o711)
  return join(home, 'postgres')
}

/** Where a root-owned appliance whose directory the postgres user cannot reach keeps its cluster. */
export const OUTSIDE_POSTGRES_ROOT = '/var/lib/game-appliance'

/** The first ancestor of `dir` (not `dir` itself) that others cannot search, if any. */
async function unsearchableAncestor(dir: string): Promise<string | undefined> {
  for (let parent = dirname(resolve(dir)); ; parent = dirname(parent)) {
    const mode = await stat(parent).then((s) => s.mode, () => undefined)
    if (mode !== undefined && (mode & 0o001) === 0) return parent
    if (parent === dirname(parent)) return undefined
  }
}

function token(): string {
  return randomBytes(16).toString('hex')
}
