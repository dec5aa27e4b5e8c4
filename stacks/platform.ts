import { ApiObject, App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  BackupCredentials,
  BlueGreenApp,
  CutoverGate,
  EnvironmentNamespace,
  IAppBackend,
  INetworkPeer,
  MigrationJob,
  MonitoringStack,
  NamespaceQuota,
  NetworkPolicySet,
  PostgresHA,
  RedisCluster,
  parseMebibytes,
  parseMillicores,
} from '../lib';
import { CONFIG_NAMESPACE, NetworkConfig, PostgresConfig, RedisConfig, StackConfig } from './config';

/** What one environment consists of, as cdk8s constructs: no Pulumi here. */
export interface Platform {
  readonly app: App;
  readonly chart: Chart;
  readonly namespace: EnvironmentNamespace;
  readonly web: BlueGreenApp;
  readonly postgres?: PostgresHA;
  readonly redis?: RedisCluster;
  readonly network: NetworkPolicySet;
  readonly monitoring: MonitoringStack;
  /** What must pass before traffic moves to the active color; absent when `gate.enabled` is false. */
  readonly gate?: CutoverGate;
  /** The `expand` migration, when configured. */
  readonly expand?: MigrationJob;
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
    trafficWeight: config.trafficWeight,
    routing: config.routing,
    ingress: {
      host: config.host,
      tlsSecretName: config.tlsSecretName,
      clusterIssuer: config.clusterIssuer,
      className: config.ingressClassName,
      rateLimitRps: config.rateLimitRps,
    },
  });
  const monitoring = underKey('monitoring', () => createMonitoring(chart, config, web));
  const expandStep = config.migrations.expand;
  const expand =
    expandStep !== undefined
      ? underKey('migrations.expand', () => new MigrationJob(chart, 'migrate-expand', { app: web, phase: 'expand', image: expandStep.image, command: expandStep.command, backends }))
      : undefined;
  const gate = config.gate.enabled !== false ? underKey('gate', () => createGate(chart, config, web)) : undefined;
  if (expand !== undefined) {
    // Traffic moves after the gate, and the gate's smoke test runs against the migrated schema.
    if (gate !== undefined) {
      gate.after(expand);
    } else {
      expand.guard(...web.routingObjects);
    }
  }
  const dataTier: INetworkPeer[] = [...(postgres !== undefined ? [postgres] : []), ...(redis !== undefined ? [redis] : [])];
  const network = underKey('network', () => createNetwork(chart, config.network));
  for (const backend of dataTier) {
    network.allow(web).to(backend);
  }
  network.allowIngressController(web);
  if (gate !== undefined) {
    network.allow(gate).to(web);
  }
  if (expand !== undefined && postgres !== undefined) {
    network.allow(expand).to(postgres);
  }
  network.allowMonitoring(web, ...dataTier);
  if (config.network.internetEgress !== false) {
    network.allowInternetEgress(web);
  }
  // Policies first: no pod of the stack ever runs before the namespace is default-deny.
  for (const workload of workloads(web, ...dataTier, ...(gate !== undefined ? [gate] : []), ...(expand !== undefined ? [expand] : []))) {
    workload.node.addDependency(network);
  }
  return { app, chart, namespace, web, postgres, redis, network, monitoring, gate, expand };
}

/**
 * The gate of the active color: its own Service (awaited for ready endpoints) and a smoke-test Job; the live and
 * preview Services and the Ingress wait for it. Its Job gives up before `pulumi up` would.
 */
function createGate(chart: Chart, config: StackConfig, web: BlueGreenApp): CutoverGate {
  return new CutoverGate(chart, 'gate', {
    app: web,
    image: config.gate.image,
    checks: config.gate.checks,
    activeDeadlineSeconds: config.gate.timeoutSeconds ?? Math.min(120, config.deployTimeoutSeconds - 10),
  });
}

/** ServiceMonitor, alert and SLO rules, and the dashboard of the app: nothing in it depends on `activeColor`. */
function createMonitoring(chart: Chart, config: StackConfig, web: BlueGreenApp): MonitoringStack {
  const monitoring = config.monitoring;
  return new MonitoringStack(chart, 'monitoring', {
    app: web,
    monitoringLabels: monitoring.labels,
    runbookBaseUrl: monitoring.runbookBaseUrl,
    errorRateThreshold: monitoring.errorRateThreshold,
    p95LatencySeconds: monitoring.p95LatencySeconds,
    availabilityObjective: monitoring.availabilityObjective,
    latencyObjective: monitoring.latencyObjective,
    databasePool: monitoring.databasePool,
    dashboard: monitoring.dashboardLabels !== undefined ? { sidecarLabels: monitoring.dashboardLabels } : undefined,
  });
}

/** Kinds whose objects start pods, directly or through their operator. */
const WORKLOAD_KINDS = new Set(['Deployment', 'Job', 'Cluster', 'Pooler', 'RedisReplication', 'RedisSentinel', 'RedisCluster']);

function workloads(...scopes: Construct[]): ApiObject[] {
  return scopes.flatMap((scope) => scope.node.findAll().filter((node): node is ApiObject => ApiObject.isApiObject(node) && WORKLOAD_KINDS.has(node.kind)));
}

/** Default deny in the namespace, then only the flows declared above (and those the operators need). */
function createNetwork(chart: Chart, network: NetworkConfig): NetworkPolicySet {
  const operatorNamespaces: Record<string, string> = {
    ...(network.cnpgNamespace !== undefined ? { 'cloudnative-pg': network.cnpgNamespace } : {}),
    ...(network.redisOperatorNamespace !== undefined ? { 'redis-operator': network.redisOperatorNamespace } : {}),
  };
  return new NetworkPolicySet(chart, 'network', {
    ingressController: network.ingressNamespace !== undefined ? { namespace: network.ingressNamespace } : undefined,
    monitoring: network.monitoringNamespace !== undefined ? { namespace: network.monitoringNamespace } : undefined,
    operatorNamespaces,
    podCidrs: network.podCidrs,
    serviceCidrs: network.serviceCidrs,
    externalCidrs: network.externalCidrs,
    apiServer: network.apiServer?.cidrs !== undefined ? { cidrs: network.apiServer.cidrs } : undefined,
  });
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
    monitoringLabels: config.monitoring.labels,
    runbookBaseUrl: config.monitoring.runbookBaseUrl,
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
    monitoringLabels: config.monitoring.labels,
    runbookBaseUrl: config.monitoring.runbookBaseUrl,
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
