// A generator of stack configurations, as a new user would write them: every config key and every field of the
// structured ones (from CONFIG_SHAPES, so a new field is tried without touching this file), each set to values at
// and past its bounds, of the wrong type, and odd (empty, spaces, capitals, an IP address, too long), one change at
// a time on top of a shipped stack file, plus seeded combinations of changes. Deterministic: the same cases every run.
// Used by the unit property test (test/stacks/config-property.test.ts) and the server-side dry run (test/e2e/dry-run.e2e.test.ts).
import { CONFIG_KEYS, CONFIG_NAMESPACE, CONFIG_SHAPES, ConfigShape } from '../stacks/config';
import { readStackFile } from '../stacks/stack-file';

/** One generated configuration: a stack file and the changes made to it. */
export interface ConfigCase {
  /** `prod: replicas=0`, readable in a failure message. */
  readonly name: string;
  readonly stack: 'prod' | 'staging';
  readonly raw: Readonly<Record<string, string>>;
}

type Leaf = ConfigShape[string];

const INTEGERS = [-1, 0, 1, 2, 3, 10, 65535, 65536, 2147483647, 2147483648, 1.5];
const NUMBERS = [-0.5, 0, 0.0001, 0.05, 0.5, 0.999, 1, 1.5, 30];
const STRINGS = ['', ' ', 'x', 'Upper', 'a b', '10.0.0.1', 'a'.repeat(70), 'web-2', 'svc.example.com'];

/** Values worth trying for a field, by its type and, for strings, by what its name says it holds. */
function valuesFor(name: string, type: Leaf): unknown[] {
  switch (type) {
    case 'integer':
      return [...INTEGERS, 'three'];
    case 'number':
      return [...NUMBERS, 'half'];
    case 'boolean':
      return [true, false, 'yes'];
    case 'string[]':
      return [[], ['a'], ['A B'], [''], 'a'];
    case 'map':
      return [{}, { a: 'b' }, { 'bad key': 'v' }, { A: '' }, 'a=b'];
    case 'list':
      return [[], [{}], 'x'];
    case 'string':
      return [...STRINGS, ...namedStrings(name), 5];
    default:
      return [{}, 'x'];
  }
}

function namedStrings(name: string): string[] {
  const lower = name.toLowerCase();
  if (lower.includes('image')) return ['registry.example.com/acme/web:1.2.3', 'acme/web', 'acme/web:latest', 'ACME/web:1', 'acme/web@sha256:abc'];
  if (lower.endsWith('path')) return ['/', '/ready', 'ready', '/a b', '/a#b'];
  if (lower.includes('url')) return ['http://prometheus-operated.monitoring.svc:9090', 'https://runbooks.example.com/', 'ftp://x', 'not a url'];
  if (lower.includes('size')) return ['1Gi', '0Gi', '10', 'abc', '100Ti'];
  if (/(wait|interval|window)$/.test(lower)) return ['5m', '30s', '1h30m', 'soon', '0s'];
  if (lower.includes('time')) return ['2026-11-30T10:00:00Z', 'yesterday'];
  if (lower.includes('cpu')) return ['100m', '0m', '2', '1.5', 'abc'];
  if (lower.includes('memory') || lower.includes('storage')) return ['256Mi', '0Mi', '1Gi', '1G', 'abc'];
  if (lower === 'mode') return ['sentinel', 'replication', 'cluster', 'standalone'];
  if (lower === 'router') return ['gateway', 'ingress', 'nginx'];
  if (lower.endsWith('sectionname')) return ['https', 'http', 'tls.main'];
  if (lower === 'classname') return ['eg', 'traefik', 'Envoy Gateway'];
  if (lower.includes('affinity')) return ['required', 'preferred', 'none'];
  if (lower === 'operator') return ['Equal', 'Exists', 'Like'];
  if (lower === 'effect') return ['NoSchedule', 'NoExecute', 'Sometimes'];
  if (lower.includes('policy')) return ['30d', '4w', 'forever'];
  if (lower.includes('host')) return ['api.example.com', 'API.example.com', '*.example.com', 'localhost'];
  return [];
}

/** The top-level keys that are not structured, with their types. */
const SCALARS: Readonly<Record<string, Leaf>> = {
  activeColor: 'string',
  host: 'string',
  namespace: 'string',
  tlsSecretName: 'string',
  idleReplicas: 'integer',
  production: 'boolean',
  app: 'string',
  replicas: 'integer',
  maxReplicas: 'integer',
  maxUnavailable: 'integer',
  targetCpuUtilization: 'integer',
  targetMemoryUtilization: 'integer',
  port: 'integer',
  metricsPort: 'integer',
  readinessPath: 'string',
  livenessPath: 'string',
  settings: 'map',
  secretNames: 'string[]',
  clusterIssuer: 'string',
  ingressClassName: 'string',
  rateLimitRps: 'integer',
  drainSeconds: 'integer',
  shutdownSeconds: 'integer',
  deployTimeoutSeconds: 'integer',
  trafficWeight: 'integer',
  podSecurityVersion: 'string',
};

/** The fields of keys whose shape parse checks by hand. */
const HAND_CHECKED: Readonly<Record<string, ConfigShape>> = {
  blue: { image: 'string', replicas: 'integer', env: 'map' },
  green: { image: 'string', replicas: 'integer', env: 'map' },
  resources: {
    cpuRequest: 'string',
    cpuLimit: 'string',
    memoryRequest: 'string',
    memoryLimit: 'string',
    ephemeralStorageRequest: 'string',
    ephemeralStorageLimit: 'string',
  },
};

/** A second app, so that `services.api.*` can be tried field by field. */
const API = {
  blue: { image: 'registry.example.com/acme/api:1.0.0' },
  green: { image: 'registry.example.com/acme/api:1.0.0' },
  host: 'api.example.com',
};

/** Every field path (`postgres.backup.secretName`) with its type, each key of CONFIG_KEYS included. */
export function configFields(): { path: string[]; type: Leaf }[] {
  const fields: { path: string[]; type: Leaf }[] = [];
  const walk = (path: string[], shape: ConfigShape): void => {
    for (const [field, type] of Object.entries(shape)) {
      if (typeof type === 'object') {
        walk([...path, field], type);
      } else {
        fields.push({ path: [...path, field], type });
      }
    }
  };
  for (const [key, type] of Object.entries(SCALARS)) {
    fields.push({ path: [key], type });
  }
  for (const [key, shape] of Object.entries({ ...HAND_CHECKED, ...CONFIG_SHAPES.keys })) {
    walk([key], shape);
  }
  walk(['services', 'api'], CONFIG_SHAPES.service);
  for (const [list, shape] of Object.entries(CONFIG_SHAPES.listItems)) {
    walk([...list.split('.'), '0'], shape);
  }
  return fields;
}

/** The keys of CONFIG_KEYS the generator never tries: must stay empty. */
export function untriedKeys(): string[] {
  const tried = new Set(configFields().map((field) => field.path[0]));
  return CONFIG_KEYS.filter((key) => !tried.has(key));
}

/** `raw` with the value at `path` (under `cutover:`) set, stored as `pulumi config set [--path]` stores it. */
export function withValue(raw: Readonly<Record<string, string>>, path: readonly string[], value: unknown): Record<string, string> {
  const key = `${CONFIG_NAMESPACE}:${path[0]}`;
  if (path.length === 1) {
    return { ...raw, [key]: typeof value === 'string' ? value : JSON.stringify(value) };
  }
  const root = parseObject(raw[key]);
  let node: Record<string, unknown> = root;
  for (const [index, segment] of path.slice(1, -1).entries()) {
    const next = path[index + 2];
    if (typeof node[segment] !== 'object' || node[segment] === null) {
      node[segment] = /^\d+$/.test(next) ? [] : {};
    }
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
  return { ...raw, [key]: JSON.stringify(root) };
}

function parseObject(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A small seeded PRNG (mulberry32): the same combinations every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every field of every key at each of its values, one change at a time on the prod stack file (the staging one for
 * every other field), then `combinations` seeded cases of 2 to 4 changes at once.
 */
export function configCases(root: string, combinations = 150): ConfigCase[] {
  const files = { prod: readStackFile(root, 'prod'), staging: readStackFile(root, 'staging') };
  const base = (stack: 'prod' | 'staging', path: readonly string[]): Record<string, string> =>
    path[0] === 'services' ? withValue(files[stack], ['services'], { api: API }) : { ...files[stack] };
  const cases: ConfigCase[] = [];
  const changes: { path: string[]; value: unknown }[] = [];
  configFields().forEach(({ path, type }, fieldIndex) => {
    const stack = fieldIndex % 2 === 0 ? 'prod' : 'staging';
    for (const value of valuesFor(path[path.length - 1], type)) {
      changes.push({ path, value });
      cases.push({ name: `${stack}: ${path.join('.')}=${JSON.stringify(value)}`, stack, raw: withValue(base(stack, path), path, value) });
    }
  });
  const next = random(20261201);
  for (let i = 0; i < combinations; i++) {
    const stack = next() < 0.5 ? 'prod' : 'staging';
    const picked = Array.from({ length: 2 + Math.floor(next() * 3) }, () => changes[Math.floor(next() * changes.length)]);
    let raw = base(stack, picked.some((change) => change.path[0] === 'services') ? ['services'] : []);
    for (const change of picked) {
      raw = withValue(raw, change.path, change.value);
    }
    cases.push({ name: `${stack}: ${picked.map((change) => `${change.path.join('.')}=${JSON.stringify(change.value)}`).join(', ')}`, stack, raw });
  }
  return cases;
}
