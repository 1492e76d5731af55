/** PostgreSQL on a named volume with a secret password, plus the migration job and the exporter. */
import * as docker from '@pulumi/docker'
import * as pulumi from '@pulumi/pulumi'
import { GameServerError } from '../../app/errors.js'
import { DATABASE_NAME, DATABASE_USER, SERVICE_NAMES, service } from '../../app/topology/index.js'
import type { DataVolumeRetention } from '../config.js'
import { containerArgs, contextOf, dataVolume, NAMED_RESOURCE, pulledImage, type StackContext } from './container.js'

export interface DatabaseArgs extends StackContext {
  readonly appImage: pulumi.Input<string>
  readonly image: string
  readonly exporterImage: string
  readonly memoryMb: number
  readonly volumeRetention: DataVolumeRetention
}

/** Lines of the migration job's output quoted in the error of a failed update. */
const LOG_TAIL_LINES = 20

/**
 * What the retention setting means for the data volume: `retain` leaves it on the Docker host when
 * Pulumi deletes it (`pulumi destroy`, a replacement), `protect` makes Pulumi refuse to delete it
 * at all until the setting changes, `delete` removes it with the stack (throwaway stacks).
 */
function volumeRetentionOptions(retention: DataVolumeRetention): pulumi.CustomResourceOptions {
  return { retainOnDelete: retention === 'retain', protect: retention === 'protect' }
}

export class Database extends pulumi.ComponentResource {
  readonly container: docker.Container
  /** Finishes once migrations are applied; game servers depend on it. */
  readonly migrations: docker.Container
  /**
   * Resolves once the migration job exited with code 0, and fails the update otherwise: the
   * provider's `attach` only waits for the job to stop, so a failed migration would otherwise let
   * the game servers start on the old schema. Gate whatever needs the schema on this output.
   */
  readonly migrated: pulumi.Output<true>

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super('game-appliance:infra:Database', name, {}, opts)
    const volume = dataVolume(name, this, volumeRetentionOptions(args.volumeRetention))
    const image = pulledImage(`${name}-image`, args.image, this)
    this.container = new docker.Container(
      `${name}-postgres`,
      containerArgs({
        ...contextOf(args),
        service: service(args.topology, SERVICE_NAMES.postgres),
        image: image.imageId,
        extraEnv: { POSTGRES_USER: DATABASE_USER, POSTGRES_DB: DATABASE_NAME, POSTGRES_PASSWORD: args.secrets.postgresPassword },
        user: 'postgres',
        memoryMb: args.memoryMb,
        volumes: [{ volumeName: volume.name, containerPath: '/var/lib/postgresql/data' }],
      }),
      { ...NAMED_RESOURCE, parent: this },
    )
    const job = containerArgs({ ...contextOf(args), service: service(args.topology, SERVICE_NAMES.migrate), image: args.appImage })
    this.migrations = new docker.Container(
      `${name}-migrate`,
      {
        ...job,
        // `pulumi up` waits for the job to stop and keeps its output for the error below. No restart
        // policy: a restart would make the wait return on the first exit and hide its exit code
        // (migrations run after PostgreSQL is healthy, so there is nothing to retry for).
        attach: true,
        logs: true,
        mustRun: false,
        restart: 'no',
        maxRetryCount: undefined,
      },
      { ...NAMED_RESOURCE, parent: this, dependsOn: [this.container] },
    )
    this.migrated = pulumi.all([this.migrations.exitCode, this.migrations.containerLogs]).apply(([exitCode, logs]) => checkMigrationExit(exitCode, logs))
    const exporterImage = pulledImage(`${name}-exporter-image`, args.exporterImage, this)
    new docker.Container(
      `${name}-exporter`,
      containerArgs({ ...contextOf(args), service: service(args.topology, SERVICE_NAMES.postgresExporter), image: exporterImage.imageId, user: 'nobody' }),
      { ...NAMED_RESOURCE, parent: this, dependsOn: [this.container] },
    )
    this.registerOutputs({ container: this.container.name, migrated: this.migrated })
  }
}

/** The migration job's verdict: true on exit code 0, else GS_ERR_DEPLOY_MIGRATION with its last lines. */
export function checkMigrationExit(exitCode: number | undefined, logs: string | undefined): true {
  if (exitCode === 0) return true
  const tail = (logs ?? '').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')
  throw new GameServerError(
    'GS_ERR_DEPLOY_MIGRATION',
    `the migration job exited with code ${exitCode ?? 'unknown'}; the game servers were not started on the old schema${tail ? `. Its last output:\n${tail}` : ''}`,
    { exitCode },
  )
}
