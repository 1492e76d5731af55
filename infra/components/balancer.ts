/** The balancer: the only container whose game ports (TCP, and the WebSocket front) are published on the host. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { SERVICE_NAMES, service } from '../../app/topology/index.js'
import { containerArgs, contextOf, NAMED_RESOURCE, type StackContext } from './container.js'

export interface BalancerArgs extends StackContext {
  readonly appImage: pulumi.Input<string>
  readonly memoryMb: number
  readonly cpus: number
  readonly backends: pulumi.Resource[]
  /** Host name clients use for the published port (the Docker host's, see infra/config.ts). */
  readonly publicHost: string
}

export class Balancer extends pulumi.ComponentResource {
  readonly container: docker.Container
  /** host:port clients connect to. */
  readonly endpoint: pulumi.Output<string>
  /** The playground page and the WebSocket of browser players (plain HTTP/WebSocket: TLS goes in front). */
  readonly playground: pulumi.Output<string>

  constructor(name: string, args: BalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:Balancer', name, {}, opts)
    const spec = service(args.topology, SERVICE_NAMES.balancer)
    this.container = new docker.Container(
      `${name}-balancer`,
      containerArgs({ ...contextOf(args), service: spec, image: args.appImage, memoryMb: args.memoryMb, cpus: args.cpus }),
      { ...NAMED_RESOURCE, parent: this, dependsOn: args.backends },
    )
    this.endpoint = pulumi.output(`${args.publicHost}:${args.topology.options.balancerPort}`)
    this.playground = pulumi.output(`http://${args.publicHost}:${args.topology.options.balancerWebSocketPort}/`)
    this.registerOutputs({ endpoint: this.endpoint, playground: this.playground })
  }
}
