/**
 * The container engine of the test harness, from the command line (as root; installs nothing —
 * run `node app/local/bootstrap.mjs --need engine` first, or `npm test` once):
 *
 *   npx tsx test/harness/engine/cli.ts quickstart [--repo DIR] [--keep-cache] [-- COMMAND…]
 *       A fresh Debian 12 with only Node 20, npm 10 and git, as root: the repository's committed
 *       HEAD is cloned to /root/app (from a git bundle of DIR, default this repository), then
 *       COMMAND runs there (default: an interactive shell; e.g. `-- npm start`, `-- npm test`).
 *       The container is privileged and its /root/.cache is a volume of its own (exec, dev, suid,
 *       as a machine's disk), so `npm test` can run the engine test inside it as on a machine; the volume is removed at exit unless
 *       --keep-cache (then it is reused by the next quickstart run).
 *   npx tsx test/harness/engine/cli.ts images
 *       Build (or find cached) every harness image and print their references and sizes.
 *   npx tsx test/harness/engine/cli.ts clean
 *       Delete the engine directory (GS_ENGINE_DIR, default ~/.cache/game-appliance/engine).
 *
 * Exit code: the command's in the container (quickstart), 0 / 1 otherwise, 2 on bad arguments.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { runCommand } from '../../../app/local/child-process.js'
import { requireProgram } from '../../../app/local/system.js'
import { REPO_ROOT } from '../run-script.js'
import { ContainerEngine, defaultEngineDir, unmountUnder } from './engine.js'
import { ImageBuilder, repositoryNodeVersion } from './images.js'
import { buildStandIns } from './stand-ins.js'

const USAGE = 'usage: cli.ts quickstart [--repo DIR] [--keep-cache] [-- COMMAND…] | images | clean'
const log = (line: string) => process.stderr.write(`[engine] ${line}\n`)

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'quickstart':
      return quickstart(rest)
    case 'images':
      return images()
    case 'clean':
      await unmountUnder(defaultEngineDir())
      await rm(defaultEngineDir(), { recursive: true, force: true })
      log(`removed ${defaultEngineDir()}`)
      return 0
    default:
      process.stderr.write(`${USAGE}\n`)
      return 2
  }
}

async function images(): Promise<number> {
  const engine = await ContainerEngine.start({})
  try {
    const builder = new ImageBuilder(engine, log)
    const built = [await builder.debianBase(), await builder.nodeBase(repositoryNodeVersion(REPO_ROOT)), await builder.quickstart(), ...(await buildStandIns(builder)).map((s) => s.image)]
    for (const image of built) {
      const size = (await engine.api.inspectImage(image.ref)).Size
      process.stdout.write(`${image.ref}  ${(size / 1e6).toFixed(0)} MB  ${image.built ? `built in ${image.seconds.toFixed(1)} s` : 'cached'}\n`)
    }
    return 0
  } finally {
    await engine.close()
  }
}

async function quickstart(args: string[]): Promise<number> {
  const dash = args.indexOf('--')
  const { values } = parseArgs({ args: dash >= 0 ? args.slice(0, dash) : args, options: { repo: { type: 'string' }, 'keep-cache': { type: 'boolean' } } })
  const repo = resolve(values.repo ?? REPO_ROOT)
  const command = dash >= 0 ? args.slice(dash + 1) : []
  if (!existsSync(join(repo, '.git'))) {
    process.stderr.write(`${repo} is not a git checkout\n${USAGE}\n`)
    return 2
  }
  const git = requireProgram('git', 'git')
  const podman = requireProgram('podman', 'podman')
  // What a newcomer clones: the committed history (a bundle works for worktrees too, whose .git
  // is a file pointing elsewhere). Uncommitted changes are not in it.
  const work = await mkdtemp(join(tmpdir(), 'gs-quickstart-'))
  const bundle = join(work, 'repo.bundle')
  await runCommand(git, ['-C', repo, 'bundle', 'create', bundle, 'HEAD', '--branches'], { timeoutMs: 120_000 })
  const engine = await ContainerEngine.start({})
  const volume = `gs-quickstart-cache${values['keep-cache'] ? '' : `-${process.pid}`}`
  try {
    const image = await new ImageBuilder(engine, log).quickstart()
    const script = ['set -e', 'git clone --quiet /src/repo.bundle /root/app', 'cd /root/app', command.length > 0 ? `exec ${command.map(shellQuote).join(' ')}` : 'exec bash -i'].join('\n')
    const tty = process.stdin.isTTY && process.stdout.isTTY
    log(`${image.ref}: Debian 12, Node 20, npm 10, git; ${command.length > 0 ? command.map(shellQuote).join(' ') : 'a shell'} in /root/app`)
    const name = `gs-quickstart-${process.pid}`
    // --init: the shell is not PID 1 (which ignores SIGINT and SIGTERM), so a stop reaches it.
    const run = ['run', '--rm', '-i', ...(tty ? ['-t'] : []), '--init', '--name', name, '--privileged', '-v', `${work}:/src:ro`, '-v', `${volume}:/root/.cache:exec,dev,suid`, image.ref, 'bash', '-c', script]
    return await new Promise<number>((resolveExit, reject) => {
      const child = spawn(podman, run, { env: engine.env, stdio: 'inherit' })
      // Ctrl-C / SIGTERM: stop the container (SIGTERM, SIGKILL after 10 s); `run --rm` then exits.
      const forward = () => void runCommand(podman, ['stop', '-t', '10', name], { env: engine.env, timeoutMs: 60_000 }).catch(() => child.kill('SIGKILL'))
      process.on('SIGINT', forward)
      process.on('SIGTERM', forward)
      child.on('error', reject)
      child.on('exit', (code, signal) => {
        process.off('SIGINT', forward)
        process.off('SIGTERM', forward)
        resolveExit(code ?? (signal ? 128 : 1))
      })
    })
  } finally {
    if (!values['keep-cache']) await engine.api.removeVolume(volume).catch(() => {})
    await engine.close()
    await rm(work, { recursive: true, force: true })
  }
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`engine: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  },
)
