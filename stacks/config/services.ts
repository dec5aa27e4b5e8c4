import { z } from 'zod';
import { isIP } from 'node:net';
import { Color, ColorSpec, ImageRef, isDataKey, isDnsName, otherColor } from '../../lib';
import { ConfigProblem, Fail, hintFor } from './errors';
import { CONFIG_SCHEMAS, checkRules, checkShape, checkValue, stringMap } from './shape';
import { GateCheckConfig, ServiceEntryConfig, colorSchema, serviceSchema } from './schema';
import {
  colorSizeRule,
  distinctPortsRule,
  liveColorRule,
  productionReplicasRule,
  replicaBoundsRule,
  serviceFieldsRule,
  serviceNameRule,
  weightedShiftRule,
} from './rules';

const COLOR_KEYS = Object.keys(colorSchema.shape);

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

/** A host of an Ingress rule or HTTPRoute: a DNS name, never an IP address (the API server refuses one). */
export function checkHost(key: string, host: string, example: string, fail: Fail): void {
  if (isIP(host) !== 0 || /^[0-9.]+$/.test(host)) {
    fail(
      key,
      'is an IP address; Ingress and HTTPRoute hosts must be DNS names',
      host,
      `use the DNS name clients call, such as \`${example}\`, pointed at the load balancer`,
    );
  } else if (!isDnsName(host)) {
    fail(key, 'is not a DNS name', host, `use a lowercase fully qualified name such as \`${example}\``);
  }
}

/** The keys of an app's settings, which become the keys of its ConfigMap. */
export function checkSettingsKeys(key: string, settings: Readonly<Record<string, string>>, fail: Fail): void {
  for (const name of Object.keys(settings)) {
    if (!isDataKey(name)) {
      fail(
        `${key}.${name}`,
        'is not a ConfigMap key (letters, digits, "-", "_" and "." only)',
        name,
        'name it like an environment variable, e.g. `LOG_LEVEL`',
      );
    }
  }
}

/** What the colors of an app are checked against: the stack's switch and sizes. */
export interface ColorRules {
  readonly activeColor: Color;
  /** Whether `activeColor` was given and valid (otherwise that problem is already reported). */
  readonly activeValid: boolean;
  readonly production: boolean;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly maxUnavailable: number;
}

/**
 * The `blue` and `green` objects of an app (`prefix` is `''` for the stack's main app, `services.<name>.` for the
 * others): fields, image references, sizes, and what the live color needs.
 */
export function parseColors(
  prefix: string,
  raw: Readonly<Record<Color, unknown>>,
  rules: ColorRules,
  fail: Fail,
  problems: ConfigProblem[],
): Record<Color, ColorSpec> {
  const { activeColor, production, replicas, maxReplicas, maxUnavailable } = rules;
  const colors: Record<Color, ColorSpec> = { blue: {}, green: {} };
  for (const color of ['blue', 'green'] as const) {
    const value = raw[color];
    const key = `${prefix}${color}`;
    if (value === undefined) {
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(
        key,
        'must be an object with image, replicas and env',
        value,
        `e.g. \`pulumi config set --path ${key}.image registry.example.com/acme/web:1.4.2\``,
      );
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
        fail(
          `${key}.replicas`,
          'must be a whole number of at least 0',
          fields.replicas,
          `e.g. \`pulumi config set --path ${key}.replicas ${replicas}\``,
        );
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

  if (rules.activeValid) {
    const live = colors[activeColor];
    checkRules({ key: `${prefix}${activeColor}`, activeColor, production, image: live.image, replicas: live.replicas }, liveColorRule, fail);
  }
  for (const color of ['blue', 'green'] as const) {
    const spec = colors[color];
    const key = `${prefix}${color}`;
    let latest: boolean | undefined;
    if (spec.image !== undefined) {
      try {
        latest = ImageRef.parse(spec.image, `${key}.image`).isLatest;
      } catch (error) {
        problems.push({ key: `${key}.image`, message: (error as Error).message });
      }
    }
    const size = spec.replicas ?? replicas;
    checkRules(
      { key, production, image: spec.image, latest, size, ownReplicas: spec.replicas !== undefined, maxUnavailable, maxReplicas },
      colorSizeRule,
      fail,
    );
  }
  return colors;
}

/** What a `services` entry inherits from, and is checked against. */
export interface ServiceContext {
  readonly main: AppConfig;
  readonly production: boolean;
  readonly activeColor: Color;
  readonly activeValid: boolean;
  readonly maxUnavailable: number;
  readonly trafficWeight: number;
}

/** One `services.<name>` entry: an app beside the main one, with the main app's values as defaults. */
export function parseService(name: string, entry: unknown, context: ServiceContext, fail: Fail, problems: ConfigProblem[]): AppConfig | undefined {
  const key = `services.${name}`;
  const { main, production } = context;
  if (!checkRules({ name, app: main.name }, serviceNameRule, fail, () => key)) {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    fail(key, 'must be an object', entry, `e.g. \`pulumi config set --path ${key}.host ${name}.example.com\``);
    return undefined;
  }
  const { blue, green, ...rest } = entry as Record<string, unknown>;
  if (!checkShape(key, rest, CONFIG_SCHEMAS.service, fail)) {
    return undefined;
  }
  const fields = rest as Omit<ServiceEntryConfig, 'blue' | 'green'>;
  const replicas = fields.replicas ?? main.replicas;
  const maxReplicas = fields.maxReplicas ?? main.maxReplicas;
  const port = fields.port ?? main.port;
  const metricsPort = fields.metricsPort ?? main.metricsPort;
  const secretNames = fields.secretNames ?? [];
  const tlsSecretName = fields.tlsSecretName ?? `${name}-tls`;
  const entryRules = (values: Omit<z.input<typeof serviceFieldsRule>, 'name' | 'main'>) =>
    checkRules({ name, main, ...values }, serviceFieldsRule, fail);
  entryRules({ host: fields.host });
  if (fields.host !== undefined) {
    checkHost(`${key}.host`, fields.host, `${name}.example.com`, fail);
  }
  if (fields.settings !== undefined) {
    checkSettingsKeys(`${key}.settings`, fields.settings, fail);
  }
  if (entryRules({ replicas })) {
    checkRules({ production, replicas, service: true }, productionReplicasRule, fail, (path) => `${key}.${path.join('.')}`);
  }
  checkRules({ replicas, maxReplicas }, replicaBoundsRule, fail, (path) => `${key}.${path.join('.')}`);
  entryRules({ port, metricsPort });
  checkRules({ port, metricsPort }, distinctPortsRule, fail, (path) => `${key}.${path.join('.')}`);
  const readinessPath = fields.readinessPath ?? main.readinessPath;
  const livenessPath = fields.livenessPath ?? main.livenessPath;
  checkValue(`${key}.readinessPath`, readinessPath, serviceSchema.shape.readinessPath, fail);
  checkValue(`${key}.livenessPath`, livenessPath, serviceSchema.shape.livenessPath, fail);
  entryRules({ secretNames, tlsSecretName });
  (fields.gate?.checks ?? []).forEach((check, index) =>
    checkShape(`${key}.gate.checks[${index}]`, check, CONFIG_SCHEMAS.listItems['gate.checks'], fail),
  );
  const colors = parseColors(
    `${key}.`,
    { blue, green },
    { activeColor: context.activeColor, activeValid: context.activeValid, production, replicas, maxReplicas, maxUnavailable: context.maxUnavailable },
    fail,
    problems,
  );
  const idleColor = otherColor(context.activeColor);
  checkRules({ trafficWeight: context.trafficWeight, idleColor, idle: colors[idleColor], service: { name, key } }, weightedShiftRule, fail);
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
