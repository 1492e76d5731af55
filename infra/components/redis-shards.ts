/** K Redis shards, each password-protected, plus one redis_exporter that probes every shard. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { SERVICE_NAMES, service, servicesOfKind } from '../../app/topology/index.js'
import { containerArgs, contextOf, NAMED_RESOURCE, pulledImage, type StackContext } from './container.js'

export interface RedisShardsArgs extends StackContext {
  readonly image: string
  readonly exporterImage: string
  readonly memoryMb: number
}

export class RedisShards extends pulumi.ComponentResource {
  readonly shards: docker.Container[]

  constructor(name: string, args: RedisShardsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:RedisShards', name, {}, opts)
    const image = pulledImage(`${name}-image`, args.image, this)
    this.shards = servicesOfKind(args.topology, 'redis').map(
      (shard) =>
        new docker.Container(
          `${name}-${shard.name}`,
          containerArgs({
            ...contextOf(args),
            service: shard,
            image: image.imageId,
            // The password reaches redis-server through the environment, never a literal on the
            // command line (redis-server also replaces its process title once started), and
            // redis-cli in the health check reads it from REDISCLI_AUTH.
            extraEnv: { REDIS_PASSWORD: args.secrets.redisPassword, REDISCLI_AUTH: args.secrets.redisPassword },
            command: ['sh', '-c', `exec redis-server --port ${shard.ports[0]!.containerPort} --requirepass "$REDIS_PASSWORD" --save '' --appendonly no --maxmemory ${Math.floor(args.memoryMb * 0.8)}mb --maxmemory-policy allkeys-lru`],
            user: 'redis',
            memoryMb: args.memoryMb,
          }),
          { ...NAMED_RESOURCE, parent: this },
        ),
    )
    const exporterImage = pulledImage(`${name}-exporter-image`, args.exporterImage, this)
    new docker.Container(
      `${name}-exporter`,
      containerArgs({ ...contextOf(args), service: service(args.topology, SERVICE_NAMES.redisExporter), image: exporterImage.imageId, user: 'nobody' }),
      { ...NAMED_RESOURCE, parent: this, dependsOn: this.shards },
    )
    this.registerOutputs({ shards: this.shards.map((s) => s.name) })
  }
}
