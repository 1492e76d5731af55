/**
 * The `appliance` local target: the local appliance of `npm start` (app/local/appliance.ts) in a
 * temp dir, with free ports, Prometheus scraping every second, load-test server settings; players
 * connect to its balancer.
 */
import { readFileSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../config/index.js'
import { GameServerError } from '../errors.js'
import { silentLogger } from '../logger.js'
import { Appliance, REPOSITORY_ROOT } from '../local/appliance.js'
import { freePort } from '../local/ports.js'
import { buildTopology, DEFAULT_TOPOLOGY_OPTIONS } from '../topology/index.js'
import { parseTarget } from './cli-args.js'
import { awaitScraping, LOAD_TEST_SERVER_ENV, type LocalTarget, type LocalTargetOptions } from './local-target.js'

/** Each service may take as long as the config table gives the local appliance (APPLIANCE_READY_TIMEOUT_MS). */
const READY_TIMEOUT_MS = loadConfig({}).appliance.readyTimeoutMs
/** Redis shards of a --local appliance when --local-redis-shards is not given. */
const LOCAL_REDIS_SHARDS = 1

export async function startLocalAppliance(options: LocalTargetOptions): Promise<LocalTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-loadtest-local-'))
  // PostgreSQL runs as its own user and must be able to reach its data dir inside this one
  await chmod(dir, 0o755)
  let appliance: Appliance | null = null
  let stopped: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await appliance?.stop()
      await rm(dir, { recursive: true, force: true }).catch(() => {})
    })()
    return stopped
  }
  try {
    const topology = buildTopology({
      ...DEFAULT_TOPOLOGY_OPTIONS,
      servers: options.servers,
      redisShards: options.redisShards ?? LOCAL_REDIS_SHARDS,
      balancerPort: await freePort(),
      balancerWebSocketPort: await freePort(),
      prometheusPort: await freePort(),
      logLevel: process.env['LOG_LEVEL'] ?? 'warn',
      scrapeIntervalSeconds: 1,
      serverEnv: { ...LOAD_TEST_SERVER_ENV, ...options.env },
      // every virtual player comes from this host's one address
      balancerMaxConnectionsPerAddress: 0,
    })
    appliance = await Appliance.start({
      topology,
      dir,
      logger: silentLogger,
      readyTimeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
      observability: true,
      alertRules: readFileSync(join(REPOSITORY_ROOT, 'dashboards', 'generated', 'prometheus', 'alerts.yml'), 'utf8'),
    })
    const endpoints = appliance.endpoints
    const serverMetrics = Object.entries(endpoints.metrics)
      .filter(([service]) => topology.services.some((s) => s.name === service && s.kind === 'game-server'))
      .map(([, url]) => new URL(url).host)
    if (endpoints.prometheus !== undefined) await awaitScraping(endpoints.prometheus, serverMetrics, options.readyTimeoutMs ?? READY_TIMEOUT_MS)
    const target = options.transport === 'ws' ? { ...parseTarget(endpoints.webSocket), transport: 'ws' as const } : parseTarget(endpoints.game)
    return { stack: 'appliance', targets: [target], prometheusUrl: endpoints.prometheus ?? null, pids: appliance.pids(), dir, stop }
  } catch (err) {
    await stop()
    throw new GameServerError('GS_ERR_LOADTEST_TARGET', `--local appliance failed to start: ${(err as Error).message}`, {}, { cause: err })
  }
}
