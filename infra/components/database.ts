/** PostgreSQL on a named volume with a secret password, plus the migration job and the exporter. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { DATABASE_NAME, DATABASE_USER, SERVICE_NAMES, service, type Topology } from '../../app/topology/index.js'
import { containerArgs, dataVolume, pulledImage, type Secrets } from './container.js'

export const POSTGRES_IMAGE = 'postgres:17-alpine'
export const POSTGRES_EXPORTER_IMAGE = 'quay.io/prometheuscommunity/postgres-exporter:v0.15.0'

export interface DatabaseArgs {
  readonly topology: Topology
  readonly secrets: Secrets
  readonly network: pulumi.Input<string>
  readonly appImage: pulumi.Input<string>
  readonly memoryMb: number
}

export class Database extends pulumi.ComponentResource {
  readonly container: docker.Container
  /** Finishes once migrations are applied; game servers depend on it. */
  readonly migrations: docker.Container

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:Database', name, {}, opts)
    const parent = { parent: this }
    const volume = dataVolume(name, this)
    const image = pulledImage(`${name}-image`, POSTGRES_IMAGE, this)
    this.container = new docker.Container(
      `${name}-postgres`,
      containerArgs({
        topology: args.topology,
        service: service(args.topology, SERVICE_NAMES.postgres),
        secrets: args.secrets,
        network: args.network,
        image: image.imageId,
        extraEnv: { POSTGRES_USER: DATABASE_USER, POSTGRES_DB: DATABASE_NAME, POSTGRES_PASSWORD: args.secrets.postgresPassword },
        user: 'postgres',
        memoryMb: args.memoryMb,
        volumes: [{ volumeName: volume.name, containerPath: '/var/lib/postgresql/data' }],
      }),
      parent,
    )
    this.migrations = new docker.Container(
      `${name}-migrate`,
      { ...containerArgs({ topology: args.topology, service: service(args.topology, SERVICE_NAMES.migrate), secrets: args.secrets, network: args.network, image: args.appImage }), attach: true },
      { parent: this, dependsOn: [this.container] },
    )
    const exporterImage = pulledImage(`${name}-exporter-image`, POSTGRES_EXPORTER_IMAGE, this)
    new docker.Container(
      `${name}-exporter`,
      containerArgs({
        topology: args.topology,
        service: service(args.topology, SERVICE_NAMES.postgresExporter),
        secrets: args.secrets,
        network: args.network,
        image: exporterImage.imageId,
        user: 'nobody',
      }),
      { parent: this, dependsOn: [this.container] },
    )
    this.registerOutputs({ container: this.container.name })
  }
}
