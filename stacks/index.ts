import * as pulumi from '@pulumi/pulumi';
import { ApiObject } from 'cdk8s';
import { renderChart } from '../lib';
import { deployObjects } from './bridge';
import { ConfigError, StackConfig, parseStackConfig } from './config';
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
}

/**
 * The Pulumi program: the only place that reads stack config. Parses and validates all of it and builds
 * every object before the first resource is registered, so bad config deploys nothing.
 */
export function run(raw: Readonly<Record<string, string>>, stack: string): { outputs: StackOutputs; resources: Map<string, pulumi.CustomResource> } {
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
  const resources = deployObjects(objects, {
    timeouts: { create: `${config.deployTimeoutSeconds}s`, update: `${config.deployTimeoutSeconds}s` },
    // The preview Service may select a color that is scaled to 0 or not deployed: no endpoints to wait for.
    skipAwait: [ApiObject.of(web.previewService)],
  });
  const outputs: StackOutputs = {
    activeColor: config.activeColor,
    idleColor: config.idleColor,
    liveImage: config[config.activeColor].image ?? '',
    idleImage: config[config.idleColor].image ?? '',
    namespace: config.namespace,
    liveService: web.liveService.name,
    previewService: web.previewService.name,
    url: `https://${config.host}/`,
  };
  return { outputs, resources };
}
