import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_NAMESPACE } from './config';

/**
 * Reads `Pulumi.<stack>.yaml` into the raw form Pulumi hands a program (`namespace:key` → string, structured
 * values as JSON), so offline rendering sees exactly what `pulumi up` would.
 */
export function readStackFile(projectDir: string, stack: string): Record<string, string> {
  const path = join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(path)) {
    throw new Error(`stack: no Pulumi.${stack}.yaml in ${projectDir}, got "${stack}"; use an existing stack name, e.g. staging or prod`);
  }
  return readConfigFile(path);
}

/** Reads a stack config file (what `pulumi --config-file` takes) into the raw form Pulumi hands a program. */
export function readConfigFile(path: string): Record<string, string> {
  if (!existsSync(path)) {
    throw new Error(`--config-file: no such file, got "${path}"; give the path of a Pulumi.<stack>.yaml`);
  }
  const document = (parse(readFileSync(path, 'utf8')) ?? {}) as { config?: Record<string, unknown> };
  return toRawConfig(document.config ?? {});
}

/** Converts parsed stack-file config values to the strings Pulumi passes to a program. */
export function toRawConfig(config: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
}

/**
 * Applies `key=value` overrides as `pulumi config set [--path]` would: `activeColor=green`, `cutover:replicas=4` (a
 * plain key: the value is stored as a string), `green.image=repo:tag`, `gate.enabled=false`, `secretNames[0]=web`,
 * `'network.gatewayPodLabels["app.kubernetes.io/name"]=envoy'` (a path into the key's object or list: `true` and
 * `false` are stored as booleans, whole numbers as numbers, anything else as a string). Keys without a namespace
 * are the project's.
 */
export function applyOverrides(raw: Readonly<Record<string, string>>, overrides: readonly string[]): Record<string, string> {
  const result: Record<string, string> = { ...raw };
  for (const override of overrides) {
    const { path, value } = splitOverride(override);
    const [first, ...rest] = configPath(path, override);
    const key = first.includes(':') ? first : `${CONFIG_NAMESPACE}:${first}`;
    if (rest.length === 0) {
      result[key] = value;
      continue;
    }
    const root = structuredRoot(key, result[key], override, typeof rest[0] === 'number');
    let node: Container = root;
    rest.forEach((segment, index) => {
      const next = rest[index + 1];
      if (Array.isArray(node) !== (typeof segment === 'number')) {
        throw new Error(
          `--config ${override}: ${pathText(first, rest.slice(0, index))} is ` +
            `${Array.isArray(node) ? 'a list' : 'an object'}; ${Array.isArray(node) ? 'index it with [n]' : 'name a field with .field'}`,
        );
      }
      if (Array.isArray(node) && (segment as number) > node.length) {
        throw new Error(
          `--config ${override}: ${pathText(first, rest.slice(0, index))} has ${node.length} item(s), got index ${segment}; ` +
            `set [${node.length}] to add one`,
        );
      }
      const slots = node as Record<string | number, unknown>;
      if (next === undefined) {
        slots[segment] = typed(value);
      } else {
        const current = slots[segment];
        slots[segment] = typeof current === 'object' && current !== null ? current : typeof next === 'number' ? [] : {};
        node = slots[segment] as Container;
      }
    });
    result[key] = JSON.stringify(root);
  }
  return result;
}

type Container = Record<string, unknown> | unknown[];

function splitOverride(override: string): { path: string; value: string } {
  const separator = override.indexOf('=');
  if (separator <= 0) {
    throw new Error(`--config: expected key=value, got "${override}"; e.g. --config activeColor=green`);
  }
  return { path: override.slice(0, separator), value: override.slice(separator + 1) };
}

/** What `pulumi config set --path` stores for a value: booleans and whole numbers as such, anything else as a string. */
function typed(value: string): string | number | boolean {
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
}

/** A Pulumi config path (`a.b[0]`, `a["b.c"]`) as its segments: field names, and list indices as numbers. */
function configPath(path: string, override: string): [string, ...(string | number)[]] {
  const segments: (string | number)[] = [];
  const pattern = /\.?([^.[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/y;
  let at = 0;
  while (at < path.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(path);
    if (match === null || (match[1] !== undefined && at > 0 && path[at] !== '.')) {
      throw new Error(
        `--config ${override}: "${path}" is not a config path at "${path.slice(at)}"; e.g. gate.enabled=false, ` +
          `secretNames[0]=web or 'labels["a.b/c"]=x'`,
      );
    }
    segments.push(match[1] ?? (match[2] !== undefined ? Number(match[2]) : (JSON.parse(`"${match[3]}"`) as string)));
    at = pattern.lastIndex;
  }
  const [first, ...rest] = segments;
  if (typeof first !== 'string') {
    throw new Error(`--config ${override}: a path starts with a key, got "${path}"; e.g. secretNames[0]=web`);
  }
  return [first, ...rest];
}

function pathText(first: string, rest: readonly (string | number)[]): string {
  return (
    first +
    rest
      .map((segment) => (typeof segment === 'number' ? `[${segment}]` : /^[^.[\]"]+$/.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`))
      .join('')
  );
}

/** The structured value a `--config a.b=c` override goes into; a clear error when `a` holds a single value. */
function structuredRoot(key: string, current: string | undefined, override: string, list: boolean): Container {
  if (current === undefined) {
    return list ? [] : {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(current);
  } catch {
    parsed = current;
  }
  const name = key.slice(key.indexOf(':') + 1);
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error(
      `--config ${override}: ${key} is a single value (${JSON.stringify(parsed)}), not an object with fields; set it ` +
        `whole, e.g. --config ${name}=<value>`,
    );
  }
  if (Array.isArray(parsed) !== list) {
    const fix = list ? `name a field, e.g. --config ${name}.<field>=<value>` : `index it, e.g. --config ${name}[0]=<value>`;
    throw new Error(`--config ${override}: ${key} is ${list ? 'an object with fields, not a list' : 'a list, not an object with fields'}; ${fix}`);
  }
  return parsed as Container;
}
