import { z } from 'zod';
import { PREFLIGHT_CHECKS, PreflightCheck, PreflightConfig } from '../preflight';
import {
  Color,
  ColorSpec,
  ImageRef,
  PodScheduling,
  httpPathProblem,
  isColor,
  isDnsLabel,
  isDnsSubdomain,
  isLabelKey,
  isLabelValue,
  otherColor,
  schedulingProblems,
} from '../../lib';
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
  replicaBoundsRule,
  resourcesSchema,
  stackConfigSchema,
  weightedShiftRule,
} from './schema';
import { CONFIG_SCHEMAS, checkRules, checkShape, checkValue, stringMap, unwrap } from './shape';
import { AppConfig, ColorRules, checkHost, checkSettingsKeys, parseColors, parseService } from './services';

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

/** Namespaces the cluster owns; a stack never takes one over. */
const SYSTEM_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Labels the constructs set on their objects from the app (lib/core/labels.ts `appLabels`): not the stack's to set. */
const CONSTRUCT_LABELS: readonly string[] = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

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
  if (!checkShape('preflight', value, CONFIG_SCHEMAS.keys.preflight, fail)) {
    return on;
  }
  const { enabled, skip = [] } = value as { enabled?: boolean; skip?: string[] };
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
  /** A key naming a cluster object: a DNS-1123 subdomain, as the API server requires of object names. */
  const objectName = (key: string, fallback: string, what: string, example: string): string => {
    const value = str(key, fallback) as string;
    if (!isDnsSubdomain(value)) {
      fail(key, `is not the name of ${what} (lowercase letters, digits, "-" and ".")`, value, `e.g. \`pulumi config set ${key} ${example}\``);
    }
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
  if (!isDnsLabel(namespace)) {
    fail(
      'namespace',
      'must be a lowercase DNS label of at most 63 characters',
      namespace,
      `e.g. \`pulumi config set namespace ${app}-${stack.toLowerCase().replace(/[^a-z0-9-]/g, '-')}\``,
    );
  } else if (SYSTEM_NAMESPACES.includes(namespace)) {
    fail(
      'namespace',
      'is a namespace Kubernetes itself uses: the stack would put its quota, LimitRange, Pod Security labels and default-deny policies on it',
      namespace,
      `give the environment a namespace of its own, e.g. \`pulumi config set namespace ${app}-${stack.toLowerCase().replace(/[^a-z0-9-]/g, '-')}\``,
    );
  }

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
    checkHost('host', host, 'app.example.com', fail);
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
  if (production && replicas < 3) {
    fail(
      'replicas',
      'production runs at least 3 replicas per color',
      replicas,
      'set replicas to 3 or more; a non-production stack sets `production: false`',
    );
  }

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
  for (const field of ['cpuRequest', 'cpuLimit']) {
    if (!/^\d+(\.\d+)?m?$/.test(resources[field])) {
      fail(`resources.${field}`, 'is not a CPU quantity', resources[field], 'use millicores like `250m` or cores like `1`');
    } else if (Number(resources[field].replace(/m$/, '')) === 0) {
      fail(
        `resources.${field}`,
        'must be more than 0: the namespace quota and the scheduler need a real figure',
        resources[field],
        'use millicores like `250m` or cores like `1`',
      );
    }
  }
  for (const field of ['memoryRequest', 'memoryLimit', 'ephemeralStorageRequest', 'ephemeralStorageLimit']) {
    if (!/^\d+(Mi|Gi)$/.test(resources[field])) {
      fail(`resources.${field}`, 'is not a memory quantity in Mi or Gi', resources[field], 'use e.g. `256Mi` or `1Gi`');
    } else if (Number(resources[field].replace(/(Mi|Gi)$/, '')) === 0) {
      fail(
        `resources.${field}`,
        'must be more than 0: the namespace quota and the scheduler need a real figure',
        resources[field],
        'use e.g. `256Mi` or `1Gi`',
      );
    }
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
      checkSettingsKeys('settings', map, fail);
    }
  }
  const secretValue = json('secretNames');
  let secretNames: string[] = [];
  if (secretValue !== undefined) {
    if (!Array.isArray(secretValue) || !secretValue.every((name) => typeof name === 'string' && isDnsSubdomain(name))) {
      fail(
        'secretNames',
        'must be a list of Secret names',
        secretValue,
        'e.g. `pulumi config set --path "secretNames[0]" web-secrets`; put secret values in the Secret, never in config',
      );
    } else {
      secretNames = secretValue as string[];
    }
  }

  const port = int('port', CONFIG_DEFAULTS.port);
  const metricsPort = int('metricsPort', CONFIG_DEFAULTS.metricsPort);
  if (port === metricsPort) {
    fail('metricsPort', 'must differ from port', metricsPort, 'serve metrics on a port of their own, e.g. 9090');
  }
  const readinessPath = str('readinessPath', CONFIG_DEFAULTS.readinessPath) as string;
  const livenessPath = str('livenessPath', CONFIG_DEFAULTS.livenessPath) as string;
  for (const [key, path] of [
    ['readinessPath', readinessPath],
    ['livenessPath', livenessPath],
  ] as const) {
    const wrong = httpPathProblem(path);
    if (wrong !== undefined) {
      fail(key, wrong.problem, path, wrong.fix);
    }
  }
  const podSecurityVersion = str('podSecurityVersion', CONFIG_DEFAULTS.podSecurityVersion) as string;
  checkValue('podSecurityVersion', podSecurityVersion, stackConfigSchema.shape.podSecurityVersion, fail);
  const tlsSecretName = str('tlsSecretName', `${app}-tls`) as string;
  if (!isDnsSubdomain(tlsSecretName)) {
    fail('tlsSecretName', 'is not a Secret name', tlsSecretName, 'use lowercase letters, digits, "-" and "."');
  }

  const postgresValue = json('postgres');
  const postgres =
    postgresValue !== undefined && checkShape('postgres', postgresValue, CONFIG_SCHEMAS.keys.postgres, fail)
      ? (postgresValue as PostgresConfig)
      : undefined;
  if (postgres?.recovery !== undefined && (postgres.recovery.sourceClusterName === undefined || postgres.recovery.targetTime === undefined)) {
    fail(
      'postgres.recovery',
      'needs both sourceClusterName and targetTime',
      postgres.recovery,
      'e.g. `pulumi config set --path postgres.recovery.targetTime 2026-11-20T08:00:00Z`',
    );
  }
  const secretName = (key: string, value: unknown): void => {
    if (typeof value === 'string' && !isDnsSubdomain(value)) {
      fail(key, 'is not a Secret name', value, 'use lowercase letters, digits, "-" and "." (the name of an existing Secret)');
    }
  };
  secretName('postgres.backup.secretName', postgres?.backup?.secretName);
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
  const redis =
    redisValue !== undefined && checkShape('redis', redisValue, CONFIG_SCHEMAS.keys.redis, fail) ? (redisValue as RedisConfig) : undefined;
  secretName('redis.secretName', redis?.secretName);
  if (redis?.mode !== undefined && redis.mode !== 'sentinel' && redis.mode !== 'cluster') {
    fail('redis.mode', 'must be sentinel or cluster', redis.mode, '`sentinel` (1 master + replicas with failover) or `cluster` (sharded)');
  }

  const operatorsValue = json('operators');
  const operators: OperatorsConfig =
    operatorsValue !== undefined && checkShape('operators', operatorsValue, CONFIG_SCHEMAS.keys.operators, fail)
      ? { install: (operatorsValue as Partial<OperatorsConfig>).install ?? false }
      : { install: false };
  if (operators.install && postgres === undefined && redis === undefined) {
    fail(
      'operators.install',
      'has nothing to install: the stack has neither postgres nor redis',
      true,
      'set `operators.install` to false, or configure `postgres` or `redis`',
    );
  }

  const preflight = parsePreflight(json('preflight'), fail);

  const monitoringValue = json('monitoring');
  const monitoring =
    monitoringValue !== undefined && checkShape('monitoring', monitoringValue, CONFIG_SCHEMAS.keys.monitoring, fail)
      ? (monitoringValue as MonitoringConfig)
      : {};

  for (const field of ['labels', 'dashboardLabels'] as const) {
    const labels = monitoring[field];
    for (const [name, value] of Object.entries(typeof labels === 'object' && labels !== null ? labels : {})) {
      if (!isLabelKey(name)) {
        fail(`monitoring.${field}`, `"${name}" is not a label key`, name, 'use a Kubernetes label key, e.g. `release` or `grafana_dashboard`');
      } else if (!isLabelValue(String(value))) {
        fail(`monitoring.${field}.${name}`, 'is not a label value', value, 'use at most 63 letters, digits, "-", "_" or "."');
      } else if (CONSTRUCT_LABELS.includes(name)) {
        fail(
          `monitoring.${field}["${name}"]`,
          'is a label cutover sets on every object itself',
          value,
          'use a label of your own, e.g. `release` or `grafana_dashboard`',
        );
      }
    }
  }
  const dashboardLabels = monitoring.dashboardLabels;
  if (typeof dashboardLabels === 'object' && dashboardLabels !== null && Object.keys(dashboardLabels).length === 0) {
    fail(
      'monitoring.dashboardLabels',
      'is empty: the Grafana sidecar finds dashboards by label',
      dashboardLabels,
      'set the label it watches, e.g. `pulumi config set --path monitoring.dashboardLabels.grafana_dashboard 1`, or remove the key',
    );
  }
  const runbookBaseUrl = monitoring.runbookBaseUrl;
  if (typeof runbookBaseUrl === 'string' && (runbookBaseUrl === '' || /[#\s]/.test(runbookBaseUrl))) {
    fail(
      'monitoring.runbookBaseUrl',
      'must be a URL or repository path without "#" or spaces',
      runbookBaseUrl,
      'e.g. `docs/runbook.md` or `https://git.example.com/acme/cutover/blob/main/docs/runbook.md`',
    );
  }
  const pool = monitoring.databasePool;
  if (pool !== undefined && typeof pool === 'object') {
    for (const field of ['inUse', 'max'] as const) {
      if (pool[field] === undefined) {
        fail(
          `monitoring.databasePool.${field}`,
          'is required: the pool alert divides connections in use by the pool size',
          undefined,
          `name the app's gauge, e.g. \`pulumi config set --path monitoring.databasePool.${field} ` +
            `${field === 'inUse' ? 'db_client_connections_usage' : 'db_client_connections_max'}\``,
        );
      }
    }
  }
  const alerting = parseAlerting(monitoring.alerting, production, fail);

  const gateValue = json('gate');
  const gate = gateValue !== undefined && checkShape('gate', gateValue, CONFIG_SCHEMAS.keys.gate, fail) ? (gateValue as GateConfig) : {};
  (gate.checks ?? []).forEach((check, index) => checkShape(`gate.checks[${index}]`, check, CONFIG_SCHEMAS.listItems['gate.checks'], fail));
  const deployTimeoutSeconds = int('deployTimeoutSeconds', CONFIG_DEFAULTS.deployTimeoutSeconds);
  if (gate.timeoutSeconds !== undefined && Number.isInteger(gate.timeoutSeconds) && gate.timeoutSeconds >= deployTimeoutSeconds) {
    fail(
      'gate.timeoutSeconds',
      `must be shorter than deployTimeoutSeconds (${deployTimeoutSeconds}), so the gate reports its own failure`,
      gate.timeoutSeconds,
      'lower it, or raise deployTimeoutSeconds',
    );
  }
  // Each Job gives one request this long (the constructs' requestTimeoutSeconds): its deadline must leave room for it.
  checkValue('gate.timeoutSeconds', gate.timeoutSeconds, gateSchema.shape.timeoutSeconds, fail);
  if (gate.metrics !== undefined) {
    checkValue('gate.metrics.timeoutSeconds', gate.metrics.timeoutSeconds, metricGateSchema.shape.timeoutSeconds, fail);
  }
  const metrics = gate.metrics;
  if (metrics !== undefined) {
    if (metrics.prometheusUrl === undefined) {
      fail(
        'gate.metrics.prometheusUrl',
        'is required',
        undefined,
        "Prometheus' HTTP API in the cluster, e.g. `pulumi config set --path gate.metrics.prometheusUrl " +
          'http://prometheus-operated.monitoring.svc:9090`',
      );
    }
    if (metrics.timeoutSeconds !== undefined && Number.isInteger(metrics.timeoutSeconds) && metrics.timeoutSeconds >= deployTimeoutSeconds) {
      fail(
        'gate.metrics.timeoutSeconds',
        `must be shorter than deployTimeoutSeconds (${deployTimeoutSeconds}), so the gate reports its own failure`,
        metrics.timeoutSeconds,
        'lower it, or raise deployTimeoutSeconds',
      );
    }
    checkValue('gate.metrics.prometheusPort', metrics.prometheusPort, metricGateSchema.shape.prometheusPort, fail);
    if (gate.enabled === false) {
      fail('gate.metrics', 'is set while gate.enabled is false', metrics, 'remove gate.metrics, or enable the gate');
    }
  }
  const migrationsValue = json('migrations');
  const migrations =
    migrationsValue !== undefined && checkShape('migrations', migrationsValue, CONFIG_SCHEMAS.keys.migrations, fail)
      ? (migrationsValue as MigrationsConfig)
      : {};
  for (const phase of ['expand', 'contract'] as const) {
    const step = migrations[phase];
    if (step !== undefined && (step.image === undefined || step.command === undefined)) {
      fail(
        `migrations.${phase}`,
        'needs both image and command',
        step,
        `e.g. \`pulumi config set --path migrations.${phase}.image registry.example.com/acme/web-migrate:1.5.0\` and ` +
          `\`--path "migrations.${phase}.command[0]" migrate\``,
      );
    }
    if (step !== undefined && postgres === undefined) {
      fail(`migrations.${phase}`, 'needs a database to migrate: the stack has no postgres', step, 'configure `postgres`, or remove `migrations`');
    }
  }
  const routing = parseRouting(json('routing'), { app, namespace, values }, fail);
  const trafficWeight = int('trafficWeight', CONFIG_DEFAULTS.trafficWeight);
  const idleReplicas = values.has('idleReplicas') ? int('idleReplicas', 0, maxReplicas) : undefined;
  if (idleReplicas !== undefined && idleReplicas > 0 && idleReplicas <= maxUnavailable) {
    fail(
      'idleReplicas',
      `the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once and would leave none of the idle color running`,
      idleReplicas,
      `use 0 (retire the idle color) or at least ${maxUnavailable + 1}`,
    );
  }
  if (idleReplicas !== undefined && trafficWeight > 0) {
    fail(
      'idleReplicas',
      `is set while trafficWeight (${trafficWeight}) sends requests to the idle color`,
      idleReplicas,
      'finish or abort the weighted shift (trafficWeight 0) before shrinking the idle color',
    );
  }
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
  for (const service of services) {
    const prefix = services.find((other) => other !== service && service.name.startsWith(`${other.name}-`));
    if (prefix !== undefined) {
      fail(
        `services.${service.name}`,
        `starts with the name of services.${prefix.name} and "-", so its objects could take that service's names`,
        service.name,
        "choose a name that does not start with another app's name",
      );
    }
  }
  const hosts = new Map<string, string>([[main.host, 'host']]);
  for (const service of services) {
    const owner = hosts.get(service.host);
    if (owner !== undefined && service.host !== '') {
      fail(
        `services.${service.name}.host`,
        `is already the host of ${owner === 'host' ? `the main app (${app})` : owner}`,
        service.host,
        'give every app a host of its own, e.g. `api.example.com`',
      );
    }
    hosts.set(service.host, `services.${service.name}`);
  }
  // cert-manager writes each app's certificate into its TLS Secret: two apps sharing one would overwrite each other's.
  const tlsOwners = new Map<string, string>([[main.tlsSecretName, 'the main app']]);
  for (const service of services) {
    const owner = tlsOwners.get(service.tlsSecretName);
    if (owner !== undefined) {
      fail(
        `services.${service.name}.tlsSecretName`,
        `is already the TLS Secret of ${owner}; cert-manager would write both certificates into it`,
        service.tlsSecretName,
        `give it its own, e.g. \`${service.name}-tls\` (the default)`,
      );
    }
    tlsOwners.set(service.tlsSecretName, `services.${service.name}`);
  }

  const schedulingValue = json('scheduling');
  let scheduling: PodScheduling = {};
  if (schedulingValue !== undefined && checkShape('scheduling', schedulingValue, CONFIG_SCHEMAS.keys.scheduling, fail)) {
    const tolerations = (schedulingValue as { tolerations?: unknown[] }).tolerations ?? [];
    if (
      tolerations.every((toleration, index) =>
        checkShape(`scheduling.tolerations[${index}]`, toleration, CONFIG_SCHEMAS.listItems['scheduling.tolerations'], fail),
      )
    ) {
      scheduling = schedulingValue as PodScheduling;
      for (const message of schedulingProblems('scheduling', scheduling)) {
        problems.push({ key: message.slice(0, message.indexOf(':')), message });
      }
    }
  }

  const networkValue = json('network');
  const network =
    networkValue !== undefined && checkShape('network', networkValue, CONFIG_SCHEMAS.keys.network, fail) ? (networkValue as NetworkConfig) : {};
  const networkFields = typeof networkValue === 'object' && networkValue !== null ? (networkValue as Record<string, unknown>) : {};
  for (const field of ['ingressNamespace', 'gatewayNamespace', 'monitoringNamespace', 'cnpgNamespace', 'redisOperatorNamespace'] as const) {
    const value = networkFields[field];
    if (typeof value === 'string' && !isDnsLabel(value)) {
      fail(`network.${field}`, 'is not a namespace name', value, 'use lowercase letters, digits and "-", at most 63 characters');
    }
  }

  if (routing.router === 'gateway' && routing.gateway !== undefined) {
    const proxies = gatewayProxyNamespace(routing, network, namespace);
    if (proxies === namespace && network.gatewayPodLabels === undefined) {
      fail(
        'network.gatewayPodLabels',
        `is required when the Gateway's proxies run in the stack's own namespace (${namespace}): without labels the app would admit every pod of it`,
        undefined,
        'give the labels of the proxy pods (`pulumi config set --path ' +
          '\'network.gatewayPodLabels["app.kubernetes.io/name"]\' envoy`), or the namespace they run in ' +
          '(`pulumi config set --path network.gatewayNamespace envoy-gateway-system`)',
      );
    }
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
    clusterIssuer: objectName('clusterIssuer', CONFIG_DEFAULTS.clusterIssuer, 'a cert-manager ClusterIssuer', 'letsencrypt-prod'),
    ingressClassName: objectName('ingressClassName', CONFIG_DEFAULTS.ingressClassName, 'an IngressClass', 'nginx'),
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
