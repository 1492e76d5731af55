// `npm start`'s program (app/cli/start.ts) as an operator runs it: prints the endpoints once ready,
// the printed game endpoint answers PING, and SIGINT (Ctrl-C) stops everything and exits 0.
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ManagedProcess } from '../../app/local/child-process.js'
import { pingOnce, REPOSITORY_ROOT } from '../../app/local/appliance.js'
import { waitUntil } from '../../app/local/ports.js'
import { Harness } from '../harness/index.js'
import { processTree, stillRunning } from './deploy-support.js'

const harness = new Harness()
test.after(() => harness.close())

test('start: ready line with endpoints, PING through the printed endpoint, Ctrl-C stops all and exits 0', async () => {
  const dir = await harness.tempDir('gs-start-cli-')
  const cli = harness.own(
    new ManagedProcess({
      name: 'npm-start',
      command: process.execPath,
      args: ['--import', 'tsx', join(REPOSITORY_ROOT, 'app/cli/start.ts')],
      cwd: REPOSITORY_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, APPLIANCE_DIR: dir, APPLIANCE_SERVERS: '1', APPLIANCE_REDIS_SHARDS: '1', APPLIANCE_PROMETHEUS: 'false', BALANCER_PORT: '0', LOG_LEVEL: 'warn' },
      tailLines: 200,
    }),
  )
  await Promise.race([cli.sawLine(/^Ctrl-C stops everything\./), cli.waitForExit().then(() => assert.unreachable(`start exited: ${cli.exitDescription()}\n${cli.output()}`))])
  const endpoint = /game \(balancer\)\s+(\S+):(\d+)/.exec(cli.output())
  assert.ok(endpoint, cli.output())
  assert.ok(await pingOnce(endpoint![1]!, Number(endpoint![2])), 'PING through the printed endpoint')
  assert.match(cli.output(), /not started: prometheus — APPLIANCE_PROMETHEUS=false/)
  const tree = processTree([cli.pid!])
  assert.ok(tree.length >= 5, 'postgres, redis, game server, balancer under the CLI')
  cli.signal('SIGINT')
  await cli.waitForExit()
  assert.is(cli.exitDescription(), 'exited with code 0', cli.output())
  assert.match(cli.output(), /^stopped$/m)
  await waitUntil(async () => stillRunning(tree).length === 0, { what: 'every process of the appliance gone', timeoutMs: 5000 }).catch(() => {})
  assert.equal(stillRunning(tree), [], 'processes left behind')
})

test.run()
