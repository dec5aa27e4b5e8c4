import { createHash } from 'node:crypto';
import { FakeCluster } from '../fake-cluster';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BARMAN_CLOUD_RELEASE, CNPG_RELEASE, ManifestRelease, REDIS_OPERATOR_CHART, operatorPlan, verifiedManifest } from '../../stacks/operators';
import { ResourcePlan, resourceOptions } from '../../stacks/bridge';
import { readStackFile } from '../../stacks/stack-file';
import { Registration, recordRegistrations } from '../pulumi-mocks';

let registrations: Registration[] = [];
const cacheDirs: string[] = [];

beforeAll(async () => {
  registrations = await recordRegistrations();
});

afterAll(() => {
  for (const dir of cacheDirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

function cacheDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-manifests-'));
  cacheDirs.push(dir);
  return dir;
}

function release(name: string, body: string): ManifestRelease {
  return { name, version: '1.0.0', url: `https://example.com/${name}.yaml`, sha256: createHash('sha256').update(body).digest('hex') };
}

/** A fetcher serving `files` by URL, counting downloads. */
function serve(files: Record<string, string>): { fetcher: (url: string) => Promise<string>; downloads: string[] } {
  const downloads: string[] = [];
  return {
    downloads,
    fetcher: (url) => {
      downloads.push(url);
      const body = files[url];
      if (body === undefined) {
        return Promise.reject(new Error('HTTP 404 Not Found'));
      }
      return Promise.resolve(body);
    },
  };
}

const CNPG_YAML = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cnpg-system\n';
const BARMAN_YAML = 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: plugin-barman-cloud\n  namespace: cnpg-system\n';
const RELEASES = { cnpg: release('cloudnative-pg', CNPG_YAML), barman: release('barman-cloud-plugin', BARMAN_YAML) };

describe('pinned operator releases', () => {
  it('pins the versions whose CRDs the tests validate against, by digest', () => {
    expect(CNPG_RELEASE.url).toContain(`/v${CNPG_RELEASE.version}/cnpg-${CNPG_RELEASE.version}.yaml`);
    expect(CNPG_RELEASE.version).toBe('1.30.0');
    expect(BARMAN_CLOUD_RELEASE.url).toContain(`/v${BARMAN_CLOUD_RELEASE.version}/manifest.yaml`);
    expect(BARMAN_CLOUD_RELEASE.version).toBe('0.14.0');
    expect(REDIS_OPERATOR_CHART.appVersion).toBe('0.26.0');
    for (const pinned of [CNPG_RELEASE, BARMAN_CLOUD_RELEASE]) {
      expect(pinned.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('verifiedManifest', () => {
  it('returns a manifest whose digest matches and serves it from the cache afterwards', async () => {
    const dir = cacheDir();
    const { fetcher, downloads } = serve({ [RELEASES.cnpg.url]: CNPG_YAML });
    expect(await verifiedManifest(RELEASES.cnpg, fetcher, dir)).toBe(CNPG_YAML);
    expect(await verifiedManifest(RELEASES.cnpg, fetcher, dir)).toBe(CNPG_YAML);
    expect(downloads).toEqual([RELEASES.cnpg.url]);
    expect(readdirSync(dir)).toEqual([`cloudnative-pg-1.0.0-${RELEASES.cnpg.sha256}.yaml`]);
  });

  it('refuses a manifest whose digest differs, naming both digests, and caches nothing', async () => {
    const dir = cacheDir();
    const { fetcher } = serve({ [RELEASES.cnpg.url]: `${CNPG_YAML}# tampered\n` });
    await expect(verifiedManifest(RELEASES.cnpg, fetcher, dir)).rejects.toThrow(
      new RegExp(`cloudnative-pg 1.0.0 from ${RELEASES.cnpg.url} has SHA-256 [0-9a-f]{64}, expected ${RELEASES.cnpg.sha256}; nothing was applied`),
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('explains what to do when the download fails', async () => {
    const { fetcher } = serve({});
    await expect(verifiedManifest(RELEASES.cnpg, fetcher, cacheDir())).rejects.toThrow(
      /could not download cloudnative-pg 1.0.0 .*HTTP 404.*"install": false/,
    );
  });
});

describe('operators.install under Pulumi mocks', () => {
  const prod = (): Record<string, string> => ({ ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:operators': '{"install":true}' });

  async function deploy(raw: Record<string, string>, files: Record<string, string>) {
    registrations.length = 0;
    const { run } = await import('../../stacks/index');
    const { fetcher } = serve(files);
    const result = await run(raw, 'prod', { fetcher, manifestCacheDir: cacheDir(), operatorReleases: RELEASES, probe: new FakeCluster() });
    const urn = (resource: pulumi.Resource): Promise<string> => new Promise((resolve) => resource.urn.apply(resolve));
    const operatorUrns = await Promise.all(result.operators.map(urn));
    // Let every registration reach the monitor.
    await Promise.all([...result.resources.values()].map(urn));
    return { operatorUrns, plan: result.plan, registered: [...registrations] };
  }

  it('installs CloudNativePG, then the Barman plugin, and the redis-operator chart at their pinned versions', async () => {
    const { registered, operatorUrns } = await deploy(prod(), { [RELEASES.cnpg.url]: CNPG_YAML, [RELEASES.barman.url]: BARMAN_YAML });
    const cnpg = registered.find((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup' && r.name === 'cloudnative-pg');
    const barman = registered.find((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup' && r.name === 'barman-cloud-plugin');
    const redis = registered.find((r) => r.type === 'kubernetes:helm.sh/v3:Release');
    expect(cnpg?.inputs.yaml).toBe(CNPG_YAML);
    expect(barman?.inputs.yaml).toBe(BARMAN_YAML);
    expect(operatorPlan({ postgres: true, redis: true }, RELEASES)).toEqual([
      { type: 'kubernetes:yaml/v2:ConfigGroup', name: 'cloudnative-pg', after: [] },
      { type: 'kubernetes:yaml/v2:ConfigGroup', name: 'barman-cloud-plugin', after: ['cloudnative-pg'] },
      { type: 'kubernetes:helm.sh/v3:Release', name: 'redis-operator', after: [] },
    ]);
    expect(redis?.inputs).toMatchObject({
      chart: 'redis-operator',
      version: REDIS_OPERATOR_CHART.version,
      namespace: 'ot-operators',
      repositoryOpts: { repo: REDIS_OPERATOR_CHART.repo },
      atomic: true,
    });
    expect(operatorUrns).toHaveLength(3);
  });

  it('makes every data-tier custom resource wait for the operators, and nothing else', async () => {
    const { registered, plan, operatorUrns } = await deploy(prod(), { [RELEASES.cnpg.url]: CNPG_YAML, [RELEASES.barman.url]: BARMAN_YAML });
    expect(operatorUrns).toHaveLength(3);
    const operatorGroups = /^kubernetes:(postgresql\.cnpg\.io|barmancloud\.cnpg\.io|redis\.redis\.opstreelabs\.in)\//;
    const dataTier = plan.resources.filter((r) => operatorGroups.test(r.type));
    expect(registered.filter((r) => operatorGroups.test(r.type))).toHaveLength(dataTier.length);
    expect(dataTier.map((r) => r.type)).toEqual(
      expect.arrayContaining([
        'kubernetes:postgresql.cnpg.io/v1:Cluster',
        'kubernetes:barmancloud.cnpg.io/v1:ObjectStore',
        'kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisReplication',
      ]),
    );
    expect(plan.resources.filter((r) => r.waitsForOperators)).toEqual(dataTier);
    // What the flag means when the plan is registered: the operators are among the resource's dependencies.
    const registry = new Map<string, pulumi.Resource>(
      [...plan.components, ...plan.resources].map((entry) => [entry.key, new pulumi.ComponentResource('test:index:Stand-in', entry.key)]),
    );
    const operators = [new pulumi.ComponentResource('test:index:Operator', 'one'), new pulumi.ComponentResource('test:index:Operator', 'two')];
    for (const resource of dataTier) {
      expect(resourceOptions(resource, registry, { operators }).dependsOn, resource.name).toEqual(expect.arrayContaining(operators));
    }
    const deployment = plan.resources.find((r) => r.type === 'kubernetes:apps/v1:Deployment') as ResourcePlan;
    expect(resourceOptions(deployment, registry, { operators }).dependsOn).not.toContain(operators[0]);
  });

  it('registers nothing when a manifest does not match its digest', async () => {
    await expect(deploy(prod(), { [RELEASES.cnpg.url]: 'kind: Tampered\n', [RELEASES.barman.url]: BARMAN_YAML })).rejects.toThrow(
      /has SHA-256 .* nothing was applied/,
    );
    expect(registrations).toEqual([]);
  });

  it('installs nothing by default: the operators are then prerequisites', async () => {
    const { registered, operatorUrns } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), {});
    expect(operatorUrns).toEqual([]);
    expect(registered.filter((r) => r.type.startsWith('kubernetes:yaml/') || r.type.startsWith('kubernetes:helm.sh/'))).toEqual([]);
  });
});
