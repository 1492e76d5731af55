/** Grafana provisioned with the datasource, the dashboards, the alert rules and a contact point. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { SERVICE_NAMES, service } from '../../app/topology/index.js'
import { GRAFANA_DASHBOARD_DIR } from '../../dashboards/provisioning.js'
import type { StackConfig } from '../config.js'
import { containerArgs, contextOf, dataVolume, NAMED_RESOURCE, pulledImage, type StackContext } from './container.js'

export interface GrafanaArgs extends StackContext {
  readonly image: string
  /** Host name of the published port (stack outputs). */
  readonly publicHost: string
  /** Everything `npm run dashboards` generates (dashboards/generate.ts), by path; Grafana takes grafana/…. */
  readonly files: ReadonlyMap<string, string>
  readonly alertEmail: string
  readonly smtp?: StackConfig['smtp']
  /** Started after these (Prometheus, its datasource). */
  readonly after: pulumi.Resource[]
}

export class Grafana extends pulumi.ComponentResource {
  readonly container: docker.Container
  readonly url: pulumi.Output<string>

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:Grafana', name, {}, opts)
    const spec = service(args.topology, SERVICE_NAMES.grafana)
    const volume = dataVolume(name, this)
    const image = pulledImage(`${name}-image`, args.image, this)
    const grafanaFiles = [...args.files].filter(([path]) => path.startsWith('grafana/')).map(([path, content]) => [path.slice('grafana/'.length), content] as const)
    const uploads = grafanaFiles.map(([path, content]) => ({
      file: path.startsWith('dashboards/') ? `${GRAFANA_DASHBOARD_DIR}/${path.slice('dashboards/'.length)}` : `/etc/grafana/${path}`,
      content,
    }))
    this.container = new docker.Container(
      `${name}-grafana`,
      containerArgs({
        ...contextOf(args),
        service: spec,
        image: image.imageId,
        extraEnv: {
          ALERT_EMAIL: args.alertEmail,
          GF_PATHS_PROVISIONING: '/etc/grafana/provisioning',
          ...(args.smtp
            ? { GF_SMTP_ENABLED: 'true', GF_SMTP_HOST: args.smtp.host, GF_SMTP_USER: args.smtp.user, GF_SMTP_PASSWORD: args.smtp.password, GF_SMTP_FROM_ADDRESS: args.smtp.from }
            : {}),
        },
        user: '472',
        volumes: [{ volumeName: volume.name, containerPath: '/var/lib/grafana' }],
        uploads,
      }),
      { ...NAMED_RESOURCE, parent: this, dependsOn: args.after },
    )
    this.url = pulumi.output(`http://${args.publicHost}:${spec.ports[0]!.publishedPort}`)
    this.registerOutputs({ url: this.url })
  }
}
