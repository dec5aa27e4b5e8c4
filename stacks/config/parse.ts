import { z } from 'zod';
import { PREFLIGHT_CHECKS, PreflightCheck, PreflightConfig } from '../preflight';
import { Color, ColorSpec, ImageRef, PodScheduling, isColor, otherColor, schedulingProblems } from '../../lib';
import { AlertRoutingConfig, parseAlerting } from './alerting';
import { ConfigError, ConfigProblem, Fail, editDistance, hintFor, problemList, suggest } from './errors';
import { gatewayProxyNamespace, parseRouting } from './routing';
import {
  CONFIG_DEFAULTS,
  CONFIG_KEYS,
  CONFIG_NAMESPACE,
  GateConfig,
  MigrationsConfig,
  MonitoringConfig,
  NetworkConfig,
  OperatorsConfig,
  PostgresConfig,
  RedisConfig,
  ResourcesConfig,
  RoutingConfig,
  gateSchema,
  metricGateSchema,
  monitoringSchema,
  networkSchema,
  postgresSchema,
  redisSchema,
  resourcesSchema,
  stackConfigSchema,
} from './schema';
import {
  distinctAppsRule,
  distinctPortsRule,
  gateDeadlineRule,
  gatewayPodLabelsRule,
  hostRule,
  idleReplicasRule,
  metricGateEnabledRule,
  migrationsRule,
  monitoringLabelsRule,
  namespaceRule,
  operatorsRule,
  productionReplicasRule,
  recoveryRule,
  replicaBoundsRule,
  settingsKeysRule,
  weightedShiftRule,
} from './rules';
import { CONFIG_SCHEMAS, checkRules, checkShape, checkValue, readShape, stringMap, unwrap } from './shape';
import { AppConfig, ColorRules, parseColors, parseService } from './services';

/**
 * A stack's configuration after parsing and validation. Every stack-level default is resolved; the fields of
 * `postgres`, `redis`, `monitoring`, `gate` and `network` stay as written, and their constructs apply the defaults the
 * schema declares for them (./schema.ts, tied to the constructs by test/stacks/config.defaults.test.ts).
 */
export interface StackConfig {
  readonly stack: string;
  readonly production: boolean;
  readonly app: string;
  readonly namespace: string;
  readonly host: string;
  readonly activeColor: Color;
  readonly idleColor: Color;
  readonly blue: ColorSpec;
  readonly green: ColorSpec;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly maxUnavailable: number;
  readonly targetCpuUtilization: number;
  readonly targetMemoryUtilization: number;
  readonly port: number;
  readonly metricsPort: number;
  readonly readinessPath: string;
  readonly livenessPath: string;
  readonly resources: ResourcesConfig;
  readonly settings: Readonly<Record<string, string>>;
  readonly secretNames: readonly string[];
  readonly tlsSecretName: string;
  readonly clusterIssuer: string;
  readonly ingressClassName: string;
  readonly rateLimitRps: number;
  readonly drainSeconds: number;
  readonly shutdownSeconds: number;
  readonly deployTimeoutSeconds: number;
  readonly podSecurityVersion: string;
  /** The app's PostgreSQL; absent when the stack has none. */
  readonly postgres?: PostgresConfig;
  /** The app's Redis; absent when the stack has none. */
  readonly redis?: RedisConfig;
  readonly operators: OperatorsConfig;
  /** What the program checks in the cluster before registering anything (stacks/preflight.ts). */
  readonly preflight: PreflightConfig;
  readonly network: NetworkConfig;
  readonly monitoring: MonitoringConfig;
  readonly gate: GateConfig;
  readonly migrations: MigrationsConfig;
  readonly routing: RoutingConfig;
  /** The AlertmanagerConfig's receivers (`monitoring.alerting`); absent when alert routing is off. */
  readonly alerting?: AlertRoutingConfig;
  /** Percent of requests sent to the idle color (a weighted shift); 0 = all to the active color. */
  readonly trafficWeight: number;
  /** Where every app's pods and Jobs run (node pool, tolerations, anti-affinity); `{}`: any node, anti-affinity required. */
  readonly scheduling: PodScheduling;
  /** Every app of the stack, the main app (top-level keys) first, then `services` in name order. */
  readonly apps: readonly AppConfig[];
  /**
   * Replicas of every app's idle color once traffic has settled on the active one (0 retires it); absent: the idle
   * color stays at full size. Applied by stacks/transition.ts, never in the update that switches colors.
   */
  readonly idleReplicas?: number;
}

/** Keys people reach for that the project deliberately does not have, with what to use instead. */
const RENAMED_KEYS: Readonly<Record<string, string>> = {
  image: 'images are per color: `pulumi config set --path blue.image <image:tag>`',
  blueImage: 'use `pulumi config set --path blue.image <image:tag>`',
  greenImage: 'use `pulumi config set --path green.image <image:tag>`',
};

/** The `preflight` value: `false` turns it off, `{ "skip": [check, ...] }` leaves checks out. */
function parsePreflight(value: unknown, fail: Fail): PreflightConfig {
  const on: PreflightConfig = { enabled: true, skip: [] };
  if (value === undefined) {
    return on;
  }
  if (typeof value === 'boolean') {
    return { enabled: value, skip: [] };
  }
  const read = readShape<{ enabled?: boolean; skip?: string[] }>('preflight', value, CONFIG_SCHEMAS.keys.preflight, fail);
  if (read === undefined) {
    return on;
  }
  const { enabled, skip = [] } = read;
  skip.forEach((check, index) => {
    if (!(PREFLIGHT_CHECKS as readonly string[]).includes(check)) {
      fail(
        `preflight.skip[${index}]`,
        'is not a preflight check',
        check,
        `use one of ${PREFLIGHT_CHECKS.join(', ')}${hintFor(check, PREFLIGHT_CHECKS)}`,
      );
    }
  });
  return { enabled: enabled ?? true, skip: skip.filter((check): check is PreflightCheck => (PREFLIGHT_CHECKS as readonly string[]).includes(check)) };
}
const RESOURCE_KEYS = Object.keys(resourcesSchema.shape);

/** The top-level keys that hold a whole number. */
type IntKey = {
  [K in keyof typeof stackConfigSchema.shape]: z.output<(typeof stackConfigSchema.shape)[K]> extends number | undefined ? K : never;
}[keyof typeof stackConfigSchema.shape];

/**
 * Turns a stack's raw config (`cutover:key` → string, as Pulumi hands it to a program; objects as JSON)
 * into a validated {@link StackConfig}. Pure: no Pulumi, no files, no environment.
 * @throws ConfigError naming every bad key, the value received and the fix
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stack: string): StackConfig {
  const { config, problems } = parseStackConfigWithProblems(raw, stack);
  if (problems.length > 0) {
    throw new ConfigError(stack, problems);
  }
  return config;
}

/**
 * {@link parseStackConfig} without the throw: the config with each bad value replaced by its default where one
 * exists (kept as written otherwise), and every problem found. For a caller that checks further before it reports
 * (stacks/synthesize.ts); anything else should use parseStackConfig.
 */
export function parseStackConfigWithProblems(
  raw: Readonly<Record<string, string>>,
  stack: string,
): { config: StackConfig; problems: ConfigProblem[] } {
  const { problems, fail } = problemList();

  const values = new Map<string, string>();
  for (const [fullKey, value] of Object.entries(raw)) {
    const [namespace, ...rest] = fullKey.split(':');
    if (namespace !== CONFIG_NAMESPACE && rest.length > 0 && editDistance(namespace, CONFIG_NAMESPACE) <= 2) {
      // Another namespace one or two edits away is a typo of ours: silently ignored, the value would never apply.
      fail(
        fullKey,
        `is in the config namespace "${namespace}", not "${CONFIG_NAMESPACE}"`,
        value,
        `did you mean \`${CONFIG_NAMESPACE}:${rest.join(':')}\`? (remove it with \`pulumi config rm ${fullKey}\`)`,
      );
      continue;
    }
    if (namespace !== CONFIG_NAMESPACE || rest.length === 0) {
      continue;
    }
    const key = rest.join(':');
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      const hint = RENAMED_KEYS[key] ?? suggest(key, CONFIG_KEYS);
      fail(key, 'is not a cutover config key', value, `${hint} (remove it with \`pulumi config rm ${key}\`)`);
      continue;
    }
    values.set(key, value);
  }

  const str = (key: string, fallback: string | undefined): string | undefined => values.get(key) ?? fallback;
  /** A whole-number key, in the range its schema declares (and at most `max`, a bound that comes from another key). */
  const int = (key: IntKey, fallback: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = values.get(key);
    if (value === undefined) {
      return fallback;
    }
    const schema = unwrap(stackConfigSchema.shape[key]) as z.ZodNumber;
    const [min, limit] = [schema.minValue ?? -Number.MAX_SAFE_INTEGER, Math.min(max, schema.maxValue ?? Number.MAX_SAFE_INTEGER)];
    // Pulumi hands the program strings: the number must be written as one before the schema judges its range.
    const number = /^-?\d+$/.test(value.trim()) ? schema.max(limit).safeParse(Number(value)) : undefined;
    if (number?.success !== true) {
      fail(
        key,
        `must be a whole number from ${min} to ${limit === Number.MAX_SAFE_INTEGER ? '∞' : limit}`,
        value,
        `e.g. \`pulumi config set ${key} ${fallback}\``,
      );
      return fallback;
    }
    return number.data;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = values.get(key);
    if (value === undefined) {
      return fallback;
    }
    if (value !== 'true' && value !== 'false') {
      return fail(key, 'must be true or false', value, `e.g. \`pulumi config set ${key} ${fallback}\``) ?? fallback;
    }
    return value === 'true';
  };
  /** A string key checked against its schema's rules. */
  const checked = (key: 'clusterIssuer' | 'ingressClassName'): string => {
    const value = str(key, CONFIG_DEFAULTS[key]) as string;
    checkValue(key, value, stackConfigSchema.shape[key], fail);
    return value;
  };
  const json = (key: string): unknown => {
    const value = values.get(key);
    if (value === undefined) {
      return undefined;
    }
    try {
      return JSON.parse(value);
    } catch {
      return fail(key, 'must be a structured value', value, `set its fields with \`pulumi config set --path ${key}.<field> <value>\``);
    }
  };

  const production = bool('production', CONFIG_DEFAULTS.production);
  const app = str('app', CONFIG_DEFAULTS.app) as string;
  checkValue('app', app, stackConfigSchema.shape.app, fail);
  const namespace = str('namespace', `${app}-${stack}`) as string;
  checkRules({ namespace, app, stack }, namespaceRule, fail);

  const activeValue = values.get('activeColor');
  let activeColor: Color = 'blue';
  if (activeValue === undefined) {
    fail('activeColor', 'is required', undefined, 'set the color that receives traffic: `pulumi config set activeColor blue`');
  } else if (!isColor(activeValue)) {
    fail('activeColor', 'must be blue or green', activeValue, '`pulumi config set activeColor blue` (or green)');
  } else {
    activeColor = activeValue;
  }

  const host = values.get('host');
  if (host === undefined) {
    fail('host', 'is required', undefined, 'set the DNS name the service answers on: `pulumi config set host app.example.com`');
  } else {
    checkRules({ key: 'host', host, example: 'app.example.com' }, hostRule, fail);
  }

  const replicas = int('replicas', CONFIG_DEFAULTS.replicas);
  const maxReplicas = int('maxReplicas', CONFIG_DEFAULTS.maxReplicas);
  const maxUnavailable = int('maxUnavailable', CONFIG_DEFAULTS.maxUnavailable);
  checkRules({ replicas, maxReplicas }, replicaBoundsRule, fail);

  const colorRules: ColorRules = {
    activeColor,
    activeValid: activeValue !== undefined && isColor(activeValue),
    production,
    replicas,
    maxReplicas,
    maxUnavailable,
  };
  const colors = parseColors('', { blue: json('blue'), green: json('green') }, colorRules, fail, problems);
  checkRules({ production, replicas }, productionReplicasRule, fail);

  const resourcesValue = json('resources');
  const resources: Record<string, string> = { ...CONFIG_DEFAULTS.resources };
  if (resourcesValue !== undefined) {
    const map = stringMap(resourcesValue);
    if (map === undefined) {
      fail(
        'resources',
        'must map cpuRequest, cpuLimit, memoryRequest and memoryLimit to quantities',
        resourcesValue,
        'e.g. `pulumi config set --path resources.cpuLimit 1`',
      );
    } else {
      for (const [field, value] of Object.entries(map)) {
        if (!RESOURCE_KEYS.includes(field)) {
          fail(`resources.${field}`, 'is not a resources field', value, `use one of ${RESOURCE_KEYS.join(', ')}${hintFor(field, RESOURCE_KEYS)}`);
        } else {
          resources[field] = value;
        }
      }
    }
  }
  for (const field of RESOURCE_KEYS) {
    checkValue(`resources.${field}`, resources[field], resourcesSchema.shape[field as keyof typeof resourcesSchema.shape], fail);
  }

  const settingsValue = json('settings');
  let settings: Record<string, string> = { ...CONFIG_DEFAULTS.settings };
  if (settingsValue !== undefined) {
    const map = stringMap(settingsValue);
    if (map === undefined) {
      fail(
        'settings',
        'must map environment variable names to string values',
        settingsValue,
        'e.g. `pulumi config set --path settings.LOG_LEVEL debug`',
      );
    } else {
      settings = map;
      checkRules({ key: 'settings', settings: map }, settingsKeysRule, fail);
    }
  }
  const secretValue = json('secretNames');
  let secretNames: string[] = [];
  if (secretValue !== undefined && checkValue('secretNames', secretValue, stackConfigSchema.shape.secretNames, fail)) {
    secretNames = secretValue as string[];
  }

  const port = int('port', CONFIG_DEFAULTS.port);
  const metricsPort = int('metricsPort', CONFIG_DEFAULTS.metricsPort);
  checkRules({ port, metricsPort }, distinctPortsRule, fail);
  const readinessPath = str('readinessPath', CONFIG_DEFAULTS.readinessPath) as string;
  const livenessPath = str('livenessPath', CONFIG_DEFAULTS.livenessPath) as string;
  checkValue('readinessPath', readinessPath, stackConfigSchema.shape.readinessPath, fail);
  checkValue('livenessPath', livenessPath, stackConfigSchema.shape.livenessPath, fail);
  const podSecurityVersion = str('podSecurityVersion', CONFIG_DEFAULTS.podSecurityVersion) as string;
  checkValue('podSecurityVersion', podSecurityVersion, stackConfigSchema.shape.podSecurityVersion, fail);
  const tlsSecretName = str('tlsSecretName', `${app}-tls`) as string;
  checkValue('tlsSecretName', tlsSecretName, stackConfigSchema.shape.tlsSecretName, fail);

  const postgresValue = json('postgres');
  const postgres = postgresValue !== undefined ? readShape<PostgresConfig>('postgres', postgresValue, CONFIG_SCHEMAS.keys.postgres, fail) : undefined;
  checkRules({ recovery: postgres?.recovery }, recoveryRule, fail, () => 'postgres.recovery');
  checkValue('postgres.backup.secretName', postgres?.backup?.secretName, postgresSchema.shape.backup.unwrap().shape.secretName, fail);
  if (postgres?.imageName !== undefined && typeof postgres.imageName === 'string') {
    try {
      if (production && ImageRef.parse(postgres.imageName, 'postgres.imageName').isLatest) {
        fail(
          'postgres.imageName',
          'production does not run `:latest`',
          postgres.imageName,
          'pin a release tag or a digest, e.g. `ghcr.io/cloudnative-pg/timescaledb:16-2.17`',
        );
      }
    } catch (error) {
      problems.push({ key: 'postgres.imageName', message: (error as Error).message });
    }
  }
  const redisValue = json('redis');
  const redis = redisValue !== undefined ? readShape<RedisConfig>('redis', redisValue, CONFIG_SCHEMAS.keys.redis, fail) : undefined;
  checkValue('redis.secretName', redis?.secretName, redisSchema.shape.secretName, fail);
  checkValue('redis.mode', redis?.mode, redisSchema.shape.mode, fail);

  const operatorsValue = json('operators');
  const operators: OperatorsConfig = {
    install:
      (operatorsValue !== undefined
        ? readShape<Partial<OperatorsConfig>>('operators', operatorsValue, CONFIG_SCHEMAS.keys.operators, fail)
        : undefined
      )?.install ?? false,
  };
  checkRules(
    { install: operators.install, postgres: postgres !== undefined, redis: redis !== undefined },
    operatorsRule,
    fail,
    () => 'operators.install',
  );

  const preflight = parsePreflight(json('preflight'), fail);

  const monitoringValue = json('monitoring');
  const monitoring =
    (monitoringValue !== undefined ? readShape<MonitoringConfig>('monitoring', monitoringValue, CONFIG_SCHEMAS.keys.monitoring, fail) : undefined) ??
    {};

  checkRules({ labels: monitoring.labels, dashboardLabels: monitoring.dashboardLabels }, monitoringLabelsRule, fail);
  checkValue('monitoring.runbookBaseUrl', monitoring.runbookBaseUrl, monitoringSchema.shape.runbookBaseUrl, fail);
  const pool = monitoring.databasePool;
  if (pool !== undefined) {
    const poolSchema = monitoringSchema.shape.databasePool.unwrap().shape;
    checkValue('monitoring.databasePool.inUse', pool.inUse, poolSchema.inUse, fail);
    checkValue('monitoring.databasePool.max', pool.max, poolSchema.max, fail);
  }
  const alerting = parseAlerting(monitoring.alerting, production, fail);

  const gateValue = json('gate');
  const gate = (gateValue !== undefined ? readShape<GateConfig>('gate', gateValue, CONFIG_SCHEMAS.keys.gate, fail) : undefined) ?? {};
  (gate.checks ?? []).forEach((check, index) => checkShape(`gate.checks[${index}]`, check, CONFIG_SCHEMAS.listItems['gate.checks'], fail));
  const deployTimeoutSeconds = int('deployTimeoutSeconds', CONFIG_DEFAULTS.deployTimeoutSeconds);
  checkRules({ deployTimeoutSeconds, timeoutSeconds: gate.timeoutSeconds }, gateDeadlineRule, fail, () => 'gate.timeoutSeconds');
  // Each Job gives one request this long (the constructs' requestTimeoutSeconds): its deadline must leave room for it.
  checkValue('gate.timeoutSeconds', gate.timeoutSeconds, gateSchema.shape.timeoutSeconds, fail);
  if (gate.metrics !== undefined) {
    checkValue('gate.metrics.timeoutSeconds', gate.metrics.timeoutSeconds, metricGateSchema.shape.timeoutSeconds, fail);
  }
  const metrics = gate.metrics;
  if (metrics !== undefined) {
    checkValue('gate.metrics.prometheusUrl', metrics.prometheusUrl, metricGateSchema.shape.prometheusUrl, fail);
    checkRules({ deployTimeoutSeconds, timeoutSeconds: metrics.timeoutSeconds }, gateDeadlineRule, fail, () => 'gate.metrics.timeoutSeconds');
    checkValue('gate.metrics.prometheusPort', metrics.prometheusPort, metricGateSchema.shape.prometheusPort, fail);
    checkRules({ enabled: gate.enabled, metrics }, metricGateEnabledRule, fail, () => 'gate.metrics');
  }
  const migrationsValue = json('migrations');
  const migrations =
    (migrationsValue !== undefined ? readShape<MigrationsConfig>('migrations', migrationsValue, CONFIG_SCHEMAS.keys.migrations, fail) : undefined) ??
    {};
  checkRules({ expand: migrations.expand, contract: migrations.contract, postgres: postgres !== undefined }, migrationsRule, fail, (path) =>
    ['migrations', ...path].join('.'),
  );
  const routing = parseRouting(json('routing'), { app, namespace, values }, fail);
  const trafficWeight = int('trafficWeight', CONFIG_DEFAULTS.trafficWeight);
  const idleReplicas = values.has('idleReplicas') ? int('idleReplicas', 0, maxReplicas) : undefined;
  checkRules({ idleReplicas, maxUnavailable, trafficWeight }, idleReplicasRule, fail);
  checkRules({ trafficWeight, idleColor: otherColor(activeColor), idle: colors[otherColor(activeColor)] }, weightedShiftRule, fail);

  const main: AppConfig = {
    name: app,
    host: host ?? '',
    blue: colors.blue,
    green: colors.green,
    replicas,
    maxReplicas,
    port,
    metricsPort,
    readinessPath,
    livenessPath,
    settings,
    secretNames,
    tlsSecretName,
    gate: { image: gate.image, checks: gate.checks },
    backends: true,
  };
  const servicesValue = json('services');
  const services: AppConfig[] = [];
  if (servicesValue !== undefined) {
    if (typeof servicesValue !== 'object' || servicesValue === null || Array.isArray(servicesValue)) {
      fail(
        'services',
        'must map service names to their settings',
        servicesValue,
        'e.g. `pulumi config set --path services.api.host api.example.com` and `--path services.api.blue.image <image:tag>`',
      );
    } else {
      for (const [name, entry] of Object.entries(servicesValue as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) {
        const parsed = parseService(
          name,
          entry,
          { main, production, activeColor, activeValid: colorRules.activeValid, maxUnavailable, trafficWeight },
          fail,
          problems,
        );
        if (parsed !== undefined) {
          services.push(parsed);
        }
      }
    }
  }
  checkRules({ main, services: Object.fromEntries(services.map((service) => [service.name, service])) }, distinctAppsRule, fail, (path) =>
    path.join('.'),
  );

  const schedulingValue = json('scheduling');
  let scheduling: PodScheduling = {};
  const schedulingRead =
    schedulingValue !== undefined ? readShape<PodScheduling>('scheduling', schedulingValue, CONFIG_SCHEMAS.keys.scheduling, fail) : undefined;
  if (schedulingRead !== undefined) {
    const tolerations: readonly unknown[] = schedulingRead.tolerations ?? [];
    if (
      tolerations.every((toleration, index) =>
        checkShape(`scheduling.tolerations[${index}]`, toleration, CONFIG_SCHEMAS.listItems['scheduling.tolerations'], fail),
      )
    ) {
      scheduling = schedulingRead;
      for (const message of schedulingProblems('scheduling', scheduling)) {
        problems.push({ key: message.slice(0, message.indexOf(':')), message });
      }
    }
  }

  const networkValue = json('network');
  const network =
    (networkValue !== undefined ? readShape<NetworkConfig>('network', networkValue, CONFIG_SCHEMAS.keys.network, fail) : undefined) ?? {};
  const networkFields = typeof networkValue === 'object' && networkValue !== null ? (networkValue as Record<string, unknown>) : {};
  for (const field of ['ingressNamespace', 'gatewayNamespace', 'monitoringNamespace', 'cnpgNamespace', 'redisOperatorNamespace'] as const) {
    const value = networkFields[field];
    if (typeof value === 'string') {
      checkValue(`network.${field}`, value, networkSchema.shape[field], fail);
    }
  }

  if (routing.router === 'gateway' && routing.gateway !== undefined) {
    const proxies = gatewayProxyNamespace(routing, network, namespace);
    checkRules({ proxies, namespace, gatewayPodLabels: network.gatewayPodLabels }, gatewayPodLabelsRule, fail, () => 'network.gatewayPodLabels');
  }

  const config: StackConfig = {
    stack,
    production,
    app,
    namespace,
    host: host ?? '',
    activeColor,
    idleColor: otherColor(activeColor),
    blue: colors.blue,
    green: colors.green,
    replicas,
    maxReplicas,
    maxUnavailable,
    targetCpuUtilization: int('targetCpuUtilization', CONFIG_DEFAULTS.targetCpuUtilization),
    targetMemoryUtilization: int('targetMemoryUtilization', CONFIG_DEFAULTS.targetMemoryUtilization),
    port,
    metricsPort,
    readinessPath,
    livenessPath,
    resources: resources as unknown as ResourcesConfig,
    settings,
    secretNames,
    tlsSecretName,
    clusterIssuer: checked('clusterIssuer'),
    ingressClassName: checked('ingressClassName'),
    rateLimitRps: int('rateLimitRps', CONFIG_DEFAULTS.rateLimitRps),
    drainSeconds: int('drainSeconds', CONFIG_DEFAULTS.drainSeconds),
    shutdownSeconds: int('shutdownSeconds', CONFIG_DEFAULTS.shutdownSeconds),
    deployTimeoutSeconds,
    podSecurityVersion,
    ...(postgres !== undefined ? { postgres } : {}),
    ...(redis !== undefined ? { redis } : {}),
    operators,
    preflight,
    network,
    monitoring,
    gate,
    migrations,
    routing,
    ...(alerting !== undefined ? { alerting } : {}),
    trafficWeight,
    scheduling,
    apps: [main, ...services],
    ...(idleReplicas !== undefined ? { idleReplicas } : {}),
  };
  return { config, problems };
}
