/**
 * The local adapter's view of the topology: for every service, how it runs as a local process
 * (or why it does not), on which loopback ports. Pure: `planLocal` only decides; appliance.ts runs
 * the plan. A unit test checks that the plan names exactly the topology's services.
 */
import type { Service, Topology } from '../topology/model.js'

type LocalRunner =
  | { readonly kind: 'postgres' }
  | { readonly kind: 'redis' }
  | { readonly kind: 'prometheus' }
  /** A system program (the exporters), started with the service's args. */
  | { readonly kind: 'program'; readonly program: string; readonly debianPackage: string }
  /** A module of this repository, run with `node --import tsx <module>`. */
  | { readonly kind: 'app'; readonly module: string }
  | { readonly kind: 'skipped'; readonly reason: string }

export interface LocalStep {
  readonly service: Service
  readonly runner: LocalRunner
  /** Services of one level start together; a level starts once the previous one is ready. */
  readonly level: number
}

export interface LocalAvailability {
  /** Whether a system program is installed (findProgram). */
  has(program: string): boolean
  /** Run Prometheus and the exporters (APPLIANCE_PROMETHEUS). */
  readonly observability: boolean
}

const EXPORTER_PROGRAMS = {
  'postgres-exporter': { program: 'prometheus-postgres-exporter', debianPackage: 'prometheus-postgres-exporter' },
  'redis-exporter': { program: 'prometheus-redis-exporter', debianPackage: 'prometheus-redis-exporter' },
  'node-exporter': { program: 'prometheus-node-exporter', debianPackage: 'prometheus-node-exporter' },
} as const

function runnerFor(service: Service, available: LocalAvailability): LocalRunner {
  switch (service.kind) {
    case 'postgres':
      return { kind: 'postgres' }
    case 'redis':
      return { kind: 'redis' }
    case 'postgres-exporter':
    case 'redis-exporter':
    case 'node-exporter': {
      const exporter = EXPORTER_PROGRAMS[service.kind]
      if (!available.observability) return { kind: 'skipped', reason: 'APPLIANCE_PROMETHEUS=false' }
      if (!available.has(exporter.program)) return { kind: 'skipped', reason: `${exporter.program} is not installed (apt-get install -y ${exporter.debianPackage}); its metrics are missing` }
      return { kind: 'program', ...exporter }
    }
    case 'prometheus':
      if (!available.observability) return { kind: 'skipped', reason: 'APPLIANCE_PROMETHEUS=false' }
      if (!available.has('prometheus')) return { kind: 'skipped', reason: 'prometheus is not installed (apt-get install -y prometheus)' }
      return { kind: 'prometheus' }
    case 'grafana':
      return { kind: 'skipped', reason: 'Grafana is not packaged for Debian; the dashboards run in the Pulumi stack (dashboards/generated/grafana)' }
    case 'migrate':
    case 'game-server':
    case 'balancer':
    case 'load-generator':
      return { kind: 'app', module: service.app!.module }
  }
}

export function planLocal(topology: Topology, available: LocalAvailability): LocalStep[] {
  const levels = new Map<string, number>()
  const levelOf = (service: Service): number => {
    const known = levels.get(service.name)
    if (known !== undefined) return known
    const deps = service.dependsOn.map((name) => levelOf(topology.services.find((s) => s.name === name)!))
    const level = deps.length === 0 ? 0 : Math.max(...deps) + 1
    levels.set(service.name, level)
    return level
  }
  return topology.services.map((service) => ({ service, runner: runnerFor(service, available), level: levelOf(service) }))
}
