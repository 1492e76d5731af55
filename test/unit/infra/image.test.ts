// The appliance image holds only what runs: its build context (what `.dockerignore` lets through, as
// a Docker client sends it) has no infra/ or dashboards/, so a change to the Pulumi program or to a
// dashboard neither rebuilds the image nor replaces the game servers; the Dockerfile copies nothing
// outside the context and compiles only app/.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { buildContextEntries, copyableEntries, isExcluded, parseDockerignore } from '../../harness/engine/build-context.js'
import { REPO_ROOT } from '../../harness/run-script.js'

test('.dockerignore matching follows Docker: segments, **, parents, last match wins', () => {
  const patterns = parseDockerignore('# comment\n*\n!app\napp/**/*.test.ts\n!app/keep.test.ts\n/docs/\n')
  const cases: [string, boolean][] = [
    ['package.json', true],
    ['app', false],
    ['app/main.ts', false],
    ['app/net/server.ts', false],
    ['app/net/x.test.ts', true],
    ['app/x.test.ts', true],
    ['app/keep.test.ts', false],
    ['infra/index.ts', true],
    ['docs/DEPLOY.md', true],
  ]
  for (const [path, excluded] of cases) assert.is(isExcluded(path, patterns), excluded, path)
  const logs = parseDockerignore('*.log\n')
  assert.ok(isExcluded('npm.log', logs))
  assert.not.ok(isExcluded('app/npm.log', logs), '*.log matches at the root only, as in Docker')
})

test('the build context is the package files, tsconfig and app/ — never infra/ or dashboards/', () => {
  const entries = copyableEntries(REPO_ROOT)
  const tops = [...new Set(entries.map((e) => e.path.split('/')[0]))].sort()
  assert.equal(tops, ['.npmrc', 'app', 'package-lock.json', 'package.json', 'tsconfig.build.json', 'tsconfig.json'])
  // What a client sends adds only the Dockerfile and .dockerignore (the builder needs them).
  const sent = new Set(buildContextEntries(REPO_ROOT).map((e) => e.path.split('/')[0]))
  assert.equal([...sent].filter((t) => !tops.includes(t!)).sort(), ['.dockerignore', 'Dockerfile'])
  assert.not.ok(entries.some((e) => e.path.startsWith('infra/') || e.path.startsWith('dashboards/')))
  assert.ok(entries.some((e) => e.path === 'app/main.ts'))
})

test('the Dockerfile copies only what the context holds, and nothing of infra/ or dashboards/', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
  const contextPaths = new Set(copyableEntries(REPO_ROOT).map((e) => e.path))
  const copies = dockerfile
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^COPY\s/i.test(l) && !l.includes('--from='))
  assert.ok(copies.length >= 3)
  for (const line of copies) {
    const words = line.split(/\s+/).slice(1).filter((w) => !w.startsWith('--'))
    for (const source of words.slice(0, -1)) {
      assert.ok(contextPaths.has(source.replace(/\/$/, '')), `COPY ${source}: not in the build context`)
      assert.not.match(source, /^(infra|dashboards)\b/)
    }
  }
})

test('npm run build compiles app/ only (tsconfig.build.json)', () => {
  const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc')
  const files = execFileSync(tsc, ['-p', 'tsconfig.build.json', '--listFilesOnly'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.startsWith(REPO_ROOT) && !f.includes('/node_modules/'))
  assert.ok(files.some((f) => f.endsWith('/app/main.ts')))
  const outside = files.filter((f) => !f.startsWith(join(REPO_ROOT, 'app/')))
  assert.equal(outside, [], 'only app/ is compiled into the image')
})

test.run()
