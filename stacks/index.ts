import * as pulumi from '@pulumi/pulumi';
import { ApiObject } from 'cdk8s';
import { objectKey, renderChart } from '../lib';
import { deployObjects } from './bridge';
import { ConfigError, StackConfig, parseStackConfig } from './config';
import { Fetcher, InstallOperatorsOptions, installOperators } from './operators';
import { GateJob, JobOutputReader, gateReport, kubectlJobOutput } from './gate-report';
import { buildPlatform } from './platform';

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
): Promise<{ outputs: StackOutputs; resources: Map<string, pulumi.CustomResource>; operators: pulumi.Resource[] }> {
  let config: StackConfig;
  let objects: ReturnType<typeof renderChart>;
  let platform: ReturnType<typeof buildPlatform>;
  try {
    config = parseStackConfig(raw, stack);
    platform = buildPlatform(config);
    objects = renderChart(platform.chart);
  } catch (error) {
    // A RunError prints its message without a stack trace: the message is the whole story.
    throw new pulumi.RunError(error instanceof ConfigError ? error.message : `stack "${stack}": ${(error as Error).message}`);
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
  const resources = deployObjects(objects, {
    dependsOn: (manifest) => (OPERATOR_GROUPS.includes(manifest.apiVersion.split('/')[0]) ? operators : []),
    timeouts: { create: `${config.deployTimeoutSeconds}s`, update: `${config.deployTimeoutSeconds}s` },
    // The preview Service may select a color that is scaled to 0 or not deployed: no endpoints to wait for.
    skipAwait: platform.apps.map((each) => ApiObject.of(each.previewService)),
    // The code is the source of truth: a field changed by hand is drift, and `pulumi up --refresh` takes it back.
    forceOwnership: true,
  });
  const gateJobs: GateJob[] = [...platform.gates.map((gate) => gate.job), ...platform.metricGates.map((gate) => gate.job)].map((job) => ({
    namespace: config.namespace,
    name: job.name,
    resource: resources.get(objectKey(job.toJson())) as GateJob['resource'],
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
    gates: gateReport(gateJobs, options.jobOutputReader ?? kubectlJobOutput(raw['kubernetes:context'])),
  };
  return { outputs, resources, operators };
}
