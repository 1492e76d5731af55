/**
 * `--local`: an ephemeral target on this machine, owned by the load test and torn down after it
 * (also on Ctrl-C or failure): N game servers (`tsx app/main.ts`, each on free game and metrics
 * ports; PASSWORD_HASH_COST 1024 so that registering thousands of load-test accounts measures the
 * game, not scrypt) and a Prometheus scraping them every second. `startLocalTarget()` is the one seam the CLI
 * uses, so it can switch to the full local appliance (balancer, shards, database) when that exists.
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GameServerError } from '../errors.js'
import { ManagedProcess } from '../local/child-process.js'
import { canConnect, freePort, waitUntil } from '../local/ports.js'
import { PrometheusServer } from '../local/prometheus-server.js'
import type { Target } from './generator.js'

export interface LocalTargetOptions {
  readonly servers: number
  /** Extra environment for the game servers. */
  readonly env?: NodeJS.ProcessEnv
  readonly readyTimeoutMs?: number
}

export interface LocalTarget {
  readonly targets: readonly Target[]
  readonly prometheusUrl: string
  /** Every process started (for checks that nothing is left running). */
  readonly pids: readonly number[]
  /** Temp dir holding Prometheus' config and data (deleted by stop). */
  readonly dir: string
  /** Game servers' own /metrics URLs. */
  readonly metricsUrls: readonly string[]
  /** Stop everything and delete the temp dir. Idempotent. */
  stop(): Promise<void>
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export function prometheusConfig(metricsTargets: readonly string[], ruleFiles: readonly string[] = []): string {
  return [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(ruleFiles.length ? ['rule_files:', ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    '  - job_name: gameserver',
    '    metrics_path: /metrics',
    '    static_configs:',
    `      - targets: [${metricsTargets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n')
}

/** Alert rule files the deployment generates, when present in this checkout. */
function alertRuleFiles(): string[] {
  const candidates = ['dashboards/generated/prometheus/alerts.yml']
  return candidates.map((c) => join(root, c)).filter((p) => existsSync(p))
}

/**
 * The game server entry: app/main.ts (npm run serve) once it starts telemetry itself, else
 * app/loadtest/local-server.ts (the same composition plus telemetry), so the report has server figures.
 */
export function gameServerEntry(): string {
  const main = join(root, 'app', 'main.ts')
  if (!existsSync(main)) {
    throw new GameServerError('GS_ERR_LOADTEST_TARGET', `--local needs the game server entry point ${main} (npm run serve), which this checkout does not have`, { main })
  }
  return readFileSync(main, 'utf8').includes('startTelemetry') ? main : join(root, 'app', 'loadtest', 'local-server.ts')
}

export async function startLocalTarget(options: LocalTargetOptions): Promise<LocalTarget> {
  const main = gameServerEntry()
  const dir = await mkdtemp(join(tmpdir(), 'gs-loadtest-local-'))
  const servers: ManagedProcess[] = []
  let prometheus: PrometheusServer | null = null
  let stopped: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.allSettled(servers.map((s) => s.stop(10_000)))
      await prometheus?.stop()
      await rm(dir, { recursive: true, force: true }).catch(() => {})
    })()
    return stopped
  }
  try {
    const targets: Target[] = []
    const metricsTargets: string[] = []
    for (let i = 0; i < options.servers; i++) {
      const port = await freePort()
      const metricsPort = await freePort()
      const server = new ManagedProcess({
        name: `game-server-${i}:${port}`,
        // node itself with the tsx loader (not the tsx CLI, which would add a grandchild process)
        command: process.execPath,
        args: ['--import', 'tsx', main],
        cwd: root,
        env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: String(port), METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', PASSWORD_HASH_COST: '1024', ...options.env },
      })
      servers.push(server)
      targets.push({ host: '127.0.0.1', port })
      metricsTargets.push(`127.0.0.1:${metricsPort}`)
    }
    await Promise.all(
      servers.map(async (server, i) => {
        try {
          await waitUntil(() => canConnect('127.0.0.1', targets[i]!.port, 500), {
            what: server.name,
            timeoutMs: options.readyTimeoutMs ?? 30_000,
            intervalMs: 100,
            abortIf: () => (server.running ? undefined : server.exitDescription()),
          })
        } catch (err) {
          throw server.startError((err as Error).message, err)
        }
      }),
    )
    prometheus = await PrometheusServer.start({ dir: join(dir, 'prometheus'), config: prometheusConfig(metricsTargets, alertRuleFiles()) })
    // Prometheus discovers static targets a few seconds after it is ready: wait until it scrapes
    // every server, so the run's first seconds have server figures too
    const promUrl = prometheus.url
    await waitUntil(
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/targets?state=active`)).json()) as { data?: { activeTargets?: Array<{ health: string }> } }
        const active = body.data?.activeTargets ?? []
        return active.length === metricsTargets.length && active.every((t) => t.health === 'up')
      },
      { what: 'Prometheus scraping every game server', timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 200 },
    )
    const pids = [...servers.map((s) => s.pid), prometheus.process.pid].filter((p): p is number => p !== undefined)
    return { targets, prometheusUrl: prometheus.url, pids, dir, metricsUrls: metricsTargets.map((t) => `http://${t}/metrics`), stop }
  } catch (err) {
    await stop()
    if (err instanceof GameServerError && err.code === 'GS_ERR_LOADTEST_TARGET') throw err
    throw new GameServerError('GS_ERR_LOADTEST_TARGET', `--local target failed to start: ${(err as Error).message}`, {}, { cause: err })
  }
}
