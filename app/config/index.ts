/**
 * The typed, validated, frozen configuration of every process kind, read once at start-up.
 * `loadConfig()` throws a `GS_ERR_CONFIG` error naming the bad variable.
 */
import { hostname } from 'node:os'
import { clusterSection } from './cluster-section.js'
import { readSection, type Env, type SectionValues } from './schema.js'
import { applianceSection } from './appliance-section.js'
import { balancerSection, dataSection, gameSection, protocolSection, serverSection, sessionSection } from './sections.js'
import { cacheSection } from './cache-section.js'
import { telemetrySection } from './telemetry-section.js'
import { webSocketSection } from './websocket-section.js'

const sections = {
  server: serverSection,
  protocol: protocolSection,
  session: sessionSection,
  webSocket: webSocketSection,
  game: gameSection,
  data: dataSection,
  cache: cacheSection,
  balancer: balancerSection,
  telemetry: telemetrySection,
  cluster: clusterSection,
  appliance: applianceSection,
} as const

export type Config = {
  readonly [K in keyof typeof sections]: SectionValues<(typeof sections)[K]>
} & { readonly server: { readonly nodeId: string } }

export function loadConfig(env: Env = process.env): Config {
  const out: Record<string, unknown> = {}
  for (const [key, section] of Object.entries(sections)) out[key] = readSection(section, env)
  const server = out.server as SectionValues<typeof serverSection>
  out.server = Object.freeze({ ...server, nodeId: server.nodeId ?? `${hostname()}-${process.pid}` })
  return Object.freeze(out) as Config
}

/** Every variable of every section, for docs and the docs-completeness test. */
export function allVariables(): { section: string; name: string; defaultValue: unknown; doc: string }[] {
  return Object.entries(sections).flatMap(([section, vars]) =>
    Object.values(vars).map((v) => ({ section, name: v.name, defaultValue: v.defaultValue, doc: v.doc })),
  )
}

export type { Env } from './schema.js'
