import { ApiObject } from 'cdk8s';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import { Construct, IConstruct } from 'constructs';
import { BlueGreenApp, IAppBackend } from '../app/blue-green-app';
import { ImageRef } from '../core/image';
import { shortHash } from '../core/hash';
import { appLabels } from '../core/labels';
import { INetworkPeer, NetworkPeerSpec } from '../network/network-policy-set';
import { Problems, isDnsSubdomain, parseMebibytes, requireDnsLabel, requireInteger, resolveResources, requireEnvName } from '../core/validation';
import { podPlacement } from '../core/scheduling';

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

/** Requests and limits of a Job's container. */
export interface JobResources {
  /** @default - per Job kind, see the construct */
  readonly cpuRequest?: string;
  /** @default - per Job kind, see the construct */
  readonly cpuLimit?: string;
  /** @default - per Job kind, see the construct */
  readonly memoryRequest?: string;
  /** @default - per Job kind, see the construct */
  readonly memoryLimit?: string;
  /** @default - per Job kind, see the construct */
  readonly ephemeralStorageRequest?: string;
  /** @default - per Job kind, see the construct */
  readonly ephemeralStorageLimit?: string;
}

/** Props of {@link MigrationJob}. */
export interface MigrationJobProps {
  /** The app whose schema is migrated: names the Job and lends it its ServiceAccount (and so its image pull secrets). */
  readonly app: BlueGreenApp;

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
   * @default { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '128Mi', memoryLimit: '256Mi', ephemeralStorageRequest: '64Mi', ephemeralStorageLimit: '256Mi' }
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
      throw new Error(`phase: must be "expand" or "contract", got ${JSON.stringify(props.phase)}; expand runs before a switch, contract after the old color is retired`);
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
      () => requireDnsLabel('namePrefix', this.namePrefix, 54, `"${props.app.name.slice(0, 30)}-migrate-${props.phase}" (shorten the app name or set namePrefix)`),
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
    const resources = resolveJobResources(props.resources ?? {}, MIGRATION_RESOURCES, TMP_MEBIBYTES);

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
              env: [
                ...backends.flatMap((backend) =>
                  backend.connectionEnv.map(({ name, value, secretKeyRef }) =>
                    secretKeyRef !== undefined ? { name, valueFrom: { secretKeyRef: { name: secretKeyRef.name, key: secretKeyRef.key } } } : { name, value },
                  ),
                ),
                ...Object.entries(env).map(([name, value]) => ({ name, value })),
                { name: 'CUTOVER_MIGRATION_PHASE', value: this.phase },
              ],
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
      workloads: [{ name: this.namePrefix, selector: { matchLabels: { 'app.kubernetes.io/name': this.namePrefix, 'app.kubernetes.io/component': 'migration' } } }],
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Shared by the Jobs of this project (MigrationJob, CutoverGate): not part of the public API.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Annotations of every Job: a Job that failed in an earlier update is replaced (run again) by the next one, instead
 * of Pulumi waiting again for a Job that can never succeed.
 * @internal
 */
export const JOB_ANNOTATIONS: Readonly<Record<string, string>> = { 'pulumi.com/replaceUnready': 'true' };

/**
 * Spec fields every Job here shares: one pod, no retry of a failed run (a failing check or migration fails the
 * update at once, with its output), but a pod evicted or preempted (`DisruptionTarget`) is replaced without
 * counting as a failure. No `ttlSecondsAfterFinished`: see {@link MigrationJob}.
 * @internal
 */
export function jobSpecDefaults(activeDeadlineSeconds: number): Pick<k8s.JobSpec, 'backoffLimit' | 'activeDeadlineSeconds' | 'podFailurePolicy'> {
  return {
    backoffLimit: 0,
    activeDeadlineSeconds,
    podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
  };
}

/**
 * Pod-level settings for Pod Security `restricted`: non-root, RuntimeDefault seccomp, no API token, no restarts.
 * @internal
 */
export function restrictedPodSpec(runAsUser: number): Pick<k8s.PodSpec, 'restartPolicy' | 'automountServiceAccountToken' | 'enableServiceLinks' | 'securityContext'> {
  return {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    // The Service environment variables of every Service in the namespace are noise to a Job.
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser,
      runAsGroup: runAsUser,
      fsGroup: runAsUser,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

/** @internal */
export function restrictedContainerSecurity(runAsUser: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: runAsUser,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Validates and renders requests and limits, ephemeral storage included; the limit must hold `writableMebibytes`.
 * @internal
 */
export function resolveJobResources(resources: JobResources, defaults: Required<JobResources>, writableMebibytes: number): k8s.ResourceRequirements {
  const cpuMemory = resolveResources(resources, defaults);
  const ephemeralRequest = resources.ephemeralStorageRequest ?? defaults.ephemeralStorageRequest;
  const ephemeralLimit = resources.ephemeralStorageLimit ?? defaults.ephemeralStorageLimit;
  const requestMi = parseMebibytes('resources.ephemeralStorageRequest', ephemeralRequest);
  const limitMi = parseMebibytes('resources.ephemeralStorageLimit', ephemeralLimit);
  if (requestMi > limitMi) {
    throw new Error(`resources.ephemeralStorageRequest: exceeds resources.ephemeralStorageLimit ${ephemeralLimit}, got ${ephemeralRequest}; lower the request or raise the limit`);
  }
  if (limitMi <= writableMebibytes) {
    throw new Error(
      `resources.ephemeralStorageLimit: must exceed the writable /tmp of ${writableMebibytes}Mi, got ${ephemeralLimit}; raise it, e.g. to ${writableMebibytes + 192}Mi`,
    );
  }
  return {
    requests: {
      cpu: k8s.Quantity.fromString(cpuMemory.requests.cpu),
      memory: k8s.Quantity.fromString(cpuMemory.requests.memory),
      'ephemeral-storage': k8s.Quantity.fromString(ephemeralRequest),
    },
    limits: {
      cpu: k8s.Quantity.fromString(cpuMemory.limits.cpu),
      memory: k8s.Quantity.fromString(cpuMemory.limits.memory),
      'ephemeral-storage': k8s.Quantity.fromString(ephemeralLimit),
    },
  };
}

/**
 * Parses an image that names exactly one build: a tag or digest, and not a bare `latest`.
 * @internal
 */
export function requirePinnedImage(key: string, value: string): ImageRef {
  const image = ImageRef.parse(value, key);
  if (image.isLatest) {
    throw new Error(`${key}: must be pinned to one build, got "${value}"; use a version tag or a digest, e.g. "${image.repository}:1.4.2"`);
  }
  return image;
}

/**
 * Whether anything under `from` waits, directly or through other objects, for anything under `target`: the order
 * the Pulumi bridge derives from `node.addDependency` (a dependency on a construct means on every object under it).
 * @internal
 */
export function waitsFor(from: IConstruct, target: IConstruct): boolean {
  const targets = new Set<IConstruct>(target.node.findAll());
  const seen = new Set<IConstruct>();
  const pending: IConstruct[] = [from];
  while (pending.length > 0) {
    const current = pending.pop() as IConstruct;
    for (const node of current.node.findAll()) {
      for (const dependency of node.node.dependencies) {
        if (targets.has(dependency) || dependency.node.findAll().some((child) => targets.has(child))) {
          return true;
        }
        if (!seen.has(dependency)) {
          seen.add(dependency);
          pending.push(dependency);
        }
      }
    }
  }
  return false;
}

/**
 * Makes every object under each of `objects` wait for `prerequisite`, refusing cycles.
 * @internal
 */
/**
 * Makes `job` (a gate before the switch) run after each prerequisite. Refuses `contract` migrations (never a
 * prerequisite of a switch) and prerequisites that already wait for `job` (a cycle). `what` names the gate in
 * messages ("the gate"), `example` is a call to show when none is given.
 */
export function addPrerequisites(job: ApiObject, prerequisites: readonly IConstruct[], what: string, example: string): void {
  if (prerequisites.length === 0) {
    throw new Error(`after: needs at least one prerequisite, got none; e.g. ${example}`);
  }
  for (const prerequisite of prerequisites) {
    if (prerequisite instanceof MigrationJob && prerequisite.phase === 'contract') {
      throw new Error(
        `after: ${prerequisite.node.path} is a contract migration, got it as a prerequisite of the switch; ` +
          'contract only once the old color is retired, in an update of its own, and gate the switch with expand migrations only',
      );
    }
    if (waitsFor(prerequisite, job)) {
      throw new Error(`after: ${prerequisite.node.path} already waits for ${what}, got it as a prerequisite; that is a dependency cycle`);
    }
    job.node.addDependency(prerequisite);
  }
}

export function addGuards(prerequisite: ApiObject, objects: readonly IConstruct[], method: string, what: string): void {
  if (objects.length === 0) {
    throw new Error(`${method}: needs at least one object, got none; e.g. ${method}(app.liveService)`);
  }
  for (const object of objects) {
    const apiObjects = object.node.findAll().filter(ApiObject.isApiObject);
    if (apiObjects.length === 0) {
      throw new Error(`${method}: ${object.node.path} renders no Kubernetes object, got a construct without any; pass the Service, Ingress or ApiObject itself`);
    }
    if (waitsFor(prerequisite, object)) {
      throw new Error(
        `${method}: ${what} itself waits for ${object.node.path}, got it as an object to guard; that is a dependency cycle: guard only what moves traffic (Services, Ingresses, HTTPRoutes)`,
      );
    }
    for (const apiObject of apiObjects) {
      apiObject.node.addDependency(prerequisite);
    }
  }
}


/**
 * Wraps a POSIX `sh` script so that what it prints (stdout and stderr) also becomes the container's termination
 * message, whether it passes or fails, and its exit status is kept. A failed pod's message is in the `pulumi up`
 * error (the provider quotes the container state); a passed gate's is read back by the stacks for the update output.
 * `FallbackToLogsOnError` stays set for a script killed before it could write anything.
 * The message file is `$CUTOVER_TERMINATION_LOG`, default `/dev/termination-log` (the kubelet mounts it writable, also
 * under a read-only root filesystem; it keeps the first 4 KiB). Needs `tee`.
 */
export function reportingScript(script: string): string {
  return [
    'exec 4>&1',
    // The script's status comes out on fd 3; its output goes through tee to the message file and the log (fd 4).
    'status=$( { { (',
    script,
    ') 2>&1; echo $? >&3; } | tee "${CUTOVER_TERMINATION_LOG:-/dev/termination-log}" >&4; } 3>&1 )',
    'exit "$status"',
    '',
  ].join('\n');
}
