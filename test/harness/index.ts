/**
 * Throwaway servers for integration tests: each in a fresh temp dir on a free 127.0.0.1 port,
 * ready before it is returned. A `Harness` owns what it started; `close()` stops every process
 * (also after a failed test: call it from `suite.after`) and deletes the temp dirs.
 *
 *   const harness = new Harness()
 *   test.before(async () => { redis = await harness.redis() })
 *   test.after(() => harness.close())
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PostgresServer } from '../../app/local/postgres-server.js'
import { PrometheusServer } from '../../app/local/prometheus-server.js'
import { RedisServer } from '../../app/local/redis-server.js'

interface Stoppable {
  stop(): Promise<void>
}

export class Harness {
  private readonly owned: Stoppable[] = []
  private readonly dirs: string[] = []
  private closed = false

  async tempDir(prefix = 'gs-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    this.dirs.push(dir)
    return dir
  }

  async redis(options: { password?: string } = {}): Promise<RedisServer> {
    return this.own(await RedisServer.start({ dir: await this.tempDir('gs-redis-'), ...options }))
  }

  /** Start a stopped or killed redis-server again on its port (ownership moves to the new one). */
  async restartRedis(server: RedisServer): Promise<RedisServer> {
    return this.own(await server.restart())
  }

  async postgres(options: { database?: string } = {}): Promise<PostgresServer> {
    return this.own(await PostgresServer.start({ dir: await this.tempDir('gs-pg-'), ...options }))
  }

  async prometheus(config: string, files?: Record<string, string>): Promise<PrometheusServer> {
    return this.own(await PrometheusServer.start({ dir: await this.tempDir('gs-prom-'), config, ...(files ? { files } : {}) }))
  }

  /** Register anything with `stop()` (a game server, a balancer…) to be stopped on close. */
  own<T extends Stoppable>(thing: T): T {
    if (this.closed) throw new Error('harness is closed')
    this.owned.push(thing)
    return thing
  }

  /** Stop everything in reverse start order and delete temp dirs. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const errors: unknown[] = []
    for (const thing of this.owned.reverse()) {
      try {
        await thing.stop()
      } catch (err) {
        errors.push(err)
      }
    }
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true }).catch(() => {})
    if (errors.length > 0) throw new AggregateError(errors, 'harness: some processes failed to stop')
  }
}

/** Whether a pid is alive (signal 0). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
