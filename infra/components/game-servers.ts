/** N game servers from the appliance image, wired to the database and every Redis shard by env. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { servicesOfKind, type Topology } from '../../app/topology/index.js'
import { containerArgs, type Secrets } from './container.js'

export interface GameServersArgs {
  readonly topology: Topology
  readonly secrets: Secrets
  readonly network: pulumi.Input<string>
  readonly appImage: pulumi.Input<string>
  readonly memoryMb: number
  /** Started after these (data stores, migrations). */
  readonly after: pulumi.Resource[]
}

export class GameServers extends pulumi.ComponentResource {
  readonly servers: docker.Container[]

  constructor(name: string, args: GameServersArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:GameServers', name, {}, opts)
    this.servers = servicesOfKind(args.topology, 'game-server').map(
      (server) =>
        new docker.Container(
          `${name}-${server.name}`,
          containerArgs({ topology: args.topology, service: server, secrets: args.secrets, network: args.network, image: args.appImage, memoryMb: args.memoryMb }),
          { parent: this, dependsOn: args.after },
        ),
    )
    this.registerOutputs({ servers: this.servers.map((s) => s.name) })
  }
}
