/** Shared pieces of the load-test integration tests: a server that counts frames, the CLI as a child process. */
import { spawn } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../app/config/index.js'
import { GameServer } from '../../app/net/server.js'
import { NoopMetrics } from '../../app/telemetry/metrics.js'
import { EchoDispatcher } from './net-support.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Counts frames in and out by type name and sessions opened, as the server saw them. */
export class FrameCountingMetrics extends NoopMetrics {
  readonly framesIn = new Map<string, number>()
  readonly framesOut = new Map<string, number>()
  sessionsOpened = 0
  override frameIn(typeName: string): void {
    this.framesIn.set(typeName, (this.framesIn.get(typeName) ?? 0) + 1)
  }
  override frameOut(typeName: string): void {
    this.framesOut.set(typeName, (this.framesOut.get(typeName) ?? 0) + 1)
  }
  override sessionOpened(): void {
    this.sessionsOpened++
  }
}

export interface CountingServer {
  readonly server: GameServer
  readonly metrics: FrameCountingMetrics
  readonly address: AddressInfo
  stop(): Promise<void>
}

export async function startCountingServer(): Promise<CountingServer> {
  const metrics = new FrameCountingMetrics()
  const server = new GameServer({ config: loadConfig({ GAME_HOST: '127.0.0.1', GAME_PORT: '0' }), dispatcher: new EchoDispatcher(), metrics })
  const address = await server.listen()
  return { server, metrics, address, stop: () => server.close(2000) }
}

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Run `npm run loadtest -- …` (node + tsx loader, no npm wrapper) to completion, bounded in time. */
export function runCli(args: readonly string[], options: { timeoutMs?: number; onStderr?: (text: string, child: import('node:child_process').ChildProcess) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'app', 'cli', 'loadtest.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      options.onStderr?.(stderr, child)
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`loadtest CLI did not finish within ${options.timeoutMs ?? 45_000} ms\n${stderr}`))
    }, options.timeoutMs ?? 45_000)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}
