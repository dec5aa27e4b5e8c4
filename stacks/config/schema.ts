import { z } from 'zod';
import { PREFLIGHT_CHECKS } from '../preflight';
import { ROUTERS, httpPathProblem, isDnsLabel, isDnsSubdomain } from '../../lib';

// The one declaration of every stack config key: the types below are inferred from it, the structural checks
// (unknown fields with a suggestion, wrong types) walk it (./shape.ts), and `npm run config:generate` writes
// Pulumi.yaml's scalar schema and docs/config-reference.md from it. A field's own value rules (ranges, patterns,
// Kubernetes names and quantities) are on the field; the rules that span keys, or whose message names where the value
// is (a host, a settings key, a color's fields: each of the main app and of every service), are schemas in ./rules.ts.
// Both are reported by ./parse.ts under the key the user wrote.

/** The largest replica count the API server accepts (an int32 field). */
export const MAX_INT32 = 2_147_483_647;

/** The project's config namespace: every key is `cutover:<name>` in `Pulumi.<stack>.yaml`. */
export const CONFIG_NAMESPACE = 'cutover';

/** What a field defaults to where the schema cannot say it as a value (a construct's default, or one computed from other keys). */
export interface FieldMeta {
  readonly description: string;
  /** The default in words, for the reference doc, when it is not a literal `.default()`. */
  readonly defaultText?: string;
  /** The default the construct applies when the key is absent (test/stacks/config.defaults.test.ts ties the two). */
  readonly constructDefault?: unknown;
}

/** A field with its description and, optionally, the default in words. */
function field<T extends z.ZodType>(schema: T, description: string, defaultText?: string): T {
  return schema.meta({ description, ...(defaultText !== undefined ? { defaultText } : {}) });
}

/** A field the construct defaults: the value it applies is declared here, and a test checks the construct agrees. */
function constructDefault<T extends z.ZodType>(schema: T, description: string, value: string | number): T {
  return schema.meta({ description, constructDefault: value });
}

/**
 * Splits a rule's zod message into the problem and the fix: a character no message holds, so either may contain any
 * text, and an issue zod words itself (a wrong type, which the structural check reports) is told apart by not having it.
 */
export const RULE_SEPARATOR = '\u001f';

/**
 * A value rule's message as parse reports it (`<key>: <problem>, got <value>; <fix>`, under the key the user wrote,
 * which the schema does not know): zod carries the problem and the fix, and ./shape.ts `checkValue` splits them.
 */
export function rule(problem: string, fix: string): { error: string } {
  return { error: ruleMessage(problem, fix) };
}

/** The message {@link rule} gives zod, for a rule that adds its issues itself (./rules.ts). */
export function ruleMessage(problem: string, fix: string): string {
  return `${problem}${RULE_SEPARATOR}${fix}`;
}

/** The rule of a gate Job's deadline: each of its requests may take `request` seconds. */
const jobDeadline = (request: number) =>
  z.int().gt(request, rule(`must be more than ${request} s, the time one of the Job's requests may take`, 'e.g. 60'));

const str = (description: string, defaultText?: string) => field(z.string(), description, defaultText);
const int = (description: string, defaultText?: string) => field(z.int(), description, defaultText);
const bool = (description: string, defaultText?: string) => field(z.boolean(), description, defaultText);
const strings = (description: string, defaultText?: string) => field(z.array(z.string()), description, defaultText);
const map = (description: string, defaultText?: string) => field(z.record(z.string(), z.string()), description, defaultText);

/** A key of a Secret in the stack's namespace, as the `monitoring.alerting` receivers name it. */
const secretRefSchema = z.object({
  name: str('The Secret’s name.').optional(),
  key: str('The key in the Secret.').optional(),
});

const notZero = 'must be more than 0: the namespace quota and the scheduler need a real figure';
const cpuFix = 'use millicores like `250m` or cores like `1`';
const memoryFix = 'use e.g. `256Mi` or `1Gi`';

/** A CPU quantity the quota and the scheduler can use: millicores (`250m`) or cores (`1`, `0.5`), more than 0. */
const cpuQuantity = (fallback: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?m?$/, rule('is not a CPU quantity', cpuFix))
    .refine((value) => Number(value.replace(/m$/, '')) > 0, rule(notZero, cpuFix))
    .default(fallback);

/** A memory or storage quantity in `Mi` or `Gi`, more than 0. */
const memoryQuantity = (fallback: string) =>
  z
    .string()
    .regex(/^\d+(Mi|Gi)$/, rule('is not a memory quantity in Mi or Gi', memoryFix))
    .refine((value) => Number(value.replace(/(Mi|Gi)$/, '')) > 0, rule(notZero, memoryFix))
    .default(fallback);

export const resourcesSchema = z.object({
  cpuRequest: field(cpuQuantity('100m'), 'CPU request of each app container (millicores like `250m`, or cores).'),
  cpuLimit: field(cpuQuantity('500m'), 'CPU limit of each app container.'),
  memoryRequest: field(memoryQuantity('256Mi'), 'Memory request of each app container (`Mi` or `Gi`, more than 0).'),
  memoryLimit: field(memoryQuantity('512Mi'), 'Memory limit of each app container.'),
  ephemeralStorageRequest: field(memoryQuantity('256Mi'), 'Ephemeral storage request of each app container.'),
  ephemeralStorageLimit: field(memoryQuantity('1Gi'), 'Ephemeral storage limit of each app container.'),
});

/** An HTTP path a probe or a gate requests: absolute, printable ASCII (lib/core/validation.ts `httpPathProblem`). */
const httpPath = z.string().superRefine((path, ctx) => {
  const wrong = httpPathProblem(path);
  if (wrong !== undefined) {
    ctx.addIssue({ code: 'custom', message: ruleMessage(wrong.problem, wrong.fix) });
  }
});

/** The name of a Secret (a DNS-1123 subdomain, as the API server requires of object names). */
const secretName = (fix: string) => z.string().refine(isDnsSubdomain, rule('is not a Secret name', fix));

/** A namespace name (a DNS-1123 label). */
const namespaceName = z.string().refine(isDnsLabel, rule('is not a namespace name', 'use lowercase letters, digits and "-", at most 63 characters'));

/** A key naming a cluster object: a DNS-1123 subdomain, as the API server requires of object names. */
const objectName = (key: string, what: string, fallback: string) =>
  z
    .string()
    .refine(
      isDnsSubdomain,
      rule(`is not the name of ${what} (lowercase letters, digits, "-" and ".")`, `e.g. \`pulumi config set ${key} ${fallback}\``),
    )
    .default(fallback);

export const colorSchema = z.object({
  image: str('The color’s image reference, pinned by tag or digest (`:latest` is refused in production).').optional(),
  replicas: int('The color’s replicas (0 scales it down; the live color cannot be 0).', 'replicas').optional(),
  env: map('Environment variables of this color only (what differs between releases).', '{}').optional(),
});

/** A whole number a config file holds as text (`"3"`), as a number; anything else as it is. */
const wholeNumberText = (value: unknown): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/**
 * A color's fields as a config file holds them, read into what the constructs take: {@link colorSchema}'s fields, with
 * `replicas` written as text (`"3"`) read as a number and env values Pulumi stored as numbers or booleans as strings.
 * ./rules.ts `colorFieldsRule` reports what does not fit, each field under its own key.
 */
export const colorValueSchema = z.strictObject({
  image: colorSchema.shape.image,
  replicas: z.preprocess(wholeNumberText, z.number().min(0).refine(Number.isInteger)).optional(),
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
});

export const postgresSchema = z.object({
  instances: constructDefault(z.int(), 'PostgreSQL instances (a primary and replicas).', 3).optional(),
  imageName: constructDefault(
    z.string(),
    'The CloudNativePG operand image (TimescaleDB).',
    'ghcr.io/clevyr/cloudnativepg-timescale:16-ts2',
  ).optional(),
  storageSize: constructDefault(z.string(), 'Each instance’s volume size.', '100Gi').optional(),
  storageClass: constructDefault(z.string(), 'The volumes’ StorageClass.', 'fast-ssd').optional(),
  pooler: bool('Run a PgBouncer Pooler in front of the primary.', 'false').optional(),
  backup: field(
    z.object({
      enabled: bool('WAL archiving and scheduled base backups.', 'true').optional(),
      destinationPath: str('The object store path backups go to (required when backups are on), e.g. `s3://bucket/web`.').optional(),
      endpointURL: str('The object store’s endpoint.', 'the AWS S3 endpoint').optional(),
      secretName: field(
        secretName('use lowercase letters, digits, "-" and "." (the name of an existing Secret)'),
        'The Secret with ACCESS_KEY_ID and ACCESS_SECRET_KEY for the object store.',
        '`<app>-db-backup-s3`',
      ).optional(),
      retentionPolicy: str('How long backups are kept.', '90d').optional(),
    }),
    'WAL archiving and base backups to an object store (Barman Cloud).',
  ).optional(),
  recovery: field(
    z.object({
      sourceClusterName: str('The cluster whose backups to recover from.'),
      targetTime: str('The point in time to recover to (RFC 3339).'),
    }),
    'Point-in-time recovery into a new cluster.',
    'a new empty database',
  ).optional(),
});

export const redisSchema = z.object({
  mode: constructDefault(
    z.enum(['sentinel', 'cluster'], rule('must be sentinel or cluster', '`sentinel` (1 master + replicas with failover) or `cluster` (sharded)')),
    '`sentinel` (1 master + replicas with failover) or `cluster` (sharded).',
    'sentinel',
  ).optional(),
  replicas: constructDefault(z.int(), 'Redis pods of the replication (sentinel mode).', 3).optional(),
  sentinels: constructDefault(z.int(), 'Sentinel pods (sentinel mode).', 3).optional(),
  shards: constructDefault(z.int(), 'Shards (cluster mode).', 3).optional(),
  storageSize: constructDefault(z.string(), 'Each pod’s volume size.', '8Gi').optional(),
  storageClass: constructDefault(z.string(), 'The volumes’ StorageClass.', 'fast-ssd').optional(),
  secretName: field(
    secretName('use lowercase letters, digits, "-" and "." (the name of an existing Secret)'),
    'The Secret whose `password` key is the Redis password.',
    '`<app>-cache-auth`',
  ).optional(),
});

export const operatorsSchema = z.object({
  install: field(
    z.boolean().default(false),
    'Install CloudNativePG (with the Barman Cloud plugin) and the redis-operator before any custom resource; ' +
      'cluster-wide, so set it on one stack per cluster.',
  ),
});

export const preflightSchema = z.object({
  enabled: bool(
    'Check the cluster before registering any resource (`pulumi preview` and `pulumi up`); `preflight: false` also turns it off.',
    'true',
  ).optional(),
  skip: field(z.array(z.enum(PREFLIGHT_CHECKS)), 'Checks not made, for clusters where the deployer cannot read what they need.', '[]').optional(),
});

export const networkSchema = z.object({
  ingressNamespace: field(
    namespaceName,
    'Where the Ingress controller runs, admitted to the apps with the ingress router.',
    'the NetworkPolicySet’s default',
  ).optional(),
  gatewayNamespace: field(namespaceName, 'Where the Gateway’s proxies run.', 'routing.gateway.namespace, else the stack’s namespace').optional(),
  gatewayPodLabels: map(
    'Labels of the Gateway’s proxies; required when they run in the stack’s namespace.',
    '{} (every pod of gatewayNamespace)',
  ).optional(),
  monitoringNamespace: field(namespaceName, 'Where Prometheus runs, admitted to the metrics ports.', 'the NetworkPolicySet’s default').optional(),
  cnpgNamespace: field(namespaceName, 'Where the CloudNativePG operator runs.', 'the NetworkPolicySet’s default').optional(),
  redisOperatorNamespace: field(namespaceName, 'Where the redis-operator runs.', 'the NetworkPolicySet’s default').optional(),
  podCidrs: strings('The cluster’s pod CIDRs, excluded from internet egress.', 'the NetworkPolicySet’s default').optional(),
  serviceCidrs: strings('The cluster’s Service CIDRs, excluded from internet egress.', 'the NetworkPolicySet’s default').optional(),
  apiServer: field(z.object({ cidrs: strings('The API server’s addresses, for the operators’ egress.').optional() }), 'The API server.').optional(),
  externalCidrs: strings('Addresses outside the cluster the apps may reach besides HTTPS egress.', '[]').optional(),
  internetEgress: bool('Let the apps open HTTPS (443) connections outside the cluster.', 'true').optional(),
});

const alertingSchema = z.object({
  enabled: bool('Render the AlertmanagerConfig that routes the namespace’s alerts by severity.', 'production').optional(),
  groupWait: str('How long Alertmanager waits to group a new alert.', 'the AlertRouting default').optional(),
  groupInterval: str('How long it waits before notifying about new alerts of a group.', 'the AlertRouting default').optional(),
  pager: field(
    z.object({
      enabled: bool('The PagerDuty receiver of critical alerts.', 'true').optional(),
      secret: field(
        secretRefSchema,
        'The Secret key holding the PagerDuty routing key.',
        'Secret `alertmanager-pagerduty`, key `routingKey`',
      ).optional(),
      repeatInterval: str('How often a firing critical alert is sent again.', 'the AlertRouting default').optional(),
    }),
    'Critical alerts to PagerDuty.',
  ).optional(),
  chat: field(
    z.object({
      enabled: bool('The Slack receiver of high and warning alerts.', 'true').optional(),
      secret: field(secretRefSchema, 'The Secret key holding the Slack webhook URL.', 'Secret `alertmanager-slack`, key `webhookURL`').optional(),
      channel: str('The Slack channel.', 'the webhook’s channel').optional(),
      repeatInterval: str('How often a firing alert is sent again.', 'the AlertRouting default').optional(),
    }),
    'High and warning alerts to Slack.',
  ).optional(),
});

/** A gauge the pool alert needs: required once `monitoring.databasePool` is set. */
const poolGauge = (field: string, example: string) =>
  rule(
    'is required: the pool alert divides connections in use by the pool size',
    `name the app's gauge, e.g. \`pulumi config set --path monitoring.databasePool.${field} ${example}\``,
  );

export const monitoringSchema = z.object({
  labels: map('Labels Prometheus selects ServiceMonitors, PodMonitors, PrometheusRules and the AlertmanagerConfig by.', '{}').optional(),
  runbookBaseUrl: field(
    z
      .string()
      .refine(
        (url) => url !== '' && !/[#\s]/.test(url),
        rule(
          'must be a URL or repository path without "#" or spaces',
          'e.g. `docs/runbook.md` or `https://git.example.com/acme/cutover/blob/main/docs/runbook.md`',
        ),
      ),
    'Where the alerts’ runbook links point.',
    'docs/runbook.md',
  ).optional(),
  errorRateThreshold: constructDefault(z.number(), 'The ratio of 5xx responses the error alert fires at.', 0.05).optional(),
  p95LatencySeconds: constructDefault(z.number(), 'The p95 latency the latency alert fires at.', 0.5).optional(),
  availabilityObjective: constructDefault(z.number(), 'The availability SLO (a ratio below 1), for the burn-rate alerts.', 0.999).optional(),
  latencyObjective: field(
    z.object({
      thresholdSeconds: constructDefault(z.number(), 'A request slower than this is a bad event of the latency SLO.', 0.5).optional(),
      objective: constructDefault(z.number(), 'The ratio of requests faster than the threshold.', 0.99).optional(),
    }),
    'The latency SLO with its burn-rate alerts; a field left out keeps its default.',
  ).optional(),
  databasePool: field(
    z.object({
      inUse: field(z.string(poolGauge('inUse', 'db_client_connections_usage')), 'The app’s gauge of connections in use.'),
      max: field(z.string(poolGauge('max', 'db_client_connections_max')), 'The app’s gauge of the pool size.'),
      threshold: constructDefault(z.number(), 'The ratio in use the pool alert fires at.', 0.8).optional(),
    }),
    'The app’s database pool gauges, for the pool alert.',
    'no pool alert',
  ).optional(),
  dashboardLabels: map('Labels the Grafana sidecar finds the dashboard ConfigMap by.', '{ grafana_dashboard: "1" }').optional(),
  alerting: field(alertingSchema, 'Alert routing by severity (docs/alerting.md).').optional(),
});

export const gateCheckSchema = field(
  z.object({
    path: str('The HTTP path the smoke test requests.'),
    expectStatus: int('The status it must answer.', '200').optional(),
    contains: str('Text the body must contain.').optional(),
  }),
  'One HTTP check.',
);

const prometheusPort = rule('must be a port from 1 to 65535', "the Prometheus pods' port, e.g. 9090");

export const metricGateSchema = z.object({
  prometheusUrl: field(
    z.string(
      rule(
        'is required',
        "Prometheus' HTTP API in the cluster, e.g. `pulumi config set --path gate.metrics.prometheusUrl " +
          'http://prometheus-operated.monitoring.svc:9090`',
      ),
    ),
    'Prometheus’ HTTP API inside the cluster, e.g. `http://prometheus-operated.monitoring.svc:9090`.',
  ),
  maxErrorRatio: constructDefault(z.number(), 'The highest ratio of 5xx responses the target color may have.', 0.01).optional(),
  maxP95LatencySeconds: constructDefault(z.number(), 'The highest p95 latency the target color may have.', 0.5).optional(),
  window: constructDefault(z.string(), 'The window the ratios are computed over.', '5m').optional(),
  minRequests: constructDefault(z.int(), 'Requests the window must hold for a verdict.', 1).optional(),
  timeoutSeconds: field(
    jobDeadline(10),
    'The Job’s deadline; shorter than deployTimeoutSeconds and more than 10.',
    'min(120, deployTimeoutSeconds - 10)',
  ).optional(),
  prometheusPort: field(
    z.int().min(1, prometheusPort).max(65535, prometheusPort),
    'The Prometheus pods’ port, for the NetworkPolicy.',
    '9090',
  ).optional(),
});

export const gateSchema = z.object({
  enabled: bool('Run the cutover gate: routing objects wait for a smoke test of the color about to be live.', 'true').optional(),
  image: str(
    'The image of every app’s smoke test and metric gate; a service’s own `gate.image` replaces it for both of that service’s gates.',
    'the CutoverGate default',
  ).optional(),
  checks: field(z.array(gateCheckSchema), 'HTTP checks besides the readiness and liveness paths.', '[]').optional(),
  timeoutSeconds: field(
    jobDeadline(5),
    'The smoke test Job’s deadline; shorter than deployTimeoutSeconds and more than 5.',
    'min(120, deployTimeoutSeconds - 10)',
  ).optional(),
  metrics: field(
    metricGateSchema,
    'A metric gate per app, judging the target color by its Prometheus metrics after its smoke test.',
    'none',
  ).optional(),
});

export const migrationStepSchema = z.object({
  image: str('The migration image, pinned.'),
  command: strings('The command to run, with the app’s database connection.'),
});

export const migrationsSchema = z.object({
  expand: field(migrationStepSchema, 'Runs (once per distinct image and command) before traffic moves; must succeed.').optional(),
  contract: field(migrationStepSchema, 'Runs once the old color is retired, in an update that does not switch colors.').optional(),
});

export const gatewaySchema = z.object({
  name: str('The Gateway the HTTPRoutes attach to.', 'the stack’s `app`, with `create`; required otherwise'),
  namespace: str('The Gateway’s namespace.', 'the stack’s namespace').optional(),
  sectionName: str('The HTTPS listener.', '`https` (`https-<app>` on a Gateway the stack creates)').optional(),
  httpSectionName: str('The HTTP listener the redirect attaches to.', '`http`').optional(),
  httpsRedirect: bool('Redirect HTTP to HTTPS.', 'true').optional(),
  create: field(
    z.object({ className: str('The GatewayClass of the implementation that runs the Gateway.') }),
    'The stack owns the Gateway: cutover renders it in the stack’s namespace.',
  ).optional(),
});

const requestTimeout = rule('must be from 1 to 3600', "e.g. 60 (ingress-nginx's default read timeout)");

export const routingSchema = z.object({
  router: field(z.enum(ROUTERS), '`gateway` (an HTTPRoute on a Gateway) or `ingress` (an Ingress).', 'gateway'),
  gateway: field(gatewaySchema, 'The Gateway the HTTPRoutes attach to; required with the gateway router.').optional(),
  keepIngress: bool('With the gateway router, keep the Ingress beside the HTTPRoute while DNS moves.', 'false').optional(),
  requestTimeoutSeconds: field(
    z.int().min(1, requestTimeout).max(3600, requestTimeout),
    'The HTTPRoute’s request timeout (1 to 3600).',
    '60',
  ).optional(),
});

export const tolerationSchema = field(
  z.object({
    key: str('The taint key.').optional(),
    operator: str('`Equal` or `Exists`.').optional(),
    value: str('The taint value.').optional(),
    effect: str('`NoSchedule`, `PreferNoSchedule` or `NoExecute`.').optional(),
  }),
  'One toleration.',
);

export const schedulingSchema = z.object({
  nodeSelector: map('Node labels every pod requires (a node pool).', '{} (any node)').optional(),
  tolerations: field(z.array(tolerationSchema), 'Taints the pods tolerate.', '[]').optional(),
  podAntiAffinity: str('`required` or `preferred` spreading of an app’s pods over nodes, or `none`.', 'required').optional(),
});

export const serviceGateSchema = z.object({
  image: str('This service’s smoke test and metric gate image.', 'gate.image').optional(),
  checks: field(z.array(gateCheckSchema), 'This service’s smoke test checks.', 'gate.checks').optional(),
});

/** A `services.<name>` entry as written: what differs from the main app. */
export const serviceSchema = field(
  z.object({
    host: str('The DNS name the service answers on (required).'),
    blue: field(colorSchema, 'The service’s blue color.').optional(),
    green: field(colorSchema, 'The service’s green color.').optional(),
    port: int('The service’s HTTP port.', 'port').optional(),
    metricsPort: int('The service’s metrics port.', 'metricsPort').optional(),
    readinessPath: field(httpPath, 'The service’s readiness path.', 'readinessPath').optional(),
    livenessPath: field(httpPath, 'The service’s liveness path.', 'livenessPath').optional(),
    replicas: int('Minimum replicas of each of the service’s colors.', 'replicas').optional(),
    maxReplicas: int('Maximum replicas of each of the service’s colors.', 'maxReplicas').optional(),
    settings: map('The service’s settings ConfigMap.', 'settings').optional(),
    secretNames: strings('Secrets the service’s pods load as environment.', '[]').optional(),
    tlsSecretName: str('The service’s TLS Secret.', '`<name>-tls`').optional(),
    gate: field(serviceGateSchema, 'The service’s own smoke test.').optional(),
    backends: bool('Whether the service gets the stack’s PostgreSQL and Redis.', 'true').optional(),
  }),
  'One app beside the main one: what differs from it.',
);

/**
 * Every top-level key. Scalars carry Pulumi's type; a literal `.default()` is the program's default (and Pulumi.yaml's,
 * but for {@link UNDECLARED_DEFAULT_KEYS}).
 */
const secretNamesRule = rule(
  'must be a list of Secret names',
  'e.g. `pulumi config set --path "secretNames[0]" web-secrets`; put secret values in the Secret, never in config',
);
const appName = rule('must be a lowercase DNS label of at most 50 characters starting with a letter', 'e.g. `pulumi config set app web`');

export const stackConfigSchema = z.object({
  activeColor: field(z.enum(['blue', 'green']), 'Color that receives traffic: blue or green. Changing it is the cutover.'),
  host: field(z.string(), 'DNS name the service answers on (the HTTPRoute or Ingress host), e.g. app.example.com.'),
  blue: field(colorSchema, 'The blue color: image, replicas and env.', '{}').optional(),
  green: field(colorSchema, 'The green color: image, replicas and env.', '{}').optional(),
  namespace: field(z.string(), 'The namespace of the environment.', '`<app>-<stack>`').optional(),
  tlsSecretName: field(
    secretName('use lowercase letters, digits, "-" and "."'),
    'The Secret cert-manager writes the app’s certificate into.',
    '`<app>-tls`',
  ).optional(),
  postgres: field(postgresSchema, 'A PostgresHA (CloudNativePG) for the apps.', 'none').optional(),
  redis: field(redisSchema, 'A RedisCluster (redis-operator) for the apps.', 'none').optional(),
  operators: field(operatorsSchema, 'Whether this stack installs the data tier’s operators.').optional(),
  preflight: field(preflightSchema, 'What the program checks in the cluster before registering anything (docs/preflight.md).').optional(),
  network: field(networkSchema, 'The NetworkPolicySet’s view of the cluster.', '{}').optional(),
  monitoring: field(monitoringSchema, 'MonitoringStack and the data tier’s monitors.', '{}').optional(),
  gate: field(gateSchema, 'What must hold before traffic moves to a color (docs/gates.md).', '{}').optional(),
  migrations: field(migrationsSchema, 'Schema migrations around the cutover.', '{}').optional(),
  routing: field(routingSchema, 'How outside traffic reaches the Services (required, docs/routing.md).'),
  services: field(z.record(z.string(), serviceSchema), 'Apps beside the main one, by name; each inherits the main app’s values.', '{}').optional(),
  idleReplicas: field(
    // At most maxReplicas: a bound from another key, checked by ./parse.ts.
    z.int().min(0),
    'Replicas of every app’s idle color once traffic has settled (0 retires it); never applied in the update that switches colors.',
    'the idle color stays at full size',
  ).optional(),
  scheduling: field(schedulingSchema, 'Where every app’s pods and Jobs run (node pool, tolerations, anti-affinity).', '{}').optional(),
  production: field(z.boolean().default(true), 'Production rules (at least 3 replicas, no `:latest`). Non-production stacks set it to false.'),
  app: field(
    z
      .string()
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/, appName)
      .max(50, appName)
      .default('web'),
    'Service name; prefixes every object name.',
  ),
  replicas: field(
    z.int().min(1).max(MAX_INT32).default(3),
    'Minimum replicas of each color (HPA minReplicas); blue.replicas / green.replicas override it.',
  ),
  maxReplicas: field(z.int().min(1).max(MAX_INT32).default(10), 'Maximum replicas of each color (HPA maxReplicas).'),
  maxUnavailable: field(
    z.int().min(1).max(MAX_INT32).default(1),
    'Pods of one color a voluntary disruption may take down at once (PodDisruptionBudget).',
  ),
  targetCpuUtilization: field(z.int().min(1).max(100).default(70), 'HPA target average CPU utilization, percent of the request.'),
  targetMemoryUtilization: field(z.int().min(1).max(100).default(80), 'HPA target average memory utilization, percent of the request.'),
  port: field(z.int().min(1024).max(65535).default(8080), 'Container port that serves HTTP (named http).'),
  metricsPort: field(z.int().min(1024).max(65535).default(9090), 'Container port that serves Prometheus metrics (named metrics).'),
  readinessPath: field(httpPath.default('/ready'), 'HTTP path of the readiness probe.'),
  livenessPath: field(httpPath.default('/health'), 'HTTP path of the liveness probe.'),
  resources: field(resourcesSchema, 'Requests and limits of each app container.').optional(),
  settings: field(
    z.record(z.string(), z.string()).default({ NODE_ENV: 'production', LOG_LEVEL: 'info' }),
    'The app’s settings ConfigMap, loaded as environment.',
  ),
  secretNames: field(
    z.array(z.string().refine(isDnsSubdomain, secretNamesRule), secretNamesRule).default([]),
    'Secrets the app’s pods load as environment (names only; values stay in the Secrets).',
  ),
  clusterIssuer: field(
    objectName('clusterIssuer', 'a cert-manager ClusterIssuer', 'letsencrypt-prod'),
    'cert-manager ClusterIssuer for the Ingress certificate, or the listeners of a Gateway the stack creates.',
  ),
  ingressClassName: field(objectName('ingressClassName', 'an IngressClass', 'nginx'), 'The IngressClass (ingress router, or routing.keepIngress).'),
  rateLimitRps: field(z.int().min(1).default(20), 'ingress-nginx’s requests per second per client (ingress router, or routing.keepIngress).'),
  drainSeconds: field(z.int().min(0).max(300).default(10), 'preStop sleep, so endpoint removal reaches every proxy before the pod gets SIGTERM.'),
  shutdownSeconds: field(
    z.int().min(1).max(600).default(20),
    'Seconds after SIGTERM for in-flight requests; grace period = drainSeconds + shutdownSeconds.',
  ),
  deployTimeoutSeconds: field(
    z.int().min(30).max(3600).default(600),
    'How long `pulumi up` waits for an object (a Deployment rollout) to become ready before failing.',
  ),
  trafficWeight: field(
    z.int().min(0).max(100).default(0),
    'Weighted shift: percent of requests sent to the idle color (0-100). 0 sends everything to activeColor.',
  ),
  podSecurityVersion: field(
    z
      .string()
      .regex(/^v1\.\d+$/, rule('must be a Kubernetes minor version', 'e.g. `v1.30`'))
      .default('v1.30'),
    "Pod Security Standards version pinned on the namespace's enforce/audit/warn labels.",
  ),
});

type Output<T extends z.ZodType> = z.output<T>;

/** Requests and limits, as in the `resources` config object. */
export type ResourcesConfig = Readonly<Output<typeof resourcesSchema>>;
/** The `postgres` config object: a PostgresHA for the app (lib/data/postgres-ha.ts applies the defaults). */
export type PostgresConfig = Output<typeof postgresSchema>;
/** The `redis` config object: a RedisCluster for the app (lib/data/redis-cluster.ts applies the defaults). */
export type RedisConfig = Output<typeof redisSchema>;
/** The `network` config object: the NetworkPolicySet's view of the cluster. */
export type NetworkConfig = Output<typeof networkSchema>;
/** A key of a Secret in the stack's namespace, as the `monitoring.alerting` receivers name it. */
export type SecretRefConfig = Output<typeof secretRefSchema>;
/** The `monitoring.alerting` object as written. */
export type AlertingConfig = Output<typeof alertingSchema>;
/** The `monitoring` config object. */
export type MonitoringConfig = Output<typeof monitoringSchema>;
/** One HTTP check of the cutover gate's smoke test. */
export type GateCheckConfig = Output<typeof gateCheckSchema>;
/** The `gate.metrics` object: judge the color about to go live by its Prometheus metrics. */
export type MetricGateConfig = Output<typeof metricGateSchema>;
/** The `gate` config object. */
export type GateConfig = Output<typeof gateSchema>;
/** A migration step: a Job running `command` in `image` with the app's database connection. */
export type MigrationStepConfig = Output<typeof migrationStepSchema>;
/** The `migrations` config object. */
export type MigrationsConfig = Output<typeof migrationsSchema>;
/** The `routing.gateway` config object, resolved (`name` defaulted). */
export type GatewayConfig = Output<typeof gatewaySchema>;
/** The `routing` config object, resolved. */
export type RoutingConfig = Output<typeof routingSchema>;
/** The `operators` config object. */
export type OperatorsConfig = Output<typeof operatorsSchema>;
/** A `services.<name>` entry as written. */
export type ServiceEntryConfig = Output<typeof serviceSchema>;

/** The top-level keys of the schema. */
export type ConfigKey = keyof typeof stackConfigSchema.shape;

/** Every key the project reads; anything else under `cutover:` is a typo. */
export const CONFIG_KEYS = Object.keys(stackConfigSchema.shape) as readonly ConfigKey[];

/** The literal default of a schema field, if it has one. */
export function defaultOf(schema: z.ZodType): unknown {
  const def = schema.def as { type: string; defaultValue?: unknown; innerType?: z.ZodType };
  if (def.type === 'default') {
    return def.defaultValue;
  }
  return def.type === 'optional' && def.innerType !== undefined ? defaultOf(def.innerType) : undefined;
}

/** The default of every top-level key that has a literal one, and of each resources field. */
function literalDefaults(): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(stackConfigSchema.shape)) {
    const value = defaultOf(schema);
    if (value !== undefined) {
      defaults[key] = value;
    }
  }
  defaults.resources = Object.fromEntries(Object.entries(resourcesSchema.shape).map(([key, schema]) => [key, defaultOf(schema)]));
  return defaults;
}

type Defaulted = {
  [K in ConfigKey as (typeof stackConfigSchema.shape)[K] extends z.ZodDefault<z.ZodType> ? K : never]: Readonly<
    Output<(typeof stackConfigSchema.shape)[K]>
  >;
};

/**
 * The literal defaults of the optional keys, read from the schema. `app`-dependent defaults (`namespace`,
 * `tlsSecretName`) are computed in ./parse.ts.
 */
export const CONFIG_DEFAULTS = literalDefaults() as Defaulted & { readonly resources: ResourcesConfig };

/**
 * Scalar keys with a program default that Pulumi.yaml does not declare: Pulumi passes a declared default to the
 * program as if the stack set it, and these are refused when set with the gateway router (they configure an Ingress).
 */
export const UNDECLARED_DEFAULT_KEYS: readonly (keyof typeof CONFIG_DEFAULTS)[] = ['ingressClassName', 'rateLimitRps'];

/** The Secrets the `monitoring.alerting` receivers read their credentials from unless the stack names others. */
export const ALERTING_DEFAULTS = {
  pager: { secret: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
  chat: { secret: { name: 'alertmanager-slack', key: 'webhookURL' } },
} as const;
