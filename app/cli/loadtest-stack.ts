/**
 * Load test against an ephemeral Pulumi stack (docs/LOADTEST.md):
 *
 *   npx tsx app/cli/loadtest-stack.ts [--stack loadtest] [--keep] [--out DIR] -- LOADTEST-OPTIONS…
 *
 * 1. `pulumi up --stack loadtest --yes` (the stack's servers, balancer, shards, database,
 *    Prometheus, and its own in-network load generators when `loadGenerators` > 0);
 * 2. reads the stack outputs `gameEndpoint` and `prometheusUrl`;
 * 3. runs `npm run loadtest -- --target <gameEndpoint> --prometheus <prometheusUrl> --out DIR …`
 *    from this machine (the report gets the server figures and alerts from the stack's Prometheus);
 * 4. saves the in-stack generators' output (`docker logs loadgen-N`) next to the report;
 * 5. `pulumi destroy --stack loadtest --yes` — always, also after a failure or Ctrl-C, unless --keep.
 *
 * Exit code: the load test's (0 pass, 1 threshold failed, …); 3 when the stack could not be brought
 * up or `pulumi` is not installed (named in the message); 4 when destroy failed (resources may be left).
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { SERVICE_NAMES } from '../topology/build.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

const USAGE = `Usage: npx tsx app/cli/loadtest-stack.ts [--stack NAME] [--keep] [--out DIR] -- [npm run loadtest options]

Brings up the Pulumi stack (default: loadtest), runs the load generator against its balancer with
its Prometheus for server figures, saves the report (and the in-stack generators' logs) in --out,
and destroys the stack (also on failure or Ctrl-C) unless --keep. Needs the pulumi CLI and Docker.
`

function onPath(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' }).status === 0
}

/** Run a command with inherited output; resolves with its exit code. */
function run(command: string, args: readonly string[], signal?: AbortSignal): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args as string[], { cwd: root, stdio: 'inherit' })
    const onAbort = (): void => {
      child.kill('SIGINT')
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    child.once('error', (err) => {
      process.stderr.write(`${command}: ${err.message}\n`)
      resolvePromise(127)
    })
    child.once('exit', (code, sig) => {
      signal?.removeEventListener('abort', onAbort)
      resolvePromise(code ?? (sig ? 128 + 2 : 1))
    })
  })
}

function capture(command: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(command, args as string[], { cwd: root, encoding: 'utf8' })
  return { code: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' }
}

async function main(argv: readonly string[]): Promise<number> {
  const split = argv.indexOf('--')
  const own = split < 0 ? argv : argv.slice(0, split)
  const passthrough = split < 0 ? [] : argv.slice(split + 1)
  let values
  try {
    ;({ values } = parseArgs({ args: [...own], options: { stack: { type: 'string' }, keep: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }))
  } catch (err) {
    process.stderr.write(`loadtest-stack: ${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  for (const flag of ['--target', '--local', '--prometheus', '--out']) {
    if (passthrough.includes(flag)) {
      process.stderr.write(`loadtest-stack: ${flag} is set by this script (the stack's endpoint, its Prometheus, --out before --)\n`)
      return 2
    }
  }
  if (!onPath('pulumi')) {
    process.stderr.write('loadtest-stack: GS_ERR_LOADTEST_TARGET: the pulumi CLI is not installed (https://www.pulumi.com/docs/install/); nothing was started\n')
    return 3
  }
  if (!onPath('docker')) {
    process.stderr.write('loadtest-stack: GS_ERR_LOADTEST_TARGET: docker is not installed; the stack runs on the local Docker host\n')
    return 3
  }
  const stack = values.stack ?? 'loadtest'
  const out = resolve(values.out ?? join('loadtest-reports', `${stack}-${new Date().toISOString().replace(/[:.]/g, '-')}`))
  await mkdir(out, { recursive: true })
  const abort = new AbortController()
  const onSignal = (): void => {
    process.stderr.write('\ninterrupted: stopping, then destroying the stack…\n')
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let exitCode = 3
  try {
    process.stderr.write(`pulumi up --stack ${stack}…\n`)
    const up = await run('pulumi', ['up', '--stack', stack, '--yes', '--skip-preview'], abort.signal)
    if (up !== 0 || abort.signal.aborted) {
      process.stderr.write(`loadtest-stack: GS_ERR_LOADTEST_TARGET: pulumi up failed (exit ${up})\n`)
      return (exitCode = 3)
    }
    const outputs = capture('pulumi', ['stack', 'output', '--stack', stack, '--json'])
    if (outputs.code !== 0) {
      process.stderr.write(`loadtest-stack: GS_ERR_LOADTEST_TARGET: pulumi stack output failed: ${outputs.stderr}\n`)
      return (exitCode = 3)
    }
    const { gameEndpoint, prometheusUrl } = JSON.parse(outputs.stdout) as { gameEndpoint?: string; prometheusUrl?: string }
    if (!gameEndpoint) {
      process.stderr.write('loadtest-stack: GS_ERR_LOADTEST_TARGET: the stack has no gameEndpoint output\n')
      return (exitCode = 3)
    }
    await writeFile(join(out, 'stack-outputs.json'), outputs.stdout)
    // Prometheus is reachable from here when the stack publishes it: its URL then names the Docker
    // host (localhost, a remote host, the publish address); unpublished, it is the in-network
    // address (http://prometheus:9090).
    const published = prometheusUrl !== undefined && new URL(prometheusUrl).hostname !== SERVICE_NAMES.prometheus
    const args = ['--import', 'tsx', join(root, 'app', 'cli', 'loadtest.ts'), '--target', gameEndpoint, '--out', out, ...(published ? ['--prometheus', prometheusUrl] : []), ...passthrough]
    process.stderr.write(`npm run loadtest -- ${args.slice(3).join(' ')}\n`)
    exitCode = await run(process.execPath, args, abort.signal)
    // the stack's own generators (loadGenerators > 0) run in the Docker network; keep their output
    const containers = capture('docker', ['ps', '-a', '--filter', 'name=loadgen-', '--format', '{{.Names}}'])
    for (const name of containers.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const logs = capture('docker', ['logs', name])
      await writeFile(join(out, `${name}.log`), logs.stdout + logs.stderr)
    }
    process.stderr.write(`report: ${out}\n`)
    return exitCode
  } finally {
    if (values.keep) {
      process.stderr.write(`--keep: the stack ${stack} is still up; destroy it with: pulumi destroy --stack ${stack} --yes\n`)
    } else {
      process.stderr.write(`pulumi destroy --stack ${stack}…\n`)
      const destroyed = await run('pulumi', ['destroy', '--stack', stack, '--yes', '--skip-preview'])
      if (destroyed !== 0) {
        process.stderr.write(`loadtest-stack: pulumi destroy failed (exit ${destroyed}); resources may be left: run pulumi destroy --stack ${stack} --yes\n`)
        process.exitCode = 4
      }
    }
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

const code = await main(process.argv.slice(2))
process.exitCode = process.exitCode === 4 ? 4 : code
