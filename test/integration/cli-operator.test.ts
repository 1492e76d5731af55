/**
 * The operator's command line: `--help` everywhere prints usage and starts nothing; exit codes
 * mean the same in every command (0 done, 1 failed, 2 bad configuration); a taken port names its
 * variable; a config error never echoes a password; JSON log lines carry each key once.
 */
import type { ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { cleanLine } from '../../app/logger.js'
import { runScript } from '../harness/run-script.js'

const test = suite('operator CLI: --help, exit codes, port in use, redaction, one key per log line')

const BASE_ENV = { ...process.env, DATABASE_URL: '', REDIS_URLS: '', CLUSTER_REDIS_URL: '', BACKENDS: '', GAME_PORT: '0', METRICS_PORT: '0', BALANCER_PORT: '0', BALANCER_ADMIN_PORT: '0' }

const COMMANDS = ['app/main.ts', 'app/cli/start.ts', 'app/cli/balance.ts', 'app/cli/migrate.ts', 'app/cli/healthcheck.ts', 'app/cli/cache.ts', 'app/cli/cluster.ts', 'app/cli/loadtest.ts']

test('--help on every command prints its usage, exits 0 and starts nothing', async () => {
  const results = await Promise.all(COMMANDS.map((script) => runScript(script, ['--help'], { env: BASE_ENV, timeoutMs: 20_000 })))
  results.forEach((r, i) => {
    assert.is(r.code, 0, `${COMMANDS[i]} --help: ${r.stderr}`)
    assert.match(r.stdout.toLowerCase(), /usage/, `${COMMANDS[i]} printed its usage`)
    assert.not.match(r.stdout + r.stderr, /listening|starting \d|applied migrations|unhealthy/, `${COMMANDS[i]} did not run`)
  })
})

/** Top-level keys of a JSON line in order, duplicates kept (JSON.parse would hide them). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '"') {
      const begin = i + 1
      for (i++; line[i] !== '"'; i++) if (line[i] === '\\') i++
      let j = i + 1
      while (line[j] === ' ') j++
      if (depth === 1 && line[j] === ':') keys.push(line.slice(begin, i))
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return keys
}

test('a configuration error exits 2 in every command, names the variable and never echoes a password', async () => {
  const env = { ...BASE_ENV, DATABASE_URL: 'postgres://game:hunter2-secret@db:notaport/game' }
  for (const script of ['app/main.ts', 'app/cli/migrate.ts', 'app/cli/balance.ts', 'app/cli/start.ts']) {
    const r = await runScript(script, [], { env, timeoutMs: 20_000 })
    assert.is(r.code, 2, `${script}: ${r.stdout}${r.stderr}`)
    assert.match(r.stdout + r.stderr, /GS_ERR_CONFIG/)
    assert.match(r.stdout + r.stderr, /DATABASE_URL/)
    assert.not.match(r.stdout + r.stderr, /hunter2/, `${script} echoed the password`)
  }
  const unset = await runScript('app/cli/migrate.ts', [], { env: BASE_ENV, timeoutMs: 20_000 })
  assert.is(unset.code, 2, 'migrate without DATABASE_URL is a configuration error, like the server\'s')
  assert.match(unset.stderr, /GS_ERR_CONFIG.*DATABASE_URL/)
})

test('a game port in use: exit 2 with GS_ERR_CONFIG naming GAME_PORT', async () => {
  const taken: Server = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()))
  try {
    const port = (taken.address() as { port: number }).port
    const r = await runScript('app/main.ts', [], { env: { ...BASE_ENV, GAME_HOST: '127.0.0.1', GAME_PORT: String(port), METRICS_HOST: '127.0.0.1' }, timeoutMs: 20_000 })
    assert.is(r.code, 2, r.stdout + r.stderr)
    const fatal = r.stdout.split('\n').find((l) => l.includes('"level":"fatal"'))!
    const line = JSON.parse(fatal) as { code: string; variable: string; msg: string }
    assert.is(line.code, 'GS_ERR_CONFIG')
    assert.is(line.variable, 'GAME_PORT')
    assert.match(line.msg, new RegExp(`GAME_PORT=${port}.*EADDRINUSE`))
  } finally {
    taken.close()
  }
})

test('JSON log lines of the server and the balancer carry each key once (one node id key for both)', async () => {
  // Each runs until it has written a few JSON lines (then SIGTERM adds its shutdown lines), not
  // for a fixed time: on a loaded machine a start can take longer than any short fixed wait.
  const stopAfterLines = (text: string, child: ChildProcess): void => {
    if (text.split('\n').filter((l) => l.startsWith('{')).length >= 3) child.kill('SIGTERM')
  }
  const serve = runScript('app/main.ts', [], { env: { ...BASE_ENV, GAME_HOST: '127.0.0.1', METRICS_HOST: '127.0.0.1', NODE_ID: 'n1' }, timeoutMs: 30_000, onStdout: stopAfterLines })
  const balance = runScript('app/cli/balance.ts', [], { env: { ...BASE_ENV, BACKENDS: '127.0.0.1:1', BALANCER_HOST: '127.0.0.1', METRICS_HOST: '127.0.0.1', NODE_ID: 'b1' }, timeoutMs: 30_000, onStdout: stopAfterLines })
  const outputs = [(await serve).stdout, (await balance).stdout]
  for (const out of outputs) {
    const lines = out.split('\n').filter((l) => l.startsWith('{'))
    assert.ok(lines.length >= 3, out)
    for (const line of lines) {
      const keys = topLevelKeys(line)
      assert.is(new Set(keys).size, keys.length, `duplicate key in ${line}`)
      assert.is((JSON.parse(line) as { nodeId?: string }).nodeId !== undefined, true, `nodeId in ${line}`)
      assert.not.ok(keys.includes('node'), 'the node id key is nodeId everywhere')
    }
  }
  // the filter itself: last value wins, secrets redacted
  assert.is(cleanLine('{"component":"balancer","component":"proxy","url":"redis://:pw@h:1"}'), '{"component":"proxy","url":"redis://:***@h:1"}\n')
})

test.run()
