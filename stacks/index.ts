import * as pulumi from '@pulumi/pulumi';
import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Manifest, objectKey } from '../lib';
import { RegistrationPlan, register, registrationPlan } from './bridge';
import { ConfigError, StackConfig, parseStackConfig } from './config';
import { Fetcher, InstallOperatorsOptions, installOperators } from './operators';
import { GateJob, JobOutputReader, gateReport, kubectlJobOutput } from './gate-report';
import { kubectlProbe } from './cluster-probe';
import { ClusterProbe, preflightFailure, preflightProblems, preflightRequirements, runPreflight } from './preflight';
import { Synthesis, synthesize } from './synthesize';
import { CutoverState, PreviousState, Transition, parsePreviousState } from './transition';

/** The stack's outputs: what a reviewer or a pipeline needs to know after an update. */
export interface StackOutputs {
  readonly activeColor: string;
  readonly idleColor: string;
  readonly liveImage: string;
  readonly idleImage: string;
  readonly namespace: string;
  readonly liveService: string;
  readonly previewService: string;
  readonly url: string;
  /** What each gate Job printed once it passed (`<app>-gate-<color>`, `<app>-metric-gate-<color>`). */
  readonly gates: pulumi.Output<Record<string, string>>;
  /**
   * What this update did to traffic, read back by the next update (stacks/transition.ts). It depends on every routing
   * object and the contract migration, so Pulumi records it only when they all completed.
   */
  readonly cutoverState: pulumi.Output<CutoverState>;
}

/** What the program takes from its environment besides config; tests replace them. */
export interface RunOptions {
  /** Downloads operator manifests (`operators.install`). @default global `fetch` */
  readonly fetcher?: Fetcher;
  /** Where verified operator manifests are cached. @default `~/.cache/cutover/manifests` */
  readonly manifestCacheDir?: string;
  /** The operator manifests to install. @default the pinned releases in stacks/operators.ts */
  readonly operatorReleases?: InstallOperatorsOptions['releases'];
  /** Reads a passed gate Job's output for the `gates` output. @default `kubectl get pods` (see stacks/gate-report.ts) */
  readonly jobOutputReader?: JobOutputReader;
  /** What the stack's last completed update did. @default its own `cutoverState` output, through a StackReference */
  readonly previousState?: () => Promise<PreviousState>;
  /** Answers the preflight's questions. @default kubectl, through the provider's kubeconfig and context (stacks/cluster-probe.ts) */
  readonly probe?: ClusterProbe;
}

/** Reads this stack's own `cutoverState` output from its last completed update (nothing on a first update). */
export async function readPreviousState(): Promise<PreviousState> {
  const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
  return parsePreviousState((await self.getOutputDetails('cutoverState')).value);
}

/** API groups whose custom resources wait for the operators this program installs. */
const OPERATOR_GROUPS = ['postgresql.cnpg.io', 'barmancloud.cnpg.io', 'redis.redis.opstreelabs.in'];

/**
 * The Pulumi program: the only place that reads stack config. Parses and validates all of it and builds
 * every object before the first resource is registered, so bad config deploys nothing.
 */
export async function run(
  raw: Readonly<Record<string, string>>,
  stack: string,
  options: RunOptions = {},
): Promise<{ outputs: StackOutputs; plan: RegistrationPlan; resources: Map<string, pulumi.CustomResource>; operators: pulumi.Resource[] }> {
  let config: StackConfig;
  let objects: Synthesis['objects'];
  let platform: Synthesis['platform'];
  let transition: Transition;
  const fail = (error: unknown): never => {
    // A RunError prints its message without a stack trace: the message is the whole story.
    throw new pulumi.RunError(error instanceof ConfigError ? error.message : `stack "${stack}": ${(error as Error).message}`);
  };
  try {
    config = parseStackConfig(raw, stack);
  } catch (error) {
    return fail(error);
  }
  try {
    // What the last completed update did (a read of this stack's own outputs: nothing is registered or applied).
    const previous = await (options.previousState ?? readPreviousState)();
    ({ config, transition, platform, objects } = synthesize(raw, stack, previous));
  } catch (error) {
    return fail(error);
  }
  for (const note of transition.notes) {
    void pulumi.log.info(note);
  }
  if (config.preflight.enabled) {
    // Everything the stack refers to and does not create, asked of the cluster before anything is registered.
    const probe = options.probe ?? kubectlProbe({ kubeconfig: raw['kubernetes:kubeconfig'], context: raw['kubernetes:context'] });
    const problems = preflightProblems(
      await runPreflight(
        preflightRequirements(
          config,
          objects.map(({ manifest }) => manifest),
        ),
        probe,
      ),
    );
    if (problems.length > 0) {
      throw new pulumi.RunError(preflightFailure(stack, problems));
    }
  } else {
    void pulumi.log.warn('preflight: off (`preflight: false`): nothing checked the cluster before this update');
  }
  const { web } = platform;
  let operators: pulumi.Resource[] = [];
  if (config.operators.install) {
    try {
      // Downloaded and digest-checked before anything is registered: a bad manifest applies nothing.
      operators = await installOperators({
        postgres: config.postgres !== undefined,
        redis: config.redis !== undefined,
        fetcher: options.fetcher,
        cacheDir: options.manifestCacheDir,
        releases: options.operatorReleases,
      });
    } catch (error) {
      throw new pulumi.RunError(`stack "${stack}": ${(error as Error).message}`);
    }
  }
  const plan = registrationPlan(objects, {
    platform: config.namespace,
    waitsForOperators: (manifest) => OPERATOR_GROUPS.includes(manifest.apiVersion.split('/')[0]),
    // The app's ClusterIP Services are applied without the provider's Service await. For a ClusterIP Service that
    // await proves only that 10 s after the last change of its Endpoints none is not-ready; it passes with no
    // endpoints at all, and on the live Service it runs after the selector was patched. What it stood for is
    // checked where it matters: each Deployment's rollout await (ready pods), and the gate Job, which requests the
    // target color's current pod template through its own Service just before traffic moves (ready endpoints). docs/gates.md.
    skipAwait: platform.apps.flatMap((each) =>
      [each.liveService, each.previewService, ...Object.values(each.colorServices), ...Object.values(each.templateServices)].map((service) =>
        ApiObject.of(service),
      ),
    ),
    // The code is the source of truth: a field changed by hand is drift, and `pulumi up --refresh` takes it back.
    forceOwnership: true,
    timeoutSeconds: config.deployTimeoutSeconds,
  });
  const resources = register(plan, { operators });
  const gateJobs: GateJob[] = [...platform.gates.map((gate) => gate.job), ...platform.metricGates.map((gate) => gate.job)].map((job) => ({
    namespace: config.namespace,
    name: job.name,
    resource: resources.get(objectKey(job.toJson() as Manifest)) as GateJob['resource'],
  }));
  const resourceOf = (construct: IConstruct): pulumi.CustomResource =>
    resources.get(objectKey(ApiObject.of(construct).toJson() as Manifest)) as pulumi.CustomResource;
  const recordedAfter = [
    ...platform.apps.flatMap((each) => each.routingObjects),
    ...(platform.contract !== undefined ? [platform.contract.job] : []),
  ].map(resourceOf);
  const cutoverState = pulumi.all(recordedAfter.map((resource) => resource.urn)).apply((): CutoverState => ({
    activeColor: config.activeColor,
    idle: transition.idle ?? null,
    contractMigration: platform.contract?.name ?? null,
  }));
  const outputs: StackOutputs = {
    activeColor: config.activeColor,
    idleColor: config.idleColor,
    liveImage: config[config.activeColor].image ?? '',
    idleImage: config[config.idleColor].image ?? '',
    namespace: config.namespace,
    liveService: web.liveService.name,
    previewService: web.previewService.name,
    url: `https://${config.host}/`,
    cutoverState,
    gates: gateReport(
      gateJobs,
      options.jobOutputReader ?? kubectlJobOutput({ kubeconfig: raw['kubernetes:kubeconfig'], context: raw['kubernetes:context'] }),
    ),
  };
  return { outputs, plan, resources, operators };
}
