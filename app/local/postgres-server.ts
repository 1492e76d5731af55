/**
 * A PostgreSQL cluster we create (`initdb`) and run (`postgres`) in a directory we own.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user
 * (the data directory is handed to that user).
 */
import { chown, mkdir, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ManagedProcess, runCommand } from './child-process.js'
import { freePort, waitUntil } from './ports.js'
import { canConnect } from '../tcp.js'
import { isRoot, lookupUser, postgresBinDir, requireProgram, type UnixUser } from './system.js'
import { GameServerError } from '../errors.js'

/** How long PostgreSQL may take to accept connections. */
const READY_TIMEOUT_MS = 30_000

export interface PostgresServerOptions {
  /** Directory holding `data/` and the socket; created when missing, reused when initialised. */
  readonly dir: string
  readonly port?: number
  readonly host?: string
  /** Database created for the application (default `game`). */
  readonly database?: string
  readonly readyTimeoutMs?: number
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>
  readonly onLine?: (line: string) => void
}

export class PostgresServer {
  private constructor(
    private current: ManagedProcess,
    private readonly spawnChild: () => ManagedProcess,
    private readonly readyTimeoutMs: number,
    readonly host: string,
    readonly port: number,
    readonly database: string,
    readonly user: string,
    private readonly binDir: string,
    private readonly runAs: UnixUser | undefined,
  ) {}

  /** The running `postgres` process (a new one after `restart()`). */
  get process(): ManagedProcess {
    return this.current
  }

  /** URL for clients (trust authentication on loopback). */
  get url(): string {
    return `postgres://${this.user}@${this.host}:${this.port}/${this.database}`
  }

  static async start(options: PostgresServerOptions): Promise<PostgresServer> {
    const binDir = postgresBinDir()
    if (!binDir) requireProgram('initdb', 'postgresql')
    const initdb = requireProgram('initdb', 'postgresql', [binDir!])
    const postgres = requireProgram('postgres', 'postgresql', [binDir!])
    const host = options.host ?? '127.0.0.1'
    const port = options.port ?? (await freePort(host))
    const database = options.database ?? 'game'
    const runAs = isRoot() ? lookupUser('postgres') : undefined
    if (isRoot() && !runAs) {
      throw new GameServerError('GS_ERR_DEPENDENCY_MISSING', 'running as root needs the `postgres` user (apt-get install -y postgresql creates it)', {})
    }
    const user = runAs ? 'postgres' : (process.env.USER ?? 'postgres')
    const dataDir = join(options.dir, 'data')
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    if (runAs) {
      await chown(options.dir, runAs.uid, runAs.gid)
      await chown(dataDir, runAs.uid, runAs.gid)
    }
    const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {}
    const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' }
    const initialised = await stat(join(dataDir, 'PG_VERSION')).then(() => true, () => false)
    if (!initialised) {
      if ((await readdir(dataDir)).length > 0) {
        throw new GameServerError('GS_ERR_PROCESS_START', `${dataDir} is not empty and not a PostgreSQL data directory`, { dataDir })
      }
      await runCommand(initdb, ['-D', dataDir, '-U', user, '--auth=trust', '--encoding=UTF8', '--no-sync'], { ...ids, env, timeoutMs: 120_000 })
    }
    const args = ['-D', dataDir, '-p', String(port), '-k', options.dir, '-c', `listen_addresses=${host}`, '-c', 'fsync=off', '-c', 'max_connections=200']
    for (const [name, value] of Object.entries(options.settings ?? {})) args.push('-c', `${name}=${value}`)
    const spawnChild = (): ManagedProcess =>
      new ManagedProcess({
        name: `postgres:${port}`,
        command: postgres,
        args,
        env,
        stopSignal: 'SIGINT', // fast shutdown
        ...ids,
        ...(options.onLine ? { onLine: options.onLine } : {}),
      })
    const server = new PostgresServer(spawnChild(), spawnChild, options.readyTimeoutMs ?? READY_TIMEOUT_MS, host, port, database, user, binDir!, runAs)
    await server.waitReady(async () => server.ensureDatabase(database))
    return server
  }

  private async waitReady(then: () => Promise<void> = async () => {}): Promise<void> {
    const child = this.current
    try {
      await waitUntil(() => this.isReady(), {
        what: child.name,
        timeoutMs: this.readyTimeoutMs,
        intervalMs: 100,
        abortIf: () => (child.running ? undefined : child.exitDescription()),
      })
      await then()
    } catch (err) {
      await child.stop()
      throw child.startError((err as Error).message, err)
    }
  }

  /**
   * Start again on the same data directory and port (stopping first if it still runs), ready
   * when it resolves: outage tests stop the server and bring it back where clients expect it.
   */
  async restart(): Promise<void> {
    await this.current.stop()
    this.current = this.spawnChild()
    await this.waitReady()
  }

  async isReady(): Promise<boolean> {
    if (!(await canConnect(this.host, this.port, 1000))) return false
    const pgIsReady = join(this.binDir, 'pg_isready')
    try {
      await runCommand(pgIsReady, ['-h', this.host, '-p', String(this.port), '-U', this.user, '-d', 'postgres'], { timeoutMs: 5000 })
      return true
    } catch {
      return false
    }
  }

  /** `psql` against this server (used for setup and by tests that inspect it from outside). */
  psql(sql: string, database = this.database): Promise<string> {
    return runCommand(join(this.binDir, 'psql'), ['-h', this.host, '-p', String(this.port), '-U', this.user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-Atq', '-c', sql], {
      timeoutMs: 60_000,
    })
  }

  private async ensureDatabase(name: string): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new GameServerError('GS_ERR_CONFIG', `database name ${name} is not a plain identifier`, { name })
    const exists = (await this.psql(`SELECT 1 FROM pg_database WHERE datname = '${name}'`, 'postgres')).trim() === '1'
    if (!exists) await this.psql(`CREATE DATABASE ${name}`, 'postgres')
  }

  /** Fast shutdown (SIGINT), SIGKILL after the deadline. Idempotent. */
  stop(deadlineMs = 15_000): Promise<void> {
    return this.current.stop(deadlineMs)
  }

  /** Whether the server runs as a dedicated user (root case). */
  get runsAsUser(): string | undefined {
    return this.runAs?.name
  }
}
