/** Run one of the repository's TypeScript entry points (node + the tsx loader) to completion, bounded in time. */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface ScriptResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** Killed (SIGKILL) after `timeoutMs`. */
  readonly timedOut: boolean
}

export interface ScriptOptions {
  /** The child's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv
  /** Default 30 s. */
  readonly timeoutMs?: number
  /** Called with everything read from stderr so far, after each chunk. */
  readonly onStderr?: (text: string, child: ChildProcess) => void
  /** Called with everything read from stdout so far, after each chunk. */
  readonly onStdout?: (text: string, child: ChildProcess) => void
}

/** `script` is relative to the repository root, e.g. `app/cli/cache.ts`; runs with the root as cwd. */
export function runScript(script: string, args: readonly string[], options: ScriptOptions = {}): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script), ...args], {
      cwd: REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      options.onStdout?.(stdout, child)
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      options.onStderr?.(stderr, child)
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs ?? 30_000)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
  })
}
