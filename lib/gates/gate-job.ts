// What the Jobs of this project share (MigrationJob, CutoverGate, MetricGate): the Job spec, the pod under Pod Security
// `restricted`, the ordering helpers and the reporting wrapper; and what the two gates share on top (the checked color,
// the validation of their common props, their Job and their network peer). Not part of the public API of lib/.
import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { COLORS } from '../core/color';
import { ImageRef } from '../core/image';
import { appLabels } from '../core/labels';
import { podPlacement } from '../core/scheduling';
import { Problems, requireInteger } from '../core/validation';
import { ContainerResourceProps, containerResources, restrictedContainerSecurity } from '../core/workload';
import type { IBlueGreenApp } from '../app/blue-green-app';
import type { ColorResources } from '../app/color-workload';
import { INetworkPeer, NetworkPeerSpec } from '../network/network-policy-set';
import { MigrationJob } from './migration-job';

/** Requests and limits of a Job's container; each construct documents its defaults (per Job kind). */
export type JobResources = ContainerResourceProps;

/**
 * Annotations of every Job: a Job that failed in an earlier update is replaced (run again) by the next one, instead
 * of Pulumi waiting again for a Job that can never succeed.
 */
export const JOB_ANNOTATIONS: Readonly<Record<string, string>> = { 'pulumi.com/replaceUnready': 'true' };

/**
 * Spec fields every Job here shares: one pod, no retry of a failed run (a failing check or migration fails the
 * update at once, with its output), but a pod evicted or preempted (`DisruptionTarget`) is replaced without
 * counting as a failure. No `ttlSecondsAfterFinished`: see {@link MigrationJob}.
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
 */
export function restrictedPodSpec(
  runAsUser: number,
): Pick<k8s.PodSpec, 'restartPolicy' | 'automountServiceAccountToken' | 'enableServiceLinks' | 'securityContext'> {
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

/**
 * Parses an image that names exactly one build: a tag or digest, and not a bare `latest`.
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
 * Makes `job` (a gate before the switch) run after each prerequisite. Refuses `contract` migrations (never a
 * prerequisite of a switch) and prerequisites that already wait for `job` (a cycle). `what` names the gate in
 * messages ("the gate"), `example` is a call to show when none is given.
 */
function addPrerequisites(job: ApiObject, prerequisites: readonly IConstruct[], what: string, example: string): void {
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

/** Makes every object under each of `objects` wait for `prerequisite`, refusing objects it waits for itself (a cycle). */
export function addGuards(prerequisite: ApiObject, objects: readonly IConstruct[], method: string, what: string): void {
  if (objects.length === 0) {
    throw new Error(`${method}: needs at least one object, got none; e.g. ${method}(app.liveService)`);
  }
  for (const object of objects) {
    const apiObjects = object.node.findAll().filter((node) => ApiObject.isApiObject(node));
    if (apiObjects.length === 0) {
      throw new Error(
        `${method}: ${object.node.path} renders no Kubernetes object, got a construct without any; pass the Service, Ingress or ApiObject itself`,
      );
    }
    if (waitsFor(prerequisite, object)) {
      throw new Error(
        `${method}: ${what} itself waits for ${object.node.path}, got it as an object to guard; that is a dependency cycle: ` +
          'guard only what moves traffic (Services, Ingresses, HTTPRoutes)',
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

/** `value` as one single-quoted POSIX shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The curl options of every request a gate script makes: no config file, quiet but with errors, a time limit, retries. */
export function curlCommand(options: { readonly requestTimeoutSeconds: number; readonly retries: number }): string {
  return [
    'curl -q --globoff --silent --show-error',
    `--max-time ${options.requestTimeoutSeconds}`,
    ...(options.retries > 0 ? [`--retry ${options.retries} --retry-delay 1 --retry-connrefused`] : []),
  ].join(' ');
}

/** Requests and limits of a gate's container when none are given. */
export const GATE_RESOURCES = {
  cpuRequest: '50m',
  cpuLimit: '200m',
  memoryRequest: '32Mi',
  memoryLimit: '64Mi',
  ephemeralStorageRequest: '16Mi',
  ephemeralStorageLimit: '64Mi',
};

/** The color a gate checks (the app's active one) and what the app deployed for it; refuses an app that does not deploy it. */
export function gateTarget(app: IBlueGreenApp): ColorResources {
  const target = app.colors[app.activeColor];
  if (target === undefined) {
    throw new Error(
      `app: ${app.node.path} does not deploy its active color, got activeColor=${app.activeColor}; give ${app.activeColor} an image before gating it`,
    );
  }
  return target;
}

/**
 * Throws unless the Job `<app>-<infix>-<color>` fits a label value (63 characters, the `job-name` label of its pods)
 * for either color, so that a name that fits today does not break the next cutover.
 */
export function requireGateJobName(appName: string, infix: string, what: string): void {
  const longest = `${appName}-${infix}-${COLORS.reduce((a, b) => (b.length > a.length ? b : a))}`;
  if (longest.length > 63) {
    throw new Error(
      `app.name: is too long for ${what}'s Job name "${longest}" (${longest.length} characters, at most 63), got "${appName}"; ` +
        `shorten the app name to ${63 - longest.length + appName.length} characters or fewer`,
    );
  }
}

/**
 * The props every gate has, whatever it checks: its image, its timing, its user and its container's resources. Each
 * gate says what its image must hold and its own timeouts where they differ.
 */
export interface GateJobOptions {
  /**
   * Image that runs the gate's script: needs `/bin/sh` (POSIX) and `curl` (7.52 or later), pinned by tag or digest;
   * MetricGate's needs `awk` as well.
   * @default DEFAULT_GATE_IMAGE
   */
  readonly image?: string;

  /**
   * Seconds the gate may run before Kubernetes stops it and the gate fails.
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#job-termination-and-cleanup
   * @default 120
   */
  readonly activeDeadlineSeconds?: number;

  /**
   * Seconds each request may take (curl `--max-time`), per attempt; a Prometheus query may take longer than a smoke check.
   * @default - 5 for CutoverGate, 10 for MetricGate
   */
  readonly requestTimeoutSeconds?: number;

  /**
   * Further attempts of a request that got no response, a timeout, or a 408, 429, 500, 502, 503 or 504
   * (curl `--retry`, one second apart): a single dropped connection should not block a release.
   * @default 2
   */
  readonly retries?: number;

  /**
   * Non-root UID (and GID) the gate runs as.
   * @default 10001
   */
  readonly runAsUser?: number;

  /**
   * Requests and limits of the gate's container.
   * @default GATE_RESOURCES ({ cpuRequest: '50m', cpuLimit: '200m', memoryRequest: '32Mi', memoryLimit: '64Mi',
   *   ephemeralStorageRequest: '16Mi', ephemeralStorageLimit: '64Mi' })
   */
  readonly resources?: JobResources;
}

/** The timing and user props every gate has, resolved. */
export interface GateTiming {
  readonly activeDeadlineSeconds: number;
  readonly requestTimeoutSeconds: number;
  readonly retries: number;
  readonly runAsUser: number;
}

/** The {@link GateTiming} of `props`, defaults applied; only `requestTimeoutSeconds`' default differs between gates. */
export function resolveGateTiming(props: GateJobOptions, requestTimeoutSeconds: number): GateTiming {
  return {
    activeDeadlineSeconds: props.activeDeadlineSeconds ?? 120,
    requestTimeoutSeconds: props.requestTimeoutSeconds ?? requestTimeoutSeconds,
    retries: props.retries ?? 2,
    runAsUser: props.runAsUser ?? 10001,
  };
}

/** The requests and limits of a gate's container, {@link GATE_RESOURCES} for what `props` leaves out. */
export function gateResources(props: GateJobOptions): k8s.ResourceRequirements {
  return containerResources(props.resources ?? {}, GATE_RESOURCES, { mebibytes: 0, description: 'no writable volume' });
}

/** Adds the checks of {@link GateTiming} to `problems`, each under its prop. */
export function checkGateTiming(problems: Problems, timing: GateTiming): void {
  problems.check(
    () => requireInteger('activeDeadlineSeconds', timing.activeDeadlineSeconds, 1),
    () => requireInteger('requestTimeoutSeconds', timing.requestTimeoutSeconds, 1),
    () => requireInteger('retries', timing.retries, 0),
    () => requireInteger('runAsUser', timing.runAsUser, 1),
  );
}

/** Throws unless one request can finish before the Job's deadline; run once {@link checkGateTiming} passed. */
export function requireTimeoutBelowDeadline(timing: GateTiming): void {
  if (timing.requestTimeoutSeconds >= timing.activeDeadlineSeconds) {
    throw new Error(
      `requestTimeoutSeconds: must be below activeDeadlineSeconds ${timing.activeDeadlineSeconds}, got ${timing.requestTimeoutSeconds}; ` +
        'lower it or raise activeDeadlineSeconds',
    );
  }
}

/** What {@link createGateJob} renders. */
export interface GateJobSpec {
  readonly app: IBlueGreenApp;
  readonly target: ColorResources;
  /** The Job's name, `<app>-<infix>-<color>`. */
  readonly name: string;
  /** `app.kubernetes.io/component` of its pods, e.g. `cutover-gate`. */
  readonly component: string;
  /** `app.kubernetes.io/name` of its pods, without the color, e.g. `web-gate`. */
  readonly podName: string;
  readonly containerName: string;
  readonly image: ImageRef;
  /** The POSIX `sh` script the container runs, wrapped by {@link reportingScript}. */
  readonly script: string;
  /** Variables the script reads, before the target's. */
  readonly env: readonly k8s.EnvVar[];
  readonly resources: k8s.ResourceRequirements;
  readonly timing: GateTiming;
}

/**
 * A gate's Job, `job` under `scope`: one pod under Pod Security `restricted`, placed like the app's, in the app's
 * ServiceAccount, whose environment carries the target color's image and pod-template hash (the Job template is
 * immutable: a new image or template of the color replaces the Job, which re-runs it).
 */
export function createGateJob(scope: Construct, spec: GateJobSpec): ApiObject {
  const { app, target, timing } = spec;
  const labels = appLabels({ name: spec.podName, partOf: app.name, component: spec.component, color: target.color });
  const jobSpec: k8s.JobSpec = {
    ...jobSpecDefaults(timing.activeDeadlineSeconds),
    template: {
      metadata: { labels },
      spec: {
        ...restrictedPodSpec(timing.runAsUser),
        ...podPlacement(app.scheduling),
        serviceAccountName: app.serviceAccount.name,
        containers: [
          {
            name: spec.containerName,
            image: spec.image.toString(),
            imagePullPolicy: 'IfNotPresent',
            command: ['/bin/sh', '-c', reportingScript(spec.script)],
            env: [
              ...spec.env,
              { name: 'CUTOVER_TARGET_COLOR', value: target.color },
              { name: 'CUTOVER_TARGET_IMAGE', value: target.image.toString() },
              { name: 'CUTOVER_TARGET_TEMPLATE', value: target.templateId },
            ],
            resources: spec.resources,
            terminationMessagePolicy: 'FallbackToLogsOnError',
            securityContext: restrictedContainerSecurity(timing.runAsUser),
          },
        ],
      },
    },
  };
  return new ApiObject(scope, 'job', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, labels, annotations: JOB_ANNOTATIONS },
    spec: k8s.toJson_JobSpec(jobSpec),
  });
}

/** For NetworkPolicySet: a gate's pods of either color (so a switch changes no policy), by their name and component. */
function gateNetworkPeer(podName: string, component: string): NetworkPeerSpec {
  return {
    workloads: [{ name: podName, selector: { matchLabels: { 'app.kubernetes.io/name': podName, 'app.kubernetes.io/component': component } } }],
  };
}

/** How a gate before a switch names itself: in messages, in the example of `after`, and as its pods' network peer. */
export interface SwitchGateIdentity {
  /** In messages: "the gate", "the metric gate". */
  readonly what: string;
  /** The call `after` shows when it gets no prerequisite, e.g. `gate.after(expandMigration)`. */
  readonly afterExample: string;
  /** Its pods' `app.kubernetes.io/name`, e.g. `web-gate`. */
  readonly podName: string;
  /** Its pods' `app.kubernetes.io/component`. */
  readonly component: string;
}

/**
 * What the gates before a switch (CutoverGate, MetricGate) share: their Job, the objects that wait for it
 * ({@link SwitchGate.guard}), what it waits for ({@link SwitchGate.after}), and their pods as a network peer.
 */
export abstract class SwitchGate extends Construct implements INetworkPeer {
  /** The gate's Job; traffic objects wait for it. */
  public abstract readonly job: ApiObject;

  protected constructor(
    scope: Construct,
    id: string,
    private readonly identity: SwitchGateIdentity,
  ) {
    super(scope, id);
  }

  /**
   * Makes each object (and every object under it) wait for the gate to pass, in addition to the app's live Service,
   * preview Service and routes. Refuses objects the gate itself waits for (a cycle), e.g. the checked Deployment.
   */
  public guard(...objects: IConstruct[]): void {
    addGuards(this.job, objects, 'guard', this.identity.what);
  }

  /**
   * Runs the gate only after each prerequisite: an `expand` {@link MigrationJob} (the gate then sees the migrated
   * schema, and the traffic objects, which wait for the gate, wait for it too), or another gate that should pass first.
   * A `contract` migration is refused: it must never run in an update that may switch colors.
   */
  public after(...prerequisites: IConstruct[]): void {
    addPrerequisites(this.job, prerequisites, this.identity.what, this.identity.afterExample);
  }

  /**
   * For NetworkPolicySet: the gate's pods of either color (so a switch changes no policy). They only connect out: to
   * the app (`policies.allow(gate).to(app)`) or to Prometheus (`policies.allowPrometheusQuery(metricGate)`); DNS is open
   * to every pod of the set.
   */
  public get networkPeer(): NetworkPeerSpec {
    return gateNetworkPeer(this.identity.podName, this.identity.component);
  }
}
