/**
 * A Docker build context as a Docker client sends it: the files under a directory that its
 * `.dockerignore` does not exclude, as a tar stream. The Docker Engine API's `POST /build` takes the
 * context as a tar body and leaves `.dockerignore` to the client, so this module is what the docker
 * CLI (and the Pulumi provider) do before a build. Used by the engine test to build the real
 * Dockerfile, and by the unit test that proves infra/ and dashboards/ never enter the context.
 *
 * `.dockerignore` semantics (Docker's pattern matcher): one pattern per line, `#` comments, paths
 * relative to the context root, `*` and `?` within one path segment, `**` across segments, `!` to
 * re-include; a pattern that matches a directory matches everything under it; the last matching
 * pattern decides.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'

export interface IgnorePattern {
  readonly negated: boolean
  readonly regex: RegExp
  /** The pattern text without `!`. */
  readonly source: string
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const patterns: IgnorePattern[] = []
  for (const raw of text.split('\n')) {
    let line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const negated = line.startsWith('!')
    if (negated) line = line.slice(1).trim()
    line = line.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\/{2,}/g, '/')
    if (line === '' || line === '.') continue
    patterns.push({ negated, regex: globToRegex(line), source: line })
  }
  return patterns
}

function globToRegex(pattern: string): RegExp {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` matches zero or more whole segments; a trailing `**` matches the rest.
        if (pattern[i + 2] === '/') {
          out += '(?:.*/)?'
          i += 2
        } else {
          out += '.*'
          i += 1
        }
      } else out += '[^/]*'
    } else if (c === '?') out += '[^/]'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end < 0) out += '\\['
      else {
        out += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      out += `\\${pattern[i + 1]}`
      i += 1
    } else out += c.replace(/[.+^${}()|\]\\]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

/** Whether `path` (relative, `/`-separated) is excluded: the last pattern matching it or a parent decides. */
export function isExcluded(path: string, patterns: readonly IgnorePattern[]): boolean {
  const parents: string[] = []
  const segments = path.split('/')
  for (let i = 1; i <= segments.length; i++) parents.push(segments.slice(0, i).join('/'))
  let excluded = false
  for (const pattern of patterns) {
    if (parents.some((p) => pattern.regex.test(p))) excluded = !pattern.negated
  }
  return excluded
}

export interface ContextEntry {
  /** Relative path, `/`-separated. */
  readonly path: string
  readonly kind: 'file' | 'directory' | 'symlink'
  readonly mode: number
  readonly mtimeMs: number
  /** File contents (files), link target (symlinks). */
  readonly content?: Buffer
  readonly linkTarget?: string
}

/**
 * Every entry of the build context rooted at `root`, in a stable order. Like the docker CLI, the
 * Dockerfile and `.dockerignore` are sent even when `.dockerignore` excludes them: the builder needs
 * them, and it applies `.dockerignore` to COPY itself, so they still cannot be copied into the image.
 */
export function buildContextEntries(root: string, options: { dockerfile?: string } = {}): ContextEntry[] {
  let ignore = ''
  try {
    ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  } catch {
    /* no .dockerignore: everything is in the context */
  }
  const patterns = parseDockerignore(ignore)
  const reincludes = patterns.filter((p) => p.negated)
  const out: ContextEntry[] = []
  const walk = (relative: string) => {
    const names = readdirSync(relative ? join(root, relative) : root).sort()
    for (const name of names) {
      const path = relative ? `${relative}/${name}` : name
      const stat = lstatSync(join(root, path))
      const excluded = isExcluded(path, patterns)
      if (stat.isDirectory()) {
        // An excluded directory is skipped unless a `!` pattern may re-include something inside it
        // (node_modules alone has ~100k files the context never needs).
        if (excluded && !reincludes.some((p) => p.source.startsWith(`${path}/`) || p.source.includes('**'))) continue
        if (!excluded) out.push({ path, kind: 'directory', mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs })
        walk(path)
      } else if (!excluded) {
        if (stat.isSymbolicLink()) out.push({ path, kind: 'symlink', mode: 0o777, mtimeMs: stat.mtimeMs, linkTarget: readlinkSync(join(root, path)) })
        else if (stat.isFile()) out.push({ path, kind: 'file', mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs, content: readFileSync(join(root, path)) })
      }
    }
  }
  walk('')
  for (const always of [options.dockerfile ?? 'Dockerfile', '.dockerignore']) {
    if (out.some((e) => e.path === always)) continue
    try {
      const stat = lstatSync(join(root, always))
      if (stat.isFile()) out.push({ path: always, kind: 'file', mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs, content: readFileSync(join(root, always)) })
    } catch {
      /* not there: nothing to add */
    }
  }
  return out
}

/** The files `.dockerignore` lets into the context (what COPY can see): the context without the always-sent Dockerfile and `.dockerignore` when they are excluded. */
export function copyableEntries(root: string): ContextEntry[] {
  let ignore = ''
  try {
    ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  } catch {
    /* none */
  }
  const patterns = parseDockerignore(ignore)
  return buildContextEntries(root).filter((e) => !isExcluded(e.path, patterns))
}

// ---------------------------------------------------------------------------------------------
// tar (POSIX ustar, PAX headers for long names): enough for a build context and for the files the
// Pulumi program uploads into containers (`PUT /containers/{id}/archive`).

const BLOCK = 512

export interface TarEntry {
  readonly path: string
  readonly kind: 'file' | 'directory' | 'symlink'
  readonly mode: number
  readonly mtimeMs?: number
  readonly content?: Buffer
  readonly linkTarget?: string
}

export function tar(entries: readonly TarEntry[]): Buffer {
  const chunks: Buffer[] = []
  for (const entry of entries) {
    const name = entry.kind === 'directory' ? `${entry.path.replace(/\/$/, '')}/` : entry.path
    const size = entry.kind === 'file' ? (entry.content?.length ?? 0) : 0
    const mtime = Math.floor((entry.mtimeMs ?? 0) / 1000)
    let ustarName = name
    let prefix = ''
    if (Buffer.byteLength(name) > 100) {
      const split = splitUstarName(name)
      if (split) [prefix, ustarName] = split
      else {
        // A PAX extended header carries the full path.
        const record = paxRecord('path', name)
        chunks.push(header({ name: 'PaxHeader', size: record.length, mode: 0o644, mtime, type: 'x' }), pad(record))
        ustarName = name.slice(-100)
      }
    }
    const linkname = entry.linkTarget ?? ''
    if (Buffer.byteLength(linkname) > 100) throw new Error(`tar: link target too long: ${linkname}`)
    const type = entry.kind === 'directory' ? '5' : entry.kind === 'symlink' ? '2' : '0'
    chunks.push(header({ name: ustarName, prefix, size, mode: entry.mode, mtime, type, linkname }))
    if (entry.kind === 'file' && entry.content) chunks.push(pad(entry.content))
  }
  chunks.push(Buffer.alloc(BLOCK * 2))
  return Buffer.concat(chunks)
}

function splitUstarName(name: string): [string, string] | undefined {
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue
    const prefix = name.slice(0, i)
    const rest = name.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return [prefix, rest]
  }
  return undefined
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`
  let length = Buffer.byteLength(body)
  // The length field counts itself.
  while (Buffer.byteLength(`${length}${body}`) !== length) length = Buffer.byteLength(`${length}${body}`)
  return Buffer.from(`${length}${body}`)
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)])
}

function header(fields: { name: string; prefix?: string; size: number; mode: number; mtime: number; type: string; linkname?: string }): Buffer {
  const block = Buffer.alloc(BLOCK)
  const write = (text: string, offset: number, length: number) => block.write(text, offset, length, 'utf8')
  // Numeric fields: zero-padded octal digits and a NUL, filling the field.
  const octal = (value: number, offset: number, length: number) => write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length)
  write(fields.name, 0, 100)
  octal(fields.mode & 0o7777, 100, 8)
  octal(0, 108, 8)
  octal(0, 116, 8)
  octal(fields.size, 124, 12)
  octal(fields.mtime, 136, 12)
  write('        ', 148, 8)
  write(fields.type, 156, 1)
  write(fields.linkname ?? '', 157, 100)
  write('ustar\0', 257, 6)
  write('00', 263, 2)
  write(fields.prefix ?? '', 345, 155)
  let sum = 0
  for (const byte of block) sum += byte
  write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
  return block
}
