/** Prometheus with the scrape config generated from the topology and the generated alert rules. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { containerAddress, prometheusConfig, SERVICE_NAMES, service } from '../../app/topology/index.js'
import { toYaml } from '../../app/topology/yaml.js'
import { prometheusRules, RULE_FILE } from '../../dashboards/alerts.js'
import { containerArgs, contextOf, dataVolume, NAMED_RESOURCE, pulledImage, type StackContext } from './container.js'

export interface PrometheusArgs extends StackContext {
  readonly image: string
  /** Host name of the published port (stack outputs). */
  readonly publicHost: string
}

export class Prometheus extends pulumi.ComponentResource {
  readonly container: docker.Container
  /** Host URL when published, else the in-network URL. */
  readonly url: pulumi.Output<string>

  constructor(name: string, args: PrometheusArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:Prometheus', name, {}, opts)
    const spec = service(args.topology, SERVICE_NAMES.prometheus)
    const volume = dataVolume(name, this)
    const image = pulledImage(`${name}-image`, args.image, this)
    const config = toYaml(prometheusConfig(args.topology, containerAddress(args.topology), { ruleFiles: [`/etc/prometheus/${RULE_FILE}`] }))
    this.container = new docker.Container(
      `${name}-prometheus`,
      containerArgs({
        ...contextOf(args),
        service: spec,
        image: image.imageId,
        command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', '--storage.tsdb.retention.time=15d', '--web.enable-lifecycle'],
        user: 'nobody',
        volumes: [{ volumeName: volume.name, containerPath: '/prometheus' }],
        uploads: [
          { file: '/etc/prometheus/prometheus.yml', content: config },
          { file: `/etc/prometheus/${RULE_FILE}`, content: toYaml(prometheusRules()) },
        ],
      }),
      { ...NAMED_RESOURCE, parent: this },
    )
    const published = spec.ports[0]!.publishedPort
    this.url = pulumi.output(published ? `http://${args.publicHost}:${published}` : `http://${spec.name}:${spec.ports[0]!.containerPort}`)
    this.registerOutputs({ url: this.url })
  }
}
