/**
 * A small Docker Engine API client over a unix socket (the part of the API the engine test and the
 * image builder use): ping, images (build, import, tag, inspect, remove), containers (create, archive
 * upload, start, inspect, wait, stop, remove, logs), networks, volumes. Podman's compatible service
 * answers it; so would a Docker daemon. Every failure is a GS_ERR_ENGINE_API naming the call and the
 * engine's message.
 */
import { request, type IncomingMessage } from 'node:http'
import { GameServerError } from '../../../app/errors.js'

/** The API version asked for: what podman 4.3 (and every current Docker) serves. */
const API_VERSION = 'v1.41'

export interface RequestOptions {
  /** Query parameters; an array repeats the parameter (`changes=…&changes=…`). */
  readonly query?: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>
  readonly body?: Buffer | object
  readonly contentType?: string
  readonly timeoutMs?: number
  /** Status codes that are not errors (default: 2xx and 304). */
  readonly accept?: readonly number[]
  /** Path outside the versioned API (e.g. `/_ping`, `/v4.0.0/libpod/...`). */
  readonly raw?: boolean
}

export interface Response {
  readonly status: number
  readonly body: Buffer
}

export class DockerApi {
  constructor(readonly socketPath: string) {}

  async call(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const query = Object.entries(options.query ?? {})
      .flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v.map((item) => [k, item] as const) : [[k, v] as const]))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&')
    const fullPath = `${options.raw ? '' : `/${API_VERSION}`}${path}${query ? `?${query}` : ''}`
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(JSON.stringify(options.body))
    const contentType = options.contentType ?? (Buffer.isBuffer(options.body) ? 'application/x-tar' : 'application/json')
    const timeoutMs = options.timeoutMs ?? 60_000
    const response = await new Promise<Response>((resolve, reject) => {
      const req = request(
        { socketPath: this.socketPath, method, path: fullPath, headers: body ? { 'Content-Type': contentType, 'Content-Length': body.length } : {} },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
          res.on('error', reject)
        },
      )
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      req.on('error', (err) => reject(new GameServerError('GS_ERR_ENGINE_API', `${method} ${fullPath}: ${err.message}`, { method, path: fullPath, socket: this.socketPath }, { cause: err })))
      req.end(body)
    })
    const ok = options.accept?.includes(response.status) || (response.status >= 200 && response.status < 300) || response.status === 304
    if (!ok) {
      const text = response.body.toString('utf8')
      let message = text
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text
      } catch {
        /* not JSON */
      }
      throw new GameServerError('GS_ERR_ENGINE_API', `${method} ${fullPath} → ${response.status}: ${message.trim()}`, { method, path: fullPath, status: response.status, message: message.trim() })
    }
    return response
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.call(method, path, options)
    return (response.body.length === 0 ? undefined : JSON.parse(response.body.toString('utf8'))) as T
  }

  async ping(): Promise<boolean> {
    try {
      const response = await this.call('GET', '/_ping', { raw: true, timeoutMs: 2000 })
      return response.body.toString() === 'OK'
    } catch {
      return false
    }
  }

  version(): Promise<{ Version: string; ApiVersion: string; Components?: { Name: string; Version: string }[] }> {
    return this.json('GET', '/version')
  }

  // --- images ---

  /**
   * `POST /build`: the context as a tar body, the JSON-lines progress parsed; rejects with the
   * build's last output lines when a step fails. Resolves to the image id.
   */
  async build(context: Buffer, options: { tag: string; dockerfile?: string; labels?: Record<string, string>; noCache?: boolean; timeoutMs?: number; onLine?: (line: string) => void }): Promise<string> {
    const response = await this.call('POST', '/build', {
      query: {
        t: options.tag,
        dockerfile: options.dockerfile ?? 'Dockerfile',
        rm: true,
        forcerm: true,
        nocache: options.noCache ?? false,
        ...(options.labels ? { labels: JSON.stringify(options.labels) } : {}),
      },
      body: context,
      timeoutMs: options.timeoutMs ?? 15 * 60_000,
    })
    const output: string[] = []
    let failure: string | undefined
    let id: string | undefined
    for (const line of response.body.toString('utf8').split('\n')) {
      if (!line.trim()) continue
      let message: { stream?: string; error?: string; aux?: { ID?: string } }
      try {
        message = JSON.parse(line) as typeof message
      } catch {
        message = { stream: line }
      }
      if (message.stream) {
        for (const text of message.stream.split('\n')) if (text.trim()) {
          output.push(text)
          options.onLine?.(text)
        }
      }
      if (message.error) failure = message.error
      if (message.aux?.ID) id = message.aux.ID
    }
    if (failure !== undefined || !id) {
      const tail = output.slice(-30).join('\n')
      throw new GameServerError('GS_ERR_ENGINE_BUILD', `building ${options.tag} failed: ${failure ?? 'no image id in the build output'}\n${tail}`, { tag: options.tag })
    }
    return id
  }

  /** `POST /images/create?fromSrc=-`: a root filesystem tar becomes an image (`docker import`). */
  async importRootfs(rootfs: Buffer, options: { repo: string; tag: string; changes?: readonly string[] }): Promise<void> {
    const query = { fromSrc: '-', repo: options.repo, tag: options.tag, ...(options.changes?.length ? { changes: options.changes } : {}) }
    const response = await this.call('POST', '/images/create', { query, body: rootfs, timeoutMs: 10 * 60_000 })
    const text = response.body.toString('utf8')
    if (/"error"/.test(text)) throw new GameServerError('GS_ERR_ENGINE_BUILD', `importing ${options.repo}:${options.tag} failed: ${text.trim()}`, { image: `${options.repo}:${options.tag}` })
    // Podman 4.3's compatible import names the image `<repo>:latest` whatever `tag` says.
    const wanted = `${options.repo}:${options.tag}`
    if (!(await this.imageExists(wanted)) && (await this.imageExists(`${options.repo}:latest`))) {
      await this.tagImage(`${options.repo}:latest`, options.repo, options.tag)
      if (options.tag !== 'latest') await this.removeImage(`${options.repo}:latest`)
    }
  }

  async imageExists(reference: string): Promise<boolean> {
    const response = await this.call('GET', `/images/${encodeURIComponent(reference)}/json`, { accept: [404] })
    return response.status === 200
  }

  inspectImage(reference: string): Promise<{ Id: string; Size: number; RepoTags?: string[]; Config?: { Labels?: Record<string, string> } }> {
    return this.json('GET', `/images/${encodeURIComponent(reference)}/json`)
  }

  listImages(filters: Record<string, string[]> = {}): Promise<{ Id: string; RepoTags?: string[] | null; Labels?: Record<string, string> | null; Size: number; Created: number }[]> {
    return this.json('GET', '/images/json', { query: { filters: JSON.stringify(filters) } })
  }

  async tagImage(reference: string, repo: string, tag: string): Promise<void> {
    await this.call('POST', `/images/${encodeURIComponent(reference)}/tag`, { query: { repo, tag } })
  }

  /**
   * Remove one tag (the image goes when its last tag does). A missing tag is not an error.
   * `keepParents` keeps the untagged parent layers a build made (the build cache of the next build).
   */
  async removeImage(reference: string, options: { force?: boolean; keepParents?: boolean } = {}): Promise<void> {
    await this.call('DELETE', `/images/${encodeURIComponent(reference)}`, { query: { force: options.force ?? false, noprune: options.keepParents ?? false }, accept: [404] })
  }

  async pruneImages(filters: Record<string, string[]>): Promise<void> {
    await this.call('POST', '/images/prune', { query: { filters: JSON.stringify(filters) }, timeoutMs: 5 * 60_000 })
  }

  // --- containers ---

  async createContainer(name: string, body: object): Promise<string> {
    const created = await this.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body })
    return created.Id
  }

  /** `PUT /containers/{id}/archive`: extract a tar into the (created, not yet started) container. */
  async putArchive(id: string, path: string, archive: Buffer): Promise<void> {
    await this.call('PUT', `/containers/${id}/archive`, { query: { path }, body: archive })
  }

  async startContainer(id: string): Promise<void> {
    await this.call('POST', `/containers/${id}/start`, { accept: [304] })
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`)
  }

  async containerExists(id: string): Promise<boolean> {
    return (await this.call('GET', `/containers/${encodeURIComponent(id)}/json`, { accept: [404] })).status === 200
  }

  listContainers(filters: Record<string, string[]> = {}): Promise<{ Id: string; Names: string[]; State: string; Labels?: Record<string, string> }[]> {
    return this.json('GET', '/containers/json', { query: { all: true, filters: JSON.stringify(filters) } })
  }

  /** `POST /containers/{id}/wait` (condition not-running): the exit code. */
  async waitContainer(id: string, timeoutMs: number): Promise<number> {
    const result = await this.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, { query: { condition: 'not-running' }, timeoutMs })
    return result.StatusCode
  }

  /** `POST /containers/{id}/stop`; without `seconds` the engine uses the container's own StopTimeout. */
  async stopContainer(id: string, seconds?: number): Promise<void> {
    await this.call('POST', `/containers/${id}/stop`, { query: seconds === undefined ? {} : { t: seconds }, accept: [304], timeoutMs: ((seconds ?? 120) + 30) * 1000 })
  }

  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.call('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: options.force ?? false, v: options.volumes ?? false }, accept: [404] })
  }

  /** stdout and stderr of a (non-tty) container, demultiplexed. */
  async logs(id: string): Promise<string> {
    const response = await this.call('GET', `/containers/${id}/logs`, { query: { stdout: true, stderr: true } })
    return demultiplex(response.body)
  }

  /** Podman's endpoint that runs a container's own health check once (see health.ts). */
  runHealthcheck(id: string): Promise<{ Status: string; FailingStreak: number }> {
    return this.json('GET', `/v4.0.0/libpod/containers/${id}/healthcheck`, { raw: true, timeoutMs: 120_000 })
  }

  // --- networks and volumes ---

  async createNetwork(body: { Name: string; Driver?: string; Attachable?: boolean; Labels?: Record<string, string> }): Promise<string> {
    const created = await this.json<{ Id: string }>('POST', '/networks/create', { body: { CheckDuplicate: true, ...body } })
    return created.Id
  }

  async removeNetwork(name: string): Promise<void> {
    await this.call('DELETE', `/networks/${encodeURIComponent(name)}`, { accept: [404] })
  }

  listNetworks(filters: Record<string, string[]> = {}): Promise<{ Id: string; Name: string; Labels?: Record<string, string> }[]> {
    return this.json('GET', '/networks', { query: { filters: JSON.stringify(filters) } })
  }

  async createVolume(body: { Name: string; Labels?: Record<string, string> }): Promise<void> {
    await this.call('POST', '/volumes/create', { body })
  }

  async removeVolume(name: string): Promise<void> {
    await this.call('DELETE', `/volumes/${encodeURIComponent(name)}`, { accept: [404] })
  }

  async listVolumes(filters: Record<string, string[]> = {}): Promise<{ Name: string; Labels?: Record<string, string> | null }[]> {
    const result = await this.json<{ Volumes: { Name: string; Labels?: Record<string, string> | null }[] | null }>('GET', '/volumes', { query: { filters: JSON.stringify(filters) } })
    return result.Volumes ?? []
  }
}

export interface ContainerInspect {
  readonly Id: string
  readonly Name: string
  readonly State: {
    readonly Status: string
    readonly Running: boolean
    readonly ExitCode: number
    readonly Pid: number
    readonly StartedAt: string
    readonly FinishedAt: string
    readonly Health?: { readonly Status: string; readonly FailingStreak: number; readonly Log?: { ExitCode: number; Output: string }[] | null }
  }
  readonly Config: { readonly Healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number }; readonly StopTimeout?: number; readonly User?: string }
  readonly HostConfig: { readonly Memory?: number; readonly NanoCpus?: number }
  readonly NetworkSettings: { readonly Networks?: Record<string, { IPAddress: string; Aliases?: string[] | null }> }
}

/** The Docker log stream format: 8-byte frame headers (stream, 0, 0, 0, size32be) before each chunk. */
function demultiplex(buffer: Buffer): string {
  const parts: string[] = []
  let offset = 0
  while (offset + 8 <= buffer.length && buffer[offset]! <= 2 && buffer[offset + 1] === 0) {
    const size = buffer.readUInt32BE(offset + 4)
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'))
    offset += 8 + size
  }
  // Not framed (a tty container, or an engine that sends raw text).
  if (offset === 0) return buffer.toString('utf8')
  return parts.join('')
}
