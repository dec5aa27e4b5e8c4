import { isIP } from 'node:net';
import { PREFLIGHT_CHECKS, PreflightCheck, PreflightConfig } from './preflight';
import { Color, ColorSpec, ImageRef, PodScheduling, ROUTERS, Router, isColor, isDnsLabel, isDnsName, isDnsSubdomain, httpPathProblem, isLabelKey, isLabelValue, otherColor, schedulingProblems } from '../lib';

/** The project's config namespace: every key is `cutover:<name>` in `Pulumi.<stack>.yaml`. */
export const CONFIG_NAMESPACE = 'cutover';

/** Requests and limits, as in the `resources` config object. */
export interface ResourcesConfig {
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
  readonly ephemeralStorageRequest: string;
  readonly ephemeralStorageLimit: string;
}

/** The `postgres` config object: a PostgresHA for the app (see lib/data/postgres-ha.ts for defaults). */
export interface PostgresConfig {
  readonly instances?: number;
  readonly imageName?: string;
  readonly storageSize?: string;
  readonly storageClass?: string;
  readonly pooler?: boolean;
  readonly backup?: {
    readonly enabled?: boolean;
    readonly destinationPath?: string;
    readonly endpointURL?: string;
    readonly secretName?: string;
    readonly retentionPolicy?: string;
  };
  readonly recovery?: { readonly sourceClusterName: string; readonly targetTime: string };
}

/** The `redis` config object: a RedisCluster for the app (see lib/data/redis-cluster.ts for defaults). */
export interface RedisConfig {
  readonly mode?: 'sentinel' | 'cluster';
  readonly replicas?: number;
  readonly sentinels?: number;
  readonly shards?: number;
  readonly storageSize?: string;
  readonly storageClass?: string;
  readonly secretName?: string;
}

/** The `network` config object: the NetworkPolicySet's view of the cluster (see lib/network/network-policy-set.ts for defaults). */
export interface NetworkConfig {
  readonly ingressNamespace?: string;
  /** Where the Gateway's proxies run. @default routing.gateway.namespace */
  readonly gatewayNamespace?: string;
  /** Labels of the Gateway's proxies. @default {} (every pod of gatewayNamespace); required when that is the stack's namespace */
  readonly gatewayPodLabels?: Readonly<Record<string, string>>;
  readonly monitoringNamespace?: string;
  readonly cnpgNamespace?: string;
  readonly redisOperatorNamespace?: string;
  readonly podCidrs?: readonly string[];
  readonly serviceCidrs?: readonly string[];
  readonly apiServer?: { readonly cidrs?: readonly string[] };
  readonly externalCidrs?: readonly string[];
  /** Let the app open HTTPS (443) connections outside the cluster. @default true */
  readonly internetEgress?: boolean;
}

/** A key of a Secret in the stack's namespace, as the `monitoring.alerting` receivers name it. */
export interface SecretRefConfig {
  readonly name?: string;
  readonly key?: string;
}

/** The `monitoring.alerting` object as written: alert routing by severity (see lib/observability/alert-routing.ts). */
export interface AlertingConfig {
  /** Render the AlertmanagerConfig. @default production */
  readonly enabled?: boolean;
  readonly groupWait?: string;
  readonly groupInterval?: string;
  /** The PagerDuty receiver of critical alerts. @default on, Secret `alertmanager-pagerduty` key `routingKey` */
  readonly pager?: { readonly enabled?: boolean; readonly secret?: SecretRefConfig; readonly repeatInterval?: string };
  /** The Slack receiver of high and warning alerts. @default on, Secret `alertmanager-slack` key `webhookURL` */
  readonly chat?: { readonly enabled?: boolean; readonly secret?: SecretRefConfig; readonly channel?: string; readonly repeatInterval?: string };
}

/** `monitoring.alerting` resolved: only the receivers that are on, each with its Secret key. */
export interface AlertRoutingConfig {
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly pager?: { readonly secret: { readonly name: string; readonly key: string }; readonly repeatInterval?: string };
  readonly chat?: { readonly secret: { readonly name: string; readonly key: string }; readonly channel?: string; readonly repeatInterval?: string };
}

/** The `monitoring` config object: MonitoringStack and the data tier's monitors (see lib/observability/monitoring-stack.ts). */
export interface MonitoringConfig {
  /** Labels Prometheus selects ServiceMonitors, PodMonitors and PrometheusRules by. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  readonly runbookBaseUrl?: string;
  readonly errorRateThreshold?: number;
  readonly p95LatencySeconds?: number;
  readonly availabilityObjective?: number;
  readonly latencyObjective?: { readonly thresholdSeconds: number; readonly objective: number };
  readonly databasePool?: { readonly inUse: string; readonly max: string; readonly threshold?: number };
  readonly dashboardLabels?: Readonly<Record<string, string>>;
  readonly alerting?: AlertingConfig;
}

/** One HTTP check of the cutover gate's smoke test. */
export interface GateCheckConfig {
  readonly path: string;
  readonly expectStatus?: number;
  readonly contains?: string;
}

/** The `gate` config object: what must hold before traffic moves to a color (see lib/gates/cutover-gate.ts). */
export interface GateConfig {
  /** @default true */
  readonly enabled?: boolean;
  readonly image?: string;
  /** Checks besides the readiness and liveness paths. */
  readonly checks?: readonly GateCheckConfig[];
  readonly timeoutSeconds?: number;
  /** A metric gate per app (lib/gates/metric-gate.ts); absent: none. */
  readonly metrics?: MetricGateConfig;
}

/** The `gate.metrics` object: judge the color about to go live by its Prometheus metrics. */
export interface MetricGateConfig {
  /** Prometheus' HTTP API inside the cluster, e.g. `http://prometheus-operated.monitoring.svc:9090`. */
  readonly prometheusUrl: string;
  readonly maxErrorRatio?: number;
  readonly maxP95LatencySeconds?: number;
  readonly window?: string;
  readonly minRequests?: number;
  readonly timeoutSeconds?: number;
  /** The Prometheus pods' port, for the NetworkPolicy. @default 9090 */
  readonly prometheusPort?: number;
}

/** A migration step: a Job running `command` in `image` with the app's database connection. */
export interface MigrationStepConfig {
  readonly image: string;
  readonly command: readonly string[];
}

/** The `migrations` config object. */
export interface MigrationsConfig {
  /** Runs (once per distinct image and command) before traffic moves; must succeed. */
  readonly expand?: MigrationStepConfig;
  /**
   * Runs once the old color is retired, in an update that does not switch colors (checked against the stack's
   * previous update, see stacks/transition.ts).
   */
  readonly contract?: MigrationStepConfig;
}

/** The `routing.gateway` config object: the Gateway the HTTPRoutes attach to (docs/routing.md). */
export interface GatewayConfig {
  /** @default the stack's `app`, with `create`; required otherwise */
  readonly name: string;
  readonly namespace?: string;
  /** The HTTPS listener. @default 'https' (`https-<app>` on a Gateway the stack creates) */
  readonly sectionName?: string;
  /** The HTTP listener the redirect attaches to. @default 'http' */
  readonly httpSectionName?: string;
  /** @default true */
  readonly httpsRedirect?: boolean;
  /** The stack owns the Gateway: cutover renders it in the stack's namespace (lib/app/routing/edge-gateway.ts). */
  readonly create?: { readonly className: string };
}

/** The `routing` config object: how outside traffic reaches the Services. */
export interface RoutingConfig {
  /** `gateway` (an HTTPRoute on a Gateway, the default) or `ingress` (an Ingress). */
  readonly router: Router;
  /** Required with the gateway router. */
  readonly gateway?: GatewayConfig;
  /** With the gateway router, keep the Ingress beside the HTTPRoute while DNS moves (a migration's middle step). @default false */
  readonly keepIngress?: boolean;
  /** The HTTPRoute's request timeout. @default 60 */
  readonly requestTimeoutSeconds?: number;
}

/** The `operators` config object: whether this stack installs the data tier's operators. */
export interface OperatorsConfig {
  /**
   * Install CloudNativePG (+ Barman Cloud plugin) and the redis-operator at the versions pinned in
   * stacks/operators.ts, before any custom resource. Operators are cluster-wide: set it on one stack per
   * cluster; every other stack runs with the operators already installed.
   * @default false
   */
  readonly install: boolean;
}

/**
 * One app of the stack as the platform composes it: the main app (top-level keys) or one of `services`. Every app
 * of a stack switches with the same `activeColor` and shifts with the same `trafficWeight`.
 */
export interface AppConfig {
  readonly name: string;
  readonly host: string;
  readonly blue: ColorSpec;
  readonly green: ColorSpec;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly port: number;
  readonly metricsPort: number;
  readonly readinessPath: string;
  readonly livenessPath: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly secretNames: readonly string[];
  readonly tlsSecretName: string;
  /** The app's smoke test: the stack's `gate.image` and `gate.checks` unless the service sets its own. */
  readonly gate: { readonly image?: string; readonly checks?: readonly GateCheckConfig[] };
  /** Whether the app gets the stack's PostgreSQL and Redis (DATABASE_URL, REDIS_URL, network access). */
  readonly backends: boolean;
}

/** A `services.<name>` entry as written: what differs from the main app (see {@link AppConfig}). */
export interface ServiceEntryConfig {
  readonly host: string;
  readonly blue?: unknown;
  readonly green?: unknown;
  readonly port?: number;
  readonly metricsPort?: number;
  readonly readinessPath?: string;
  readonly livenessPath?: string;
  readonly replicas?: number;
  readonly maxReplicas?: number;
  readonly settings?: Readonly<Record<string, string>>;
  readonly secretNames?: readonly string[];
  readonly tlsSecretName?: string;
  readonly gate?: { readonly image?: string; readonly checks?: readonly GateCheckConfig[] };
  /** @default true */
  readonly backends?: boolean;
}

/** A stack's configuration after parsing and validation: every default resolved. */
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

/** One bad config value. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** Thrown when a stack's config is wrong; lists every problem, each as `<key>: <problem>, got <value>; <fix>`. */
export class ConfigError extends Error {
  public constructor(
    public readonly stack: string,
    public readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `stack "${stack}" has ${problems.length === 1 ? 'a config error' : `${problems.length} config errors`} ` +
        `(nothing was applied):\n${problems.map((p) => `  - ${CONFIG_NAMESPACE}:${p.message}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/**
 * The defaults of every optional key: the single source that `Pulumi.yaml`'s config schema must agree with
 * (a test checks it). `app`-dependent defaults (`namespace`, `tlsSecretName`) are computed.
 */
export const CONFIG_DEFAULTS = {
  production: true,
  app: 'web',
  replicas: 3,
  maxReplicas: 10,
  maxUnavailable: 1,
  targetCpuUtilization: 70,
  targetMemoryUtilization: 80,
  port: 8080,
  metricsPort: 9090,
  readinessPath: '/ready',
  livenessPath: '/health',
  resources: { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi', ephemeralStorageRequest: '256Mi', ephemeralStorageLimit: '1Gi' },
  settings: { NODE_ENV: 'production', LOG_LEVEL: 'info' },
  secretNames: [] as string[],
  clusterIssuer: 'letsencrypt-prod',
  ingressClassName: 'nginx',
  rateLimitRps: 20,
  drainSeconds: 10,
  shutdownSeconds: 20,
  deployTimeoutSeconds: 600,
  trafficWeight: 0,
  podSecurityVersion: 'v1.30',
} as const;

/**
 * Scalar keys with a program default that Pulumi.yaml does not declare: Pulumi passes a declared default to the
 * program as if the stack set it, and these are refused when set with the gateway router (they configure an Ingress).
 */
export const UNDECLARED_DEFAULT_KEYS: readonly (keyof typeof CONFIG_DEFAULTS)[] = ['ingressClassName', 'rateLimitRps'];

/** Every key the project reads; anything else under `cutover:` is a typo. */
export const CONFIG_KEYS = [
  'activeColor',
  'host',
  'blue',
  'green',
  'namespace',
  'tlsSecretName',
  'postgres',
  'redis',
  'operators',
  'preflight',
  'network',
  'monitoring',
  'gate',
  'migrations',
  'routing',
  'services',
  'idleReplicas',
  'scheduling',
  ...Object.keys(CONFIG_DEFAULTS),
] as const;

/** Namespaces the cluster owns; a stack never takes one over. */
const SYSTEM_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The largest replica count the API server accepts (an int32 field). */
const MAX_INT32 = 2_147_483_647;

/** The keys a ConfigMap may have (the API server's rule). */
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

/** Keys people reach for that the project deliberately does not have, with what to use instead. */
const RENAMED_KEYS: Readonly<Record<string, string>> = {
  image: 'images are per color: `pulumi config set --path blue.image <image:tag>`',
  blueImage: 'use `pulumi config set --path blue.image <image:tag>`',
  greenImage: 'use `pulumi config set --path green.image <image:tag>`',
};

const COLOR_KEYS = ['image', 'replicas', 'env'];

/** The shape of a structured config value: each field's type, or a nested shape. */
type Shape = { readonly [field: string]: 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'map' | 'list' | Shape };

const POSTGRES_SHAPE: Shape = {
  instances: 'integer',
  imageName: 'string',
  storageSize: 'string',
  storageClass: 'string',
  pooler: 'boolean',
  backup: { enabled: 'boolean', destinationPath: 'string', endpointURL: 'string', secretName: 'string', retentionPolicy: 'string' },
  recovery: { sourceClusterName: 'string', targetTime: 'string' },
};

const REDIS_SHAPE: Shape = {
  mode: 'string',
  replicas: 'integer',
  sentinels: 'integer',
  shards: 'integer',
  storageSize: 'string',
  storageClass: 'string',
  secretName: 'string',
};

const OPERATORS_SHAPE: Shape = { install: 'boolean' };
const PREFLIGHT_SHAPE: Shape = { enabled: 'boolean', skip: 'string[]' };

const MONITORING_SHAPE: Shape = {
  labels: 'map',
  runbookBaseUrl: 'string',
  errorRateThreshold: 'number',
  p95LatencySeconds: 'number',
  availabilityObjective: 'number',
  latencyObjective: { thresholdSeconds: 'number', objective: 'number' },
  databasePool: { inUse: 'string', max: 'string', threshold: 'number' },
  dashboardLabels: 'map',
  alerting: {
    enabled: 'boolean',
    groupWait: 'string',
    groupInterval: 'string',
    pager: { enabled: 'boolean', secret: { name: 'string', key: 'string' }, repeatInterval: 'string' },
    chat: { enabled: 'boolean', secret: { name: 'string', key: 'string' }, channel: 'string', repeatInterval: 'string' },
  },
};

/** The Secrets the `monitoring.alerting` receivers read their credentials from unless the stack names others. */
export const ALERTING_DEFAULTS = {
  pager: { secret: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
  chat: { secret: { name: 'alertmanager-slack', key: 'webhookURL' } },
} as const;

const GATE_SHAPE: Shape = {
  enabled: 'boolean',
  image: 'string',
  checks: 'list',
  timeoutSeconds: 'integer',
  metrics: {
    prometheusUrl: 'string',
    maxErrorRatio: 'number',
    maxP95LatencySeconds: 'number',
    window: 'string',
    minRequests: 'integer',
    timeoutSeconds: 'integer',
    prometheusPort: 'integer',
  },
};
const GATE_CHECK_SHAPE: Shape = { path: 'string', expectStatus: 'integer', contains: 'string' };
const MIGRATIONS_SHAPE: Shape = { expand: { image: 'string', command: 'string[]' }, contract: { image: 'string', command: 'string[]' } };
/** A `services.<name>` entry, without `blue` and `green` (checked like the main app's). */
const SERVICE_SHAPE: Shape = {
  host: 'string',
  port: 'integer',
  metricsPort: 'integer',
  readinessPath: 'string',
  livenessPath: 'string',
  replicas: 'integer',
  maxReplicas: 'integer',
  settings: 'map',
  secretNames: 'string[]',
  tlsSecretName: 'string',
  gate: { image: 'string', checks: 'list' },
  backends: 'boolean',
};
const SCHEDULING_SHAPE: Shape = { nodeSelector: 'map', tolerations: 'list', podAntiAffinity: 'string' };
const TOLERATION_SHAPE: Shape = { key: 'string', operator: 'string', value: 'string', effect: 'string' };
const ROUTING_SHAPE: Shape = {
  router: 'string',
  gateway: { name: 'string', namespace: 'string', sectionName: 'string', httpSectionName: 'string', httpsRedirect: 'boolean', create: { className: 'string' } },
  keepIngress: 'boolean',
  requestTimeoutSeconds: 'integer',
};

const NETWORK_SHAPE: Shape = {
  ingressNamespace: 'string',
  gatewayNamespace: 'string',
  gatewayPodLabels: 'map',
  monitoringNamespace: 'string',
  cnpgNamespace: 'string',
  redisOperatorNamespace: 'string',
  podCidrs: 'string[]',
  serviceCidrs: 'string[]',
  apiServer: { cidrs: 'string[]' },
  externalCidrs: 'string[]',
  internetEgress: 'boolean',
};

/** The type of one field of a structured key, or the fields of a nested object. */
export type { Shape as ConfigShape };

/**
 * The fields of every structured key as parse checks them, and of the items of its lists: what a config generator
 * walks (test/config-cases.ts) to try every field.
 */
export const CONFIG_SHAPES = {
  keys: {
    postgres: POSTGRES_SHAPE,
    redis: REDIS_SHAPE,
    operators: OPERATORS_SHAPE,
    preflight: PREFLIGHT_SHAPE,
    monitoring: MONITORING_SHAPE,
    gate: GATE_SHAPE,
    migrations: MIGRATIONS_SHAPE,
    routing: ROUTING_SHAPE,
    scheduling: SCHEDULING_SHAPE,
    network: NETWORK_SHAPE,
  },
  service: SERVICE_SHAPE,
  listItems: { 'gate.checks': GATE_CHECK_SHAPE, 'scheduling.tolerations': TOLERATION_SHAPE },
} as const;

/** The `preflight` value: `false` turns it off, `{ "skip": [check, ...] }` leaves checks out. */
function parsePreflight(value: unknown, fail: (key: string, problem: string, value: unknown, fix: string) => undefined): PreflightConfig {
  const on: PreflightConfig = { enabled: true, skip: [] };
  if (value === undefined) {
    return on;
  }
  if (typeof value === 'boolean') {
    return { enabled: value, skip: [] };
  }
  if (!checkShape('preflight', value, PREFLIGHT_SHAPE, fail)) {
    return on;
  }
  const { enabled, skip = [] } = value as { enabled?: boolean; skip?: string[] };
  skip.forEach((check, index) => {
    if (!(PREFLIGHT_CHECKS as readonly string[]).includes(check)) {
      fail(`preflight.skip[${index}]`, 'is not a preflight check', check, `use one of ${PREFLIGHT_CHECKS.join(', ')}${hintFor(check, PREFLIGHT_CHECKS)}`);
    }
  });
  return { enabled: enabled ?? true, skip: skip.filter((check): check is PreflightCheck => (PREFLIGHT_CHECKS as readonly string[]).includes(check)) };
}

/** Checks `value` against `shape`, reporting unknown fields (with a suggestion) and wrong types. */
function checkShape(key: string, value: unknown, shape: Shape, fail: (key: string, problem: string, value: unknown, fix: string) => undefined): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(key, 'must be an object', value, `set its fields with \`pulumi config set --path ${key}.<field> <value>\`; fields: ${Object.keys(shape).join(', ')}`);
    return false;
  }
  let ok = true;
  for (const [field, fieldValue] of Object.entries(value as Record<string, unknown>)) {
    const type = shape[field];
    const path = `${key}.${field}`;
    if (type === undefined) {
      fail(path, `is not a ${key} field`, fieldValue, `use one of ${Object.keys(shape).join(', ')}${hintFor(field, Object.keys(shape))}`);
      ok = false;
    } else if (typeof type === 'object') {
      ok = checkShape(path, fieldValue, type, fail) && ok;
    } else if (
      (type === 'string' && typeof fieldValue !== 'string') ||
      (type === 'boolean' && typeof fieldValue !== 'boolean') ||
      (type === 'integer' && !Number.isInteger(fieldValue)) ||
      (type === 'number' && (typeof fieldValue !== 'number' || !Number.isFinite(fieldValue))) ||
      (type === 'string[]' && !(Array.isArray(fieldValue) && fieldValue.every((item) => typeof item === 'string'))) ||
      (type === 'map' && stringMap(fieldValue) === undefined) ||
      (type === 'list' && !Array.isArray(fieldValue))
    ) {
      const expected = { integer: 'a whole number', 'string[]': 'a list of strings', map: 'a map of names to strings', list: 'a list' }[type as string] ?? `a ${type}`;
      const example = type === 'string[]' ? `\`pulumi config set --path '${path}[0]' <value>\`` : `\`pulumi config set --path ${path} <value>\``;
      fail(path, `must be ${expected}`, fieldValue, `e.g. ${example}`);
      ok = false;
    }
  }
  return ok;
}
const RESOURCE_KEYS = Object.keys(CONFIG_DEFAULTS.resources);

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
export function parseStackConfigWithProblems(raw: Readonly<Record<string, string>>, stack: string): { config: StackConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const fail = (key: string, problem: string, value: unknown, fix: string): undefined => {
    problems.push({ key, message: `${key}: ${problem}, got ${show(value)}; ${fix}` });
    return undefined;
  };

  const values = new Map<string, string>();
  for (const [fullKey, value] of Object.entries(raw)) {
    const [namespace, ...rest] = fullKey.split(':');
    if (namespace !== CONFIG_NAMESPACE && rest.length > 0 && editDistance(namespace, CONFIG_NAMESPACE) <= 2) {
      // Another namespace one or two edits away is a typo of ours: silently ignored, the value would never apply.
      fail(fullKey, `is in the config namespace "${namespace}", not "${CONFIG_NAMESPACE}"`, value, `did you mean \`${CONFIG_NAMESPACE}:${rest.join(':')}\`? (remove it with \`pulumi config rm ${fullKey}\`)`);
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
  const int = (key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const value = values.get(key);
    if (value === undefined) {
      return fallback;
    }
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      fail(key, `must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}`, value, `e.g. \`pulumi config set ${key} ${fallback}\``);
      return fallback;
    }
    return number;
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
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(app) || app.length > 50) {
    fail('app', 'must be a lowercase DNS label of at most 50 characters starting with a letter', app, 'e.g. `pulumi config set app web`');
  }
  const namespace = str('namespace', `${app}-${stack}`) as string;
  if (!isDnsLabel(namespace)) {
    fail('namespace', 'must be a lowercase DNS label of at most 63 characters', namespace, `e.g. \`pulumi config set namespace ${app}-${stack.toLowerCase().replace(/[^a-z0-9-]/g, '-')}\``);
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

  const replicas = int('replicas', CONFIG_DEFAULTS.replicas, 1, MAX_INT32);
  const maxReplicas = int('maxReplicas', CONFIG_DEFAULTS.maxReplicas, 1, MAX_INT32);
  const maxUnavailable = int('maxUnavailable', CONFIG_DEFAULTS.maxUnavailable, 1, MAX_INT32);
  if (maxReplicas < replicas) {
    fail('maxReplicas', `must be at least replicas (${replicas})`, maxReplicas, `raise maxReplicas or lower replicas`);
  }

  const colorRules: ColorRules = { activeColor, activeValid: activeValue !== undefined && isColor(activeValue), production, replicas, maxReplicas, maxUnavailable };
  const colors = parseColors('', { blue: json('blue'), green: json('green') }, colorRules, fail, problems);
  if (production && replicas < 3) {
    fail('replicas', 'production runs at least 3 replicas per color', replicas, 'set replicas to 3 or more; a non-production stack sets `production: false`');
  }

  const resourcesValue = json('resources');
  const resources: Record<string, string> = { ...CONFIG_DEFAULTS.resources };
  if (resourcesValue !== undefined) {
    const map = stringMap(resourcesValue);
    if (map === undefined) {
      fail('resources', 'must map cpuRequest, cpuLimit, memoryRequest and memoryLimit to quantities', resourcesValue, 'e.g. `pulumi config set --path resources.cpuLimit 1`');
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
      fail(`resources.${field}`, 'must be more than 0: the namespace quota and the scheduler need a real figure', resources[field], 'use millicores like `250m` or cores like `1`');
    }
  }
  for (const field of ['memoryRequest', 'memoryLimit', 'ephemeralStorageRequest', 'ephemeralStorageLimit']) {
    if (!/^\d+(Mi|Gi)$/.test(resources[field])) {
      fail(`resources.${field}`, 'is not a memory quantity in Mi or Gi', resources[field], 'use e.g. `256Mi` or `1Gi`');
    } else if (Number(resources[field].replace(/(Mi|Gi)$/, '')) === 0) {
      fail(`resources.${field}`, 'must be more than 0: the namespace quota and the scheduler need a real figure', resources[field], 'use e.g. `256Mi` or `1Gi`');
    }
  }

  const settingsValue = json('settings');
  let settings: Record<string, string> = { ...CONFIG_DEFAULTS.settings };
  if (settingsValue !== undefined) {
    const map = stringMap(settingsValue);
    if (map === undefined) {
      fail('settings', 'must map environment variable names to string values', settingsValue, 'e.g. `pulumi config set --path settings.LOG_LEVEL debug`');
    } else {
      settings = map;
      checkSettingsKeys('settings', map, fail);
    }
  }
  const secretValue = json('secretNames');
  let secretNames: string[] = [];
  if (secretValue !== undefined) {
    if (!Array.isArray(secretValue) || !secretValue.every((name) => typeof name === 'string' && isDnsSubdomain(name))) {
      fail('secretNames', 'must be a list of Secret names', secretValue, 'e.g. `pulumi config set --path "secretNames[0]" web-secrets`; put secret values in the Secret, never in config');
    } else {
      secretNames = secretValue as string[];
    }
  }

  const port = int('port', CONFIG_DEFAULTS.port, 1024, 65535);
  const metricsPort = int('metricsPort', CONFIG_DEFAULTS.metricsPort, 1024, 65535);
  if (port === metricsPort) {
    fail('metricsPort', 'must differ from port', metricsPort, 'serve metrics on a port of their own, e.g. 9090');
  }
  const readinessPath = str('readinessPath', CONFIG_DEFAULTS.readinessPath) as string;
  const livenessPath = str('livenessPath', CONFIG_DEFAULTS.livenessPath) as string;
  for (const [key, path] of [['readinessPath', readinessPath], ['livenessPath', livenessPath]] as const) {
    const wrong = httpPathProblem(path);
    if (wrong !== undefined) {
      fail(key, wrong.problem, path, wrong.fix);
    }
  }
  const podSecurityVersion = str('podSecurityVersion', CONFIG_DEFAULTS.podSecurityVersion) as string;
  if (!/^v1\.\d+$/.test(podSecurityVersion)) {
    fail('podSecurityVersion', 'must be a Kubernetes minor version', podSecurityVersion, 'e.g. `v1.30`');
  }
  const tlsSecretName = str('tlsSecretName', `${app}-tls`) as string;
  if (!isDnsSubdomain(tlsSecretName)) {
    fail('tlsSecretName', 'is not a Secret name', tlsSecretName, 'use lowercase letters, digits, "-" and "."');
  }

  const postgresValue = json('postgres');
  const postgres = postgresValue !== undefined && checkShape('postgres', postgresValue, POSTGRES_SHAPE, fail) ? (postgresValue as PostgresConfig) : undefined;
  if (postgres?.recovery !== undefined && (postgres.recovery.sourceClusterName === undefined || postgres.recovery.targetTime === undefined)) {
    fail('postgres.recovery', 'needs both sourceClusterName and targetTime', postgres.recovery, 'e.g. `pulumi config set --path postgres.recovery.targetTime 2026-11-20T08:00:00Z`');
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
        fail('postgres.imageName', 'production does not run `:latest`', postgres.imageName, 'pin a release tag or a digest, e.g. `ghcr.io/cloudnative-pg/timescaledb:16-2.17`');
      }
    } catch (error) {
      problems.push({ key: 'postgres.imageName', message: (error as Error).message });
    }
  }
  const redisValue = json('redis');
  const redis = redisValue !== undefined && checkShape('redis', redisValue, REDIS_SHAPE, fail) ? (redisValue as RedisConfig) : undefined;
  secretName('redis.secretName', redis?.secretName);
  if (redis?.mode !== undefined && redis.mode !== 'sentinel' && redis.mode !== 'cluster') {
    fail('redis.mode', 'must be sentinel or cluster', redis.mode, '`sentinel` (1 master + replicas with failover) or `cluster` (sharded)');
  }

  const operatorsValue = json('operators');
  const operators: OperatorsConfig =
    operatorsValue !== undefined && checkShape('operators', operatorsValue, OPERATORS_SHAPE, fail)
      ? { install: (operatorsValue as Partial<OperatorsConfig>).install ?? false }
      : { install: false };
  if (operators.install && postgres === undefined && redis === undefined) {
    fail('operators.install', 'has nothing to install: the stack has neither postgres nor redis', true, 'set `operators.install` to false, or configure `postgres` or `redis`');
  }

  const preflight = parsePreflight(json('preflight'), fail);

  const monitoringValue = json('monitoring');
  const monitoring =
    monitoringValue !== undefined && checkShape('monitoring', monitoringValue, MONITORING_SHAPE, fail) ? (monitoringValue as MonitoringConfig) : {};

  for (const field of ['labels', 'dashboardLabels'] as const) {
    const labels = monitoring[field];
    for (const [name, value] of Object.entries(typeof labels === 'object' && labels !== null ? labels : {})) {
      if (!isLabelKey(name)) {
        fail(`monitoring.${field}`, `"${name}" is not a label key`, name, 'use a Kubernetes label key, e.g. `release` or `grafana_dashboard`');
      } else if (!isLabelValue(String(value))) {
        fail(`monitoring.${field}.${name}`, 'is not a label value', value, 'use at most 63 letters, digits, "-", "_" or "."');
      }
    }
  }
  const pool = monitoring.databasePool;
  if (pool !== undefined && typeof pool === 'object') {
    for (const field of ['inUse', 'max'] as const) {
      if (pool[field] === undefined) {
        fail(`monitoring.databasePool.${field}`, 'is required: the pool alert divides connections in use by the pool size', undefined, `name the app's gauge, e.g. \`pulumi config set --path monitoring.databasePool.${field} ${field === 'inUse' ? 'db_client_connections_usage' : 'db_client_connections_max'}\``);
      }
    }
  }
  const alerting = parseAlerting(monitoring.alerting, production, fail);

  const gateValue = json('gate');
  const gate = gateValue !== undefined && checkShape('gate', gateValue, GATE_SHAPE, fail) ? (gateValue as GateConfig) : {};
  (gate.checks ?? []).forEach((check, index) => checkShape(`gate.checks[${index}]`, check, GATE_CHECK_SHAPE, fail));
  const deployTimeoutSeconds = int('deployTimeoutSeconds', CONFIG_DEFAULTS.deployTimeoutSeconds, 30, 3600);
  if (gate.timeoutSeconds !== undefined && Number.isInteger(gate.timeoutSeconds) && gate.timeoutSeconds >= deployTimeoutSeconds) {
    fail('gate.timeoutSeconds', `must be shorter than deployTimeoutSeconds (${deployTimeoutSeconds}), so the gate reports its own failure`, gate.timeoutSeconds, 'lower it, or raise deployTimeoutSeconds');
  }
  // Each Job gives one request this long (the constructs' requestTimeoutSeconds): its deadline must leave room for it.
  for (const [key, value, request] of [
    ['gate.timeoutSeconds', gate.timeoutSeconds, 5],
    ['gate.metrics.timeoutSeconds', gate.metrics?.timeoutSeconds, 10],
  ] as const) {
    if (Number.isInteger(value) && (value as number) <= request) {
      fail(key, `must be more than ${request} s, the time one of the Job's requests may take`, value, `e.g. 60`);
    }
  }
  const metrics = gate.metrics;
  if (metrics !== undefined) {
    if (metrics.prometheusUrl === undefined) {
      fail('gate.metrics.prometheusUrl', 'is required', undefined, 'Prometheus\' HTTP API in the cluster, e.g. `pulumi config set --path gate.metrics.prometheusUrl http://prometheus-operated.monitoring.svc:9090`');
    }
    if (metrics.timeoutSeconds !== undefined && Number.isInteger(metrics.timeoutSeconds) && metrics.timeoutSeconds >= deployTimeoutSeconds) {
      fail('gate.metrics.timeoutSeconds', `must be shorter than deployTimeoutSeconds (${deployTimeoutSeconds}), so the gate reports its own failure`, metrics.timeoutSeconds, 'lower it, or raise deployTimeoutSeconds');
    }
    if (metrics.prometheusPort !== undefined && (metrics.prometheusPort < 1 || metrics.prometheusPort > 65535)) {
      fail('gate.metrics.prometheusPort', 'must be a port from 1 to 65535', metrics.prometheusPort, 'the Prometheus pods\' port, e.g. 9090');
    }
    if (gate.enabled === false) {
      fail('gate.metrics', 'is set while gate.enabled is false', metrics, 'remove gate.metrics, or enable the gate');
    }
  }
  const migrationsValue = json('migrations');
  const migrations = migrationsValue !== undefined && checkShape('migrations', migrationsValue, MIGRATIONS_SHAPE, fail) ? (migrationsValue as MigrationsConfig) : {};
  for (const phase of ['expand', 'contract'] as const) {
    const step = migrations[phase];
    if (step !== undefined && (step.image === undefined || step.command === undefined)) {
      fail(`migrations.${phase}`, 'needs both image and command', step, `e.g. \`pulumi config set --path migrations.${phase}.image registry.example.com/acme/web-migrate:1.5.0\` and \`--path "migrations.${phase}.command[0]" migrate\``);
    }
    if (step !== undefined && postgres === undefined) {
      fail(`migrations.${phase}`, 'needs a database to migrate: the stack has no postgres', step, 'configure `postgres`, or remove `migrations`');
    }
  }
  const routing = parseRouting(json('routing'), { app, namespace, values }, fail);
  const trafficWeight = int('trafficWeight', CONFIG_DEFAULTS.trafficWeight, 0, 100);
  const idleReplicas = values.has('idleReplicas') ? int('idleReplicas', 0, 0, maxReplicas) : undefined;
  if (idleReplicas !== undefined && idleReplicas > 0 && idleReplicas <= maxUnavailable) {
    fail('idleReplicas', `the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once and would leave none of the idle color running`, idleReplicas, `use 0 (retire the idle color) or at least ${maxUnavailable + 1}`);
  }
  if (idleReplicas !== undefined && trafficWeight > 0) {
    fail('idleReplicas', `is set while trafficWeight (${trafficWeight}) sends requests to the idle color`, idleReplicas, 'finish or abort the weighted shift (trafficWeight 0) before shrinking the idle color');
  }
  const idle = colors[otherColor(activeColor)];
  if (trafficWeight > 0 && (idle.image === undefined || idle.replicas === 0)) {
    fail(
      'trafficWeight',
      `sends ${trafficWeight}% of requests to ${otherColor(activeColor)}, which is ${idle.image === undefined ? 'not deployed (no image)' : 'scaled to 0'}`,
      trafficWeight,
      `deploy ${otherColor(activeColor)} first (\`pulumi config set --path ${otherColor(activeColor)}.image <image:tag>\`, full size), \`pulumi up\`, then shift`,
    );
  }

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
      fail('services', 'must map service names to their settings', servicesValue, 'e.g. `pulumi config set --path services.api.host api.example.com` and `--path services.api.blue.image <image:tag>`');
    } else {
      for (const [name, entry] of Object.entries(servicesValue as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) {
        const parsed = parseService(name, entry, { main, production, activeColor, activeValid: colorRules.activeValid, maxUnavailable, trafficWeight }, fail, problems);
        if (parsed !== undefined) {
          services.push(parsed);
        }
      }
    }
  }
  for (const service of services) {
    const prefix = services.find((other) => other !== service && service.name.startsWith(`${other.name}-`));
    if (prefix !== undefined) {
      fail(`services.${service.name}`, `starts with the name of services.${prefix.name} and "-", so its objects could take that service's names`, service.name, 'choose a name that does not start with another app\'s name');
    }
  }
  const hosts = new Map<string, string>([[main.host, 'host']]);
  for (const service of services) {
    const owner = hosts.get(service.host);
    if (owner !== undefined && service.host !== '') {
      fail(`services.${service.name}.host`, `is already the host of ${owner === 'host' ? `the main app (${app})` : owner}`, service.host, 'give every app a host of its own, e.g. `api.example.com`');
    }
    hosts.set(service.host, `services.${service.name}`);
  }
  // cert-manager writes each app's certificate into its TLS Secret: two apps sharing one would overwrite each other's.
  const tlsOwners = new Map<string, string>([[main.tlsSecretName, 'the main app']]);
  for (const service of services) {
    const owner = tlsOwners.get(service.tlsSecretName);
    if (owner !== undefined) {
      fail(`services.${service.name}.tlsSecretName`, `is already the TLS Secret of ${owner}; cert-manager would write both certificates into it`, service.tlsSecretName, `give it its own, e.g. \`${service.name}-tls\` (the default)`);
    }
    tlsOwners.set(service.tlsSecretName, `services.${service.name}`);
  }

  const schedulingValue = json('scheduling');
  let scheduling: PodScheduling = {};
  if (schedulingValue !== undefined && checkShape('scheduling', schedulingValue, SCHEDULING_SHAPE, fail)) {
    const tolerations = (schedulingValue as { tolerations?: unknown[] }).tolerations ?? [];
    if (tolerations.every((toleration, index) => checkShape(`scheduling.tolerations[${index}]`, toleration, TOLERATION_SHAPE, fail))) {
      scheduling = schedulingValue as PodScheduling;
      for (const message of schedulingProblems('scheduling', scheduling)) {
        problems.push({ key: message.slice(0, message.indexOf(':')), message });
      }
    }
  }

  const networkValue = json('network');
  const network = networkValue !== undefined && checkShape('network', networkValue, NETWORK_SHAPE, fail) ? (networkValue as NetworkConfig) : {};
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
        'give the labels of the proxy pods (`pulumi config set --path \'network.gatewayPodLabels["app.kubernetes.io/name"]\' envoy`), or the namespace they run in ' +
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
    targetCpuUtilization: int('targetCpuUtilization', CONFIG_DEFAULTS.targetCpuUtilization, 1, 100),
    targetMemoryUtilization: int('targetMemoryUtilization', CONFIG_DEFAULTS.targetMemoryUtilization, 1, 100),
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
    rateLimitRps: int('rateLimitRps', CONFIG_DEFAULTS.rateLimitRps, 1),
    drainSeconds: int('drainSeconds', CONFIG_DEFAULTS.drainSeconds, 0, 300),
    shutdownSeconds: int('shutdownSeconds', CONFIG_DEFAULTS.shutdownSeconds, 1, 600),
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

/**
 * Where the Gateway's proxies run, which the app's NetworkPolicy admits: `network.gatewayNamespace`, else the
 * Gateway's namespace (the stack's own for a Gateway it creates or one without `namespace`). Undefined without the
 * gateway router.
 */
export function gatewayProxyNamespace(routing: RoutingConfig, network: NetworkConfig, stackNamespace: string): string | undefined {
  const gateway = routing.router === 'gateway' ? routing.gateway : undefined;
  if (gateway === undefined) {
    return undefined;
  }
  return network.gatewayNamespace ?? gateway.namespace ?? stackNamespace;
}

/**
 * The `routing` value. A stack must say how it routes: cutover's default router is Gateway API, and a stack deployed
 * before that default existed routes through an Ingress, so an absent `routing` is refused rather than read as either
 * (docs/routing.md: a stack that says nothing).
 */
function parseRouting(
  value: unknown,
  stack: { readonly app: string; readonly namespace: string; readonly values: ReadonlyMap<string, string> },
  fail: (key: string, problem: string, value: unknown, fix: string) => undefined,
): RoutingConfig {
  if (value === undefined) {
    fail(
      'routing',
      'is not set: the default router is now Gateway API (an HTTPRoute on a Gateway), and a stack deployed before routed through an Ingress',
      undefined,
      'name the Gateway: `pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`); ' +
        'a stack deployed with an Ingress keeps it with `pulumi config set --path routing.router ingress`, then migrates (docs/routing.md)',
    );
    return { router: 'gateway' };
  }
  if (!checkShape('routing', value, ROUTING_SHAPE, fail)) {
    return { router: 'gateway' };
  }
  const raw = value as { router?: string; gateway?: Partial<GatewayConfig>; keepIngress?: boolean; requestTimeoutSeconds?: number };
  const router = (raw.router ?? 'gateway') as Router;
  if (!ROUTERS.includes(router)) {
    fail('routing.router', `must be one of ${ROUTERS.join(', ')}`, router, '`gateway` for an HTTPRoute on a Gateway, `ingress` for an Ingress');
    return { router: 'gateway' };
  }
  const timeout = raw.requestTimeoutSeconds;
  if (timeout !== undefined && (timeout < 1 || timeout > 3600)) {
    fail('routing.requestTimeoutSeconds', 'must be from 1 to 3600', timeout, 'e.g. 60 (ingress-nginx\'s default read timeout)');
  }
  const rest = { ...(raw.keepIngress !== undefined ? { keepIngress: raw.keepIngress } : {}), ...(timeout !== undefined ? { requestTimeoutSeconds: timeout } : {}) };
  if (router === 'ingress') {
    if (raw.gateway !== undefined) {
      fail('routing.gateway', 'is only read by the gateway router, got it with routing.router ingress', raw.gateway, 'remove it, or set routing.router to gateway (docs/routing.md: migrating)');
    }
    if (raw.keepIngress !== undefined) {
      fail('routing.keepIngress', 'keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router ingress', raw.keepIngress, 'remove it');
    }
    if (timeout !== undefined) {
      fail('routing.requestTimeoutSeconds', "is the HTTPRoute's request timeout, got it with routing.router ingress", timeout, "remove it: the Ingress controller's timeouts apply");
    }
    return { router };
  }
  if (raw.keepIngress !== true && stack.values.has('rateLimitRps')) {
    fail(
      'rateLimitRps',
      'has no effect with the gateway router: Gateway API has no rate limit of its own, so it would be dropped without a word',
      stack.values.get('rateLimitRps'),
      "remove it (`pulumi config rm rateLimitRps`) and limit at the Gateway implementation (docs/routing.md: rate limiting, e.g. Envoy Gateway's BackendTrafficPolicy)",
    );
  }
  if (raw.keepIngress !== true && stack.values.has('ingressClassName')) {
    fail(
      'ingressClassName',
      'has no effect with the gateway router: no Ingress is rendered',
      stack.values.get('ingressClassName'),
      'remove it (`pulumi config rm ingressClassName`), or keep the Ingress with `pulumi config set --path routing.router ingress`',
    );
  }
  const gateway = raw.gateway;
  const create = gateway?.create;
  if (create !== undefined && create.className === undefined) {
    fail('routing.gateway.create.className', 'is required', undefined, 'the GatewayClass of the implementation that runs the Gateway (`kubectl get gatewayclass`), e.g. `pulumi config set --path routing.gateway.create.className eg`');
  }
  if (create !== undefined) {
    if (gateway?.namespace !== undefined && gateway.namespace !== stack.namespace) {
      fail('routing.gateway.namespace', `is not the stack's namespace (${stack.namespace}): a Gateway the stack creates lives in it`, gateway.namespace, 'remove routing.gateway.namespace');
    }
    for (const field of ['sectionName', 'httpSectionName'] as const) {
      if (gateway?.[field] !== undefined) {
        fail(`routing.gateway.${field}`, 'names a listener, and cutover names the listeners of a Gateway it creates (`http`, `https-<app>`)', gateway[field], `remove routing.gateway.${field}`);
      }
    }
  }
  const name = gateway?.name ?? (create !== undefined ? stack.app : undefined);
  if (name === undefined) {
    fail(
      'routing.gateway.name',
      'is required by the gateway router (the default)',
      undefined,
      'the Gateway the HTTPRoutes attach to: `pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`), ' +
        'or `routing.gateway.create.className` for a Gateway the stack owns, or keep an Ingress with `pulumi config set --path routing.router ingress`',
    );
    return { router, ...rest };
  }
  // A Gateway the stack creates is in the stack's namespace: the routes name no namespace for it.
  const { namespace: gatewayNamespace, ...fields } = gateway ?? {};
  const resolved = { ...fields, name, ...(create === undefined && gatewayNamespace !== undefined ? { namespace: gatewayNamespace } : {}) } as GatewayConfig;
  return { router, gateway: resolved, ...rest };
}

/** A host of an Ingress rule or HTTPRoute: a DNS name, never an IP address (the API server refuses one). */
function checkHost(key: string, host: string, example: string, fail: (key: string, problem: string, value: unknown, fix: string) => undefined): void {
  if (isIP(host) !== 0 || /^[0-9.]+$/.test(host)) {
    fail(key, 'is an IP address; Ingress and HTTPRoute hosts must be DNS names', host, `use the DNS name clients call, such as \`${example}\`, pointed at the load balancer`);
  } else if (!isDnsName(host)) {
    fail(key, 'is not a DNS name', host, `use a lowercase fully qualified name such as \`${example}\``);
  }
}

/** The keys of an app's settings, which become the keys of its ConfigMap. */
function checkSettingsKeys(key: string, settings: Readonly<Record<string, string>>, fail: (key: string, problem: string, value: unknown, fix: string) => undefined): void {
  for (const name of Object.keys(settings)) {
    if (!CONFIGMAP_KEY.test(name) || name.length > 253) {
      fail(`${key}.${name}`, 'is not a ConfigMap key (letters, digits, "-", "_" and "." only)', name, 'name it like an environment variable, e.g. `LOG_LEVEL`');
    }
  }
}

/** What the colors of an app are checked against: the stack's switch and sizes. */
interface ColorRules {
  readonly activeColor: Color;
  /** Whether `activeColor` was given and valid (otherwise that problem is already reported). */
  readonly activeValid: boolean;
  readonly production: boolean;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly maxUnavailable: number;
}

type Fail = (key: string, problem: string, value: unknown, fix: string) => undefined;

/**
 * The `blue` and `green` objects of an app (`prefix` is `''` for the stack's main app, `services.<name>.` for the
 * others): fields, image references, sizes, and what the live color needs.
 */
function parseColors(prefix: string, raw: Readonly<Record<Color, unknown>>, rules: ColorRules, fail: Fail, problems: ConfigProblem[]): Record<Color, ColorSpec> {
  const { activeColor, production, replicas, maxReplicas, maxUnavailable } = rules;
  const colors: Record<Color, ColorSpec> = { blue: {}, green: {} };
  for (const color of ['blue', 'green'] as const) {
    const value = raw[color];
    const key = `${prefix}${color}`;
    if (value === undefined) {
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(key, 'must be an object with image, replicas and env', value, `e.g. \`pulumi config set --path ${key}.image registry.example.com/acme/web:1.4.2\``);
      continue;
    }
    const fields = value as Record<string, unknown>;
    for (const field of Object.keys(fields)) {
      if (!COLOR_KEYS.includes(field)) {
        fail(`${key}.${field}`, 'is not a color field', fields[field], `use one of ${COLOR_KEYS.join(', ')}${hintFor(field, COLOR_KEYS)}`);
      }
    }
    const spec: { image?: string; replicas?: number; env?: Record<string, string> } = {};
    if (fields.image !== undefined) {
      if (typeof fields.image !== 'string') {
        fail(`${key}.image`, 'must be a string', fields.image, 'quote the image reference');
      } else {
        spec.image = fields.image;
      }
    }
    if (fields.replicas !== undefined) {
      const n = typeof fields.replicas === 'string' && /^\d+$/.test(fields.replicas) ? Number(fields.replicas) : fields.replicas;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
        fail(`${key}.replicas`, 'must be a whole number of at least 0', fields.replicas, `e.g. \`pulumi config set --path ${key}.replicas ${replicas}\``);
      } else {
        spec.replicas = n;
      }
    }
    if (fields.env !== undefined) {
      const env = stringMap(fields.env);
      if (env === undefined) {
        fail(`${key}.env`, 'must map names to string values', fields.env, `e.g. \`pulumi config set --path ${key}.env.FEATURE_X on\``);
      } else {
        spec.env = env;
      }
    }
    colors[color] = spec;
  }

  const live = colors[activeColor];
  const liveKey = `${prefix}${activeColor}`;
  if (rules.activeValid) {
    if (live.image === undefined) {
      fail(`${liveKey}.image`, 'the live color has no image', undefined, `set \`pulumi config set --path ${liveKey}.image <image:tag>\` before making ${activeColor} live`);
    }
    if (live.replicas === 0) {
      fail(
        `${liveKey}.replicas`,
        `cannot make a color scaled to 0 live (activeColor is ${activeColor})`,
        0,
        `scale it up first: \`pulumi config rm --path ${liveKey}.replicas\`, \`pulumi up\`, then cut over`,
      );
    }
    if (production && live.replicas !== undefined && live.replicas > 0 && live.replicas < 3) {
      fail(`${liveKey}.replicas`, 'production runs at least 3 replicas of the live color', live.replicas, `remove it or set it to 3 or more; a non-production stack sets \`production: false\``);
    }
  }
  for (const color of ['blue', 'green'] as const) {
    const spec = colors[color];
    const key = `${prefix}${color}`;
    if (spec.image !== undefined) {
      try {
        const image = ImageRef.parse(spec.image, `${key}.image`);
        if (production && image.isLatest) {
          fail(`${key}.image`, 'production does not run `:latest`', spec.image, 'pin a release tag or a digest, e.g. `:1.4.2` or `@sha256:…`');
        }
      } catch (error) {
        problems.push({ key: `${key}.image`, message: (error as Error).message });
      }
    }
    const size = spec.replicas ?? replicas;
    if (spec.image !== undefined && size > 0 && size <= maxUnavailable) {
      fail(
        `${key}.replicas`,
        `the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once and would leave none running`,
        size,
        `run at least ${maxUnavailable + 1} replicas${spec.replicas === undefined ? ' (replicas)' : ''} or lower maxUnavailable`,
      );
    }
    if (size > maxReplicas) {
      fail(`${key}.replicas`, `exceeds maxReplicas (${maxReplicas})`, size, 'lower it or raise maxReplicas');
    }
  }
  return colors;
}

/** What a `services` entry inherits from, and is checked against. */
interface ServiceContext {
  readonly main: AppConfig;
  readonly production: boolean;
  readonly activeColor: Color;
  readonly activeValid: boolean;
  readonly maxUnavailable: number;
  readonly trafficWeight: number;
}

/** One `services.<name>` entry: an app beside the main one, with the main app's values as defaults. */
function parseService(name: string, entry: unknown, context: ServiceContext, fail: Fail, problems: ConfigProblem[]): AppConfig | undefined {
  const key = `services.${name}`;
  const { main, production } = context;
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 50) {
    fail(key, 'needs a name that is a lowercase DNS label of at most 50 characters starting with a letter', name, 'e.g. `services.api`');
    return undefined;
  }
  if (name === main.name) {
    fail(key, `has the name of the main app (app: ${main.name})`, name, 'give the service another name, or rename the main app with `app`');
    return undefined;
  }
  if (name.startsWith(`${main.name}-`)) {
    // `<app>-gate-blue`, `<app>-db`, `<app>-preview`, ... are names the main app's objects use.
    fail(key, `starts with the main app's name and "-" (app: ${main.name}), so its objects could take the names of the main app's`, name, 'choose a name that does not start with it, e.g. `api`');
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    fail(key, 'must be an object', entry, `e.g. \`pulumi config set --path ${key}.host ${name}.example.com\``);
    return undefined;
  }
  const { blue, green, ...rest } = entry as Record<string, unknown>;
  if (!checkShape(key, rest, SERVICE_SHAPE, fail)) {
    return undefined;
  }
  const fields = rest as Omit<ServiceEntryConfig, 'blue' | 'green'>;
  if (fields.host === undefined) {
    fail(`${key}.host`, 'is required', undefined, `the DNS name the service answers on: \`pulumi config set --path ${key}.host ${name}.example.com\``);
  } else {
    checkHost(`${key}.host`, fields.host, `${name}.example.com`, fail);
  }
  if (fields.settings !== undefined) {
    checkSettingsKeys(`${key}.settings`, fields.settings, fail);
  }
  const replicas = fields.replicas ?? main.replicas;
  const maxReplicas = fields.maxReplicas ?? main.maxReplicas;
  if (replicas < 1) {
    fail(`${key}.replicas`, 'must be at least 1', replicas, `e.g. \`pulumi config set --path ${key}.replicas 3\``);
  } else if (production && replicas < 3) {
    fail(`${key}.replicas`, 'production runs at least 3 replicas per color', replicas, 'set it to 3 or more; a non-production stack sets `production: false`');
  }
  if (maxReplicas < replicas) {
    fail(`${key}.maxReplicas`, `must be at least replicas (${replicas})`, maxReplicas, 'raise maxReplicas or lower replicas');
  }
  const port = fields.port ?? main.port;
  const metricsPort = fields.metricsPort ?? main.metricsPort;
  for (const [field, value] of [['port', port], ['metricsPort', metricsPort]] as const) {
    if (value < 1024 || value > 65535) {
      fail(`${key}.${field}`, 'must be a whole number from 1024 to 65535', value, `e.g. \`pulumi config set --path ${key}.${field} ${main[field]}\``);
    }
  }
  if (port === metricsPort) {
    fail(`${key}.metricsPort`, 'must differ from port', metricsPort, 'serve metrics on a port of their own, e.g. 9090');
  }
  const readinessPath = fields.readinessPath ?? main.readinessPath;
  const livenessPath = fields.livenessPath ?? main.livenessPath;
  for (const [field, path] of [['readinessPath', readinessPath], ['livenessPath', livenessPath]] as const) {
    const wrong = httpPathProblem(path);
    if (wrong !== undefined) {
      fail(`${key}.${field}`, wrong.problem, path, wrong.fix);
    }
  }
  const secretNames = fields.secretNames ?? [];
  for (const secret of secretNames) {
    if (!isDnsSubdomain(secret)) {
      fail(`${key}.secretNames`, 'must be a list of Secret names', secretNames, `e.g. \`pulumi config set --path '${key}.secretNames[0]' ${name}-secrets\``);
      break;
    }
  }
  const tlsSecretName = fields.tlsSecretName ?? `${name}-tls`;
  if (!isDnsSubdomain(tlsSecretName)) {
    fail(`${key}.tlsSecretName`, 'is not a Secret name', tlsSecretName, 'use lowercase letters, digits, "-" and "."');
  }
  (fields.gate?.checks ?? []).forEach((check, index) => checkShape(`${key}.gate.checks[${index}]`, check, GATE_CHECK_SHAPE, fail));
  const colors = parseColors(
    `${key}.`,
    { blue, green },
    { activeColor: context.activeColor, activeValid: context.activeValid, production, replicas, maxReplicas, maxUnavailable: context.maxUnavailable },
    fail,
    problems,
  );
  const idleColor = otherColor(context.activeColor);
  const idle = colors[idleColor];
  if (context.trafficWeight > 0 && (idle.image === undefined || idle.replicas === 0)) {
    fail(
      'trafficWeight',
      `sends ${context.trafficWeight}% of ${name}'s requests to ${idleColor}, which is ${idle.image === undefined ? 'not deployed (no image)' : 'scaled to 0'}`,
      context.trafficWeight,
      `deploy ${idleColor} of ${name} first (\`pulumi config set --path ${key}.${idleColor}.image <image:tag>\`, full size), \`pulumi up\`, then shift`,
    );
  }
  return {
    name,
    host: fields.host ?? '',
    blue: colors.blue,
    green: colors.green,
    replicas,
    maxReplicas,
    port,
    metricsPort,
    readinessPath,
    livenessPath,
    settings: fields.settings ?? main.settings,
    secretNames,
    tlsSecretName,
    gate: { image: fields.gate?.image ?? main.gate.image, checks: fields.gate?.checks ?? main.gate.checks },
    backends: fields.backends ?? true,
  };
}

/** What each `monitoring.alerting` receiver's Secret holds, for the messages. */
const ALERTING_CREDENTIALS = { pager: 'PagerDuty routing key', chat: 'Slack webhook URL' } as const;

/**
 * `monitoring.alerting` with its defaults: on in production, both receivers on with the Secrets of
 * {@link ALERTING_DEFAULTS}. A receiver's credential is only ever a Secret reference, so naming a Secret without its
 * name or key is an error rather than a default.
 */
function parseAlerting(value: AlertingConfig | undefined, production: boolean, fail: Fail): AlertRoutingConfig | undefined {
  const alerting = typeof value === 'object' && value !== null ? value : {};
  if (!(alerting.enabled ?? production)) {
    return undefined;
  }
  const secretOf = (field: 'pager' | 'chat'): { name: string; key: string } | undefined => {
    const secret = alerting[field]?.secret ?? ALERTING_DEFAULTS[field].secret;
    let ok = true;
    for (const part of ['name', 'key'] as const) {
      const key = `monitoring.alerting.${field}.secret.${part}`;
      const given = secret[part];
      if (given === undefined || given === '') {
        fail(key, `is required: the ${ALERTING_CREDENTIALS[field]} is read from a Secret, never from config`, given, `e.g. \`pulumi config set --path ${key} ${ALERTING_DEFAULTS[field].secret[part]}\`, or turn the receiver off with \`pulumi config set --path monitoring.alerting.${field}.enabled false\``);
        ok = false;
      } else if (part === 'name' ? !isDnsSubdomain(given) : !CONFIGMAP_KEY.test(given) || given.length > 253) {
        fail(key, part === 'name' ? 'is not a Secret name' : 'is not a Secret key (letters, digits, "-", "_" and ".")', given, `e.g. \`pulumi config set --path ${key} ${ALERTING_DEFAULTS[field].secret[part]}\``);
        ok = false;
      }
    }
    return ok ? { name: secret.name as string, key: secret.key as string } : undefined;
  };
  const pager = alerting.pager?.enabled !== false ? secretOf('pager') : undefined;
  const chat = alerting.chat?.enabled !== false ? secretOf('chat') : undefined;
  if (alerting.pager?.enabled === false && alerting.chat?.enabled === false) {
    fail('monitoring.alerting', 'turns both receivers off, so no alert would notify anyone', value, 'turn one on, or alert routing off with `pulumi config set --path monitoring.alerting.enabled false`');
  }
  const { groupWait, groupInterval } = alerting;
  return {
    ...(groupWait !== undefined ? { groupWait } : {}),
    ...(groupInterval !== undefined ? { groupInterval } : {}),
    ...(pager !== undefined ? { pager: { secret: pager, ...(alerting.pager?.repeatInterval !== undefined ? { repeatInterval: alerting.pager.repeatInterval } : {}) } } : {}),
    ...(chat !== undefined
      ? {
          chat: {
            secret: chat,
            ...(alerting.chat?.channel !== undefined ? { channel: alerting.chat.channel } : {}),
            ...(alerting.chat?.repeatInterval !== undefined ? { repeatInterval: alerting.chat.repeatInterval } : {}),
          },
        }
      : {}),
  };
}

function show(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.every(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
    return undefined;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v)]));
}



function suggest(key: string, known: readonly string[]): string {
  const hint = hintFor(key, known);
  return hint === '' ? `known keys are ${known.join(', ')}` : hint.replace(/^; /, '');
}

function hintFor(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${best}"?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}
