/**
 * A child process we own: started with `spawn`, its output kept in a bounded tail for error
 * messages, stopped with a signal and a deadline (then SIGKILL). Every live child is tracked so
 * that an exiting parent kills whatever it did not stop itself: nothing is left behind.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { GameServerError } from '../errors.js'

/** A command that runs longer is killed. */
const COMMAND_TIMEOUT_MS = 60_000

/** Output lines of a child process kept for error messages. */
const TAIL_LINES = 40

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL')
      } catch {
        /* already gone */
      }
    }
  })
}

export interface ManagedProcessOptions {
  /** Short name for messages, e.g. `redis-server:6380`. */
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  /** Run as this uid/gid (root only), e.g. PostgreSQL, which refuses to run as root. */
  readonly uid?: number
  readonly gid?: number
  /** Signal for a graceful stop (default SIGTERM). */
  readonly stopSignal?: NodeJS.Signals
  /** Lines of output kept for error messages. */
  readonly tailLines?: number
  /** Forward each output line here (e.g. a logger). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void
}

export class ManagedProcess {
  readonly name: string
  private readonly child: ChildProcess
  private readonly tail: string[] = []
  private readonly watchers: Array<{ pattern: RegExp; resolve: () => void }> = []
  private readonly tailLines: number
  private readonly stopSignal: NodeJS.Signals
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined
  private readonly exited: Promise<void>

  constructor(options: ManagedProcessOptions) {
    installExitHook()
    this.name = options.name
    this.tailLines = options.tailLines ?? TAIL_LINES
    this.stopSignal = options.stopSignal ?? 'SIGTERM'
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    }
    this.child = spawn(options.command, options.args as string[], spawnOptions)
    live.add(this.child)
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal }
        live.delete(this.child)
        resolve()
      })
      this.child.once('error', (err) => {
        this.remember(`spawn error: ${err.message}`)
        this.exitInfo = { code: -1, signal: null }
        live.delete(this.child)
        resolve()
      })
    })
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = ''
      this.child[stream]?.setEncoding('utf8')
      this.child[stream]?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n')
        partial = lines.pop() ?? ''
        for (const line of lines) {
          this.remember(line)
          for (const watcher of this.watchers) if (watcher.pattern.test(line)) watcher.resolve()
          options.onLine?.(line, stream)
        }
      })
    }
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  get running(): boolean {
    return this.exitInfo === undefined
  }

  /** The last lines of output, for error messages. */
  output(): string {
    return this.tail.join('\n')
  }

  /** Resolves once a line of output matches `pattern` (lines seen before the call count too). */
  sawLine(pattern: RegExp): Promise<void> {
    if (this.tail.some((line) => pattern.test(line))) return Promise.resolve()
    return new Promise((resolve) => this.watchers.push({ pattern, resolve }))
  }

  /** Resolves when the process has exited (for any reason). */
  waitForExit(): Promise<void> {
    return this.exited
  }

  exitDescription(): string {
    if (!this.exitInfo) return 'running'
    return this.exitInfo.signal ? `killed by ${this.exitInfo.signal}` : `exited with code ${this.exitInfo.code}`
  }

  /** Send a signal now (e.g. SIGKILL in failure tests). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal)
  }

  /** Graceful stop: the stop signal, then SIGKILL after `deadlineMs`. Idempotent. */
  async stop(deadlineMs = 10_000): Promise<void> {
    if (!this.running) return
    this.child.kill(this.stopSignal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), deadlineMs)
    timer.unref()
    await this.exited
    clearTimeout(timer)
  }

  /** A `GS_ERR_PROCESS_START` error with the output tail, for a failed start. */
  startError(reason: string, cause?: unknown): GameServerError {
    return new GameServerError(
      'GS_ERR_PROCESS_START',
      `${this.name}: ${reason} (${this.exitDescription()})\n--- last output ---\n${this.output()}`,
      { process: this.name, pid: this.pid },
      cause === undefined ? undefined : { cause },
    )
  }

  private remember(line: string): void {
    this.tail.push(line)
    if (this.tail.length > this.tailLines) this.tail.shift()
  }
}

/** Run a command to completion; resolves with its output or rejects with a coded error. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<string> {
  const child = spawn(command, args as string[], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  })
  live.add(child)
  installExitHook()
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d))
  if (options.input !== undefined) child.stdin?.end(options.input)
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? COMMAND_TIMEOUT_MS)
  timer.unref()
  try {
    const [code, signal] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([err]) => {
        throw err
      }),
    ])) as [number | null, NodeJS.Signals | null]
    if (code !== 0) {
      throw new GameServerError('GS_ERR_PROCESS_START', `${command} ${args.join(' ')} failed (${signal ?? `code ${code}`}):\n${output.slice(-4000)}`, {
        command,
        code,
      })
    }
    return output
  } catch (err) {
    if (err instanceof GameServerError) throw err
    throw new GameServerError('GS_ERR_PROCESS_START', `${command} could not be run: ${(err as Error).message}`, { command }, { cause: err })
  } finally {
    clearTimeout(timer)
    live.delete(child)
  }
}
