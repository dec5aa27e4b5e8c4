import { ApiObject, App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  AlertReceiver,
  AlertRouting,
  BackupCredentials,
  BlueGreenApp,
  IBlueGreenApp,
  IMonitoringStack,
  BlueGreenAppProps,
  CutoverGate,
  EDGE_HTTP_LISTENER,
  EdgeGateway,
  EnvironmentNamespace,
  IAppBackend,
  INetworkPeer,
  MetricGate,
  MigrationJob,
  MonitoringStack,
  NetworkPolicySet,
  NetworkPort,
  PostgresHA,
  RedisCluster,
  ValidationError,
  isRefusal,
} from '../lib';
import {
  AlertRoutingConfig,
  AppConfig,
  ConfigError,
  ConfigProblem,
  MetricGateConfig,
  PostgresConfig,
  gatewayProxyNamespace,
  RedisConfig,
  StackConfig,
} from './config';

/** What one environment consists of, as cdk8s constructs: no Pulumi here. */
export interface Platform {
  readonly app: App;
  readonly chart: Chart;
  readonly namespace: EnvironmentNamespace;
  /** The main app (top-level keys). */
  readonly web: BlueGreenApp;
  /** Every app of the stack, the main app first; one `activeColor` switches them all. */
  readonly apps: readonly BlueGreenApp[];
  /** The Gateway the stack owns (`routing.gateway.create`); absent when the routes attach to someone else's. */
  readonly gateway?: EdgeGateway;
  readonly postgres?: PostgresHA;
  readonly redis?: RedisCluster;
  readonly network: NetworkPolicySet;
  /** The main app's monitoring. */
  readonly monitoring: MonitoringStack;
  /** Monitoring of every app, in the order of `apps`. */
  readonly monitors: readonly MonitoringStack[];
  /** Routing of the namespace's alerts to the pager and chat (`monitoring.alerting`); absent when it is off. */
  readonly alertRouting?: AlertRouting;
  /** The main app's gate: what must pass before traffic moves to the active color; absent when `gate.enabled` is false. */
  readonly gate?: CutoverGate;
  /**
   * The gate of every app, in the order of `apps` (empty when `gate.enabled` is false). Every app's routing objects
   * wait for every gate: if one app's gate fails, no app's traffic moves.
   */
  readonly gates: readonly CutoverGate[];
  /** The metric gate of every app, in the order of `apps`, when `gate.metrics` is set; each runs after its app's smoke test. */
  readonly metricGates: readonly MetricGate[];
  /** The `expand` migration, when configured. */
  readonly expand?: MigrationJob;
  /** The `contract` migration, when configured: after every app's idle color (retired) Deployment. */
  readonly contract?: MigrationJob;
}

/**
 * Composes an environment from its validated config. Construction validates every construct, so a bad
 * value throws here, before anything is registered with Pulumi: one {@link ConfigError} with the problem of every
 * construct that refused its part of the config (each under the config key the user wrote). Constructs that need an
 * app are built once every app was. Each construct reports every independent problem of its props at once
 * ({@link ValidationError}); a check that needs another's value runs once that one passed.
 */
export function buildPlatform(config: StackConfig): Platform {
  const problems: ConfigProblem[] = [];
  const underKey = <T>(key: string, build: () => T): T => {
    try {
      return build();
    } catch (error) {
      // The same problem found by several constructs (every app's router checks the one Gateway) is reported once.
      problems.push(...problemsUnder(key, error).filter((problem) => !problems.some((seen) => seen.message === problem.message)));
      return undefined as T;
    }
  };
  const stop = (): void => {
    if (problems.length > 0) {
      throw new ConfigError(config.stack, problems);
    }
  };
  const app = new App();
  const chart = new Chart(app, config.stack, { namespace: config.namespace, disableResourceNameHashes: true });
  const namespace = new EnvironmentNamespace(chart, 'namespace', {
    name: config.namespace,
    podSecurityVersion: config.podSecurityVersion,
    labels: { 'cutover.dev/environment': config.stack },
  });
  const postgres =
    config.postgres !== undefined ? underKey('postgres', () => createPostgres(chart, config, config.postgres as PostgresConfig)) : undefined;
  const redis = config.redis !== undefined ? underKey('redis', () => createRedis(chart, config, config.redis as RedisConfig)) : undefined;
  const backends: IAppBackend[] = [...(postgres !== undefined ? [postgres] : []), ...(redis !== undefined ? [redis] : [])];
  const create = config.routing.router === 'gateway' ? config.routing.gateway?.create : undefined;
  // Its problems name their routing.* keys themselves.
  const gateway = create !== undefined ? underKey('', () => createGateway(chart, config, create.className)) : undefined;
  const apps = config.apps.map((appConfig, index) => {
    const build = (): BlueGreenApp =>
      createApp(chart, index === 0 ? 'app' : `app-${appConfig.name}`, config, appConfig, appConfig.backends ? backends : []);
    // The main app's keys are the top-level ones.
    return underKey(index === 0 ? '' : `services.${appConfig.name}`, build);
  });
  // Everything below needs the apps.
  stop();
  const web = apps[0];
  const monitors = apps.map((each, index) =>
    underKey('monitoring', () => createMonitoring(chart, index === 0 ? 'monitoring' : `monitoring-${each.name}`, config, each)),
  );
  const alerting = config.alerting;
  const alertRouting = alerting !== undefined ? underKey('monitoring.alerting', () => createAlertRouting(chart, config, alerting)) : undefined;
  const expandStep = config.migrations.expand;
  const expand =
    expandStep !== undefined
      ? underKey(
          'migrations.expand',
          () =>
            new MigrationJob(chart, 'migrate-expand', { app: web, phase: 'expand', image: expandStep.image, command: expandStep.command, backends }),
        )
      : undefined;
  const contractStep = config.migrations.contract;
  const contract =
    contractStep !== undefined
      ? underKey(
          'migrations.contract',
          () =>
            new MigrationJob(chart, 'migrate-contract', {
              app: web,
              phase: 'contract',
              image: contractStep.image,
              command: contractStep.command,
              backends,
            }),
        )
      : undefined;
  if (contract !== undefined) {
    // It runs after the old color is scaled down (stacks/transition.ts refuses it while that color still runs).
    for (const each of apps) {
      const idle = each.colors[config.idleColor];
      if (idle !== undefined) {
        contract.job.node.addDependency(idle.deployment);
      }
    }
  }
  const gates =
    config.gate.enabled !== false
      ? apps.map((each, index) =>
          underKey(index === 0 ? 'gate' : `services.${each.name}.gate`, () =>
            createGate(chart, index === 0 ? 'gate' : `gate-${each.name}`, config, config.apps[index], each),
          ),
        )
      : [];
  // Metric gates need the gates and monitors.
  stop();
  const metricsConfig = config.gate.metrics;
  const metricGates =
    metricsConfig !== undefined && gates.length > 0
      ? apps.map((each, index) => {
          const metricGate = underKey('gate.metrics', () =>
            createMetricGate(
              chart,
              index === 0 ? 'metric-gate' : `metric-gate-${each.name}`,
              config,
              metricsConfig,
              config.apps[index],
              each,
              monitors[index],
            ),
          );
          metricGate?.after(gates[index]);
          return metricGate;
        })
      : [];
  stop();
  // One switch: every app's traffic objects wait for every app's gates, so when one gate fails no live Service moves.
  for (const appGates of [gates, metricGates]) {
    appGates.forEach((gate, index) => apps.forEach((other, otherIndex) => otherIndex !== index && gate.guard(...other.routingObjects)));
  }
  if (expand !== undefined) {
    // Traffic moves after the gates, and the gates' smoke tests run against the migrated schema.
    if (gates.length > 0) {
      gates.forEach((gate) => gate.after(expand));
    } else {
      expand.guard(...apps.flatMap((each) => each.routingObjects));
    }
  }
  const dataTier: INetworkPeer[] = [...(postgres !== undefined ? [postgres] : []), ...(redis !== undefined ? [redis] : [])];
  const network = underKey('network', () => createNetwork(chart, config));
  stop();
  apps.forEach((each, index) => {
    if (config.apps[index].backends) {
      for (const backend of dataTier) {
        network.allow(each).to(backend);
      }
    }
    if (config.routing.router === 'gateway') {
      network.allowGateway(each);
    }
    if (config.routing.router === 'ingress' || config.routing.keepIngress === true) {
      network.allowIngressController(each);
    }
    if (config.network.internetEgress !== false) {
      network.allowInternetEgress(each);
    }
  });
  gates.forEach((gate, index) => network.allow(gate).to(apps[index]));
  metricGates.forEach((metricGate) => network.allowPrometheusQuery(metricGate, { port: NetworkPort.tcp(metricsConfig?.prometheusPort ?? 9090) }));
  for (const migration of [expand, contract]) {
    if (migration !== undefined && postgres !== undefined) {
      network.allow(migration).to(postgres);
    }
  }
  network.allowMonitoring(...apps, ...dataTier);
  // Policies first: no pod of the stack ever runs before the namespace is default-deny.
  for (const workload of workloads(
    ...apps,
    ...dataTier,
    ...gates,
    ...metricGates,
    ...(expand !== undefined ? [expand] : []),
    ...(contract !== undefined ? [contract] : []),
  )) {
    workload.node.addDependency(network);
  }
  stop();
  // Last, once every workload exists: the quota holds the namespace at its peak (docs/namespace.md).
  namespace.fitQuota();
  return {
    app,
    chart,
    namespace,
    web,
    apps,
    gateway,
    postgres,
    redis,
    network,
    monitoring: monitors[0],
    monitors,
    alertRouting,
    gate: gates[0],
    gates,
    metricGates,
    expand,
    contract,
  };
}

/** One app of the stack: both colors, their Services, the routes (or the Ingress) and the weighted shift. */
function createApp(chart: Chart, id: string, config: StackConfig, app: AppConfig, backends: IAppBackend[]): BlueGreenApp {
  return new BlueGreenApp(chart, id, {
    name: app.name,
    activeColor: config.activeColor,
    blue: app.blue,
    green: app.green,
    replicas: app.replicas,
    maxReplicas: app.maxReplicas,
    maxUnavailable: config.maxUnavailable,
    targetCpuUtilization: config.targetCpuUtilization,
    targetMemoryUtilization: config.targetMemoryUtilization,
    port: app.port,
    metricsPort: app.metricsPort,
    readinessPath: app.readinessPath,
    livenessPath: app.livenessPath,
    resources: config.resources,
    settings: app.settings,
    secretNames: app.secretNames,
    drainSeconds: config.drainSeconds,
    shutdownSeconds: config.shutdownSeconds,
    scheduling: config.scheduling,
    backends,
    trafficWeight: config.trafficWeight,
    routing: appRouting(config, app),
    ingress: {
      host: app.host,
      tlsSecretName: app.tlsSecretName,
      clusterIssuer: config.clusterIssuer,
      className: config.ingressClassName,
      rateLimitRps: config.rateLimitRps,
    },
  });
}

/** The app's routing props: on a Gateway the stack creates, the app's route attaches to the listener of its host. */
function appRouting(config: StackConfig, app: AppConfig): BlueGreenAppProps['routing'] {
  const { router, gateway, keepIngress, requestTimeoutSeconds } = config.routing;
  if (gateway === undefined) {
    return { router };
  }
  const { create, ...options } = gateway;
  const listeners = create !== undefined ? { sectionName: EdgeGateway.httpsListener(app.name), httpSectionName: EDGE_HTTP_LISTENER } : {};
  return { router, gateway: { ...options, ...listeners }, keepIngress, requestTimeoutSeconds };
}

/** The Gateway the stack owns: one HTTPS listener per app's host, TLS from the stack's ClusterIssuer. */
function createGateway(chart: Chart, config: StackConfig, className: string): EdgeGateway {
  return new EdgeGateway(chart, 'gateway', {
    name: config.routing.gateway?.name ?? config.app,
    className,
    clusterIssuer: config.clusterIssuer,
    hosts: config.apps.map((app) => ({ app: app.name, host: app.host, tlsSecretName: app.tlsSecretName })),
    labels: { 'app.kubernetes.io/part-of': config.app, 'app.kubernetes.io/managed-by': 'cutover', 'app.kubernetes.io/component': 'gateway' },
  });
}

/**
 * The gate of the active color of one app: a smoke-test Job through the color's template Service (ready endpoints of its current pods); the
 * app's live and preview Services and routes wait for it. Its Job gives up before `pulumi up` would.
 */
function createGate(chart: Chart, id: string, config: StackConfig, appConfig: AppConfig, web: IBlueGreenApp): CutoverGate {
  return new CutoverGate(chart, id, {
    app: web,
    image: appConfig.gate.image,
    checks: appConfig.gate.checks,
    activeDeadlineSeconds: config.gate.timeoutSeconds ?? Math.min(120, config.deployTimeoutSeconds - 10),
  });
}

/**
 * The app's metric gate: the target color's error ratio and p95 latency from Prometheus, after its smoke test. It runs
 * in the app's gate image (the service's own `gate.image` if it sets one), like the smoke test.
 */
function createMetricGate(
  chart: Chart,
  id: string,
  config: StackConfig,
  metrics: MetricGateConfig,
  appConfig: AppConfig,
  web: IBlueGreenApp,
  monitoring: IMonitoringStack,
): MetricGate {
  return new MetricGate(chart, id, {
    app: web,
    monitoring,
    prometheusUrl: metrics.prometheusUrl,
    maxErrorRatio: metrics.maxErrorRatio,
    maxP95LatencySeconds: metrics.maxP95LatencySeconds,
    window: metrics.window,
    minRequests: metrics.minRequests,
    image: appConfig.gate.image,
    activeDeadlineSeconds: metrics.timeoutSeconds ?? Math.min(120, config.deployTimeoutSeconds - 10),
  });
}

/** ServiceMonitor, alert and SLO rules, and the dashboard of the app: nothing in it depends on `activeColor`. */
function createMonitoring(chart: Chart, id: string, config: StackConfig, web: IBlueGreenApp): MonitoringStack {
  const monitoring = config.monitoring;
  return new MonitoringStack(chart, id, {
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

/**
 * One AlertmanagerConfig for the whole namespace, so every app's and the data tier's alerts are routed alike. It is
 * selected by the same labels as the rules (`monitoring.labels`).
 */
function createAlertRouting(chart: Chart, config: StackConfig, alerting: AlertRoutingConfig): AlertRouting {
  const { pager, chat } = alerting;
  return new AlertRouting(chart, 'alert-routing', {
    name: `${config.app}-alert-routing`,
    partOf: config.app,
    monitoringLabels: config.monitoring.labels,
    groupWait: alerting.groupWait,
    groupInterval: alerting.groupInterval,
    pager: pager !== undefined ? AlertReceiver.pagerDuty({ routingKey: pager.secret, repeatInterval: pager.repeatInterval }) : undefined,
    chat: chat !== undefined ? AlertReceiver.slack({ apiUrl: chat.secret, channel: chat.channel, repeatInterval: chat.repeatInterval }) : undefined,
  });
}

/** Kinds whose objects start pods, directly or through their operator. */
const WORKLOAD_KINDS = new Set(['Deployment', 'Job', 'Cluster', 'Pooler', 'RedisReplication', 'RedisSentinel', 'RedisCluster']);

function workloads(...scopes: Construct[]): ApiObject[] {
  return scopes.flatMap((scope) =>
    scope.node.findAll().filter((node): node is ApiObject => ApiObject.isApiObject(node) && WORKLOAD_KINDS.has(node.kind)),
  );
}

/** Default deny in the namespace, then only the flows declared above (and those the operators need). */
function createNetwork(chart: Chart, config: StackConfig): NetworkPolicySet {
  const network = config.network;
  // Config refused the stack's own namespace without labels.
  const proxies = gatewayProxyNamespace(config.routing, network, config.namespace);
  const operatorNamespaces: Record<string, string> = {
    ...(network.cnpgNamespace !== undefined ? { 'cloudnative-pg': network.cnpgNamespace } : {}),
    ...(network.redisOperatorNamespace !== undefined ? { 'redis-operator': network.redisOperatorNamespace } : {}),
  };
  return new NetworkPolicySet(chart, 'network', {
    ingressController: network.ingressNamespace !== undefined ? { namespace: network.ingressNamespace } : undefined,
    gateway: proxies !== undefined ? { namespace: proxies, podLabels: network.gatewayPodLabels ?? {} } : undefined,
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
 * The problems a construct built from the config object at `key` threw, named by that key (`postgres.instances: …`
 * rather than the construct prop `instances: …`); `key` is empty for the top-level keys.
 */
function problemsUnder(key: string, error: unknown): ConfigProblem[] {
  if (error instanceof ValidationError) {
    return error.problems.map((message) => problemOf(key, message));
  }
  if (!isRefusal(error)) {
    throw error;
  }
  return [problemOf(key, error.message)];
}

/** Stack-level keys the apps' constructs are given: a service's problem with one is the stack's, not `services.<name>.…`. */
const STACK_LEVEL_KEYS = ['routing.', 'routing:'];

/**
 * Construct props that several constructs are given from one config key, or that a construct names otherwise than the
 * config does: the problem is reported under the key the user wrote.
 */
const PROP_KEYS: Readonly<Record<string, string>> = {
  'postgres.monitoringLabels': 'monitoring.labels',
  'redis.monitoringLabels': 'monitoring.labels',
  'monitoring.monitoringLabels': 'monitoring.labels',
  'monitoring.alerting.monitoringLabels': 'monitoring.labels',
  'postgres.runbookBaseUrl': 'monitoring.runbookBaseUrl',
  'redis.runbookBaseUrl': 'monitoring.runbookBaseUrl',
  'monitoring.sidecarLabels': 'monitoring.dashboardLabels',
  'monitoring.dashboard.sidecarLabels': 'monitoring.dashboardLabels',
  'redis.redisSecret': 'redis.secretName',
  'postgres.backup.credentials': 'postgres.backup.secretName',
};

/** A construct's problem `text`, built from the config object at `key` (empty for the top-level keys), under the config key. */
export function problemOf(key: string, text: string): ConfigProblem {
  const message = key === '' || STACK_LEVEL_KEYS.some((prefix) => text.startsWith(prefix)) ? text : `${key}.${text}`;
  const colon = message.indexOf(': ');
  const found = colon > 0 ? message.slice(0, colon) : key;
  const configKey = PROP_KEYS[found];
  return configKey !== undefined ? { key: configKey, message: `${configKey}${message.slice(found.length)}` } : { key: found, message };
}
