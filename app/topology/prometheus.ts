/**
 * The Prometheus configuration of a topology: one scrape job per kind of scraped service (game
 * servers, balancer, PostgreSQL and Redis exporters), every target labelled with its `service`
 * name, and the alert rule files. Both adapters write it with their own addressing.
 */
import type { Topology } from './model.js'
import { resolveValue, stringResolver } from './resolve.js'

export interface Addressing {
  host(service: string): string
  port(service: string, port: string): number
}

export interface ScrapeTarget {
  readonly job: string
  readonly service: string
  /** host:port Prometheus connects to. */
  readonly address: string
  readonly path: string
  /** For multi-target exporters: the probed address passed as `?target=`. */
  readonly probe?: string
}

export function scrapeTargets(topology: Topology, addressing: Addressing): ScrapeTarget[] {
  const resolver = stringResolver({ ...addressing, secret: () => '' })
  const out: ScrapeTarget[] = []
  for (const service of topology.services) {
    const scrape = service.scrape
    if (!scrape) continue
    const address = `${addressing.host(service.name)}:${addressing.port(service.name, scrape.port)}`
    if (scrape.probes) {
      for (const probe of scrape.probes) {
        out.push({ job: scrape.job, service: probe.service, address, path: scrape.path, probe: resolveValue(probe.target, resolver) })
      }
    } else {
      out.push({ job: scrape.job, service: service.name, address, path: scrape.path })
    }
  }
  return out
}

export interface PrometheusConfigOptions {
  readonly ruleFiles: readonly string[]
  /** Alertmanager is not part of the appliance: Grafana evaluates its own copy of the rules. */
  readonly scrapeIntervalSeconds?: number
}

/** The prometheus.yml document (as a plain object; `toYaml` writes it). */
export function prometheusConfig(topology: Topology, addressing: Addressing, options: PrometheusConfigOptions) {
  const interval = `${options.scrapeIntervalSeconds ?? topology.options.scrapeIntervalSeconds}s`
  const targets = scrapeTargets(topology, addressing)
  const jobs = [...new Set(targets.map((t) => t.job))]
  return {
    global: { scrape_interval: interval, evaluation_interval: interval, external_labels: { appliance: 'game' } },
    rule_files: [...options.ruleFiles],
    scrape_configs: jobs.map((job) => {
      const mine = targets.filter((t) => t.job === job)
      const first = mine[0]!
      if (first.probe !== undefined) {
        return {
          job_name: job,
          metrics_path: first.path,
          static_configs: mine.map((t) => ({ targets: [t.probe!], labels: { service: t.service } })),
          relabel_configs: [
            { source_labels: ['__address__'], target_label: '__param_target' },
            { source_labels: ['__param_target'], target_label: 'instance' },
            { target_label: '__address__', replacement: first.address },
          ],
        }
      }
      return {
        job_name: job,
        metrics_path: first.path,
        static_configs: mine.map((t) => ({ targets: [t.address], labels: { service: t.service } })),
      }
    }),
  }
}
