import { z } from 'zod';
import { Color, ColorSpec, ImageRef, otherColor } from '../../lib';
import { ConfigProblem, Fail } from './errors';
import { CONFIG_SCHEMAS, checkRules, checkShape, checkValue, readShape } from './shape';
import { GateCheckConfig, ServiceEntryConfig, colorValueSchema, serviceSchema } from './schema';
import {
  colorFieldsRule,
  colorSizeRule,
  distinctPortsRule,
  hostRule,
  liveColorRule,
  productionReplicasRule,
  replicaBoundsRule,
  serviceFieldsRule,
  serviceNameRule,
  settingsKeysRule,
  weightedShiftRule,
} from './rules';

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

/**
 * The fields of a color's value that are of their types, read as {@link colorValueSchema} reads them (none of a value
 * that is not an object).
 */
function colorSpec(value: unknown): ColorSpec {
  const fields = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const spec: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(colorValueSchema.shape)) {
    const result = schema.safeParse(fields[field]);
    if (result.success && result.data !== undefined) {
      spec[field] = result.data;
    }
  }
  return spec;
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
    if (value !== undefined) {
      checkRules({ key: `${prefix}${color}`, value, replicas }, colorFieldsRule, fail);
      // A color with a wrong field keeps its right ones: what the live color needs is judged on those.
      colors[color] = colorSpec(value);
    }
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
  const fields = readShape<Omit<ServiceEntryConfig, 'blue' | 'green'>>(key, rest, CONFIG_SCHEMAS.service, fail);
  if (fields === undefined) {
    return undefined;
  }
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
    checkRules({ key: `${key}.host`, host: fields.host, example: `${name}.example.com` }, hostRule, fail);
  }
  if (fields.settings !== undefined) {
    checkRules({ key: `${key}.settings`, settings: fields.settings }, settingsKeysRule, fail);
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
