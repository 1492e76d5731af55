/** The Pulumi load-test script fails clearly, starting nothing, when the pulumi CLI is missing. */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runScript, type ScriptResult } from '../harness/run-script.js'

const test = suite('loadtest-stack')

function runStack(args: string[], env: NodeJS.ProcessEnv): Promise<ScriptResult> {
  return runScript('app/cli/loadtest-stack.ts', args, { env })
}

test('without pulumi on PATH: exit 3 naming the missing CLI; --help and a reserved flag', async () => {
  const env = { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }
  const [missing, help, reserved] = await Promise.all([
    runStack(['--', '--players', '10', '--duration', '30'], env),
    runStack(['--help'], env),
    runStack(['--', '--target', 'x:1'], env),
  ])
  assert.is(missing.code, 3, missing.stderr)
  assert.match(missing.stderr, /GS_ERR_LOADTEST_TARGET: the pulumi CLI is not installed/)
  assert.not.match(missing.stderr, /pulumi up --stack/)
  assert.is(help.code, 0)
  assert.match(help.stdout, /--stack NAME/)
  assert.is(reserved.code, 2)
  assert.match(reserved.stderr, /--target is set by this script/)
})

test.run()
