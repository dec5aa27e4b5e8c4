import { z } from 'zod';
import { Fail, hintFor } from './errors';
import {
  gateCheckSchema,
  gateSchema,
  migrationsSchema,
  monitoringSchema,
  networkSchema,
  operatorsSchema,
  postgresSchema,
  preflightSchema,
  redisSchema,
  routingSchema,
  schedulingSchema,
  serviceSchema,
  tolerationSchema,
} from './schema';

/** The type of one field of a structured config value, or the fields of a nested object. */
export type ConfigShape = { readonly [field: string]: 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'map' | 'list' | ConfigShape };

type Leaf = Exclude<ConfigShape[string], ConfigShape>;

/** A schema without its optional and default wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  const def = schema.def as { type: string; innerType?: z.ZodType };
  return (def.type === 'optional' || def.type === 'default') && def.innerType !== undefined ? unwrap(def.innerType) : schema;
}

/** How a field is stored in a structured value, which is what a config file can get wrong about it. */
function leafOf(schema: z.ZodType): Leaf | ConfigShape {
  const inner = unwrap(schema);
  const def = inner.def as { type: string; element?: z.ZodType };
  switch (def.type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return (inner as z.ZodNumber).format === 'safeint' ? 'integer' : 'number';
    case 'record':
      return 'map';
    case 'array':
      return def.element !== undefined && unwrap(def.element).def.type === 'object' ? 'list' : 'string[]';
    case 'object':
      return shapeOf(inner as z.ZodObject);
    default:
      throw new Error(`config schema: no shape for a ${def.type} field`);
  }
}

/** The fields of an object schema, as {@link checkShape} checks them. */
export function shapeOf(schema: z.ZodObject): ConfigShape {
  return Object.fromEntries(Object.entries(schema.shape).map(([name, field]) => [name, leafOf(field as z.ZodType)]));
}

/**
 * The fields of every structured key as parse checks them, and of the items of its lists: what a config generator
 * walks (test/config-cases.ts) to try every field. A `services.<name>` entry is without `blue` and `green` (checked
 * like the main app's).
 */
export const CONFIG_SHAPES = {
  keys: {
    postgres: shapeOf(postgresSchema),
    redis: shapeOf(redisSchema),
    operators: shapeOf(operatorsSchema),
    preflight: shapeOf(preflightSchema),
    monitoring: shapeOf(monitoringSchema),
    gate: shapeOf(gateSchema),
    migrations: shapeOf(migrationsSchema),
    routing: shapeOf(routingSchema),
    scheduling: shapeOf(schedulingSchema),
    network: shapeOf(networkSchema),
  },
  service: shapeOf(serviceSchema.omit({ blue: true, green: true })),
  listItems: { 'gate.checks': shapeOf(gateCheckSchema), 'scheduling.tolerations': shapeOf(tolerationSchema) },
} as const;

/** Checks `value` against `shape`, reporting unknown fields (with a suggestion) and wrong types. */
export function checkShape(key: string, value: unknown, shape: ConfigShape, fail: Fail): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(
      key,
      'must be an object',
      value,
      `set its fields with \`pulumi config set --path ${key}.<field> <value>\`; fields: ${Object.keys(shape).join(', ')}`,
    );
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
      const expected =
        { integer: 'a whole number', 'string[]': 'a list of strings', map: 'a map of names to strings', list: 'a list' }[type as string] ??
        `a ${type}`;
      const example = type === 'string[]' ? `\`pulumi config set --path '${path}[0]' <value>\`` : `\`pulumi config set --path ${path} <value>\``;
      fail(path, `must be ${expected}`, fieldValue, `e.g. ${example}`);
      ok = false;
    }
  }
  return ok;
}

/** A map of names to strings, as Pulumi stores one (numbers and booleans become strings); undefined for anything else. */
export function stringMap(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!entries.every(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) {
    return undefined;
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v)]));
}
