import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { REDIS_OPERATOR } from '../lib';

/**
 * An operator installed from its upstream release manifest: pinned by version *and* content digest, so
 * what is applied is exactly what was reviewed, whatever the download host serves later.
 */
export interface ManifestRelease {
  /** Pulumi name of the install. */
  readonly name: string;
  readonly version: string;
  readonly url: string;
  /** SHA-256 of the manifest file, hex. */
  readonly sha256: string;
}

/** An operator installed from a Helm chart repository, pinned by chart version. */
export interface ChartRelease {
  readonly name: string;
  readonly chart: string;
  readonly version: string;
  /** The operator version the chart version ships. */
  readonly appVersion: string;
  readonly repo: string;
  readonly namespace: string;
}

/**
 * CloudNativePG 1.30.0: the release manifest (CRDs, RBAC, the operator Deployment in `cnpg-system`). The
 * version whose CRDs the tests validate against (`../shared/crds`). Digest as published with the release.
 */
export const CNPG_RELEASE: ManifestRelease = {
  name: 'cloudnative-pg',
  version: '1.30.0',
  url: 'https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v1.30.0/cnpg-1.30.0.yaml',
  sha256: 'f8bede43fe4ee0d478c2355b204a36876b2ae4faac60f2a9452280b293da3b88',
};

/**
 * The Barman Cloud CNPG-I plugin 0.14.0 (ObjectStore CRD, the plugin Deployment): it must run in the
 * operator's namespace (`cnpg-system`, which its manifest targets) and needs cert-manager for its TLS.
 */
export const BARMAN_CLOUD_RELEASE: ManifestRelease = {
  name: 'barman-cloud-plugin',
  version: '0.14.0',
  url: 'https://github.com/cloudnative-pg/plugin-barman-cloud/releases/download/v0.14.0/manifest.yaml',
  sha256: '8d4f1719cc54891ddffd7633279ec93b5d2cc547df8684c3b84f3b156a615e7c',
};

/**
 * OT-CONTAINER-KIT redis-operator: it publishes no single-file release manifest, so it comes from its
 * Helm chart. Chart 0.26.1 ships operator v0.26.0, the version whose CRDs the tests validate against.
 */
export const REDIS_OPERATOR_CHART: ChartRelease = {
  name: 'redis-operator',
  chart: 'redis-operator',
  version: '0.26.1',
  appVersion: '0.26.0',
  repo: 'https://ot-container-kit.github.io/helm-charts',
  // Where the NetworkPolicySet expects it (the operator's documented namespace).
  namespace: REDIS_OPERATOR.defaultNamespace,
};

/** Reads a URL's body as text. */
export type Fetcher = (url: string) => Promise<string>;

/** Options of {@link installOperators}. */
export interface InstallOperatorsOptions {
  readonly postgres: boolean;
  readonly redis: boolean;
  readonly provider?: k8s.Provider;
  /** @default global `fetch` */
  readonly fetcher?: Fetcher;
  /**
   * Where verified manifests are kept, by digest, so repeated previews do not download them again.
   * @default `$XDG_CACHE_HOME/cutover/manifests` (or `~/.cache/cutover/manifests`)
   */
  readonly cacheDir?: string;
  /** The manifests to install. @default {@link CNPG_RELEASE} and {@link BARMAN_CLOUD_RELEASE} */
  readonly releases?: { readonly cnpg: ManifestRelease; readonly barman: ManifestRelease };
}

/**
 * Registers the operators the data tier needs, before any custom resource: CloudNativePG and its Barman
 * Cloud plugin when `postgres`, the redis-operator when `redis`. Manifests are downloaded and checked
 * against their pinned digests before the first of them is registered. Custom resources must `dependsOn`
 * the returned resources so that their CRDs, webhooks and controllers exist first.
 */
export async function installOperators(options: InstallOperatorsOptions): Promise<pulumi.Resource[]> {
  const fetcher = options.fetcher ?? defaultFetcher;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const releases = options.releases ?? { cnpg: CNPG_RELEASE, barman: BARMAN_CLOUD_RELEASE };
  const manifests = options.postgres
    ? await Promise.all([verifiedManifest(releases.cnpg, fetcher, cacheDir), verifiedManifest(releases.barman, fetcher, cacheDir)])
    : undefined;
  const yamls = new Map([
    [releases.cnpg.name, manifests?.[0]],
    [releases.barman.name, manifests?.[1]],
  ]);
  const byName = new Map<string, pulumi.Resource>();
  for (const step of operatorPlan(options, releases)) {
    const opts: pulumi.CustomResourceOptions = {
      provider: options.provider,
      dependsOn: step.after.map((name) => byName.get(name) as pulumi.Resource),
    };
    byName.set(
      step.name,
      step.type === 'kubernetes:yaml/v2:ConfigGroup'
        ? new k8s.yaml.v2.ConfigGroup(step.name, { yaml: yamls.get(step.name) }, opts)
        : new k8s.helm.v3.Release(
            REDIS_OPERATOR_CHART.name,
            {
              name: REDIS_OPERATOR_CHART.name,
              chart: REDIS_OPERATOR_CHART.chart,
              version: REDIS_OPERATOR_CHART.version,
              repositoryOpts: { repo: REDIS_OPERATOR_CHART.repo },
              namespace: REDIS_OPERATOR_CHART.namespace,
              createNamespace: true,
              // A failed install is rolled back rather than left half-applied.
              atomic: true,
            },
            opts,
          ),
    );
  }
  return [...byName.values()];
}

/** One operator install of {@link operatorPlan}. */
export interface OperatorStep {
  readonly type: 'kubernetes:yaml/v2:ConfigGroup' | 'kubernetes:helm.sh/v3:Release';
  readonly name: string;
  /** Names of the steps it waits for. */
  readonly after: readonly string[];
}

/** What {@link installOperators} registers, in order, and what each waits for. Pure: tests read it. */
export function operatorPlan(
  options: Pick<InstallOperatorsOptions, 'postgres' | 'redis'>,
  releases: { readonly cnpg: ManifestRelease; readonly barman: ManifestRelease },
): OperatorStep[] {
  const steps: OperatorStep[] = [];
  if (options.postgres) {
    steps.push({ type: 'kubernetes:yaml/v2:ConfigGroup', name: releases.cnpg.name, after: [] });
    // The plugin registers with the running operator, so it comes after it.
    steps.push({ type: 'kubernetes:yaml/v2:ConfigGroup', name: releases.barman.name, after: [releases.cnpg.name] });
  }
  if (options.redis) {
    steps.push({ type: 'kubernetes:helm.sh/v3:Release', name: REDIS_OPERATOR_CHART.name, after: [] });
  }
  return steps;
}

/**
 * The manifest of `release`, checked against its pinned digest: from the cache when present, otherwise
 * downloaded, checked, then cached. A digest mismatch fails the update before anything is applied.
 */
export async function verifiedManifest(release: ManifestRelease, fetcher: Fetcher, cacheDir: string): Promise<string> {
  const cached = path.join(cacheDir, `${release.name}-${release.version}-${release.sha256}.yaml`);
  const fromCache = await readFile(cached, 'utf8').catch(() => undefined);
  if (fromCache !== undefined && sha256(fromCache) === release.sha256) {
    return fromCache;
  }
  let body: string;
  try {
    body = await fetcher(release.url);
  } catch (error) {
    throw new Error(
      `operators: could not download ${release.name} ${release.version} from ${release.url}: ${(error as Error).message}; ` +
        'install the operators beforehand and set `cutover:operators` `{"install": false}`, or retry with network access',
      { cause: error },
    );
  }
  const digest = sha256(body);
  if (digest !== release.sha256) {
    throw new Error(
      `operators: ${release.name} ${release.version} from ${release.url} has SHA-256 ${digest}, expected ${release.sha256}; ` +
        'nothing was applied. The file changed upstream or the download was altered: check the release before changing the pin in ' +
        'stacks/operators.ts',
    );
  }
  await mkdir(cacheDir, { recursive: true });
  const partial = `${cached}.${process.pid}.partial`;
  await writeFile(partial, body);
  await rename(partial, cached);
  return body;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function defaultFetcher(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'follow' });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status} ${response.statusText}`);
  }
  return response.text();
}

function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'cutover', 'manifests');
}
