// Preflight on the real control plane: each check with the thing absent, then present; a deployer without the
// rights; and a `pulumi up` on a cluster that lacks something, which fails with the whole list and applies nothing.
// The stand-ins (operator Deployments, a ClusterIssuer CRD) are what preflight looks for, nothing more: it checks
// existence and availability, not what the operators do.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LocalStack, installCrds, localStackConfig, runCommand } from '../../scripts/local';
import { ALL_CRD_PATHS } from '../crd-schema';
import type { PreflightResult } from '../../stacks/preflight';
import { deleteNamespace, readyCluster, waitFor } from './helpers';

const NAMESPACE = 'pf-e2e';
const PEERS = {
  ingressNamespace: 'pf-ingress',
  monitoringNamespace: 'pf-monitoring',
  cnpgNamespace: 'pf-cnpg',
  redisOperatorNamespace: 'pf-redis-operator',
};
const OPERATORS_NAMESPACE = 'pf-operators';
const STORAGE_CLASS = 'pf-ssd';
const SECRETS = ['pf-app-secrets', 'pf-cache-auth', 'pf-db-backup'];
/** The label each stand-in operator Deployment carries: one of the selectors preflight knows (stacks/preflight.ts). */
const OPERATOR_LABELS: Record<string, Record<string, string>> = {
  cnpg: { 'app.kubernetes.io/name': 'cloudnative-pg' },
  barman: { app: 'barman-cloud' },
  redis: { 'app.kubernetes.io/name': 'redis-operator' },
  prometheus: { 'app.kubernetes.io/name': 'prometheus-operator' },
};
const ISSUER_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'clusterissuers.cert-manager.io' },
  spec: {
    group: 'cert-manager.io',
    scope: 'Cluster',
    names: { kind: 'ClusterIssuer', plural: 'clusterissuers', singular: 'clusterissuer', listKind: 'ClusterIssuerList' },
    versions: [
      { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    ],
  },
};

let env: Record<string, string>;
let kubeconfig: string;
let stack: LocalStack;

function kubectl(args: readonly string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function apply(...objects: readonly object[]): void {
  kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
}

/** `npm run preflight --json` for the stack, as a user runs it. */
async function preflight(...extra: string[]): Promise<{ code: number | null; results: PreflightResult[]; output: string }> {
  const result = await runCommand(
    'npm',
    ['run', '--silent', 'preflight', '--', '--stack', stack.name, '--config-file', stack.configFile, '--json', ...extra],
    stack.env,
  );
  const output = `${result.stdout}\n${result.stderr}`;
  let results: PreflightResult[] = [];
  try {
    results = (JSON.parse(result.stdout) as { results: PreflightResult[] }).results;
  } catch {
    expect.fail(`npm run preflight printed no JSON:\n${output}`);
  }
  return { code: result.code, results, output };
}

const failing = (results: readonly PreflightResult[]): string[] =>
  results.filter((result) => result.status !== 'ok').map((result) => `${result.status} ${result.check}: ${result.subject}`);

function cleanUp(): void {
  for (const namespace of [NAMESPACE, OPERATORS_NAMESPACE, ...Object.values(PEERS)]) {
    deleteNamespace(env, kubeconfig, namespace);
  }
  kubectl(['delete', 'storageclass', STORAGE_CLASS, '--ignore-not-found']);
  kubectl(['delete', 'ingressclass', 'pf-nginx', '--ignore-not-found']);
  kubectl(['delete', 'crd', ISSUER_CRD.metadata.name, '--ignore-not-found', '--wait']);
}

beforeAll(async () => {
  const cluster = readyCluster();
  env = cluster.env;
  kubeconfig = cluster.kubeconfig;
  cleanUp();
  stack = new LocalStack('preflight', env, kubeconfig);
  await stack.init(
    localStackConfig(NAMESPACE, {
      // Every check, as on a production cluster.
      'cutover:preflight': { skip: [] },
      'cutover:secretNames': [SECRETS[0]],
      'cutover:postgres': { instances: 1, storageClass: STORAGE_CLASS, backup: { destinationPath: 's3://pf-backups/e2e', secretName: SECRETS[2] } },
      'cutover:redis': { mode: 'sentinel', replicas: 2, storageClass: STORAGE_CLASS, secretName: SECRETS[1] },
      'cutover:clusterIssuer': 'pf-issuer',
      // The Ingress router: the checks of its IngressClass and ClusterIssuer (the gateway router's Gateway is unit-tested).
      'cutover:routing': { router: 'ingress' },
      'cutover:ingressClassName': 'pf-nginx',
      'cutover:network': PEERS,
    }),
  );
});

afterAll(() => {
  if (kubeconfig !== undefined) {
    cleanUp();
  }
});

describe('preflight on the local control plane', () => {
  it('1. a preview and an update on a cluster that lacks them fail with every missing piece and apply nothing', async () => {
    const preview = await stack.pulumi(['preview']);
    expect(preview.code, preview.stdout).not.toBe(0);
    expect(`${preview.stdout}\n${preview.stderr}`).toContain('stack "preflight": preflight found 14 problems in the cluster; nothing was applied:');
    const result = await stack.up();
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.code, output).not.toBe(0);
    expect(output).toContain('stack "preflight": preflight found 14 problems in the cluster; nothing was applied:');
    for (const needle of [
      `secrets: Secret ${NAMESPACE}/pf-app-secrets: not found; named by secretNames`,
      `storageClasses: StorageClass ${STORAGE_CLASS}: not found`,
      'issuer: ClusterIssuer pf-issuer: the cluster has no ClusterIssuer kind (cert-manager.io/v1)',
      'routing: IngressClass pf-nginx: not found',
      'namespaces: Namespace pf-monitoring: not found',
      'operators: CloudNativePG: no Deployment matches app.kubernetes.io/name=cloudnative-pg',
    ]) {
      expect(output).toContain(needle);
    }
    // Nothing reached the cluster, and the stack holds no Kubernetes resource.
    expect(kubectl(['get', 'namespace', NAMESPACE, '--ignore-not-found', '-o', 'name'])).toBe('');
    const exported = await stack.pulumi(['stack', 'export']);
    const resources = (JSON.parse(exported.stdout) as { deployment: { resources?: Array<{ type: string }> } }).deployment.resources ?? [];
    expect(resources.filter((resource) => resource.type.startsWith('kubernetes:'))).toEqual([]);
  });

  it('2. npm run preflight lists the same problems, and passes once each exists', async () => {
    const absent = await preflight();
    expect(absent.code, absent.output).toBe(1);
    expect(failing(absent.results)).toEqual([
      'missing namespaces: Namespace pf-ingress',
      'missing namespaces: Namespace pf-monitoring',
      'missing namespaces: Namespace pf-cnpg',
      'missing namespaces: Namespace pf-redis-operator',
      `missing secrets: Secret ${NAMESPACE}/pf-app-secrets`,
      `missing secrets: Secret ${NAMESPACE}/pf-cache-auth`,
      `missing secrets: Secret ${NAMESPACE}/pf-db-backup`,
      `missing storageClasses: StorageClass ${STORAGE_CLASS}`,
      'missing operators: CloudNativePG',
      'missing operators: Barman Cloud plugin',
      'missing operators: redis-operator',
      'missing operators: Prometheus Operator',
      'missing issuer: ClusterIssuer pf-issuer',
      'missing routing: IngressClass pf-nginx',
    ]);

    const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    apply(namespace(NAMESPACE), namespace(OPERATORS_NAMESPACE), ...Object.values(PEERS).map(namespace), ISSUER_CRD);
    kubectl(['wait', '--for=condition=Established', `crd/${ISSUER_CRD.metadata.name}`, '--timeout=60s']);
    apply(
      ...SECRETS.map((name) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: NAMESPACE },
        stringData: { value: 'not-read-by-preflight' },
      })),
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: STORAGE_CLASS }, provisioner: 'kubernetes.io/no-provisioner' },
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'pf-nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: 'pf-issuer' }, spec: { selfSigned: {} } },
      ...Object.entries(OPERATOR_LABELS).map(([name, labels]) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: OPERATORS_NAMESPACE, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: { operator: name } },
          template: {
            metadata: { labels: { operator: name } },
            spec: { containers: [{ name, image: `registry.example.com/stand-in/${name}:1.0.0` }] },
          },
        },
      })),
    );
    kubectl(['-n', OPERATORS_NAMESPACE, 'wait', '--for=condition=Available', 'deployment', '--all', '--timeout=120s']);

    const present = await preflight();
    expect(failing(present.results), present.output).toEqual([]);
    expect(present.code).toBe(0);
    expect(present.results.map((result) => result.check)).toEqual(
      expect.arrayContaining(['version', 'apis', 'access', 'namespaces', 'secrets', 'storageClasses', 'operators', 'issuer', 'routing']),
    );
    // Read through the table view: metadata only.
    expect(present.output).not.toContain('not-read-by-preflight');
  });

  it('3. an operator scaled to zero is no longer running', async () => {
    kubectl(['-n', OPERATORS_NAMESPACE, 'scale', 'deployment', 'redis', '--replicas=0']);
    // The field is left out at zero.
    await waitFor('the redis stand-in to have no available replica', () =>
      Promise.resolve(kubectl(['-n', OPERATORS_NAMESPACE, 'get', 'deployment/redis', '-o', 'jsonpath={.status.availableReplicas}']).trim() === ''),
    );
    const result = await preflight();
    expect(result.code).toBe(1);
    expect(result.results.filter((each) => each.status !== 'ok').map((each) => `${each.subject}: ${each.detail}`)).toEqual([
      `redis-operator: ${OPERATORS_NAMESPACE}/redis has no available replica; it serves redis.redis.opstreelabs.in, which the stack renders`,
    ]);
    kubectl(['-n', OPERATORS_NAMESPACE, 'scale', 'deployment', 'redis', '--replicas=1']);
    kubectl(['-n', OPERATORS_NAMESPACE, 'wait', '--for=condition=Available', 'deployment/redis', '--timeout=120s']);
  });

  it('4. a kind whose CRD is not installed', async () => {
    kubectl(['delete', 'crd', 'redissentinels.redis.redis.opstreelabs.in', '--wait']);
    try {
      const result = await preflight();
      expect(result.code).toBe(1);
      expect(failing(result.results)).toEqual(['missing apis: RedisSentinel (redis.redis.opstreelabs.in/v1beta2)']);
      expect(result.results.find((each) => each.status !== 'ok')?.fix).toBe(
        'install its CRD: install the OT-CONTAINER-KIT redis-operator (or set `operators.install` to true on one stack of the cluster)',
      );
    } finally {
      installCrds(env, kubeconfig, ALL_CRD_PATHS);
    }
  });

  it("5. a deployer with read-only rights in the namespace: each kind it may not manage, through the provider's kubeconfig", async () => {
    apply(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: NAMESPACE } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'reader', namespace: NAMESPACE },
        rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'reader', namespace: NAMESPACE },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NAMESPACE }],
      },
    );
    const token = kubectl(['-n', NAMESPACE, 'create', 'token', 'reader', '--duration=10m']).trim();
    const admin = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: Array<{ cluster: Record<string, string> }> };
    const file = join(mkdtempSync(join(tmpdir(), 'cutover-reader-')), 'kubeconfig');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'local', cluster: admin.clusters[0].cluster }],
        users: [{ name: 'reader', user: { token } }],
        contexts: [{ name: 'reader', context: { cluster: 'local', user: 'reader' } }],
        'current-context': 'reader',
      }),
      { mode: 0o600 },
    );
    const result = await preflight('--config', `kubernetes:kubeconfig=${file}`);
    expect(result.code).toBe(1);
    const problems = result.results.filter((each) => each.status !== 'ok');
    expect(problems.filter((each) => each.check === 'access').map((each) => `${each.subject}: ${each.detail}`)).toEqual(
      expect.arrayContaining([
        'Namespace (v1), cluster-wide: the deployer may not get, create, patch, delete',
        `Deployment (apps/v1) in ${NAMESPACE}: the deployer may not create, patch, delete`,
        `Service (v1) in ${NAMESPACE}: the deployer may not create, patch, delete`,
      ]),
    );
    // Its Secrets it may read (metadata, through the table view); cluster-wide objects it cannot: unknown, with the skip.
    expect(problems.filter((each) => each.check === 'secrets')).toEqual([]);
    const storage = problems.find((each) => each.check === 'storageClasses');
    expect(storage?.status).toBe('unknown');
    expect(storage?.detail).toContain('forbidden');
    expect(storage?.fix).toBe("give the deployer read access, or skip this check: `pulumi config set --path 'preflight.skip[0]' storageClasses`");
  });
});
