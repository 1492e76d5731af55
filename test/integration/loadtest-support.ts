/** Shared pieces of the load-test integration tests: a server that counts frames, the CLI as a child process. */
import type { AddressInfo } from 'node:net'
import { loadConfig } from '../../app/config/index.js'
import { GameServer } from '../../app/net/server.js'
import { NoopServerMetrics } from '../harness/metrics.js'
import { runScript, type ScriptOptions, type ScriptResult } from '../harness/run-script.js'
import { EchoDispatcher } from '../harness/net-server.js'

/** Counts frames in and out by type name and sessions opened, as the server saw them. */
export class FrameCountingMetrics extends NoopServerMetrics {
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

export type CliResult = ScriptResult

/** Run `npm run loadtest -- …` (node + tsx loader, no npm wrapper) to completion; rejects when it outlives timeoutMs. */
export async function runCli(args: readonly string[], options: Pick<ScriptOptions, 'timeoutMs' | 'onStderr'> = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 45_000
  const result = await runScript('app/cli/loadtest.ts', args, { ...options, timeoutMs })
  if (result.timedOut) throw new Error(`loadtest CLI did not finish within ${timeoutMs} ms\n${result.stderr}`)
  return result
}
