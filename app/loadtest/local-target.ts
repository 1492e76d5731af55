/**
 * `--local`: an ephemeral target on this machine, owned by the load test and torn down after it
 * (also on Ctrl-C or failure). `startLocalTarget()` is the one seam the CLI uses:
 *
 * - `appliance` (default): the local appliance of `npm start` (app/local/appliance.ts) — PostgreSQL,
 *   Redis shards, migrations, N game servers, the balancer, Prometheus (scraping every second, with
 *   the generated alert rules) and the exporters when installed; players connect to the balancer.
 * - `servers`: N game servers on in-memory stores and a Prometheus (local-servers.ts): quick to
 *   start, the game server alone.
 *
 * Game servers get PASSWORD_HASH_COST 1024, so that registering thousands of load-test accounts
 * measures the game rather than scrypt.
 */
import type { Target } from './generator.js'
import { GameServerError } from '../errors.js'
import { waitUntil } from '../local/ports.js'

export type LocalStack = 'appliance' | 'servers'

export interface LocalTargetOptions {
  readonly stack: LocalStack
  readonly servers: number
  /** Redis shards (appliance only). */
  readonly redisShards?: number
  /** How the players connect: `ws` gives the servers a WebSocket listener and targets it [tcp]. */
  readonly transport?: 'tcp' | 'ws'
  /** Extra environment for the game servers. */
  readonly env?: Readonly<Record<string, string>>
  readonly readyTimeoutMs?: number
}

export interface LocalTarget {
  readonly stack: LocalStack
  /** Where players connect: the balancer, or every server. */
  readonly targets: readonly Target[]
  /** Prometheus scraping the servers; null when it could not run (figures are then missing). */
  readonly prometheusUrl: string | null
  /** Every process started (for checks that nothing is left running). */
  readonly pids: readonly number[]
  /** Temp dir holding data, configs and logs (deleted by stop). */
  readonly dir: string
  /** Stop everything and delete the temp dir. Idempotent. */
  stop(): Promise<void>
}

/** A load generator is one client address: the per-address connection limit would refuse its players. */
export const LOAD_TEST_SERVER_ENV: Readonly<Record<string, string>> = { PASSWORD_HASH_COST: '1024', MAX_CONNECTIONS_PER_ADDRESS: '0' }

/**
 * Start the local target; one retry (after a full teardown) when the first start fails, because
 * the free ports picked for the processes can be taken by someone else before they bind them.
 */
export async function startLocalTarget(options: LocalTargetOptions): Promise<LocalTarget> {
  const start = async (): Promise<LocalTarget> => {
    if (options.stack === 'servers') {
      const { startLocalServers } = await import('./local-servers.js')
      return startLocalServers(options)
    }
    const { startLocalAppliance } = await import('./local-appliance.js')
    return startLocalAppliance(options)
  }
  try {
    return await start()
  } catch (first) {
    try {
      return await start()
    } catch (second) {
      throw new GameServerError('GS_ERR_LOADTEST_TARGET', `${(second as Error).message} (first attempt: ${(first as Error).message})`, {}, { cause: second })
    }
  }
}

/**
 * Prometheus discovers static targets a few seconds after it is ready: wait until it scrapes every
 * one of `hostPorts` (host:port of the game servers' metrics), so the run's first seconds have
 * server figures too.
 */
export async function awaitScraping(prometheusUrl: string, hostPorts: readonly string[], timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/targets?state=active`)).json()) as { data?: { activeTargets?: Array<{ health: string; scrapeUrl: string }> } }
      const active = body.data?.activeTargets ?? []
      return hostPorts.every((hp) => active.some((t) => t.scrapeUrl.includes(`//${hp}/`) && t.health === 'up'))
    },
    { what: 'Prometheus scraping every game server', timeoutMs, intervalMs: 200 },
  )
}
