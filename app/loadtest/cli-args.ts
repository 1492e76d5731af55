/**
 * `npm run loadtest` arguments: parsed with node:util parseArgs, validated into `LoadTestArgs`;
 * every problem is a GS_ERR_LOADTEST_ARGS naming the flag.
 */
import { parseArgs } from 'node:util'
import { GameServerError } from '../errors.js'
import type { Target } from './generator.js'
import type { LocalStack } from './local-target.js'
import { MAX_DURATION_SECONDS, MAX_PLAYERS } from './scenario.js'
import { parseThreshold, SERVER_METRICS, type Threshold } from './thresholds.js'

export const USAGE = `Usage: npm run loadtest -- [options]

Drive virtual players against a game server (or balancer) and report throughput, RTT
percentiles, errors and disconnects. Exit code: 0 pass, 1 a threshold (or the capacity target)
failed, 2 bad arguments, 3 the run could not be done (target unreachable, worker failure).

Target (one of):
  --target HOST:PORT        server or balancer to load; repeat or comma-separate for several
  --transport tcp|ws        how the players connect [tcp]; ws: over WebSocket (binary messages, path /ws),
                            --target then names WebSocket ports (WS_PORT, BALANCER_WS_PORT); --local
                            starts its servers with a WebSocket listener and loads those
  --local                   start an ephemeral local target, run, tear it down (also on Ctrl-C / failure)
  --local-stack KIND        appliance: the local appliance of npm start (PostgreSQL, Redis shards, game
                            servers, balancer, Prometheus); servers: game servers + Prometheus only [appliance]
  --local-servers N         game servers --local starts [2]
  --local-redis-shards K    Redis shards of --local-stack appliance [1]

Load:
  --scenario NAME|FILE      smoke | steady | spike | soak-short, or a JSON file [steady]
  --players N               peak players (arrival scenarios: cap on concurrent players)
  --duration SECONDS        run length (max ${MAX_DURATION_SECONDS})
  --workers W               generator threads [1]; raise when the report says the generator was the bottleneck

Verdict and output:
  --threshold EXPR          pass/fail rule, repeatable: 'p99<5ms', 'p999<=20ms', 'error_rate<1%',
                            'errors==0', 'disconnects==0', 'rps>=1000'; with server figures (--local or
                            --prometheus): 'alerts==0', 'server_frame_p95<10ms', 'server_loop_delay_p99<50ms',
                            'server_cpu<1.5'
  --out DIR                 write DIR/report.json and DIR/report.html
  --prometheus URL          read server figures (frame p95, CPU, event-loop delay, alerts) from this Prometheus
  --quiet                   no live progress line

Capacity search (steps the player count up until the target breaks):
  --capacity                enable; the target is --target-p99-ms, --target-error-rate and/or --threshold
  --target-p99-ms X         p99 RTT target in ms
  --target-error-rate R     error-rate target (fraction, e.g. 0.01)
  --start-players N         first step [10]
  --step-players N          added per step [start-players]
  --step-seconds S          length of each step [10]
  --max-players N           stop after this step [${MAX_PLAYERS}]

  -h, --help                this text
`

interface CapacityArgs {
  readonly startPlayers: number
  readonly stepPlayers: number
  readonly stepSeconds: number
  readonly maxPlayers: number
}

export interface LoadTestArgs {
  readonly help: boolean
  readonly targets: readonly Target[]
  /** How the players connect (--transport). */
  readonly transport: 'tcp' | 'ws'
  readonly local: boolean
  readonly localStack: LocalStack
  readonly localServers: number
  readonly localRedisShards: number
  readonly scenario: string
  readonly players?: number
  readonly durationSeconds?: number
  readonly workers: number
  readonly thresholds: readonly Threshold[]
  readonly out?: string
  readonly prometheusUrl?: string
  readonly quiet: boolean
  readonly capacity?: CapacityArgs
}

function argError(message: string, flag: string): never {
  throw new GameServerError('GS_ERR_LOADTEST_ARGS', `${message} (see --help)`, { flag })
}

function integer(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) argError(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`, flag)
  return n
}

function decimal(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(n) || n <= min || n > max) argError(`--${flag} must be a number > ${min} and <= ${max}, got "${raw}"`, flag)
  return n
}

export function parseTarget(raw: string): Target {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(raw.trim())
  const port = match ? Number(match[2]) : NaN
  if (!match || match[1] === '' || port < 1 || port > 65535) argError(`--target must be HOST:PORT with a port from 1 to 65535, got "${raw}"`, 'target')
  return { host: match[1]!, port }
}

export function parseLoadTestArgs(argv: readonly string[]): LoadTestArgs {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        target: { type: 'string', multiple: true },
        transport: { type: 'string' },
        local: { type: 'boolean' },
        'local-servers': { type: 'string' },
        'local-stack': { type: 'string' },
        'local-redis-shards': { type: 'string' },
        scenario: { type: 'string' },
        players: { type: 'string' },
        duration: { type: 'string' },
        workers: { type: 'string' },
        threshold: { type: 'string', multiple: true },
        out: { type: 'string' },
        prometheus: { type: 'string' },
        quiet: { type: 'boolean' },
        capacity: { type: 'boolean' },
        'target-p99-ms': { type: 'string' },
        'target-error-rate': { type: 'string' },
        'start-players': { type: 'string' },
        'step-players': { type: 'string' },
        'step-seconds': { type: 'string' },
        'max-players': { type: 'string' },
      },
    }))
  } catch (err) {
    const flag = /'(-{1,2}[^']+)'/.exec((err as Error).message)?.[1] ?? 'argv'
    argError((err as Error).message.split('\n')[0]!, flag.replace(/^-+/, ''))
  }
  if (values.help) return { help: true, targets: [], transport: 'tcp', local: false, localStack: 'appliance', localServers: 2, localRedisShards: 1, scenario: 'steady', workers: 1, thresholds: [], quiet: false }
  const transport = values.transport ?? 'tcp'
  if (transport !== 'tcp' && transport !== 'ws') argError(`--transport must be tcp or ws, got "${transport}"`, 'transport')
  const targets = (values.target ?? []).flatMap((t) => t.split(',')).filter((t) => t.trim() !== '').map((t): Target => ({ ...parseTarget(t), ...(transport === 'ws' ? { transport: 'ws' as const } : {}) }))
  const local = values.local ?? false
  if (local && targets.length > 0) argError('--local and --target are exclusive: --local starts its own target', 'target')
  if (!local && targets.length === 0) argError('--target HOST:PORT is required (or --local)', 'target')
  for (const flag of ['local-servers', 'local-stack', 'local-redis-shards'] as const) if (!local && values[flag] !== undefined) argError(`--${flag} needs --local`, flag)
  const localStack = values['local-stack'] ?? 'appliance'
  if (localStack !== 'appliance' && localStack !== 'servers') argError(`--local-stack must be appliance or servers, got "${localStack}"`, 'local-stack')
  if (localStack === 'servers' && values['local-redis-shards'] !== undefined) argError('--local-redis-shards needs --local-stack appliance', 'local-redis-shards')
  const thresholds = (values.threshold ?? []).map((t) => {
    try {
      return parseThreshold(t)
    } catch (err) {
      argError(`--threshold: ${(err as Error).message}`, 'threshold')
    }
  })
  let prometheusUrl = values.prometheus
  if (prometheusUrl !== undefined) {
    try {
      const url = new URL(prometheusUrl)
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
      prometheusUrl = url.href.replace(/\/$/, '')
    } catch {
      argError(`--prometheus must be an http(s) URL, got "${values.prometheus}"`, 'prometheus')
    }
  }
  if (local && prometheusUrl !== undefined) argError('--prometheus is not needed with --local (it starts its own)', 'prometheus')
  const serverSide = thresholds.find((t) => SERVER_METRICS.includes(t.metric))
  if (!local && prometheusUrl === undefined && serverSide) argError(`threshold '${serverSide.source}' needs server figures: add --prometheus URL (or use --local)`, 'threshold')
  const capacityFlags = ['target-p99-ms', 'target-error-rate', 'start-players', 'step-players', 'step-seconds', 'max-players'] as const
  let capacity: CapacityArgs | undefined
  const extraThresholds: Threshold[] = []
  if (values.capacity) {
    const p99 = decimal('target-p99-ms', values['target-p99-ms'], 0, 600_000)
    const errorRate = decimal('target-error-rate', values['target-error-rate'], 0, 1)
    if (p99 !== undefined) extraThresholds.push(parseThreshold(`p99<=${p99}ms`))
    if (errorRate !== undefined) extraThresholds.push(parseThreshold(`error_rate<=${errorRate}`))
    if (extraThresholds.length + thresholds.length === 0) argError('--capacity needs a target: --target-p99-ms, --target-error-rate or --threshold', 'capacity')
    if (values.players !== undefined) argError('--capacity steps the player count itself: use --start-players/--step-players/--max-players instead of --players', 'players')
    const startPlayers = integer('start-players', values['start-players'], 1, MAX_PLAYERS) ?? 10
    const maxPlayers = integer('max-players', values['max-players'], 1, MAX_PLAYERS) ?? MAX_PLAYERS
    if (maxPlayers < startPlayers) argError(`--max-players (${maxPlayers}) must be >= --start-players (${startPlayers})`, 'max-players')
    capacity = {
      startPlayers,
      stepPlayers: integer('step-players', values['step-players'], 1, MAX_PLAYERS) ?? startPlayers,
      stepSeconds: integer('step-seconds', values['step-seconds'], 1, 3600) ?? 10,
      maxPlayers,
    }
  } else {
    for (const flag of capacityFlags) if (values[flag] !== undefined) argError(`--${flag} needs --capacity`, flag)
  }
  return {
    help: false,
    targets,
    transport,
    local,
    localStack,
    localServers: integer('local-servers', values['local-servers'], 1, 16) ?? 2,
    localRedisShards: integer('local-redis-shards', values['local-redis-shards'], 1, 8) ?? 1,
    scenario: values.scenario ?? 'steady',
    ...(values.players !== undefined ? { players: integer('players', values.players, 1, MAX_PLAYERS)! } : {}),
    ...(values.duration !== undefined ? { durationSeconds: integer('duration', values.duration, 1, MAX_DURATION_SECONDS)! } : {}),
    workers: integer('workers', values.workers, 1, 64) ?? 1,
    thresholds: [...thresholds, ...extraThresholds],
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(prometheusUrl !== undefined ? { prometheusUrl } : {}),
    quiet: values.quiet ?? false,
    ...(capacity ? { capacity } : {}),
  }
}
