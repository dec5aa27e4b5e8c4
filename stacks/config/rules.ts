import { z } from 'zod';
import { isIP } from 'node:net';
import { isDataKey, isDnsLabel, isDnsName, isDnsSubdomain, isLabelKey, isLabelValue } from '../../lib';
import { hintFor } from './errors';
import { ALERTING_DEFAULTS, colorValueSchema, ruleMessage } from './schema';

// The rules that span keys, each a schema on the object of the values it relates (already of the right types, as
// ./parse.ts and ./services.ts hold them, unless the rule says otherwise), checked with ./shape.ts `checkRules` where
// the parse has those values. The rules of one key's value (ranges, patterns, names) are on its field in ./schema.ts,
// except those whose message names the key (`key`: the main app's or a service's): hosts, settings keys, color fields.

/** An app's replica bounds: the HPA's minReplicas cannot exceed its maxReplicas. */
export const replicaBoundsRule = z.object({ replicas: z.number(), maxReplicas: z.number() }).superRefine(({ replicas, maxReplicas }, ctx) => {
  if (maxReplicas < replicas) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxReplicas'],
      message: ruleMessage(`must be at least replicas (${replicas})`, 'raise maxReplicas or lower replicas'),
    });
  }
});

/**
 * A weighted shift sends requests to the idle color, which must be deployed and running. `service` is the
 * `services.<name>` entry the colors are of (absent for the main app).
 */
export const weightedShiftRule = z
  .object({
    trafficWeight: z.number(),
    idleColor: z.string(),
    idle: z.object({ image: z.string().optional(), replicas: z.number().optional() }),
    service: z.object({ name: z.string(), key: z.string() }).optional(),
  })
  .superRefine(({ trafficWeight, idleColor, idle, service }, ctx) => {
    if (trafficWeight <= 0 || (idle.image !== undefined && idle.replicas !== 0)) {
      return;
    }
    const state = idle.image === undefined ? 'not deployed (no image)' : 'scaled to 0';
    const message =
      service === undefined
        ? ruleMessage(
            `sends ${trafficWeight}% of requests to ${idleColor}, which is ${state}`,
            `deploy ${idleColor} first (\`pulumi config set --path ${idleColor}.image <image:tag>\`, full size), \`pulumi up\`, then shift`,
          )
        : ruleMessage(
            `sends ${trafficWeight}% of ${service.name}'s requests to ${idleColor}, which is ${state}`,
            `deploy ${idleColor} of ${service.name} first (\`pulumi config set --path ${service.key}.${idleColor}.image <image:tag>\`, full ` +
              'size), `pulumi up`, then shift',
          );
    ctx.addIssue({ code: 'custom', path: ['trafficWeight'], message });
  });

/** An app's ports: metrics are served on a port of their own. */
export const distinctPortsRule = z.object({ port: z.number(), metricsPort: z.number() }).superRefine(({ port, metricsPort }, ctx) => {
  if (port === metricsPort) {
    ctx.addIssue({
      code: 'custom',
      path: ['metricsPort'],
      message: ruleMessage('must differ from port', 'serve metrics on a port of their own, e.g. 9090'),
    });
  }
});

/** Production runs at least 3 replicas of each color. `service`: the app is a `services.<name>` entry. */
export const productionReplicasRule = z
  .object({ production: z.boolean(), replicas: z.number(), service: z.boolean().optional() })
  .superRefine(({ production, replicas, service }, ctx) => {
    if (production && replicas < 3) {
      const fix = `set ${service === true ? 'it' : 'replicas'} to 3 or more; a non-production stack sets \`production: false\``;
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: ruleMessage('production runs at least 3 replicas per color', fix) });
    }
  });

/** A gate Job's deadline ends before the update's own: the gate reports its own failure, not the provider's timeout. */
export const gateDeadlineRule = z
  .object({ deployTimeoutSeconds: z.number(), timeoutSeconds: z.unknown().optional() })
  .superRefine(({ deployTimeoutSeconds, timeoutSeconds }, ctx) => {
    if (Number.isInteger(timeoutSeconds) && (timeoutSeconds as number) >= deployTimeoutSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeoutSeconds'],
        message: ruleMessage(
          `must be shorter than deployTimeoutSeconds (${deployTimeoutSeconds}), so the gate reports its own failure`,
          'lower it, or raise deployTimeoutSeconds',
        ),
      });
    }
  });

/** The metric gate runs after the smoke test: it needs the gate on. */
export const metricGateEnabledRule = z
  .object({ enabled: z.boolean().optional(), metrics: z.unknown().optional() })
  .superRefine(({ enabled, metrics }, ctx) => {
    if (metrics !== undefined && enabled === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics'],
        message: ruleMessage('is set while gate.enabled is false', 'remove gate.metrics, or enable the gate'),
      });
    }
  });

/**
 * The idle color's size once traffic has settled: above what the PodDisruptionBudget may take down (or 0), and only
 * when no weighted shift sends it requests.
 */
export const idleReplicasRule = z
  .object({ idleReplicas: z.number().optional(), maxUnavailable: z.number(), trafficWeight: z.number() })
  .superRefine(({ idleReplicas, maxUnavailable, trafficWeight }, ctx) => {
    if (idleReplicas === undefined) {
      return;
    }
    if (idleReplicas > 0 && idleReplicas <= maxUnavailable) {
      ctx.addIssue({
        code: 'custom',
        path: ['idleReplicas'],
        message: ruleMessage(
          `the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once and would leave none of the idle color running`,
          `use 0 (retire the idle color) or at least ${maxUnavailable + 1}`,
        ),
      });
    }
    if (trafficWeight > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['idleReplicas'],
        message: ruleMessage(
          `is set while trafficWeight (${trafficWeight}) sends requests to the idle color`,
          'finish or abort the weighted shift (trafficWeight 0) before shrinking the idle color',
        ),
      });
    }
  });

/** `operators.install` installs the data tier's operators: the stack must have a data tier. */
export const operatorsRule = z
  .object({ install: z.boolean(), postgres: z.boolean(), redis: z.boolean() })
  .superRefine(({ install, postgres, redis }, ctx) => {
    if (install && !postgres && !redis) {
      ctx.addIssue({
        code: 'custom',
        path: ['install'],
        message: ruleMessage(
          'has nothing to install: the stack has neither postgres nor redis',
          'set `operators.install` to false, or configure `postgres` or `redis`',
        ),
      });
    }
  });

/** Each migration step names what to run, and there is a database to run it against. */
export const migrationsRule = z
  .object({ expand: z.unknown().optional(), contract: z.unknown().optional(), postgres: z.boolean() })
  .superRefine((values, ctx) => {
    for (const phase of ['expand', 'contract'] as const) {
      const step = values[phase] as { image?: string; command?: string[] } | undefined;
      if (step === undefined) {
        continue;
      }
      if (step.image === undefined || step.command === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [phase],
          message: ruleMessage(
            'needs both image and command',
            `e.g. \`pulumi config set --path migrations.${phase}.image registry.example.com/acme/web-migrate:1.5.0\` and ` +
              `\`--path "migrations.${phase}.command[0]" migrate\``,
          ),
        });
      }
      if (!values.postgres) {
        ctx.addIssue({
          code: 'custom',
          path: [phase],
          message: ruleMessage('needs a database to migrate: the stack has no postgres', 'configure `postgres`, or remove `migrations`'),
        });
      }
    }
  });

/** Namespaces the cluster owns; a stack never takes one over. */
const SYSTEM_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** The environment's namespace: a DNS label of its own, not one Kubernetes uses. */
export const namespaceRule = z.object({ namespace: z.string(), app: z.string(), stack: z.string() }).superRefine(({ namespace, app, stack }, ctx) => {
  const suggestion = `${app}-${stack.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
  if (!isDnsLabel(namespace)) {
    ctx.addIssue({
      code: 'custom',
      path: ['namespace'],
      message: ruleMessage('must be a lowercase DNS label of at most 63 characters', `e.g. \`pulumi config set namespace ${suggestion}\``),
    });
  } else if (SYSTEM_NAMESPACES.includes(namespace)) {
    ctx.addIssue({
      code: 'custom',
      path: ['namespace'],
      message: ruleMessage(
        'is a namespace Kubernetes itself uses: the stack would put its quota, LimitRange, Pod Security labels and default-deny policies on it',
        `give the environment a namespace of its own, e.g. \`pulumi config set namespace ${suggestion}\``,
      ),
    });
  }
});

/** Gateway proxies in the stack's own namespace are told apart from the apps by their labels. */
export const gatewayPodLabelsRule = z
  .object({ proxies: z.string().optional(), namespace: z.string(), gatewayPodLabels: z.unknown().optional() })
  .superRefine(({ proxies, namespace, gatewayPodLabels }, ctx) => {
    if (proxies === namespace && gatewayPodLabels === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['gatewayPodLabels'],
        message: ruleMessage(
          `is required when the Gateway's proxies run in the stack's own namespace (${namespace}): ` +
            'without labels the app would admit every pod of it',
          'give the labels of the proxy pods (`pulumi config set --path ' +
            '\'network.gatewayPodLabels["app.kubernetes.io/name"]\' envoy`), or the namespace they run in ' +
            '(`pulumi config set --path network.gatewayNamespace envoy-gateway-system`)',
        ),
      });
    }
  });

/**
 * The apps of a stack keep apart: no service's name extends another's (their objects' names could collide), and each
 * has a host and a TLS Secret of its own (cert-manager writes each app's certificate into its Secret). `main` is the
 * main app; `services` the `services.<name>` entries, by name, in name order. Each issue names its key in `params.key`.
 */
export const distinctAppsRule = z
  .object({
    main: z.object({ name: z.string(), host: z.string(), tlsSecretName: z.string() }),
    services: z.record(z.string(), z.object({ name: z.string(), host: z.string(), tlsSecretName: z.string() })),
  })
  .superRefine(({ main, services }, ctx) => {
    const entries = Object.values(services);
    for (const service of entries) {
      const prefix = entries.find((other) => other !== service && service.name.startsWith(`${other.name}-`));
      if (prefix !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', service.name, 'name'],
          params: { key: `services.${service.name}` },
          message: ruleMessage(
            `starts with the name of services.${prefix.name} and "-", so its objects could take that service's names`,
            "choose a name that does not start with another app's name",
          ),
        });
      }
    }
    const hosts = new Map<string, string>([[main.host, `the main app (${main.name})`]]);
    for (const service of entries) {
      const owner = hosts.get(service.host);
      if (owner !== undefined && service.host !== '') {
        ctx.addIssue({
          code: 'custom',
          path: ['services', service.name, 'host'],
          message: ruleMessage(`is already the host of ${owner}`, 'give every app a host of its own, e.g. `api.example.com`'),
        });
      }
      hosts.set(service.host, `services.${service.name}`);
    }
    const tlsOwners = new Map<string, string>([[main.tlsSecretName, 'the main app']]);
    for (const service of entries) {
      const owner = tlsOwners.get(service.tlsSecretName);
      if (owner !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', service.name, 'tlsSecretName'],
          message: ruleMessage(
            `is already the TLS Secret of ${owner}; cert-manager would write both certificates into it`,
            `give it its own, e.g. \`${service.name}-tls\` (the default)`,
          ),
        });
      }
      tlsOwners.set(service.tlsSecretName, `services.${service.name}`);
    }
  });

/** A point-in-time recovery names both the cluster to recover from and the time to recover to. */
export const recoveryRule = z
  .object({ recovery: z.object({ sourceClusterName: z.unknown().optional(), targetTime: z.unknown().optional() }).optional() })
  .superRefine(({ recovery }, ctx) => {
    if (recovery !== undefined && (recovery.sourceClusterName === undefined || recovery.targetTime === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['recovery'],
        message: ruleMessage(
          'needs both sourceClusterName and targetTime',
          'e.g. `pulumi config set --path postgres.recovery.targetTime 2026-11-20T08:00:00Z`',
        ),
      });
    }
  });

/** Labels the constructs set on their objects from the app (lib/core/labels.ts `appLabels`): not the stack's to set. */
const CONSTRUCT_LABELS: readonly string[] = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

/**
 * Labels the stack adds to objects (`monitoring.labels`, `monitoring.dashboardLabels`): Kubernetes label keys and
 * values, none of them one the constructs set; `dashboardLabels`, when written, not empty (the Grafana sidecar finds
 * dashboards by label). Each issue names its key and value in `params`.
 */
export const monitoringLabelsRule = z
  .object({ labels: z.record(z.string(), z.unknown()).optional(), dashboardLabels: z.record(z.string(), z.unknown()).optional() })
  .superRefine((fields, ctx) => {
    for (const field of ['labels', 'dashboardLabels'] as const) {
      for (const [name, value] of Object.entries(fields[field] ?? {})) {
        const issue = (key: string, shown: unknown, problem: string, fix: string) =>
          ctx.addIssue({ code: 'custom', path: [field, name], params: { key, value: shown }, message: ruleMessage(problem, fix) });
        if (!isLabelKey(name)) {
          issue(`monitoring.${field}`, name, `"${name}" is not a label key`, 'use a Kubernetes label key, e.g. `release` or `grafana_dashboard`');
        } else if (!isLabelValue(String(value))) {
          issue(`monitoring.${field}.${name}`, value, 'is not a label value', 'use at most 63 letters, digits, "-", "_" or "."');
        } else if (CONSTRUCT_LABELS.includes(name)) {
          issue(
            `monitoring.${field}["${name}"]`,
            value,
            'is a label cutover sets on every object itself',
            'use a label of your own, e.g. `release` or `grafana_dashboard`',
          );
        }
      }
    }
    if (fields.dashboardLabels !== undefined && Object.keys(fields.dashboardLabels).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['dashboardLabels'],
        params: { key: 'monitoring.dashboardLabels' },
        message: ruleMessage(
          'is empty: the Grafana sidecar finds dashboards by label',
          'set the label it watches, e.g. `pulumi config set --path monitoring.dashboardLabels.grafana_dashboard 1`, or remove the key',
        ),
      });
    }
  });

/**
 * What goes with each router (docs/routing.md): the gateway router's own fields are refused with the ingress router,
 * the Ingress-only keys with the gateway router (unless `keepIngress` keeps the Ingress), and a Gateway the stack
 * creates needs its class, lives in the stack's namespace and has the listeners cutover names; the gateway router needs
 * a Gateway. `rateLimitRps` and `ingressClassName` are the raw values of those keys, when set.
 */
export const routerRule = z
  .object({
    routing: z.object({
      router: z.string(),
      gateway: z
        .object({
          name: z.string().optional(),
          namespace: z.string().optional(),
          sectionName: z.string().optional(),
          httpSectionName: z.string().optional(),
          create: z.object({ className: z.string().optional() }).optional(),
        })
        .optional(),
      keepIngress: z.boolean().optional(),
      requestTimeoutSeconds: z.unknown().optional(),
    }),
    rateLimitRps: z.string().optional(),
    ingressClassName: z.string().optional(),
    namespace: z.string(),
  })
  .superRefine(({ routing, rateLimitRps, ingressClassName, namespace }, ctx) => {
    const issue = (path: PropertyKey[], problem: string, fix: string, value?: { value: unknown }) =>
      ctx.addIssue({ code: 'custom', path, message: ruleMessage(problem, fix), ...(value !== undefined ? { params: value } : {}) });
    const { router, gateway, keepIngress, requestTimeoutSeconds } = routing;
    if (router === 'ingress') {
      if (gateway !== undefined) {
        issue(
          ['routing', 'gateway'],
          'is only read by the gateway router, got it with routing.router ingress',
          'remove it, or set routing.router to gateway (docs/routing.md: migrating)',
        );
      }
      if (keepIngress !== undefined) {
        issue(
          ['routing', 'keepIngress'],
          'keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router ingress',
          'remove it',
        );
      }
      if (requestTimeoutSeconds !== undefined) {
        issue(
          ['routing', 'requestTimeoutSeconds'],
          "is the HTTPRoute's request timeout, got it with routing.router ingress",
          "remove it: the Ingress controller's timeouts apply",
        );
      }
      return;
    }
    if (keepIngress !== true && rateLimitRps !== undefined) {
      issue(
        ['rateLimitRps'],
        'has no effect with the gateway router: Gateway API has no rate limit of its own, so it would be dropped without a word',
        'remove it (`pulumi config rm rateLimitRps`) and limit at the Gateway implementation (docs/routing.md: rate ' +
          "limiting, e.g. Envoy Gateway's BackendTrafficPolicy)",
      );
    }
    if (keepIngress !== true && ingressClassName !== undefined) {
      issue(
        ['ingressClassName'],
        'has no effect with the gateway router: no Ingress is rendered',
        'remove it (`pulumi config rm ingressClassName`), or keep the Ingress with `pulumi config set --path routing.router ingress`',
      );
    }
    const create = gateway?.create;
    if (create !== undefined) {
      if (create.className === undefined) {
        issue(
          ['routing', 'gateway', 'create', 'className'],
          'is required',
          'the GatewayClass of the implementation that runs the Gateway (`kubectl get gatewayclass`), e.g. `pulumi config ' +
            'set --path routing.gateway.create.className eg`',
        );
      }
      if (gateway?.namespace !== undefined && gateway.namespace !== namespace) {
        issue(
          ['routing', 'gateway', 'namespace'],
          `is not the stack's namespace (${namespace}): a Gateway the stack creates lives in it`,
          'remove routing.gateway.namespace',
        );
      }
      for (const field of ['sectionName', 'httpSectionName'] as const) {
        if (gateway?.[field] !== undefined) {
          issue(
            ['routing', 'gateway', field],
            'names a listener, and cutover names the listeners of a Gateway it creates (`http`, `https-<app>`)',
            `remove routing.gateway.${field}`,
          );
        }
      }
    } else if (gateway?.name === undefined) {
      issue(
        ['routing', 'gateway', 'name'],
        'is required by the gateway router (the default)',
        'the Gateway the HTTPRoutes attach to: `pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`), ' +
          'or `routing.gateway.create.className` for a Gateway the stack owns, or keep an Ingress with `pulumi config set ' +
          '--path routing.router ingress`',
        { value: undefined },
      );
    }
  });

/** What each `monitoring.alerting` receiver's Secret holds, for the messages. */
const ALERTING_CREDENTIALS = { pager: 'PagerDuty routing key', chat: 'Slack webhook URL' } as const;

/** A receiver of `monitoring.alerting`. */
export type AlertReceiverField = keyof typeof ALERTING_CREDENTIALS;

/** The Secret a receiver reads its credential from: the one given, else the default one (ALERTING_DEFAULTS). */
export function receiverSecret(
  alerting: { readonly [field in AlertReceiverField]?: { readonly secret?: { readonly name?: string; readonly key?: string } } },
  field: AlertReceiverField,
): { readonly name?: string; readonly key?: string } {
  return alerting[field]?.secret ?? ALERTING_DEFAULTS[field].secret;
}

/** Whether the part of a receiver's Secret reference names a Secret (`name`) or one of its keys (`key`). */
export function isSecretPart(part: 'name' | 'key', value: string | undefined): boolean {
  return value !== undefined && value !== '' && (part === 'name' ? isDnsSubdomain(value) : isDataKey(value));
}

/**
 * The receivers of `monitoring.alerting` (when it is on): each receiver that is on reads its credential from a Secret,
 * never from config, so a Secret reference without its name or key is refused rather than defaulted; and at least one
 * receiver is on. Each issue names its key in `params.key`.
 */
export const alertReceiversRule = z
  .object({
    alerting: z.object({
      pager: z
        .object({ enabled: z.boolean().optional(), secret: z.object({ name: z.string().optional(), key: z.string().optional() }).optional() })
        .optional(),
      chat: z
        .object({ enabled: z.boolean().optional(), secret: z.object({ name: z.string().optional(), key: z.string().optional() }).optional() })
        .optional(),
    }),
  })
  .superRefine(({ alerting }, ctx) => {
    for (const field of ['pager', 'chat'] as const) {
      if (alerting[field]?.enabled === false) {
        continue;
      }
      const secret = receiverSecret(alerting, field);
      for (const part of ['name', 'key'] as const) {
        const key = `monitoring.alerting.${field}.secret.${part}`;
        const given = secret[part];
        if (isSecretPart(part, given)) {
          continue;
        }
        const example = `e.g. \`pulumi config set --path ${key} ${ALERTING_DEFAULTS[field].secret[part]}\``;
        const message =
          given === undefined || given === ''
            ? ruleMessage(
                `is required: the ${ALERTING_CREDENTIALS[field]} is read from a Secret, never from config`,
                `${example}, or turn the receiver off with \`pulumi config set --path monitoring.alerting.${field}.enabled false\``,
              )
            : ruleMessage(part === 'name' ? 'is not a Secret name' : 'is not a Secret key (letters, digits, "-", "_" and ".")', example);
        ctx.addIssue({ code: 'custom', path: ['alerting', field, 'secret', part], params: { key, value: given }, message });
      }
    }
    if (alerting.pager?.enabled === false && alerting.chat?.enabled === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerting'],
        params: { key: 'monitoring.alerting' },
        message: ruleMessage(
          'turns both receivers off, so no alert would notify anyone',
          'turn one on, or alert routing off with `pulumi config set --path monitoring.alerting.enabled false`',
        ),
      });
    }
  });

/**
 * The name of a `services` entry: a DNS label that leaves room for its objects' suffixes, and not the main app's
 * name or a name under it (`<app>-gate-blue`, `<app>-db`, `<app>-preview`, ... are names the main app's objects use).
 */
export const serviceNameRule = z.object({ name: z.string(), app: z.string() }).superRefine(({ name, app }, ctx) => {
  const issue = (problem: string, fix: string) => ctx.addIssue({ code: 'custom', path: ['name'], message: ruleMessage(problem, fix) });
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 50) {
    issue('needs a name that is a lowercase DNS label of at most 50 characters starting with a letter', 'e.g. `services.api`');
  } else if (name === app) {
    issue(`has the name of the main app (app: ${app})`, 'give the service another name, or rename the main app with `app`');
  } else if (name.startsWith(`${app}-`)) {
    issue(
      `starts with the main app's name and "-" (app: ${app}), so its objects could take the names of the main app's`,
      'choose a name that does not start with it, e.g. `api`',
    );
  }
});

/**
 * The fields of a `services.<name>` entry that have rules of their own, as the entry resolves them (its own value, else
 * the main app's): a host, at least one replica, ports an unprivileged container can serve, Secret names. `main` holds
 * the main app's ports, for the examples. Only the fields given are checked, so the parse can report each field's
 * problems in the order of the entry's other checks; `host` is checked when the key is given, set or not.
 */
export const serviceFieldsRule = z
  .object({
    name: z.string(),
    main: z.object({ port: z.number(), metricsPort: z.number() }),
    host: z.string().optional(),
    replicas: z.number().optional(),
    port: z.number().optional(),
    metricsPort: z.number().optional(),
    secretNames: z.array(z.string()).optional(),
    tlsSecretName: z.string().optional(),
  })
  .superRefine((entry, ctx) => {
    const { name, main, host, replicas, port, metricsPort, secretNames, tlsSecretName } = entry;
    const key = `services.${name}`;
    const issue = (path: string, problem: string, fix: string) =>
      ctx.addIssue({ code: 'custom', path: [path], params: { key: `${key}.${path}` }, message: ruleMessage(problem, fix) });
    if ('host' in entry && host === undefined) {
      issue('host', 'is required', `the DNS name the service answers on: \`pulumi config set --path ${key}.host ${name}.example.com\``);
    }
    if (replicas !== undefined && replicas < 1) {
      issue('replicas', 'must be at least 1', `e.g. \`pulumi config set --path ${key}.replicas 3\``);
    }
    for (const [field, value] of [
      ['port', port],
      ['metricsPort', metricsPort],
    ] as const) {
      if (value !== undefined && (value < 1024 || value > 65535)) {
        issue(field, 'must be a whole number from 1024 to 65535', `e.g. \`pulumi config set --path ${key}.${field} ${main[field]}\``);
      }
    }
    if (secretNames !== undefined && !secretNames.every(isDnsSubdomain)) {
      issue('secretNames', 'must be a list of Secret names', `e.g. \`pulumi config set --path '${key}.secretNames[0]' ${name}-secrets\``);
    }
    if (tlsSecretName !== undefined && !isDnsSubdomain(tlsSecretName)) {
      issue('tlsSecretName', 'is not a Secret name', 'use lowercase letters, digits, "-" and "."');
    }
  });

/**
 * The color about to be live (`key` is its config key, e.g. `blue` or `services.api.green`): it has an image, is not
 * scaled to 0, and in production runs at least 3 replicas when it sets its own count.
 */
export const liveColorRule = z
  .object({
    key: z.string(),
    activeColor: z.string(),
    production: z.boolean(),
    image: z.string().optional(),
    replicas: z.number().optional(),
  })
  .superRefine(({ key, activeColor, production, image, replicas }, ctx) => {
    const issue = (field: string, problem: string, fix: string, value: unknown) =>
      ctx.addIssue({ code: 'custom', path: [field], params: { key: `${key}.${field}`, value }, message: ruleMessage(problem, fix) });
    if (image === undefined) {
      issue(
        'image',
        'the live color has no image',
        `set \`pulumi config set --path ${key}.image <image:tag>\` before making ${activeColor} live`,
        undefined,
      );
    }
    if (replicas === 0) {
      issue(
        'replicas',
        `cannot make a color scaled to 0 live (activeColor is ${activeColor})`,
        `scale it up first: \`pulumi config rm --path ${key}.replicas\`, \`pulumi up\`, then cut over`,
        0,
      );
    }
    if (production && replicas !== undefined && replicas > 0 && replicas < 3) {
      issue(
        'replicas',
        'production runs at least 3 replicas of the live color',
        'remove it or set it to 3 or more; a non-production stack sets `production: false`',
        replicas,
      );
    }
  });

/**
 * One color of an app (`key`, e.g. `green` or `services.api.blue`) against the app's sizes: production pins its image,
 * the PodDisruptionBudget leaves a deployed color a pod running, and the color fits under maxReplicas. `size` is the
 * color's replicas (its own, else the app's); `ownReplicas` whether it sets its own; `latest` whether its image is
 * `:latest` (absent without an image, or one that does not parse).
 */
export const colorSizeRule = z
  .object({
    key: z.string(),
    production: z.boolean(),
    image: z.string().optional(),
    latest: z.boolean().optional(),
    size: z.number(),
    ownReplicas: z.boolean(),
    maxUnavailable: z.number(),
    maxReplicas: z.number(),
  })
  .superRefine(({ key, production, image, latest, size, ownReplicas, maxUnavailable, maxReplicas }, ctx) => {
    const issue = (field: string, problem: string, fix: string, value: unknown) =>
      ctx.addIssue({ code: 'custom', path: [field], params: { key: `${key}.${field}`, value }, message: ruleMessage(problem, fix) });
    if (production && latest === true) {
      issue('image', 'production does not run `:latest`', 'pin a release tag or a digest, e.g. `:1.4.2` or `@sha256:…`', image);
    }
    if (image !== undefined && size > 0 && size <= maxUnavailable) {
      issue(
        'replicas',
        `the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once and would leave none running`,
        `run at least ${maxUnavailable + 1} replicas${ownReplicas ? '' : ' (replicas)'} or lower maxUnavailable`,
        size,
      );
    }
    if (size > maxReplicas) {
      issue('replicas', `exceeds maxReplicas (${maxReplicas})`, 'lower it or raise maxReplicas', size);
    }
  });

/**
 * A host of an Ingress rule or HTTPRoute (`key`, e.g. `host` or `services.api.host`): a DNS name, never an IP address
 * (the API server refuses one).
 */
export const hostRule = z.object({ key: z.string(), host: z.string(), example: z.string() }).superRefine(({ key, host, example }, ctx) => {
  const issue = (problem: string, fix: string) =>
    ctx.addIssue({ code: 'custom', path: ['host'], params: { key }, message: ruleMessage(problem, fix) });
  if (isIP(host) !== 0 || /^[0-9.]+$/.test(host)) {
    issue(
      'is an IP address; Ingress and HTTPRoute hosts must be DNS names',
      `use the DNS name clients call, such as \`${example}\`, pointed at the load balancer`,
    );
  } else if (!isDnsName(host)) {
    issue('is not a DNS name', `use a lowercase fully qualified name such as \`${example}\``);
  }
});

/** The names of an app's settings (`key`, e.g. `settings` or `services.api.settings`), which become the keys of its ConfigMap. */
export const settingsKeysRule = z.object({ key: z.string(), settings: z.record(z.string(), z.unknown()) }).superRefine(({ key, settings }, ctx) => {
  for (const name of Object.keys(settings).filter((name) => !isDataKey(name))) {
    ctx.addIssue({
      code: 'custom',
      path: ['settings', name],
      params: { key: `${key}.${name}`, value: name },
      message: ruleMessage(
        'is not a ConfigMap key (letters, digits, "-", "_" and "." only)',
        'name it like an environment variable, e.g. `LOG_LEVEL`',
      ),
    });
  }
});

/** What each field of a color is, for the message of a value that is not: the problem and the fix, by the color's key. */
const COLOR_FIELD_PROBLEMS: Readonly<Record<keyof typeof colorValueSchema.shape, (key: string, replicas: number) => [string, string]>> = {
  // `pulumi config set --path` stores 1 and true as a number and a boolean; quoting them in the shell does not help.
  image: (key) => ['must be a string', `set it as one: \`pulumi config set --path --type string ${key}.image <reference>\``],
  replicas: (key, replicas) => ['must be a whole number of at least 0', `e.g. \`pulumi config set --path ${key}.replicas ${replicas}\``],
  env: (key) => ['must map names to string values', `e.g. \`pulumi config set --path ${key}.env.FEATURE_X on\``],
};

const COLOR_FIELDS = Object.keys(colorValueSchema.shape) as (keyof typeof colorValueSchema.shape)[];

/**
 * One color's value as the config file holds it (`key`, e.g. `blue` or `services.api.green`; `value` of any type):
 * an object of {@link colorValueSchema}'s fields, each of its type. Unknown fields come first, in the file's order,
 * then each field of the wrong type. `replicas` is the app's, for the example.
 */
export const colorFieldsRule = z
  .object({ key: z.string(), value: z.unknown(), replicas: z.number() })
  .superRefine(({ key, value, replicas }, ctx) => {
    const issue = (field: string | undefined, problem: string, fix: string, found: unknown) =>
      ctx.addIssue({
        code: 'custom',
        path: field === undefined ? ['value'] : ['value', field],
        params: { key: field === undefined ? key : `${key}.${field}`, value: found },
        message: ruleMessage(problem, fix),
      });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issue(
        undefined,
        'must be an object with image, replicas and env',
        `e.g. \`pulumi config set --path ${key}.image registry.example.com/acme/web:1.4.2\``,
        value,
      );
      return;
    }
    const fields = value as Record<string, unknown>;
    for (const field of Object.keys(fields).filter((field) => !(COLOR_FIELDS as string[]).includes(field))) {
      issue(field, 'is not a color field', `use one of ${COLOR_FIELDS.join(', ')}${hintFor(field, COLOR_FIELDS)}`, fields[field]);
    }
    for (const field of COLOR_FIELDS.filter((field) => !colorValueSchema.shape[field].safeParse(fields[field]).success)) {
      issue(field, ...COLOR_FIELD_PROBLEMS[field](key, replicas), fields[field]);
    }
  });
