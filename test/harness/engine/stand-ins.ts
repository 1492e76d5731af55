/**
 * Stand-ins for the stack's third-party images, which cannot be pulled here: built from Debian's
 * packages on the harness's Debian base (standins/*.Containerfile), each honouring the contract the
 * Pulumi program relies on for the image it replaces — the environment variables it sets, the
 * ports, paths and users, the programs its health checks run. Grafana has no Debian package and has
 * no stand-in: the engine test leaves its container out and says so.
 *
 * What is real and what is not: the images run Debian's builds of the same programs (PostgreSQL 15
 * for 17, Redis 7.0 for 7.4, Prometheus 2.42 for 2.55, the exporters' Debian versions), started by
 * the program's own commands, environment, uploads, volumes and health checks.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_IMAGES, type ImageKey } from '../../../infra/images.js'
import type { TarEntry } from './build-context.js'
import type { CachedImage, ImageBuilder } from './images.js'

const STANDIN_DIR = fileURLToPath(new URL('./standins/', import.meta.url))

/** The stand-in Containerfile of each third-party image of the stack (none for Grafana). */
export const STAND_INS: Readonly<Partial<Record<ImageKey, string>>> = {
  postgres: 'postgres',
  redis: 'redis',
  prometheus: 'prometheus',
  postgresExporter: 'postgres-exporter',
  redisExporter: 'redis-exporter',
  nodeExporter: 'node-exporter',
}

/** Images with no stand-in, and why. */
export const NO_STAND_IN: Readonly<Partial<Record<ImageKey, string>>> = {
  grafana: 'Grafana is not packaged for Debian; its container is left out of the engine test (its provisioning is checked under mocks and by promtool)',
}

export interface StandIn {
  readonly key: ImageKey
  /** The image reference the program names (e.g. postgres:17.4-alpine3.21). */
  readonly replaces: string
  readonly image: CachedImage
}

/** Build (or find cached) every stand-in: one shared package layer, then one small image each. */
export async function buildStandIns(builder: ImageBuilder, images: Readonly<Record<ImageKey, string>> = DEFAULT_IMAGES): Promise<StandIn[]> {
  const base = await builder.debianBase()
  const packages = await builder.fromContainerfile('standin-packages', base, read('packages.Containerfile'), [])
  const out: StandIn[] = []
  for (const [key, name] of Object.entries(STAND_INS) as [ImageKey, string][]) {
    const files: TarEntry[] = readdirSync(STANDIN_DIR)
      .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.sh'))
      .map((f) => ({ path: f, kind: 'file', mode: 0o755, content: readFileSync(join(STANDIN_DIR, f)) }))
    const image = await builder.fromContainerfile(`standin-${name}`, packages, read(`${name}.Containerfile`), files)
    out.push({ key, replaces: images[key], image })
  }
  return out
}

function read(file: string): string {
  return readFileSync(join(STANDIN_DIR, file), 'utf8')
}
