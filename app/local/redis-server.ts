/** A `redis-server` we start and own: no persistence, loopback, optional password. */
import { mkdir } from 'node:fs/promises'
import { connect } from 'node:net'
import { ManagedProcess } from './child-process.js'
import { freePort, waitUntil } from './ports.js'
import { requireProgram } from './system.js'

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
    const server = new RedisServer(child, host, port, options.password)
    // Wait for our own process to say it listens (a PING alone could reach another server on a
    // port that was taken meanwhile), then for it to answer.
    let listening = false
    void child.sawLine(/Ready to accept connections/).then(() => (listening = true))
    try {
      await waitUntil(async () => listening && (await server.ping()), {
        what: child.name,
        timeoutMs: options.readyTimeoutMs ?? 10_000,
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
}
