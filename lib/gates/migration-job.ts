import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import type { IBlueGreenApp } from '../app/blue-green-app';
import { ImageRef } from '../core/image';
import { shortHash } from '../core/hash';
import { appLabels } from '../core/labels';
import { INetworkPeer, NetworkPeerSpec } from '../network/network-policy-set';
import { Problems, isDnsSubdomain, requireDnsLabel, requireInteger, requireEnvName } from '../core/validation';
import { podPlacement } from '../core/scheduling';
import { IAppBackend, backendEnv, containerResources, plainEnv, restrictedContainerSecurity } from '../core/workload';
import { JOB_ANNOTATIONS, JobResources, addGuards, jobSpecDefaults, requirePinnedImage, restrictedPodSpec } from './gate-job';

/**
 * When a schema migration runs relative to a cutover (expand/contract, also called parallel change):
 * - `expand` makes the schema work for both the old and the new release (add nullable columns, new tables,
 *   backfills). It runs before the switch and must succeed, or traffic does not move.
 * - `contract` removes what only the old release needed (drop columns, constraints the old release violates). It
 *   runs only once the old color is retired, never in the update that switches colors: a rollback to a color whose
 *   schema is gone would fail.
 * @see https://martinfowler.com/bliki/ParallelChange.html
 */
export type MigrationPhase = 'expand' | 'contract';

/** Props of {@link MigrationJob}. */
export interface MigrationJobProps {
  /** The app whose schema is migrated: names the Job and lends it its ServiceAccount (and so its image pull secrets). */
  readonly app: IBlueGreenApp;

  /** `expand` (before the switch) or `contract` (after the old color is retired); see {@link MigrationPhase}. */
  readonly phase: MigrationPhase;

  /**
   * Image of the migration, pinned by tag or digest (usually the new release's image); not `latest`, since the
   * Job's name is derived from it and a moving tag would never re-run.
   */
  readonly image: string;

  /**
   * Command and arguments, run without a shell, e.g. `['bin/migrate', 'up']`.
   * @see https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/
   */
  readonly command: readonly string[];

  /**
   * Extra plain environment variables. Never secret values: they would end up in manifests and state; use
   * `secretNames` or `backends`.
   * @default {}
   */
  readonly env?: Readonly<Record<string, string>>;

  /**
   * Names of existing Secrets loaded as environment variables (only names are referenced).
   * @default []
   */
  readonly secretNames?: readonly string[];

  /**
   * Backing services whose connection variables the Job gets (PostgresHA: `DATABASE_URL`). The Job also waits for
   * every backend that is a construct (e.g. the PostgresHA Cluster and its Pooler) to be applied first.
   * @default []
   */
  readonly backends?: readonly IAppBackend[];

  /**
   * Seconds the migration may run before Kubernetes stops it and the Job fails. Keep it below the stack's
   * `deployTimeoutSeconds`, so the Job fails with its own message before Pulumi gives up waiting.
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
   * @default 300
   */
  readonly activeDeadlineSeconds?: number;

  /**
   * Prefix of the Job's name, and the name of its NetworkPolicy workload; the Job is `<prefix>-<8 hex digits>`.
   * At most 54 characters, so that the name fits a label value (63).
   * @default `${app.name}-migrate-${phase}`
   */
  readonly namePrefix?: string;

  /**
   * Non-root UID (and GID) the container runs as.
   * @default 10001
   */
  readonly runAsUser?: number;

  /**
   * Requests and limits of the container; the writable `/tmp` (64Mi) counts against ephemeral storage.
   * @default { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi',
   *   ephemeralStorageRequest: '64Mi', ephemeralStorageLimit: '256Mi' }
   */
  readonly resources?: JobResources;
}

/** Label telling an `expand` migration's pods from a `contract` one's. */
export const LABEL_MIGRATION_PHASE = 'cutover.dev/migration-phase';

const MIGRATION_RESOURCES = {
  cpuRequest: '100m',
  cpuLimit: '500m',
  memoryRequest: '128Mi',
  memoryLimit: '256Mi',
  ephemeralStorageRequest: '64Mi',
  ephemeralStorageLimit: '256Mi',
};
const TMP_MEBIBYTES = 64;

/**
 * A database schema migration as a Kubernetes Job, named after what it runs: `<app>-migrate-<phase>-<hash>`, where
 * the hash covers the whole Job spec (image, command, environment, resources, ...) and nothing that depends on
 * `activeColor`. So:
 * - a cutover or a rollback (an `activeColor` change) leaves the Job untouched and never re-runs it;
 * - a changed migration is a new Job (a new name), created and awaited, then the old, finished Job is deleted;
 * - an unchanged migration that already succeeded is not run again by later updates.
 *
 * Pulumi awaits the Job: the update fails, with the pod's termination message (the tail of its log), when the
 * migration fails or exceeds `activeDeadlineSeconds`. A failed migration is run again by the next `pulumi up`
 * (`pulumi.com/replaceUnready`), so migrations must be safe to retry (migration tools record what was applied).
 *
 * An `expand` migration must finish before the switch: hand it to {@link CutoverGate.after}, or {@link guard} the
 * traffic objects with it. A `contract` migration must never run in the update that switches colors: the stacks
 * decide when it is allowed (only once the old color is retired), and {@link CutoverGate.after} refuses it.
 *
 * The Job is not cleaned up after it finishes (`ttlSecondsAfterFinished` unset): Pulumi owns it, and a Job deleted
 * behind its back would be drift that `pulumi up --refresh` answers by creating it again, re-running the migration.
 */
export class MigrationJob extends Construct implements INetworkPeer {
  public readonly phase: MigrationPhase;
  /** The Job's name, `<namePrefix>-<hash>`. */
  public readonly name: string;
  public readonly namePrefix: string;
  public readonly image: ImageRef;
  /** 8 hex digits of the SHA-256 of the Job spec. */
  public readonly specHash: string;
  public readonly activeDeadlineSeconds: number;
  public readonly job: ApiObject;

  private readonly podLabels: Record<string, string>;

  public constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    if ((props.phase as string) !== 'expand' && (props.phase as string) !== 'contract') {
      throw new Error(
        `phase: must be "expand" or "contract", got ${JSON.stringify(props.phase)}; ` +
          'expand runs before a switch, contract after the old color is retired',
      );
    }
    this.phase = props.phase;
    this.namePrefix = props.namePrefix ?? `${props.app.name}-migrate-${props.phase}`;
    this.activeDeadlineSeconds = props.activeDeadlineSeconds ?? 300;
    const runAsUser = props.runAsUser ?? 10001;
    const env = props.env ?? {};
    const secretNames = props.secretNames ?? [];
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    const image = problems.attempt(() => requirePinnedImage('image', props.image));
    problems.check(
      () => {
        if (props.command.length === 0 || props.command.some((part) => typeof part !== 'string')) {
          throw new Error(`command: must be a non-empty list of strings, got ${JSON.stringify(props.command)}; e.g. ["bin/migrate", "up"]`);
        }
        if (props.command[0].trim() === '') {
          throw new Error(`command: the executable must not be blank, got ${JSON.stringify(props.command)}; e.g. ["bin/migrate", "up"]`);
        }
      },
      // 54 + "-" + 8 hex digits = 63: Job names become the `job-name` label of their pods.
      () =>
        requireDnsLabel(
          'namePrefix',
          this.namePrefix,
          54,
          `"${props.app.name.slice(0, 30)}-migrate-${props.phase}" (shorten the app name or set namePrefix)`,
        ),
      () => requireInteger('activeDeadlineSeconds', this.activeDeadlineSeconds, 1),
      () => requireInteger('runAsUser', runAsUser, 1),
      ...Object.keys(env).map((name) => () => requireEnvName('env', name, 'MIGRATION_TARGET')),
      ...secretNames.map((name, index) => () => {
        if (!isDnsSubdomain(name)) {
          throw new Error(`secretNames[${index}]: is not a Secret name (a lowercase DNS subdomain), got "${name}"; e.g. "web-migrations"`);
        }
      }),
    );
    problems.throwIfAny();
    // Defined once no check refused.
    this.image = image as ImageRef;
    const resources = containerResources(props.resources ?? {}, MIGRATION_RESOURCES, {
      mebibytes: TMP_MEBIBYTES,
      description: `the writable /tmp of ${TMP_MEBIBYTES}Mi`,
    });

    this.podLabels = { ...appLabels({ name: this.namePrefix, partOf: props.app.name, component: 'migration' }), [LABEL_MIGRATION_PHASE]: this.phase };
    const backends = props.backends ?? [];
    const spec: k8s.JobSpec = {
      ...jobSpecDefaults(this.activeDeadlineSeconds),
      template: {
        metadata: { labels: this.podLabels },
        spec: {
          ...restrictedPodSpec(runAsUser),
          ...podPlacement(props.app.scheduling),
          serviceAccountName: props.app.serviceAccount.name,
          containers: [
            {
              name: 'migrate',
              image: this.image.toString(),
              imagePullPolicy: 'IfNotPresent',
              command: [...props.command],
              ...(secretNames.length > 0 ? { envFrom: secretNames.map((name) => ({ secretRef: { name } })) } : {}),
              env: [...backendEnv(backends), ...plainEnv(env), { name: 'CUTOVER_MIGRATION_PHASE', value: this.phase }],
              resources,
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: restrictedContainerSecurity(runAsUser),
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString(`${TMP_MEBIBYTES}Mi`) } }],
        },
      },
    };
    const rendered = k8s.toJson_JobSpec(spec) as Record<string, unknown>;
    this.specHash = shortHash(rendered);
    this.name = `${this.namePrefix}-${this.specHash}`;
    this.job = new ApiObject(this, 'job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: this.name, labels: this.podLabels, annotations: JOB_ANNOTATIONS },
      spec: rendered,
    });
    this.job.node.addDependency(ApiObject.of(props.app.serviceAccount));
    for (const backend of backends) {
      if (Construct.isConstruct(backend)) {
        this.job.node.addDependency(backend);
      }
    }
  }

  /**
   * Makes each object (and every object under it) wait for this migration to succeed, e.g. the app's live Service
   * when no {@link CutoverGate} orders the switch. Refuses objects the migration itself waits for (a cycle).
   */
  public guard(...objects: IConstruct[]): void {
    addGuards(this.job, objects, 'guard', 'the migration');
  }

  /** For NetworkPolicySet: the migration's pods; relate them with `policies.allow(migration).to(postgres)`. */
  public get networkPeer(): NetworkPeerSpec {
    return {
      workloads: [
        {
          name: this.namePrefix,
          selector: { matchLabels: { 'app.kubernetes.io/name': this.namePrefix, 'app.kubernetes.io/component': 'migration' } },
        },
      ],
    };
  }
}
