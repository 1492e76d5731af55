/** N game servers from the appliance image, wired to the database and every Redis shard by env. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { servicesOfKind } from '../../app/topology/index.js'
import { containerArgs, contextOf, NAMED_RESOURCE, type StackContext } from './container.js'

export interface GameServersArgs extends StackContext {
  /** The image to run; resolves only once migrations succeeded (Database.migrated). */
  readonly appImage: pulumi.Input<string>
  readonly memoryMb: number
  readonly cpus: number
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
          containerArgs({ ...contextOf(args), service: server, image: args.appImage, memoryMb: args.memoryMb, cpus: args.cpus }),
          { ...NAMED_RESOURCE, parent: this, dependsOn: args.after },
        ),
    )
    this.registerOutputs({ servers: this.servers.map((s) => s.name) })
  }
}
