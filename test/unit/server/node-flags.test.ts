// The game server's node flags (app/server/node-flags.ts): `npm run serve` carries the same ones
// as the topology, node accepts them, and they do what they are there for (a small young generation).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { GAME_SERVER_NODE_FLAGS } from '../../../app/server/node-flags.js'

test('npm run serve runs node with the game server flags, before the tsx loader', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
  const serve = pkg.scripts['serve']!.split(' ')
  assert.is(serve[0], 'node')
  const loader = serve.indexOf('--import')
  assert.ok(loader > 0, `serve script: ${pkg.scripts['serve']}`)
  assert.equal(serve.slice(1, loader), [...GAME_SERVER_NODE_FLAGS])
  assert.equal(serve.slice(loader), ['--import', 'tsx', 'app/main.ts'])
})

test('node accepts the flags and the young generation stays at 1 MB semi-spaces under allocation', () => {
  // Allocate ~100 MB of short- and some longer-lived objects; without the flag V8 grows new space to 32 MB.
  const script = `const v8 = require('v8'); const keep = []; for (let i = 0; i < 3e6; i++) { const o = { a: i, b: [i] }; if (i % 3 === 0) keep.push(o) }
    process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size))`
  const run = (flags: readonly string[]): number => Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', timeout: 30_000 }))
  const capped = run(GAME_SERVER_NODE_FLAGS)
  const unset = run([])
  assert.ok(capped <= 2 * 1024 * 1024, `new space with the flags: ${capped} B`)
  assert.ok(unset > capped, `new space without the flags (${unset} B) should be larger than with them (${capped} B)`)
})

test.run()
