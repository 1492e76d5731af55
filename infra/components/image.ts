/** The appliance image, built from the repository's Dockerfile and kept local (not pushed). */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'

export interface AppImageArgs {
  /** Build context: the repository root. */
  readonly context: string
  /** Local image name, e.g. `game-appliance:latest`. */
  readonly imageName: string
}

export class AppImage extends pulumi.ComponentResource {
  /** Reference containers run (the local image id, so a rebuild replaces them). */
  readonly ref: pulumi.Output<string>
  readonly imageName: pulumi.Output<string>

  constructor(name: string, args: AppImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:AppImage', name, {}, opts)
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: args.imageName,
        build: { context: args.context, dockerfile: `${args.context}/Dockerfile` },
        skipPush: true,
      },
      { parent: this },
    )
    this.imageName = image.imageName
    this.ref = image.repoDigest
    this.registerOutputs({ ref: this.ref, imageName: this.imageName })
  }
}
