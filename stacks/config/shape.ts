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
  RULE_SEPARATOR,
} from './schema';

/** The type of one field of a structured config value, or the fields of a nested object. */
export type ConfigShape = { readonly [field: string]: 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'map' | 'list' | ConfigShape };

type Leaf = Exclude<ConfigShape[string], ConfigShape>;

/** A schema without its optional and default wrappers. */
export function unwrap(schema: z.ZodType): z.ZodType {
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
 * The object schemas of the structured keys and of the items of their lists, as parse checks them. A
 * `services.<name>` entry is without `blue` and `green` (checked like the main app's).
 */
export const CONFIG_SCHEMAS = {
  keys: {
    postgres: postgresSchema,
    redis: redisSchema,
    operators: operatorsSchema,
    preflight: preflightSchema,
    monitoring: monitoringSchema,
    gate: gateSchema,
    migrations: migrationsSchema,
    routing: routingSchema,
    scheduling: schedulingSchema,
    network: networkSchema,
  },
  service: serviceSchema.omit({ blue: true, green: true }),
  listItems: { 'gate.checks': gateCheckSchema, 'scheduling.tolerations': tolerationSchema },
} as const;

type Shapes<T> = { readonly [K in keyof T]: T[K] extends z.ZodObject ? ConfigShape : Shapes<T[K]> };

function shapesOf<T extends object>(schemas: T): Shapes<T> {
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [name, schema instanceof z.ZodObject ? shapeOf(schema) : shapesOf(schema as object)]),
  ) as Shapes<T>;
}

/**
 * The fields of every structured key as parse checks them, and of the items of its lists: what a config generator
 * walks (test/config-cases.ts) to try every field.
 */
export const CONFIG_SHAPES = shapesOf(CONFIG_SCHEMAS);

/**
 * How a config file can get each kind of field wrong. Maps take numbers and booleans (Pulumi stores them so, and
 * {@link readShape} reads them as strings); lists of objects are lists here, their items checked on their own by parse, which
 * reports an item's problems only once the object holding the list is right.
 */
const LEAF_SCHEMAS: Readonly<Record<Leaf, z.ZodType>> = {
  string: z.string(),
  // Any whole number, like JSON's: the ranges are the parse's, under the key the user wrote.
  integer: z.number().refine(Number.isInteger),
  number: z.number(),
  boolean: z.boolean(),
  'string[]': z.array(z.string()),
  map: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  list: z.array(z.unknown()),
};

/** The schema parse checks a structured value's structure with: strict objects (an unknown field is a typo), nothing required. */
function structureOf(shape: ConfigShape): z.ZodObject {
  return z.strictObject(
    Object.fromEntries(
      Object.entries(shape).map(([name, leaf]) => [name, (typeof leaf === 'object' ? structureOf(leaf) : LEAF_SCHEMAS[leaf]).optional()]),
    ),
  );
}

const STRUCTURES = new WeakMap<z.ZodObject, { shape: ConfigShape; structure: z.ZodObject }>();

function structure(schema: z.ZodObject): { shape: ConfigShape; structure: z.ZodObject } {
  let found = STRUCTURES.get(schema);
  if (found === undefined) {
    const shape = shapeOf(schema);
    found = { shape, structure: structureOf(shape) };
    STRUCTURES.set(schema, found);
  }
  return found;
}

/** One structural problem: where (field names below the key), and whether the field is unknown or of the wrong type. */
interface Misfit {
  readonly path: readonly string[];
  readonly unknownIn?: ConfigShape;
  readonly expected?: Leaf | ConfigShape;
}

/** The field a zod issue is about: its path cut at the first field that is not an object (a list's item, a map's entry). */
function misfitsOf(issue: z.core.$ZodIssue, shape: ConfigShape): Misfit[] {
  let fields: ConfigShape = shape;
  const path: string[] = [];
  for (const segment of issue.path) {
    const leaf = fields[String(segment)];
    path.push(String(segment));
    if (typeof leaf !== 'object') {
      return [{ path, expected: leaf }];
    }
    fields = leaf;
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((name) => ({ path: [...path, name], unknownIn: fields }));
  }
  return [{ path, expected: fields }];
}

/** The value at `path` below `value`, and where each step of it comes in its object (the order the file has them in). */
function locate(value: unknown, path: readonly string[]): { found: unknown; order: number[] } {
  let found = value;
  const order: number[] = [];
  for (const segment of path) {
    const fields = found as Record<string, unknown>;
    order.push(Object.keys(fields).indexOf(segment));
    found = fields[segment];
  }
  return { found, order };
}

function compareOrder(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return a[i] - b[i];
    }
  }
  return a.length - b.length;
}

/** Whether the field at `path` of `schema` takes any string (not one of a list of names): a value `--type string` can fix. */
function isPlainString(schema: z.ZodType, path: readonly string[]): boolean {
  let field: z.ZodType = unwrap(schema);
  for (const segment of path) {
    const def = field.def as { type: string; element?: z.ZodType };
    if (def.type === 'array' && def.element !== undefined) {
      field = unwrap(def.element);
      if (/^\d+$/.test(segment)) {
        continue;
      }
    }
    const next = field.def.type === 'object' ? ((field as z.ZodObject).shape[segment] as z.ZodType | undefined) : undefined;
    if (next === undefined) {
      return false;
    }
    field = unwrap(next);
  }
  return field.def.type === 'string';
}

/**
 * Checks `value` against the structure of `schema` (zod's strict parse), reporting unknown fields (with a suggestion)
 * and wrong types, one problem per field, in the order the value has its fields.
 */
export function checkShape(key: string, value: unknown, schema: z.ZodObject, fail: Fail): boolean {
  const { shape, structure: checker } = structure(schema);
  const result = checker.safeParse(value);
  if (result.success) {
    return true;
  }
  const seen = new Set<string>();
  const misfits = result.error.issues
    .flatMap((issue) => misfitsOf(issue, shape))
    .filter((misfit) => {
      const at = misfit.path.join('.');
      return !seen.has(at) && seen.add(at) !== undefined;
    })
    .map((misfit) => ({ ...misfit, ...locate(value, misfit.path) }))
    .sort((a, b) => compareOrder(a.order, b.order));
  for (const { path, unknownIn, expected, found } of misfits) {
    const at = [key, ...path].join('.');
    if (unknownIn !== undefined) {
      const field = path[path.length - 1];
      const parent = [key, ...path.slice(0, -1)].join('.');
      fail(at, `is not a ${parent} field`, found, `use one of ${Object.keys(unknownIn).join(', ')}${hintFor(field, Object.keys(unknownIn))}`);
    } else if (typeof expected === 'object') {
      fail(
        at,
        'must be an object',
        found,
        `set its fields with \`pulumi config set --path ${at}.<field> <value>\`; fields: ${Object.keys(expected).join(', ')}`,
      );
    } else if (expected !== undefined) {
      const type =
        { integer: 'a whole number', 'string[]': 'a list of strings', map: 'a map of names to strings', list: 'a list' }[expected as string] ??
        `a ${expected}`;
      if (isPlainString(schema, path) && (typeof found === 'number' || typeof found === 'boolean')) {
        // `pulumi config set --path` stores 1 and true as a number and a boolean; quoting them in the shell does not help.
        fail(at, `must be ${type}`, found, `set it as one: \`pulumi config set --path --type string ${at} ${String(found)}\``);
        continue;
      }
      const example = expected === 'string[]' ? `\`pulumi config set --path '${at}[0]' <value>\`` : `\`pulumi config set --path ${at} <value>\``;
      fail(at, `must be ${type}`, found, `e.g. ${example}`);
    }
  }
  return false;
}

/** `value` with the values of its maps (by `shape`) as strings, as the constructs and the API server take them. */
function withStringMaps(value: Record<string, unknown>, shape: ConfigShape): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([name, field]) => {
      const leaf = shape[name];
      if (leaf === 'map') {
        return [name, stringMap(field)];
      }
      return [name, typeof leaf === 'object' ? withStringMaps(field as Record<string, unknown>, leaf) : field];
    }),
  );
}

/**
 * A structured value read through {@link checkShape}: undefined (its problems reported) unless it has the structure
 * of `schema`, and then with the values of its maps as strings. `pulumi config set --path monitoring.labels.tier 1`
 * stores the number 1, which a label, a ConfigMap's data and an environment variable hold as "1".
 */
export function readShape<T>(key: string, value: unknown, schema: z.ZodObject, fail: Fail): T | undefined {
  return checkShape(key, value, schema, fail) ? (withStringMaps(value as Record<string, unknown>, structure(schema).shape) as T) : undefined;
}

/**
 * Checks a value of the right type against its field's schema (ranges, patterns), reporting the first rule it breaks
 * under `key` with the message the schema's `rule` gives it (./schema.ts).
 */
export function checkValue(key: string, value: unknown, schema: z.ZodType, fail: Fail): boolean {
  const result = schema.safeParse(value);
  // Only the schema's rules speak here: a wrong type is checkShape's to report, under the same key.
  const broken = result.success ? undefined : result.error.issues.find((issue) => issue.message.includes(RULE_SEPARATOR));
  if (broken === undefined) {
    return true;
  }
  const [problem, fix] = broken.message.split(RULE_SEPARATOR);
  fail(key, problem, value, fix);
  return false;
}

/**
 * Checks values of the right types against a schema's rules that span them (./schema.ts), reporting each broken one
 * under `keyOf` its path, with the value there (or the key and value the rule names in `params`).
 */
export function checkRules<T extends object>(
  values: T,
  schema: z.ZodType<unknown, T>,
  fail: Fail,
  keyOf: (path: readonly PropertyKey[]) => string = (path) => path.join('.'),
): boolean {
  const result = schema.safeParse(values);
  const broken = result.success ? [] : result.error.issues.filter((issue) => issue.message.includes(RULE_SEPARATOR));
  for (const issue of broken) {
    const [problem, fix] = issue.message.split(RULE_SEPARATOR);
    // A rule names the key and the value it shows itself when they are not the path and the value there.
    const params: { key?: unknown; value?: unknown } = issue.code === 'custom' ? (issue.params ?? {}) : {};
    const value =
      'value' in params ? params.value : issue.path.reduce<unknown>((at, segment) => (at as Record<PropertyKey, unknown>)[segment], values);
    fail(typeof params.key === 'string' ? params.key : keyOf(issue.path), problem, value, fix);
  }
  return broken.length === 0;
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
