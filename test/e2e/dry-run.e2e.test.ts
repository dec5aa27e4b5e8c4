// What the config accepts, the API server accepts: every generated configuration (test/config-cases.ts) that the
// pipeline renders goes to the local control plane as a server-side dry run (`kubectl create --dry-run=server`), the
// whole stack, core objects and custom resources alike, against the API server's own validation and the pinned CRDs'
// schemas. Nothing is stored: only each stack's namespace is created, for real, from its rendered manifest.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../stacks/synthesize';
import { configCases } from '../config-cases';
import { readyCluster } from './helpers';

const ROOT = `${__dirname}/../..`;
/** kubectl calls at once: the API server, not the client, is what this waits on. */
const PARALLEL = 4;

let env: Record<string, string>;
let kubeconfig: string;
/** The namespaces this file created, deleted after it. */
const created: string[] = [];

beforeAll(() => {
  ({ env, kubeconfig } = readyCluster());
});

afterAll(async () => {
  for (const name of created) {
    await kubectl(['delete', 'namespace', name, '--ignore-not-found', '--wait=false'], '');
  }
});

async function kubectl(args: string[], input: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ ok: error === null, output: `${stdout}${stderr}` }),
    );
    child.stdin?.end(input);
  });
}

describe('every accepted configuration, dry-run on the API server', () => {
  it('is accepted whole: every object of the stack, as rendered', async () => {
    const accepted = configCases(ROOT).flatMap((config) => {
      try {
        return [{ name: config.name, objects: synthesize(config.raw, config.stack).objects.map((r) => r.manifest) }];
      } catch {
        return [];
      }
    });
    expect(accepted.length).toBeGreaterThan(100);
    // Each stack's namespace, for real (the dry run of a namespaced object needs it), from the rendered Namespace.
    const namespaces = new Map(accepted.flatMap(({ objects }) => objects.filter((m) => m.kind === 'Namespace').map((m) => [m.metadata.name, m])));
    for (const namespace of namespaces.values()) {
      if (!(await kubectl(['get', 'namespace', namespace.metadata.name], '')).ok) {
        created.push(namespace.metadata.name);
      }
      const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(namespace));
      expect(applied.ok, applied.output).toBe(true);
    }
    const refused: string[] = [];
    const queue = [...accepted];
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
          const items = next.objects.filter((m) => m.kind !== 'Namespace');
          const result = await kubectl(
            ['create', '--dry-run=server', '-o', 'name', '-f', '-'],
            JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
          );
          if (!result.ok) {
            refused.push(
              `${next.name}:\n${result.output
                .split('\n')
                .filter((line) => !line.includes('(dry run)') && line.trim() !== '')
                .join('\n')}`,
            );
          }
        }
      }),
    );
    expect(refused).toEqual([]);
    process.stderr.write(`[dry-run] ${accepted.length} accepted configurations, every object of each accepted by the API server\n`);
  });
});
