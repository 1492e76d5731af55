/** K Redis shards, each password-protected, plus one redis_exporter that probes every shard. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { SERVICE_NAMES, service, servicesOfKind, type Topology } from '../../app/topology/index.js'
import { containerArgs, pulledImage, type Secrets } from './container.js'

export const REDIS_IMAGE = 'redis:7-alpine'
export const REDIS_EXPORTER_IMAGE = 'oliver006/redis_exporter:v1.62.0-alpine'

export interface RedisShardsArgs {
  readonly topology: Topology
  readonly secrets: Secrets
  readonly network: pulumi.Input<string>
  readonly memoryMb: number
}

export class RedisShards extends pulumi.ComponentResource {
  readonly shards: docker.Container[]

  constructor(name: string, args: RedisShardsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:RedisShards', name, {}, opts)
    const image = pulledImage(`${name}-image`, REDIS_IMAGE, this)
    this.shards = servicesOfKind(args.topology, 'redis').map(
      (shard) =>
        new docker.Container(
          `${name}-${shard.name}`,
          containerArgs({
            topology: args.topology,
            service: shard,
            secrets: args.secrets,
            network: args.network,
            image: image.imageId,
            // The password reaches redis-server through the environment, never the command line.
            extraEnv: { REDIS_PASSWORD: args.secrets.redisPassword },
            command: ['sh', '-c', `exec redis-server --port ${shard.ports[0]!.containerPort} --requirepass "$REDIS_PASSWORD" --save '' --appendonly no --maxmemory ${Math.floor(args.memoryMb * 0.8)}mb --maxmemory-policy allkeys-lru`],
            user: 'redis',
            memoryMb: args.memoryMb,
          }),
          { parent: this },
        ),
    )
    const exporterImage = pulledImage(`${name}-exporter-image`, REDIS_EXPORTER_IMAGE, this)
    new docker.Container(
      `${name}-exporter`,
      containerArgs({
        topology: args.topology,
        service: service(args.topology, SERVICE_NAMES.redisExporter),
        secrets: args.secrets,
        network: args.network,
        image: exporterImage.imageId,
        user: 'nobody',
      }),
      { parent: this, dependsOn: this.shards },
    )
    this.registerOutputs({ shards: this.shards.map((s) => s.name) })
  }
}
