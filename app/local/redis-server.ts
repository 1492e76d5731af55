/** A `redis-server` we start and own: no persistence, loopback, optional password. */
import { mkdir } from 'node:fs/promises'
import { connect } from 'node:net'
import { ManagedProcess } from './child-process.js'
import { freePort, waitUntil } from './ports.js'
import { requireProgram } from './system.js'

/** How long redis-server may take to answer PING. */
const READY_TIMEOUT_MS = 10_000

export interface RedisServerOptions {
  readonly dir: string
  readonly port?: number
  readonly host?: string
  readonly password?: string
  readonly readyTimeoutMs?: number
  readonly onLine?: (line: string) => void
}

export class RedisServer {
  private constructor(
    readonly process: ManagedProcess,
    readonly host: string,
    readonly port: number,
    readonly password: string | undefined,
    /** Working directory (kept so a restart on the same port reuses it). */
    readonly dir: string,
  ) {}

  get url(): string {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : ''
    return `redis://${auth}${this.host}:${this.port}`
  }

  static async start(options: RedisServerOptions): Promise<RedisServer> {
    const binary = requireProgram('redis-server', 'redis-server')
    const host = options.host ?? '127.0.0.1'
    const port = options.port ?? (await freePort(host))
    await mkdir(options.dir, { recursive: true })
    const args = ['--port', String(port), '--bind', host, '--save', '', '--appendonly', 'no', '--dir', options.dir, '--daemonize', 'no', '--protected-mode', 'no']
    if (options.password) args.push('--requirepass', options.password)
    const child = new ManagedProcess({ name: `redis-server:${port}`, command: binary, args, ...(options.onLine ? { onLine: options.onLine } : {}) })
    const server = new RedisServer(child, host, port, options.password, options.dir)
    // Wait for our own process to say it listens (a PING alone could reach another server on a
    // port that was taken meanwhile), then for it to answer.
    let listening = false
    void child.sawLine(/Ready to accept connections/).then(() => (listening = true))
    try {
      await waitUntil(async () => listening && (await server.ping()), {
        what: child.name,
        timeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        abortIf: () => (child.running ? undefined : child.exitDescription()),
      })
    } catch (err) {
      await child.stop()
      throw child.startError((err as Error).message, err)
    }
    return server
  }

  /** One raw `PING` (with AUTH when needed) over a fresh connection. */
  ping(timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.host, port: this.port })
      let data = ''
      const done = (ok: boolean) => {
        socket.destroy()
        resolve(ok)
      }
      socket.setTimeout(timeoutMs, () => done(false))
      socket.once('error', () => done(false))
      socket.once('connect', () => socket.write((this.password ? `AUTH ${this.password}\r\n` : '') + 'PING\r\n'))
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        data += chunk
        if (data.includes('+PONG')) done(true)
        else if (data.includes('-')) done(false)
      })
    })
  }

  stop(): Promise<void> {
    return this.process.stop()
  }

  /** SIGKILL (a crash, for failure tests) and wait until the process is gone. */
  async kill(): Promise<void> {
    this.process.signal('SIGKILL')
    await this.process.waitForExit()
  }

  /** A new server on the same host, port, password and directory (after `stop`/`kill`). */
  restart(options: { readyTimeoutMs?: number } = {}): Promise<RedisServer> {
    if (this.process.running) throw new Error(`${this.process.name} is still running`)
    return RedisServer.start({ dir: this.dir, host: this.host, port: this.port, ...(this.password ? { password: this.password } : {}), ...options })
  }

  /**
   * One raw command over a fresh connection (AUTH first when needed); resolves with the first
   * reply line (e.g. `+OK`, `:3`, `-ERR …`). For test set-up such as `CLIENT PAUSE`.
   */
  command(args: readonly string[], timeoutMs = 1000): Promise<string> {
    const encode = (parts: readonly string[]) => `*${parts.length}\r\n` + parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port })
      let data = ''
      let skip = this.password ? 1 : 0
      socket.setTimeout(timeoutMs, () => {
        socket.destroy()
        reject(new Error(`${this.process.name}: no reply to ${args[0]} within ${timeoutMs} ms`))
      })
      socket.once('error', reject)
      socket.once('connect', () => socket.write((this.password ? encode(['AUTH', this.password]) : '') + encode(args)))
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        data += chunk
        let newline: number
        while ((newline = data.indexOf('\r\n')) !== -1) {
          const line = data.slice(0, newline)
          data = data.slice(newline + 2)
          if (skip > 0) {
            skip--
            continue
          }
          socket.destroy()
          resolve(line)
          return
        }
      })
    })
  }

  /** `CLIENT PAUSE <ms> ALL`: the server stops answering every client for `ms` (slow-shard tests). */
  async pause(ms: number): Promise<void> {
    const reply = await this.command(['CLIENT', 'PAUSE', String(ms), 'ALL'])
    if (reply !== '+OK') throw new Error(`${this.process.name}: CLIENT PAUSE answered ${reply}`)
  }
}
