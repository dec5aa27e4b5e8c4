import { createHash } from 'node:crypto';

/**
 * The first `digits` hex digits of the SHA-256 of `value` as canonical JSON (object keys sorted, undefined fields left
 * out): the same rendered spec always gives the same hash, whatever order its fields were set in.
 */
export function shortHash(value: unknown, digits = 8): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, digits);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
