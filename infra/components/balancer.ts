/** The balancer: the only container whose game port is published on the host. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { SERVICE_NAMES, service, type Topology } from '../../app/topology/index.js'
import { containerArgs, type Secrets } from './container.js'

export interface BalancerArgs {
  readonly topology: Topology
  readonly secrets: Secrets
  readonly network: pulumi.Input<string>
  readonly appImage: pulumi.Input<string>
  readonly memoryMb: number
  readonly backends: pulumi.Resource[]
}

export class Balancer extends pulumi.ComponentResource {
  readonly container: docker.Container
  /** host:port clients connect to. */
  readonly endpoint: pulumi.Output<string>

  constructor(name: string, args: BalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:Balancer', name, {}, opts)
    const spec = service(args.topology, SERVICE_NAMES.balancer)
    this.container = new docker.Container(
      `${name}-balancer`,
      containerArgs({ topology: args.topology, service: spec, secrets: args.secrets, network: args.network, image: args.appImage, memoryMb: args.memoryMb }),
      { parent: this, dependsOn: args.backends },
    )
    this.endpoint = pulumi.output(`localhost:${args.topology.options.balancerPort}`)
    this.registerOutputs({ endpoint: this.endpoint })
  }
}
