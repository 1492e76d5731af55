// `npm start`: the local appliance — the whole topology as processes on loopback (see
// app/local/appliance.ts). Prints the endpoints once a PING through the balancer is answered;
// Ctrl-C (SIGINT) or SIGTERM stops everything it started, in reverse order.
//   APPLIANCE_SERVERS=3 APPLIANCE_REDIS_SHARDS=2 BALANCER_PORT=7000 npm start
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isGameServerError } from '../errors.js'
import { createLogger } from '../logger.js'
import { Appliance, REPOSITORY_ROOT } from '../local/appliance.js'
import { freePort } from '../local/ports.js'
import { buildTopology, topologyOptionsFromConfig } from '../topology/index.js'
import { commandLine, loadConfigOrExit } from './command.js'

const USAGE = `usage: npm start [-- --help]

The local appliance: PostgreSQL, the Redis shards, APPLIANCE_SERVERS game servers, the balancer
and (when installed) Prometheus and the exporters, as processes on loopback; prints the endpoints
once a PING through the balancer is answered. Ctrl-C stops everything. Settings are environment
variables (docs/CONFIG.md, APPLIANCE_*). Exit codes: 0 stopped, 1 a service failed, 2 bad configuration.`

async function main(): Promise<void> {
  commandLine('start', USAGE)
  const config = loadConfigOrExit('start')
  const logger = createLogger({ level: config.server.logLevel, name: 'appliance' })
  const options = topologyOptionsFromConfig(config)
  const topology = buildTopology({
    ...options,
    balancerPort: options.balancerPort || (await freePort()),
    balancerWebSocketPort: options.balancerWebSocketPort || (await freePort()),
    prometheusPort: options.prometheusPort || (await freePort()),
  })
  const dir = resolve(REPOSITORY_ROOT, config.appliance.dir)
  console.log(`starting ${options.servers} game servers, ${options.redisShards} Redis shards, PostgreSQL${config.appliance.prometheus ? ', Prometheus' : ''} (data in ${dir}) …`)
  let appliance: Appliance
  try {
    appliance = await Appliance.start({
      topology,
      dir,
      ...(config.appliance.postgresDir ? { postgresDir: resolve(config.appliance.postgresDir) } : {}),
      logger,
      readyTimeoutMs: config.appliance.readyTimeoutMs,
      observability: config.appliance.prometheus,
      alertRules: readFileSync(join(REPOSITORY_ROOT, 'dashboards/generated/prometheus/alerts.yml'), 'utf8'),
    })
  } catch (err) {
    console.error(`start: ${isGameServerError(err) ? `${err.code}: ` : ''}${(err as Error).message}`)
    console.error(`logs: ${join(dir, 'logs')}`)
    process.exit(1)
  }
  appliance.onUnexpectedExit = (service, description) => console.error(`! ${service} ${description} (log: ${join(dir, 'logs', `${service}.log`)})`)
  const endpoints = appliance.endpoints
  // the admin token is a secret: a file only this user can read, never the terminal or the logs
  const adminTokenFile = join(dir, 'balancer-admin-token')
  writeFileSync(adminTokenFile, `${appliance.admin.token}\n`, { mode: 0o600 })
  const lines = [
    '',
    'game appliance ready',
    `  game (balancer)   ${endpoints.game}        e.g. npm run loadtest -- --target ${endpoints.game} --players 50 --duration 30`,
    `  playground        ${endpoints.playground}   (browsers: WebSocket ws://${endpoints.webSocket}/ws)`,
    `  prometheus        ${endpoints.prometheus ?? '(not running)'}`,
    `  database          ${endpoints.database}${appliance.postgresDir === join(dir, 'postgres') ? '' : ` (data in ${appliance.postgresDir})`}`,
    ...endpoints.redis.map((url, i) => `  redis shard ${i}     ${url}`),
    ...Object.entries(endpoints.metrics).map(([name, url]) => `  metrics ${name.padEnd(10)} ${url}`),
    `  balancer admin    ${appliance.admin.url}   (Authorization: Bearer <the token in ${adminTokenFile}, readable by this user only>)`,
    ...appliance.skipped.map((s) => `  (not started: ${s.service} — ${s.reason})`),
    `  logs              ${join(dir, 'logs')}`,
    'Ctrl-C stops everything.',
    '',
  ]
  console.log(lines.join('\n'))
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    console.log(`${signal}: stopping …`)
    appliance.stop().then(
      () => {
        console.log('stopped')
        process.exit(0)
      },
      (err: unknown) => {
        console.error(`stop: ${(err as Error).message}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

void main()
