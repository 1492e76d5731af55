/**
 * `--local --local-stack servers`: the light local target — N game servers (`app/main.ts` with the
 * tsx loader, each on free game and metrics ports, in-memory stores) and a Prometheus scraping them
 * every second with the generated alert rules. No balancer, database or Redis: quick to start, for
 * measuring the game server alone.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GameServerError } from '../errors.js'
import { ManagedProcess } from '../local/child-process.js'
import { freePort, waitUntil } from '../local/ports.js'
import { canConnect } from '../tcp.js'
import { PrometheusServer } from '../local/prometheus-server.js'
import type { Target } from './generator.js'
import { awaitScraping, LOAD_TEST_SERVER_ENV, type LocalTarget, type LocalTargetOptions } from './local-target.js'

/** How long each locally started server may take to listen and be scraped. */
const READY_TIMEOUT_MS = 30_000

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

function prometheusConfig(metricsTargets: readonly string[], ruleFiles: readonly string[] = []): string {
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

export async function startLocalServers(options: LocalTargetOptions): Promise<LocalTarget> {
  const main = join(root, 'app', 'main.ts')
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
      const webSocketPort = options.transport === 'ws' ? await freePort() : null
      const webSocketEnv = webSocketPort === null ? {} : { WS_PORT: String(webSocketPort), WS_HOST: '127.0.0.1' }
      const server = new ManagedProcess({
        name: `game-server-${i}:${port}`,
        // node itself with the tsx loader (not the tsx CLI, which would add a grandchild process)
        command: process.execPath,
        args: ['--import', 'tsx', main],
        cwd: root,
        env: { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: String(port), METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', ...LOAD_TEST_SERVER_ENV, ...webSocketEnv, ...options.env },
      })
      servers.push(server)
      targets.push(webSocketPort === null ? { host: '127.0.0.1', port } : { host: '127.0.0.1', port: webSocketPort, transport: 'ws' })
      metricsTargets.push(`127.0.0.1:${metricsPort}`)
    }
    await Promise.all(
      servers.map(async (server, i) => {
        try {
          await waitUntil(() => canConnect('127.0.0.1', targets[i]!.port, 500), {
            what: server.name,
            timeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
            intervalMs: 100,
            abortIf: () => (server.running ? undefined : server.exitDescription()),
          })
        } catch (err) {
          throw server.startError((err as Error).message, err)
        }
      }),
    )
    prometheus = await PrometheusServer.start({ dir: join(dir, 'prometheus'), config: prometheusConfig(metricsTargets, alertRuleFiles()) })
    await awaitScraping(prometheus.url, metricsTargets, options.readyTimeoutMs ?? READY_TIMEOUT_MS)
    const pids = [...servers.map((s) => s.pid), prometheus.process.pid].filter((p): p is number => p !== undefined)
    return { stack: 'servers', targets, prometheusUrl: prometheus.url, pids, dir, stop }
  } catch (err) {
    await stop()
    if (err instanceof GameServerError && err.code === 'GS_ERR_LOADTEST_TARGET') throw err
    throw new GameServerError('GS_ERR_LOADTEST_TARGET', `--local target failed to start: ${(err as Error).message}`, {}, { cause: err })
  }
}
