/** A Prometheus we start and own, with a config file we write. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ManagedProcess } from './child-process.js'
import { freePort, waitUntil } from './ports.js'
import { requireProgram } from './system.js'

/** How long Prometheus may take to answer. */
const READY_TIMEOUT_MS = 30_000

export interface PrometheusServerOptions {
  readonly dir: string
  /** Full prometheus.yml text. */
  readonly config: string
  /** Extra files written beside the config (e.g. rule files named in it). */
  readonly files?: Readonly<Record<string, string>>
  readonly port?: number
  readonly host?: string
  readonly readyTimeoutMs?: number
  readonly onLine?: (line: string) => void
}

export class PrometheusServer {
  private constructor(
    readonly process: ManagedProcess,
    readonly host: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://${this.host}:${this.port}`
  }

  static async start(options: PrometheusServerOptions): Promise<PrometheusServer> {
    const binary = requireProgram('prometheus', 'prometheus')
    const host = options.host ?? '127.0.0.1'
    const port = options.port ?? (await freePort(host))
    await mkdir(join(options.dir, 'data'), { recursive: true })
    const configFile = join(options.dir, 'prometheus.yml')
    await writeFile(configFile, options.config)
    for (const [name, content] of Object.entries(options.files ?? {})) await writeFile(join(options.dir, name), content)
    const child = new ManagedProcess({
      name: `prometheus:${port}`,
      command: binary,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(options.dir, 'data')}`,
        `--web.listen-address=${host}:${port}`,
        '--web.enable-lifecycle',
        '--storage.tsdb.retention.time=1d',
      ],
      ...(options.onLine ? { onLine: options.onLine } : {}),
    })
    const server = new PrometheusServer(child, host, port)
    try {
      await waitUntil(async () => (await fetch(`${server.url}/-/ready`)).ok, {
        what: child.name,
        timeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
        intervalMs: 100,
        abortIf: () => (child.running ? undefined : child.exitDescription()),
      })
    } catch (err) {
      await child.stop()
      throw child.startError((err as Error).message, err)
    }
    return server
  }

  /** Run an instant query; returns the `data.result` array. */
  async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`)
    const body = (await response.json()) as { status: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string }
    if (body.status !== 'success' || !body.data) throw new Error(`prometheus query ${promql} failed: ${body.error ?? response.status}`)
    return body.data.result
  }

  stop(): Promise<void> {
    return this.process.stop()
  }
}
