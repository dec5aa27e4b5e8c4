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
 * Applies `key=value` overrides, as `pulumi config set [--path]` would: `activeColor=green`,
 * `green.image=repo:tag`, `cutover:replicas=4`. Keys without a namespace are the project's.
 */
export function applyOverrides(raw: Readonly<Record<string, string>>, overrides: readonly string[]): Record<string, string> {
  const result: Record<string, string> = { ...raw };
  for (const override of overrides) {
    const separator = override.indexOf('=');
    if (separator <= 0) {
      throw new Error(`--config: expected key=value, got "${override}"; e.g. --config activeColor=green`);
    }
    const path = override.slice(0, separator);
    const value = override.slice(separator + 1);
    const [first, ...rest] = path.split('.');
    const key = first.includes(':') ? first : `${CONFIG_NAMESPACE}:${first}`;
    if (rest.length === 0) {
      result[key] = value;
      continue;
    }
    const root = structuredRoot(key, result[key], override);
    let node: Record<string, unknown> = root;
    for (const segment of rest.slice(0, -1)) {
      node[segment] = typeof node[segment] === 'object' && node[segment] !== null ? node[segment] : {};
      node = node[segment] as Record<string, unknown>;
    }
    // As `pulumi config set --path` stores them: whole numbers and true/false as such, anything else as a string.
    node[rest[rest.length - 1]] = /^\d+$/.test(value) ? Number(value) : value === 'true' ? true : value === 'false' ? false : value;
    result[key] = JSON.stringify(root);
  }
  return result;
}

/** The structured value a `--config a.b=c` override goes into; a clear error when `a` holds a single value. */
function structuredRoot(key: string, current: string | undefined, override: string): Record<string, unknown> {
  if (current === undefined) {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(current);
  } catch {
    parsed = current;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const name = key.slice(key.indexOf(':') + 1);
    throw new Error(`--config ${override}: ${key} is a single value (${JSON.stringify(parsed)}), not an object with fields; set it whole, e.g. --config ${name}=<value>`);
  }
  return parsed as Record<string, unknown>;
}
