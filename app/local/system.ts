/** Finding system programs (Debian package layout) and the unprivileged user to run them as. */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { GameServerError } from '../errors.js'

/** Absolute path of `program` on PATH (or in `extraDirs`), or undefined. */
export function findProgram(program: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, program)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      /* keep looking */
    }
  }
  return undefined
}

/** Like findProgram, but a clear `GS_ERR_DEPENDENCY_MISSING` naming the Debian package. */
export function requireProgram(program: string, debianPackage: string, extraDirs: readonly string[] = []): string {
  const found = findProgram(program, extraDirs)
  if (!found) {
    throw new GameServerError('GS_ERR_DEPENDENCY_MISSING', `${program} is not installed; install it with: apt-get install -y ${debianPackage}`, {
      program,
      package: debianPackage,
    })
  }
  return found
}

/** The bin directory of the newest PostgreSQL under /usr/lib/postgresql (Debian layout). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  try {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
    for (const version of versions) {
      const dir = join(root, version, 'bin')
      if (findProgram('initdb', [dir])?.startsWith(dir)) return dir
    }
  } catch {
    /* not installed */
  }
  return undefined
}

export interface UnixUser {
  readonly uid: number
  readonly gid: number
  readonly name: string
}

/** uid/gid of a local user from /etc/passwd, or undefined. */
export function lookupUser(name: string): UnixUser | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':')
      if (fields[0] === name) return { name, uid: Number(fields[2]), gid: Number(fields[3]) }
    }
  } catch {
    /* no passwd file */
  }
  return undefined
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}
