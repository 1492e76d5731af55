/** Load generators (load-test stacks only): the built-in load generator aimed at the balancer. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { servicesOfKind } from '../../app/topology/index.js'
import { containerArgs, contextOf, NAMED_RESOURCE, type StackContext } from './container.js'

export interface LoadGeneratorsArgs extends StackContext {
  readonly appImage: pulumi.Input<string>
  readonly balancer: pulumi.Resource
}

export class LoadGenerators extends pulumi.ComponentResource {
  readonly generators: docker.Container[]

  constructor(name: string, args: LoadGeneratorsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:LoadGenerators', name, {}, opts)
    this.generators = servicesOfKind(args.topology, 'load-generator').map(
      (generator) =>
        new docker.Container(`${name}-${generator.name}`, containerArgs({ ...contextOf(args), service: generator, image: args.appImage }), {
          ...NAMED_RESOURCE,
          parent: this,
          dependsOn: [args.balancer],
        }),
    )
    this.registerOutputs({ generators: this.generators.map((g) => g.name) })
  }
}
