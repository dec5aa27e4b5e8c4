// What the config accepts renders objects without a hole in them; what it refuses, it refuses with a message a user
// can act on. Over every generated configuration (test/config-cases.ts); the server-side dry run of the accepted
// ones is test/e2e/dry-run.e2e.test.ts.
import { describe, expect, it } from 'vitest';
import { bytes, millicores, namespacePeak } from '../../lib';
import { ConfigError } from '../../stacks/config';
import { synthesize } from '../../stacks/synthesize';
import { configCases, configFields, untriedKeys } from '../config-cases';

const ROOT = `${__dirname}/../..`;
const CASES = configCases(ROOT);

/** After `<key>: `, the rest of `<key>: <problem>, got <value>; <fix>`. */
const PROBLEM = /^\S.*, got .+; \S.+/s;
/** Text no rendered value may hold: a template filled with nothing. */
const HOLES = /\bundefined\b|\bNaN\b|\[object Object\]|\bnull\{/;

/** Every string in `value` with its path, but the containers' scripts (`command`, `args`), which test for NaN themselves. */
function stringsOf(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringsOf(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => (key === 'command' || key === 'args' ? [] : stringsOf(item, `${path}.${key}`)));
  }
  return [];
}

describe('every generated configuration', () => {
  it('tries every config key, and a few hundred configurations', () => {
    expect(untriedKeys()).toEqual([]);
    expect(configFields().length).toBeGreaterThan(100);
    expect(CASES.length).toBeGreaterThan(1000);
  });

  it('renders without holes and with a quota that holds its peak, or is refused with one actionable message per problem, and never crashes', () => {
    let accepted = 0;
    const crashes: string[] = [];
    const badMessages: string[] = [];
    const holes: string[] = [];
    const quotaShort: string[] = [];
    for (const config of CASES) {
      try {
        const { objects } = synthesize(config.raw, config.stack);
        accepted++;
        const manifests = objects.map((r) => r.manifest);
        // The quota holds everything this configuration runs at its peak (sized after every workload exists).
        const peak = namespacePeak(manifests);
        const hard = (manifests.find((m) => m.kind === 'ResourceQuota') as unknown as { spec: { hard: Record<string, string | number> } }).spec.hard;
        const held =
          Number(hard.pods) >= peak.pods &&
          millicores(hard['requests.cpu']) >= peak.total.cpuRequest &&
          millicores(hard['limits.cpu']) >= peak.total.cpuLimit;
        if (!held || bytes(hard['requests.memory']) < peak.total.memoryRequest || bytes(hard['limits.memory']) < peak.total.memoryLimit) {
          quotaShort.push(`${config.name}: quota ${JSON.stringify(hard)} for a peak of ${peak.pods} pods, ${JSON.stringify(peak.total)}`);
        }
        for (const [path, text] of stringsOf(manifests)) {
          if (HOLES.test(text)) {
            holes.push(`${config.name}: ${path} = ${text.slice(0, 200)}`);
          }
        }
      } catch (error) {
        if (!(error instanceof ConfigError)) {
          crashes.push(`${config.name}: ${(error as Error).stack ?? String(error)}`);
          continue;
        }
        for (const problem of error.problems) {
          const rest = problem.message.slice(problem.key.length + 2);
          if (
            !problem.message.startsWith(`${problem.key}: `) ||
            !PROBLEM.test(rest) ||
            /got undefined\b/.test(problem.message) ||
            / /.test(problem.key.split('.')[0])
          ) {
            badMessages.push(`${config.name}: ${problem.message}`);
          }
        }
      }
    }
    expect(crashes).toEqual([]);
    expect(badMessages).toEqual([]);
    expect(holes).toEqual([]);
    expect(quotaShort).toEqual([]);
    // Both kinds occur: the generator reaches past the checks, and the checks refuse.
    expect(accepted).toBeGreaterThan(100);
    expect(CASES.length - accepted).toBeGreaterThan(300);
  });
});
