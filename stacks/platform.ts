import { App, Chart } from 'cdk8s';
import { BlueGreenApp, EnvironmentNamespace, NamespaceQuota, parseMebibytes, parseMillicores } from '../lib';
import { StackConfig } from './config';

/** What one environment consists of, as cdk8s constructs: no Pulumi here. */
export interface Platform {
  readonly app: App;
  readonly chart: Chart;
  readonly namespace: EnvironmentNamespace;
  readonly web: BlueGreenApp;
}

/**
 * Composes an environment from its validated config. Construction validates every construct, so a bad
 * value throws here, before anything is registered with Pulumi.
 */
export function buildPlatform(config: StackConfig): Platform {
  const app = new App();
  const chart = new Chart(app, config.stack, { namespace: config.namespace, disableResourceNameHashes: true });
  const namespace = new EnvironmentNamespace(chart, 'namespace', {
    name: config.namespace,
    podSecurityVersion: config.podSecurityVersion,
    quota: quotaFor(config),
    labels: { 'cutover.dev/environment': config.stack },
  });
  const web = new BlueGreenApp(chart, 'app', {
    name: config.app,
    activeColor: config.activeColor,
    blue: config.blue,
    green: config.green,
    replicas: config.replicas,
    maxReplicas: config.maxReplicas,
    maxUnavailable: config.maxUnavailable,
    targetCpuUtilization: config.targetCpuUtilization,
    targetMemoryUtilization: config.targetMemoryUtilization,
    port: config.port,
    metricsPort: config.metricsPort,
    readinessPath: config.readinessPath,
    livenessPath: config.livenessPath,
    resources: config.resources,
    settings: config.settings,
    secretNames: config.secretNames,
    drainSeconds: config.drainSeconds,
    shutdownSeconds: config.shutdownSeconds,
    ingress: {
      host: config.host,
      tlsSecretName: config.tlsSecretName,
      clusterIssuer: config.clusterIssuer,
      className: config.ingressClassName,
      rateLimitRps: config.rateLimitRps,
    },
  });
  return { app, chart, namespace, web };
}

/**
 * A quota that fits both colors at `maxReplicas` plus a 25% rollout surge, with room for a few one-off
 * pods (jobs, debugging): enough for every legitimate state, and a ceiling on a runaway one.
 */
export function quotaFor(config: StackConfig): NamespaceQuota {
  const podsPerColor = config.maxReplicas + Math.ceil(config.maxReplicas * 0.25);
  const pods = 2 * podsPerColor;
  const spare = 5;
  const cpu = (quantity: string): number => parseMillicores('resources', quantity);
  const memory = (quantity: string): number => parseMebibytes('resources', quantity);
  const { cpuRequest, cpuLimit, memoryRequest, memoryLimit } = config.resources;
  return {
    pods: pods + spare,
    cpuRequests: `${(pods + spare) * cpu(cpuRequest)}m`,
    cpuLimits: `${(pods + spare) * cpu(cpuLimit)}m`,
    memoryRequests: `${(pods + spare) * memory(memoryRequest)}Mi`,
    memoryLimits: `${(pods + spare) * memory(memoryLimit)}Mi`,
  };
}
