// The data tier's custom resources against the real API server: install the operators' pinned CRDs
// (../shared/crds) and have kube-apiserver validate every custom resource the prod and staging stacks render;
// the HTTPRoutes and the Gateway of the gateway router against the vendored Gateway API CRDs (test/crds/gateway-api); and the
// AlertmanagerConfig of monitoring.alerting against the vendored Prometheus Operator CRD (test/crds/prometheus-operator).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local';
import { readyCluster } from './helpers';

/** What these tests read of a rendered manifest: the rest goes to the API server as it is. */
interface Rendered {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec?: Record<string, unknown>;
}

interface HttpRoute extends Rendered {
  readonly spec: { readonly rules: { readonly backendRefs: { weight: number }[] }[] };
}

interface AlertmanagerConfig extends Rendered {
  readonly spec: { readonly receivers: { readonly name: string; readonly slackConfigs?: { apiURL: unknown }[] }[] };
}

let env: Record<string, string>;

function kubectl(args: readonly string[], input?: string) {
  return spawnSync('kubectl', args, { env, input, encoding: 'utf8' });
}

beforeAll(() => {
  const cluster = readyCluster();
  env = { ...cluster.env, KUBECONFIG: cluster.kubeconfig };
});

describe('custom resources on the real API server', () => {
  for (const stack of ['prod', 'staging']) {
    it(`${stack}: kube-apiserver accepts every rendered custom resource`, () => {
      const out = mkdtempSync(join(tmpdir(), `crds-${stack}-`));
      execFileSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'scripts', 'synth.ts'), '--stack', stack, '--out', out], { env });
      const manifests = readdirSync(out).map(
        (file) => parse(readFileSync(join(out, file), 'utf8')) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string } },
      );
      const custom = manifests.filter((m) => !/^(v1|apps\/v1|autoscaling\/v2|policy\/v1|networking\.k8s\.io\/v1)$/.test(m.apiVersion));
      expect(custom.length).toBeGreaterThanOrEqual(8);
      const namespace = custom[0].metadata.namespace;
      kubectl(['create', 'namespace', namespace]);
      for (const manifest of custom) {
        const result = kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], JSON.stringify(manifest));
        expect(result.status, `${manifest.kind}/${manifest.metadata.name}: ${result.stderr}`).toBe(0);
      }
      // The control: the same server refuses a Cluster with a field its schema does not have.
      const cluster = custom.find((m) => m.kind === 'Cluster') as Rendered;
      const broken = { ...cluster, spec: { ...cluster.spec, instances: 'three' } };
      const refused = kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(broken));
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('spec.instances');
      kubectl(['delete', 'namespace', namespace, '--wait=false']);
    });
  }
});

describe('the Gateway API objects on the real API server', () => {
  const synth = (out: string, overrides: readonly string[]): Rendered[] => {
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'scripts', 'synth.ts'), '--stack', 'prod', '--out', out, ...overrides.flatMap((o) => ['--config', o])],
      { env },
    );
    return readdirSync(out).map((file) => parse(readFileSync(join(out, file), 'utf8')) as Rendered);
  };

  it('kube-apiserver accepts the HTTPRoutes of a weighted shift and the Gateway a stack creates, and refuses a negative weight', () => {
    // A namespace of its own: the prod test above may leave web-prod terminating, where nothing can be created.
    const namespace = 'cutover-gateway-crds';
    const routes = synth(mkdtempSync(join(tmpdir(), 'crds-gateway-')), [`namespace=${namespace}`, 'trafficWeight=25']).filter(
      (m): m is HttpRoute => m.kind === 'HTTPRoute',
    );
    expect(routes.map((route) => route.metadata.name)).toEqual(['web', 'web-https-redirect']);
    expect(routes[0].spec.rules[0].backendRefs.map((ref) => ref.weight)).toEqual([75, 25]);
    const owned = synth(mkdtempSync(join(tmpdir(), 'crds-owned-gateway-')), [
      `namespace=${namespace}`,
      'routing={"gateway":{"create":{"className":"traefik"}}}',
      'network.gatewayNamespace=traefik',
    ]).filter((m) => m.kind === 'Gateway' || m.kind === 'HTTPRoute');
    expect(owned.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(['Gateway/web', 'HTTPRoute/web', 'HTTPRoute/web-https-redirect']);
    kubectl(['create', 'namespace', namespace]);
    for (const manifest of [...routes, ...owned]) {
      const accepted = kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], JSON.stringify(manifest));
      expect(accepted.status, `${manifest.kind}/${manifest.metadata.name}: ${accepted.stderr}`).toBe(0);
    }
    // The control: the same server refuses the route with a negative backend weight.
    const broken = JSON.parse(JSON.stringify(routes[0])) as HttpRoute;
    broken.spec.rules[0].backendRefs[1].weight = -1;
    const refused = kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(broken));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('backendRefs[1].weight');
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  });
});

describe('the AlertmanagerConfig of monitoring.alerting on the real API server', () => {
  it('kube-apiserver accepts the prod AlertmanagerConfig, and refuses it with the Slack webhook URL as a value', () => {
    // A namespace of its own, as above: the prod test may leave web-prod terminating.
    const namespace = 'cutover-alerting-crds';
    const out = mkdtempSync(join(tmpdir(), 'crds-alerting-'));
    execFileSync(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'scripts', 'synth.ts'), '--stack', 'prod', '--out', out, '--config', `namespace=${namespace}`],
      { env },
    );
    const configs = readdirSync(out)
      .map((file) => parse(readFileSync(join(out, file), 'utf8')) as Rendered)
      .filter((m): m is AlertmanagerConfig => m.kind === 'AlertmanagerConfig');
    expect(configs.map((m) => `${m.apiVersion} ${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
      `monitoring.coreos.com/v1alpha1 ${namespace}/web-alert-routing`,
    ]);
    kubectl(['create', 'namespace', namespace]);
    const accepted = kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], JSON.stringify(configs[0]));
    expect(accepted.status, `AlertmanagerConfig/${configs[0].metadata.name}: ${accepted.stderr}`).toBe(0);
    // The control: the same server refuses a credential written into the object instead of a Secret reference.
    const broken = JSON.parse(JSON.stringify(configs[0])) as AlertmanagerConfig;
    const chat = broken.spec.receivers.find((receiver) => receiver.name === 'chat');
    expect(chat?.slackConfigs?.length, 'the chat receiver posts to Slack').toBeGreaterThan(0);
    chat!.slackConfigs![0].apiURL = 'https://chat.example.com/hooks/placeholder';
    const refused = kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(broken));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('apiURL');
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  });
});
