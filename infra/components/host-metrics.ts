/**
 * node_exporter: the Docker host's CPU, memory, filesystems and network, once per host. The app
 * processes report only their own container's limits and usage (cgroup), so a host alert fires
 * once, not once per container. The exporter reads the host's /proc, /sys and root filesystem
 * through read-only bind mounts; its network figures are those of its own network namespace.
 */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { resolveValue, SERVICE_NAMES, service } from '../../app/topology/index.js'
import { containerArgs, contextOf, NAMED_RESOURCE, outputResolver, pulledImage, type StackContext } from './container.js'

export interface HostMetricsArgs extends StackContext {
  readonly image: string
}

/** Where the host's filesystems appear inside the exporter's container. */
const HOST_MOUNTS = [
  { hostPath: '/proc', containerPath: '/host/proc', flag: '--path.procfs' },
  { hostPath: '/sys', containerPath: '/host/sys', flag: '--path.sysfs' },
  { hostPath: '/', containerPath: '/host/root', flag: '--path.rootfs' },
] as const

export class HostMetrics extends pulumi.ComponentResource {
  readonly container: docker.Container

  constructor(name: string, args: HostMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:HostMetrics', name, {}, opts)
    const spec = service(args.topology, SERVICE_NAMES.nodeExporter)
    const image = pulledImage(`${name}-image`, args.image, this)
    // The topology's arguments (the listen address), then where the host's filesystems are mounted.
    const listen = spec.args.map((value) => resolveValue(value, outputResolver(args.topology, args.secrets)))
    this.container = new docker.Container(
      `${name}-node-exporter`,
      containerArgs({
        ...contextOf(args),
        service: spec,
        image: image.imageId,
        command: [...listen, ...HOST_MOUNTS.map((m) => `${m.flag}=${m.containerPath}`)],
        user: 'nobody',
        volumes: HOST_MOUNTS.map((m) => ({ hostPath: m.hostPath, containerPath: m.containerPath, readOnly: true })),
      }),
      { ...NAMED_RESOURCE, parent: this },
    )
    this.registerOutputs({ container: this.container.name })
  }
}
