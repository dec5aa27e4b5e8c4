import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlProbe } from '../../stacks/cluster-probe';
import { ConfigError, parseStackConfig } from '../../stacks/config';
import { formatPreflight, preflightFailure, preflightProblems, preflightRequirements, runPreflight } from '../../stacks/preflight';
import { readStackFile } from '../../stacks/stack-file';
import { synthesize } from '../../stacks/synthesize';
import { EVERY_KIND, FakeCluster } from '../fake-cluster';
import { Registration, recordRegistrations } from '../pulumi-mocks';

const ROOT = resolve(__dirname, '..', '..');
/** The Ingress router, which asks the cluster for a ClusterIssuer and an IngressClass. */
const INGRESS = { 'cutover:routing': '{"router":"ingress"}' };

function requirementsOf(stack: string, overrides: Record<string, string> = {}) {
  const { config, objects } = synthesize({ ...readStackFile(ROOT, stack), ...overrides }, stack);
  return preflightRequirements(
    config,
    objects.map(({ manifest }) => manifest),
  );
}

async function problemsOf(stack: string, cluster: FakeCluster, overrides: Record<string, string> = {}): Promise<string[]> {
  return preflightProblems(await runPreflight(requirementsOf(stack, overrides), cluster)).map(
    (problem) => `${problem.check}: ${problem.subject}: ${problem.detail}; ${problem.fix}`,
  );
}

describe('what preflight asks of the cluster', () => {
  it('names every Secret, StorageClass, Gateway and peer namespace prod refers to, with why', () => {
    const needed = requirementsOf('prod').objects.map(
      (object) => `${object.check} ${object.kind} ${object.namespace ?? '-'}/${object.name} (${object.why})`,
    );
    expect(needed).toEqual([
      'secrets Secret web-prod/web-secrets (named by secretNames)',
      'secrets Secret web-prod/web-cache-auth (named by redis.secretName)',
      'secrets Secret web-prod/alertmanager-pagerduty (named by monitoring.alerting.pager.secret (the PagerDuty routing key))',
      'secrets Secret web-prod/alertmanager-slack (named by monitoring.alerting.chat.secret (the Slack webhook URL))',
      'secrets Secret web-prod/web-db-backup-s3 (named by postgres.backup.secretName (the backup credentials))',
      'namespaces Namespace -/kube-system (a peer of NetworkPolicy allow-dns)',
      'namespaces Namespace -/gateway-system (a peer of NetworkPolicy web)',
      'namespaces Namespace -/monitoring (a peer of NetworkPolicy web)',
      'namespaces Namespace -/cnpg-system (a peer of NetworkPolicy web-db)',
      'namespaces Namespace -/ot-operators (a peer of NetworkPolicy web-cache)',
      'storageClasses StorageClass -/fast-ssd (the storage of Cluster web-db)',
      'routing Gateway gateway-system/public (named by routing.gateway (HTTPRoute web))',
    ]);
  });

  it("with an Ingress, names its ClusterIssuer, IngressClass and the ingress controller's namespace instead of the Gateway", () => {
    const needed = requirementsOf('prod', INGRESS).objects.map(
      (object) => `${object.check} ${object.kind} ${object.namespace ?? '-'}/${object.name} (${object.why})`,
    );
    expect(needed.filter((line) => !line.startsWith('secrets') && !line.startsWith('storageClasses'))).toEqual([
      'namespaces Namespace -/kube-system (a peer of NetworkPolicy allow-dns)',
      'namespaces Namespace -/ingress-nginx (a peer of NetworkPolicy web)',
      'namespaces Namespace -/monitoring (a peer of NetworkPolicy web)',
      'namespaces Namespace -/cnpg-system (a peer of NetworkPolicy web-db)',
      'namespaces Namespace -/ot-operators (a peer of NetworkPolicy web-cache)',
      'issuer ClusterIssuer -/letsencrypt-prod (named by clusterIssuer (the TLS certificate of Ingress web))',
      'routing IngressClass -/nginx (named by ingressClassName (Ingress web))',
    ]);
  });

  it('with a Gateway the stack creates, names its GatewayClass and ClusterIssuer, not the Gateway', () => {
    const owned = {
      'cutover:routing': '{"gateway":{"create":{"className":"eg"}}}',
      'cutover:network': '{"gatewayNamespace":"envoy-gateway-system"}',
    };
    const needed = requirementsOf('prod', owned).objects.map(
      (object) => `${object.check} ${object.kind} ${object.namespace ?? '-'}/${object.name} (${object.why})`,
    );
    expect(needed.filter((line) => line.startsWith('routing') || line.startsWith('issuer') || line.includes('envoy'))).toEqual([
      'namespaces Namespace -/envoy-gateway-system (a peer of NetworkPolicy web)',
      'issuer ClusterIssuer -/letsencrypt-prod (named by clusterIssuer (the TLS certificate of Gateway web))',
      'routing GatewayClass -/eg (the class of Gateway web)',
    ]);
  });

  it('needs the operators of every custom resource group the stack renders', () => {
    expect(requirementsOf('prod').operators.map((operator) => operator.name)).toEqual([
      'CloudNativePG',
      'Barman Cloud plugin',
      'redis-operator',
      'Prometheus Operator',
    ]);
  });

  it('leaves out the operators, and their kinds, that `operators.install` installs in the same update', async () => {
    const requirements = requirementsOf('prod', { 'cutover:operators': '{"install":true}' });
    expect(requirements.operators.map((operator) => operator.name)).toEqual(['Prometheus Operator']);
    // A cluster without their CRDs yet: the update installs them before any custom resource.
    const served = EVERY_KIND.filter((kind) => !['postgresql.cnpg.io', 'barmancloud.cnpg.io', 'redis.redis.opstreelabs.in'].includes(kind.group));
    expect(preflightProblems(await runPreflight(requirements, new FakeCluster({ served })))).toEqual([]);
  });

  it('checks every rendered kind, the Namespace cluster-wide and the rest in the stack namespace', () => {
    const kinds = requirementsOf('staging').kinds.map((kind) => `${kind.kind} ${kind.namespace ?? '(cluster)'}`);
    expect(kinds).toContain('Namespace (cluster)');
    expect(kinds).toContain('Deployment web-staging');
    expect(kinds).toContain('Cluster web-staging');
    expect(kinds.every((kind) => kind === 'Namespace (cluster)' || kind.endsWith(' web-staging'))).toBe(true);
  });

  it('makes no check that `preflight.skip` names', () => {
    const requirements = requirementsOf('prod', { 'cutover:preflight': '{"skip":["secrets","operators","namespaces"]}' });
    expect(requirements.checks).toEqual(['version', 'apis', 'access', 'storageClasses', 'issuer', 'routing']);
    expect(requirements.objects.map((object) => object.check)).toEqual(['storageClasses', 'routing']);
    expect(requirements.operators).toEqual([]);
  });
});

describe('preflight against a cluster', () => {
  it('passes on a cluster that has everything, asking once per kind and namespace', async () => {
    const cluster = new FakeCluster();
    const results = await runPreflight(requirementsOf('prod'), cluster);
    expect(preflightProblems(results)).toEqual([]);
    expect(results.filter((result) => result.check === 'secrets').map((result) => result.subject)).toEqual([
      'Secret web-prod/web-secrets',
      'Secret web-prod/web-cache-auth',
      'Secret web-prod/alertmanager-pagerduty',
      'Secret web-prod/alertmanager-slack',
      'Secret web-prod/web-db-backup-s3',
    ]);
    expect(cluster.asked.filter((question) => question.startsWith('existing secrets'))).toEqual([
      'existing secrets web-prod web-secrets,web-cache-auth,alertmanager-pagerduty,alertmanager-slack,web-db-backup-s3',
    ]);
    expect(cluster.asked.filter((question) => question.startsWith('allowed'))).toHaveLength(1);
  });

  it('reports every missing piece at once, each with its fix', async () => {
    const cluster = new FakeCluster({
      served: EVERY_KIND.filter((kind) => kind.kind !== 'ClusterIssuer'),
      missing: [
        'secrets/web-prod/web-secrets',
        'storageclasses.storage.k8s.io//fast-ssd',
        'namespaces//monitoring',
        'ingressclasses.networking.k8s.io//nginx',
      ],
      noOperator: ['app.kubernetes.io/name=redis-operator'],
    });
    expect(await problemsOf('prod', cluster, INGRESS)).toEqual([
      'namespaces: Namespace monitoring: not found; a peer of NetworkPolicy web; install what runs there, or point the `network` key that names it ' +
        '(`ingressNamespace`, `gatewayNamespace`, `monitoringNamespace`, `cnpgNamespace`, `redisOperatorNamespace`) at the namespace it runs in',
      'secrets: Secret web-prod/web-secrets: not found; named by secretNames; create it: `kubectl -n web-prod create secret generic web-secrets ' +
        '--from-literal=<key>=<value>` ' +
        '(if the namespace does not exist yet, create it first: `kubectl create namespace web-prod`; the stack adopts it)',
      'storageClasses: StorageClass fast-ssd: not found; the storage of Cluster web-db; create the StorageClass "fast-ssd", or set ' +
        '`postgres.storageClass` / ' +
        '`redis.storageClass` to one the cluster has (`kubectl get storageclass`)',
      'operators: redis-operator: no Deployment matches app.kubernetes.io/name=redis-operator; it serves redis.redis.opstreelabs.in, which the ' +
        'stack renders; ' +
        'install the OT-CONTAINER-KIT redis-operator (or set `operators.install` to true on one stack of the cluster)',
      'issuer: ClusterIssuer letsencrypt-prod: the cluster has no ClusterIssuer kind (cert-manager.io/v1); named by clusterIssuer (the TLS ' +
        'certificate of Ingress web); ' +
        'create the cert-manager ClusterIssuer "letsencrypt-prod", or set `clusterIssuer` to one the cluster has (`kubectl get clusterissuers`)',
      'routing: IngressClass nginx: not found; named by ingressClassName (Ingress web); install the Ingress controller of class "nginx", or set ' +
        '`ingressClassName` ' +
        'to one the cluster has (`kubectl get ingressclass`)',
    ]);
  });

  it('refuses a kind the API server does not serve, naming the operator whose CRD it is', async () => {
    const cluster = new FakeCluster({ served: EVERY_KIND.filter((kind) => kind.group !== 'monitoring.coreos.com') });
    const problems = await problemsOf('staging', cluster);
    expect(problems.filter((problem) => problem.startsWith('apis')).every((problem) => problem.includes('(monitoring.coreos.com/'))).toBe(true);
    expect(problems.filter((problem) => problem.includes('(monitoring.coreos.com/v1)'))).toEqual([
      'apis: PodMonitor (monitoring.coreos.com/v1): the API server does not serve it; install its CRD: install the Prometheus Operator (e.g. ' +
        'kube-prometheus-stack)',
      'apis: PrometheusRule (monitoring.coreos.com/v1): the API server does not serve it; install its CRD: install the Prometheus Operator (e.g. ' +
        'kube-prometheus-stack)',
      'apis: ServiceMonitor (monitoring.coreos.com/v1): the API server does not serve it; install its CRD: install the Prometheus Operator (e.g. ' +
        'kube-prometheus-stack)',
    ]);
  });

  it('refuses an operator whose Deployment has no available replica', async () => {
    const cluster = new FakeCluster({ noOperator: ['app.kubernetes.io/name=cloudnative-pg'], stopped: true });
    expect(await problemsOf('staging', cluster)).toEqual([
      'operators: CloudNativePG: operators/cloudnative-pg has no available replica; it serves postgresql.cnpg.io, which the stack renders; ' +
        'install CloudNativePG (or set `operators.install` to true on one stack of the cluster)',
    ]);
  });

  it('names each verb the deployer may not use, per kind and namespace', async () => {
    const cluster = new FakeCluster({ denied: ['delete deployments web-prod', 'patch deployments web-prod', 'create namespaces '] });
    expect((await problemsOf('prod', cluster)).filter((problem) => problem.startsWith('access'))).toEqual([
      'access: Namespace (v1), cluster-wide: the deployer may not create; grant create on namespaces to the deployer (a Role or ClusterRole and ' +
        'its binding)',
      'access: Deployment (apps/v1) in web-prod: the deployer may not patch, delete; grant patch, delete on deployments.apps in web-prod to the ' +
        'deployer (a Role or ClusterRole and its binding)',
    ]);
  });

  it('refuses a Kubernetes older than the rendered pods need', async () => {
    const cluster = new FakeCluster({ version: { major: 1, minor: 29, gitVersion: 'v1.29.9-eks-1' } });
    expect(await problemsOf('prod', cluster)).toEqual([
      'version: Kubernetes version: v1.29.9-eks-1 is older than 1.30, the oldest that runs the rendered pods (their preStop hook sleeps); upgrade ' +
        'the cluster to Kubernetes 1.30 or later',
    ]);
  });

  it('reports what it could not ask as unknown, with how to skip that check', async () => {
    const cluster = new FakeCluster({ failing: { existing: 'kubectl get secrets: Error from server (Forbidden): secrets is forbidden' } });
    const problems = await problemsOf('staging', cluster, { 'cutover:preflight': '{"skip":["namespaces","storageClasses","issuer","routing"]}' });
    // Staging's alerting pages no one: only its chat Secret is named there.
    expect(problems).toEqual([
      'secrets: Secret web-staging/web-cache-auth: kubectl get secrets: Error from server (Forbidden): secrets is forbidden; ' +
        "give the deployer read access, or skip this check: `pulumi config set --path 'preflight.skip[0]' secrets`",
      'secrets: Secret web-staging/alertmanager-slack: kubectl get secrets: Error from server (Forbidden): secrets is forbidden; ' +
        "give the deployer read access, or skip this check: `pulumi config set --path 'preflight.skip[0]' secrets`",
      'secrets: Secret web-staging/web-db-backup-s3: kubectl get secrets: Error from server (Forbidden): secrets is forbidden; ' +
        "give the deployer read access, or skip this check: `pulumi config set --path 'preflight.skip[0]' secrets`",
    ]);
  });

  it('reports a cluster it cannot reach once, not once per object', async () => {
    const cluster = new FakeCluster({ failing: { resources: 'kubectl is not on the PATH (scripts/toolchain builds the pinned one)' } });
    expect(await problemsOf('prod', cluster)).toEqual([
      'apis: the cluster: could not be asked: kubectl is not on the PATH (scripts/toolchain builds the pinned one); check that kubectl is on the ' +
        'PATH and reaches ' +
        "the cluster with the stack's `kubernetes:kubeconfig` / `kubernetes:context` (or KUBECONFIG), or set `preflight` to false",
    ]);
  });

  it('prints a table of every result and a failure message listing every problem', async () => {
    const results = await runPreflight(requirementsOf('prod'), new FakeCluster({ missing: ['secrets/web-prod/web-secrets'] }));
    const table = formatPreflight(results).split('\n');
    expect(table[0]).toMatch(/^STATUS +CHECK +WHAT +DETAIL$/);
    expect(
      table.filter((line) => /^MISSING +secrets +Secret web-prod\/web-secrets +not found; named by secretNames; create it/.test(line)),
    ).toHaveLength(1);
    expect(table.filter((line) => line.startsWith('ok '))).toHaveLength(results.length - 1);
    expect(preflightFailure('prod', preflightProblems(results)).split('\n')[0]).toBe(
      'stack "prod": preflight found 1 problem in the cluster; nothing was applied:',
    );
  });
});

describe('preflight config', () => {
  it('is on by default, off with `false`, and refuses an unknown check with a suggestion', () => {
    const raw = readStackFile(ROOT, 'staging');
    expect(parseStackConfig(raw, 'staging').preflight).toEqual({ enabled: true, skip: [] });
    expect(parseStackConfig({ ...raw, 'cutover:preflight': 'false' }, 'staging').preflight).toEqual({ enabled: false, skip: [] });
    expect(() => parseStackConfig({ ...raw, 'cutover:preflight': '{"skip":["secret"]}' }, 'staging')).toThrow(ConfigError);
    expect(() => parseStackConfig({ ...raw, 'cutover:preflight': '{"skip":["secret"]}' }, 'staging')).toThrow(
      'cutover:preflight.skip[0]: is not a preflight check, got "secret"; use one of version, apis, access, namespaces, secrets, storageClasses, ' +
        'operators, issuer, routing; did you mean "secrets"?',
    );
    expect(() => parseStackConfig({ ...raw, 'cutover:preflight': '{"enable":false}' }, 'staging')).toThrow(
      'cutover:preflight.enable: is not a preflight field, got false; use one of enabled, skip; did you mean "enabled"?',
    );
  });
});

describe('the kubectl probe', () => {
  let dir: string;
  let log: string;
  const path = process.env.PATH;
  beforeAll(() => {
    // A kubectl that records its arguments and answers like the real one.
    dir = mkdtempSync(join(tmpdir(), 'cutover-kubectl-'));
    log = join(dir, 'calls');
    const script = [
      '#!/bin/sh',
      `echo "$*" >> '${log}'`,
      'case "$*" in',
      '  *"get secrets"*) printf "web-secrets   Opaque   1     2d\\n" ;;',
      '  *"create -f -"*) cat > /dev/null; printf "true\\nfalse\\n" ;;',
      'esac',
    ].join('\n');
    writeFileSync(join(dir, 'kubectl'), `${script}\n`);
    chmodSync(join(dir, 'kubectl'), 0o755);
    process.env.PATH = `${dir}:${path}`;
  });
  afterAll(() => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads Secrets through the table view (metadata only, never their data), through the provider's kubeconfig and context", async () => {
    const found = await kubectlProbe({ kubeconfig: '/etc/kube/config', context: 'prod' }).existing('secrets', 'web-prod', [
      'web-secrets',
      'web-cache-auth',
    ]);
    expect([...found]).toEqual(['web-secrets']);
    const call = readFileSync(log, 'utf8').trim().split('\n').at(-1);
    expect(call).toBe(
      '--kubeconfig /etc/kube/config --context prod get secrets web-secrets web-cache-auth -n web-prod --ignore-not-found --no-headers',
    );
    expect(call).not.toMatch(/ -o /);
  });

  it('says so when kubectl is not on the PATH', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cutover-no-kubectl-'));
    process.env.PATH = empty;
    try {
      await expect(kubectlProbe().version()).rejects.toThrow('kubectl is not on the PATH (scripts/toolchain builds the pinned one)');
    } finally {
      process.env.PATH = `${dir}:${path}`;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('asks every access question in one kubectl call and reads the answers in order', async () => {
    const answers = await kubectlProbe().allowed([
      { verb: 'get', group: 'apps', resource: 'deployments', namespace: 'web-prod' },
      { verb: 'delete', group: '', resource: 'namespaces' },
    ]);
    expect(answers).toEqual([true, false]);
  });
});

describe('the program runs preflight before registering anything', () => {
  let registrations: Registration[] = [];
  beforeAll(async () => {
    registrations = await recordRegistrations();
  });

  it('fails a preview on a cluster that lacks something, with the whole list, and registers nothing', async () => {
    registrations.length = 0;
    const { run } = await import('../../stacks/index');
    const probe = new FakeCluster({ missing: ['secrets/web-prod/web-secrets', 'secrets/web-prod/web-cache-auth'] });
    const deploy = run(readStackFile(ROOT, 'prod'), 'prod', { probe, previousState: () => Promise.resolve({ activeColor: 'blue' }) });
    await expect(deploy).rejects.toThrow(pulumi.RunError);
    await expect(deploy).rejects.toThrow(
      new RegExp(
        '^stack "prod": preflight found 2 problems in the cluster; nothing was applied:\\n' +
          ' {2}secrets: Secret web-prod/web-secrets: not found; .*\\n {2}secrets: Secret web-prod/web-cache-auth: not found; ',
      ),
    );
    expect(registrations).toEqual([]);
  });

  it('asks nothing of the cluster with `preflight: false`', async () => {
    const { run } = await import('../../stacks/index');
    const probe = new FakeCluster({ failing: { resources: 'unreachable' } });
    const { resources } = await run({ ...readStackFile(ROOT, 'prod'), 'cutover:preflight': 'false' }, 'prod', {
      probe,
      previousState: () => Promise.resolve({ activeColor: 'blue' }),
    });
    expect(resources.size).toBeGreaterThan(0);
    expect(probe.asked).toEqual([]);
  });
});
