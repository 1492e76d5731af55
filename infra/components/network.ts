/** The private Docker network every container joins; services reach each other by name on it. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { NAMED_RESOURCE } from './container.js'

export interface PrivateNetworkArgs {
  readonly name: string
}

export class PrivateNetwork extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>

  constructor(name: string, args: PrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:PrivateNetwork', name, {}, opts)
    const network = new docker.Network(`${name}-network`, { name: args.name, driver: 'bridge', attachable: false }, { ...NAMED_RESOURCE, parent: this })
    this.name = network.name
    this.registerOutputs({ name: this.name })
  }
}
