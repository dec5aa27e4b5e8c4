import { App, Chart } from 'cdk8s';
import { BackupCredentials, BlueGreenApp, EnvironmentNamespace, IAppBackend, NamespaceQuota, PostgresHA, RedisCluster, parseMebibytes, parseMillicores } from '../lib';
import { CONFIG_NAMESPACE, PostgresConfig, RedisConfig, StackConfig } from './config';

/** What one environment consists of, as cdk8s constructs: no Pulumi here. */
export interface Platform {
  readonly app: App;
  readonly chart: Chart;
  readonly namespace: EnvironmentNamespace;
  readonly web: BlueGreenApp;
  readonly postgres?: PostgresHA;
  readonly redis?: RedisCluster;
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
  const postgres = config.postgres !== undefined ? underKey('postgres', () => createPostgres(chart, config, config.postgres as PostgresConfig)) : undefined;
  const redis = config.redis !== undefined ? underKey('redis', () => createRedis(chart, config, config.redis as RedisConfig)) : undefined;
  const backends: IAppBackend[] = [...(postgres !== undefined ? [postgres] : []), ...(redis !== undefined ? [redis] : [])];
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
    backends,
    ingress: {
      host: config.host,
      tlsSecretName: config.tlsSecretName,
      clusterIssuer: config.clusterIssuer,
      className: config.ingressClassName,
      rateLimitRps: config.rateLimitRps,
    },
  });
  return { app, chart, namespace, web, postgres, redis };
}

function createPostgres(chart: Chart, config: StackConfig, postgres: PostgresConfig): PostgresHA {
  const backup = postgres.backup ?? {};
  return new PostgresHA(chart, 'postgres', {
    name: `${config.app}-db`,
    production: config.production,
    instances: postgres.instances,
    imageName: postgres.imageName,
    storageSize: postgres.storageSize,
    storageClass: postgres.storageClass,
    partOf: config.app,
    backup: {
      enabled: backup.enabled,
      destinationPath: backup.destinationPath,
      endpointURL: backup.endpointURL,
      retentionPolicy: backup.retentionPolicy,
      credentials: backup.secretName !== undefined ? BackupCredentials.fromSecret(backup.secretName) : undefined,
    },
    recovery: postgres.recovery,
    pooler: postgres.pooler === true ? {} : undefined,
  });
}

function createRedis(chart: Chart, config: StackConfig, redis: RedisConfig): RedisCluster {
  return new RedisCluster(chart, 'redis', {
    name: `${config.app}-cache`,
    mode: redis.mode,
    replicas: redis.replicas,
    sentinels: redis.sentinels,
    shards: redis.shards,
    storageSize: redis.storageSize,
    storageClass: redis.storageClass,
    redisSecret: redis.secretName !== undefined ? { name: redis.secretName, key: 'password' } : undefined,
    partOf: config.app,
  });
}

/**
 * Builds a construct from the config object at `key`, so that its validation errors name the config key
 * (`cutover:postgres.instances: …`) rather than the construct prop.
 */
function underKey<T>(key: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    throw new Error(`${CONFIG_NAMESPACE}:${key}.${(error as Error).message}`);
  }
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
