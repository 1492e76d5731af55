/**
 * `npm run loadtest -- --target HOST:PORT --players N --duration SECONDS [--scenario NAME|FILE]
 *  [--out DIR] [--workers W] [--threshold EXPR …] [--capacity …] [--local]` — see `--help`.
 *
 * Live progress on stderr, the summary table on stdout, report.json + report.html with --out.
 * Exit: 0 pass, 1 threshold / capacity target failed, 2 bad arguments, 3 run failed, 130 Ctrl-C
 * (after writing what was measured and tearing down the local target).
 */
import { cpus, hostname, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { GameServerError, isGameServerError } from '../errors.js'
import { runCapacitySearch } from '../loadtest/capacity.js'
import { parseLoadTestArgs, USAGE, type LoadTestArgs } from '../loadtest/cli-args.js'
import type { Target } from '../loadtest/generator.js'
import { startLocalTarget, type LocalTarget } from '../loadtest/local-target.js'
import { ProgressLine } from '../loadtest/progress.js'
import { buildReport, renderSummary, writeReport, type CapacityResult, type ServerFigures } from '../loadtest/report.js'
import { runLoad, type RunResult } from '../loadtest/runner.js'
import { formatActual } from '../loadtest/thresholds.js'
import { loadScenario, withOverrides, type Scenario } from '../loadtest/scenario.js'
import { collectServerFigures, PrometheusClient } from '../loadtest/server-figures.js'
import { canConnect } from '../tcp.js'
import { loadConfig } from '../config/index.js'
import { createLogger } from '../logger.js'
import { Telemetry } from '../telemetry/telemetry.js'


const EXIT = { pass: 0, failed: 1, usage: 2, error: 3, interrupted: 130 } as const

async function checkReachable(targets: readonly Target[]): Promise<void> {
  const results = await Promise.all(targets.map((t) => canConnect(t.host, t.port, 3000)))
  const down = targets.filter((_, i) => !results[i])
  if (down.length > 0) {
    throw new GameServerError('GS_ERR_LOADTEST_TARGET', `cannot connect to ${down.map((t) => `${t.host}:${t.port}`).join(', ')}`, { targets: down })
  }
}

async function execute(args: LoadTestArgs, signal: AbortSignal, onLocal: (local: LocalTarget) => void): Promise<number> {
  const base = await loadScenario(args.scenario)
  const scenario: Scenario = withOverrides(base, {
    ...(args.players !== undefined ? { players: args.players } : {}),
    ...(args.durationSeconds !== undefined ? { durationSeconds: args.durationSeconds } : {}),
  })
  let local: LocalTarget | null = null
  if (args.local) {
    process.stderr.write(
      args.localStack === 'appliance'
        ? `starting the local appliance: PostgreSQL, ${args.localRedisShards} Redis shard(s), ${args.localServers} game server(s), balancer, Prometheus…\n`
        : `starting local target: ${args.localServers} game server(s) + Prometheus…\n`,
    )
    local = await startLocalTarget({ stack: args.localStack, servers: args.localServers, redisShards: args.localRedisShards, transport: args.transport })
    onLocal(local)
    process.stderr.write(`local target up: ${local.targets.map((t) => `${t.host}:${t.port}`).join(', ')}, Prometheus ${local.prometheusUrl ?? 'not running'} (pids ${local.pids.join(',')}; dir ${local.dir})\n`)
  }
  const targets = local?.targets ?? args.targets
  await checkReachable(targets)
  const prometheusUrl = local ? local.prometheusUrl ?? undefined : args.prometheusUrl
  const prometheus = prometheusUrl ? new PrometheusClient(prometheusUrl) : null
  const quiet = args.quiet
  const loadAtStart = loadavg()[0] ?? 0
  const cpuBefore = process.cpuUsage()
  const wallBefore = performance.now()
  let run: RunResult
  let capacity: CapacityResult | undefined
  let reportScenario = scenario
  if (args.capacity) {
    const c = args.capacity
    const steps = Math.floor((c.maxPlayers - c.startPlayers) / c.stepPlayers) + 1
    const progress = new ProgressLine(process.stderr, 0)
    const result = await runCapacitySearch({
      scenario,
      targets,
      workers: args.workers,
      thresholds: args.thresholds,
      ...c,
      ...(prometheus ? { serverFigures: (from: Date, to: Date) => collectServerFigures(prometheus, from, to) } : {}),
      signal,
      onInterval: (sample, players) => {
        if (!quiet) progress.update(sample, `capacity step ${Math.round((players - c.startPlayers) / c.stepPlayers) + 1}/${steps}:`)
      },
      onStep: (step) => {
        progress.end()
        if (!quiet) process.stderr.write(`step ${step.players} players: ${step.throughputPerSecond.toFixed(1)} req/s, p99 ${step.p99Ms.toFixed(3)} ms → ${step.passed ? 'met' : `broken: ${step.failed.join(', ')}`}\n`)
      },
    })
    run = result.run
    capacity = result.capacity
    reportScenario = { ...scenario, durationSeconds: Math.max(1, Math.ceil(run.elapsedSeconds)), load: { mode: 'players', players: capacity.steps[capacity.steps.length - 1]?.players ?? c.startPlayers, ramp: [{ at: 0, level: 1 }] } }
  } else {
    const progress = new ProgressLine(process.stderr, scenario.durationSeconds)
    run = await runLoad({ scenario, targets, workers: args.workers, signal, onInterval: (sample) => !quiet && progress.update(sample) })
    progress.end()
  }
  const cpu = process.cpuUsage(cpuBefore)
  const wallMs = performance.now() - wallBefore
  const cpuShareOfHost = wallMs > 0 ? (cpu.user + cpu.system) / 1000 / wallMs / cpus().length : null
  let server: ServerFigures | null = null
  if (prometheus) {
    const to = new Date()
    try {
      server = await collectServerFigures(prometheus, run.startedAt, to)
    } catch (err) {
      process.stderr.write(`server figures unavailable: ${(err as Error).message}\n`)
    }
  }
  const machine = { hostname: hostname(), cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cores: cpus().length, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg()[0] ?? 0 }
  const report = buildReport({ scenario: reportScenario, targets, run, thresholds: capacity ? [] : args.thresholds, server, cpuShareOfHost, machine, ...(capacity ? { capacity } : {}) })
  process.stdout.write(`${renderSummary(report)}\n`)
  if (args.out !== undefined) {
    const files = await writeReport(args.out, report)
    process.stderr.write(`report: ${files.json}\nreport: ${files.html}\nreport: ${files.text}\n`)
  }
  if (report.generator.bottleneck) process.stderr.write(`warning: the load generator was the bottleneck: ${report.generator.reasons.join('; ')}\n`)
  for (const t of report.thresholds) if (!t.passed) process.stderr.write(`FAILED threshold ${t.threshold}: actual ${formatActual(t.metric, t.actual)}\n`)
  if (capacity && capacity.highestPassingPlayers === null) process.stderr.write(`FAILED capacity: no step met the target (${capacity.stoppedBecause})\n`)
  if (run.aborted) return EXIT.interrupted
  return report.passed ? EXIT.pass : EXIT.failed
}

async function main(argv: readonly string[]): Promise<number> {
  let args: LoadTestArgs
  try {
    args = parseLoadTestArgs(argv)
  } catch (err) {
    process.stderr.write(`loadtest: ${(err as Error).message}\n`)
    return EXIT.usage
  }
  if (args.help) {
    process.stdout.write(USAGE)
    return EXIT.pass
  }
  const abort = new AbortController()
  let local: LocalTarget | null = null
  let interrupts = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++
    if (interrupts === 1) {
      process.stderr.write(`\n${signal}: stopping the run, writing the report and tearing down (again to force)…\n`)
      abort.abort()
      return
    }
    // second signal: tear down what we started, then leave
    void (local?.stop() ?? Promise.resolve()).finally(() => process.exit(EXIT.interrupted))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // Opt-in: with METRICS_PORT set, the generator serves its own /metrics (event loop, process and
  // host families, role loadgen) so its saturation can be scraped next to the servers'.
  let telemetry: Telemetry | null = null
  try {
    if (process.env['METRICS_PORT']) {
      const config = loadConfig()
      telemetry = await Telemetry.start(config, createLogger({ level: config.server.logLevel, name: 'loadgen', destination: process.stderr }), 'loadgen')
      if (telemetry) process.stderr.write(`load generator metrics on :${telemetry.port}/metrics\n`)
    }
    return await execute(args, abort.signal, (l) => (local = l))
  } catch (err) {
    const code = isGameServerError(err) ? err.code : 'error'
    process.stderr.write(`loadtest: ${code}: ${(err as Error).message}\n`)
    return isGameServerError(err, 'GS_ERR_LOADTEST_SCENARIO') || isGameServerError(err, 'GS_ERR_LOADTEST_ARGS') ? EXIT.usage : abort.signal.aborted ? EXIT.interrupted : EXIT.error
  } finally {
    await telemetry?.close()
    if (local !== null) {
      process.stderr.write('tearing down the local target…\n')
      await (local as LocalTarget).stop()
      process.stderr.write('local target stopped\n')
    }
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

process.exitCode = await main(process.argv.slice(2))
