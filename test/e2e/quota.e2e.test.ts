// The namespace quota, counted by the API server itself. For each shipped stack, the rendered ResourceQuota and
// LimitRange go into a namespace of their own, and one pod is created for every pod of the stack's peak
// (lib/namespace/namespace-peak.ts): the Deployments' templates at HPA max plus surge, the gate Job, and the pods the
// operators make from the custom resources (CloudNativePG instances with the Barman Cloud sidecar, PgBouncer, Redis
// and sentinels), with the containers and resources the operators give them. The API server must admit every one,
// count them exactly as computed (LimitRange defaults, native sidecars and init containers included), admit the
// spare pods, and refuse the pod after those. The pods never run (they select no node): a quota counts pending pods.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerLike, Manifest, NamespacePeak, bytes, millicores, namespacePeak } from '../../lib';
import { KubeClient } from '../../scripts/local';
import { readStackFile } from '../../stacks/stack-file';
import { deleteNamespace, readyCluster, waitFor } from './helpers';
import { synthesize } from '../../stacks/synthesize';

const ROOT = `${__dirname}/../..`;
const STACKS = ['staging', 'prod'] as const;
const SPARE_PODS = 5;

let env: Record<string, string>;
let kubeconfig: string;
let kube: KubeClient;

interface QuotaStatus {
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A pod that asks what one pod of `workload` asks, and runs nowhere. */
function podFor(
  namespace: string,
  name: string,
  spec: { containers?: readonly ContainerLike[]; initContainers?: readonly ContainerLike[] },
): Record<string, unknown> {
  const container = (c: ContainerLike, index: number, prefix: string) => ({
    name: `${prefix}${index}`,
    image: 'cutover.local/pause:1',
    ...(c.restartPolicy !== undefined ? { restartPolicy: c.restartPolicy } : {}),
    ...(c.resources !== undefined ? { resources: c.resources } : {}),
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      nodeSelector: { 'cutover.dev/quota-test': 'no-such-node' },
      containers: (spec.containers ?? []).map((c, i) => container(c, i, 'c')),
      ...(spec.initContainers !== undefined && spec.initContainers.length > 0
        ? { initContainers: spec.initContainers.map((c, i) => container(c, i, 'init')) }
        : {}),
    },
  };
}

function rendered(stack: string): { manifests: Manifest[]; peak: NamespacePeak } {
  const manifests = synthesize(readStackFile(ROOT, stack), stack).objects.map((r) => r.manifest);
  return { manifests, peak: namespacePeak(manifests) };
}

beforeAll(() => {
  const cluster = readyCluster();
  env = cluster.env;
  kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  for (const stack of STACKS) {
    deleteNamespace(env, kubeconfig, `quota-${stack}`);
  }
});

afterAll(() => {
  for (const stack of STACKS) {
    kubectl(['delete', 'namespace', `quota-${stack}`, '--ignore-not-found', '--wait=false']);
  }
});

describe.each(STACKS)("the %s stack's quota, counted by the API server", (stack) => {
  const namespace = `quota-${stack}`;

  it('admits every pod of the peak, counts them as computed, admits the spare pods and refuses the next one', async () => {
    const { manifests, peak } = rendered(stack);
    const ofKind = (kind: string) => manifests.find((m) => m.kind === kind) as Manifest;
    kubectl(['create', 'namespace', namespace]);
    for (const kind of ['LimitRange', 'ResourceQuota']) {
      const object = { ...ofKind(kind), metadata: { ...ofKind(kind).metadata, namespace } };
      kubectl(['apply', '-f', '-'], JSON.stringify(object));
    }
    const quotaPath = `/api/v1/namespaces/${namespace}/resourcequotas/compute`;
    await waitFor(
      'the quota controller to count the new quota',
      async () => (await kube.get<QuotaStatus>(quotaPath))?.status?.used !== undefined,
      120,
    );

    const pods = peak.workloads.flatMap((workload) =>
      Array.from({ length: workload.pods }, (_, index) =>
        podFor(namespace, `${workload.source.replace('/', '-').toLowerCase()}-${index}`, workload.podSpec),
      ),
    );
    expect(pods.length).toBe(peak.pods);
    // One request per pod, in order; each is admitted or the command fails naming the pod and the quota.
    kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }));

    // What the API server charged: exactly the computed peak.
    const used = (await kube.get<QuotaStatus>(quotaPath))?.status?.used ?? {};
    expect({
      pods: Number(used.pods),
      cpuRequest: millicores(used['requests.cpu']),
      cpuLimit: millicores(used['limits.cpu']),
      memoryRequest: bytes(used['requests.memory']),
      memoryLimit: bytes(used['limits.memory']),
    }).toEqual({ pods: peak.pods, ...peak.total });

    // The spare pods, at the LimitRange's defaults, fit; the one after them does not.
    const spare = Array.from({ length: SPARE_PODS }, (_, index) => podFor(namespace, `spare-${index}`, { containers: [{ name: 'debug' }] }));
    kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: spare }));
    let refused = '';
    try {
      kubectl(['create', '-f', '-'], JSON.stringify(podFor(namespace, 'one-too-many', { containers: [{ name: 'debug' }] })));
    } catch (error) {
      refused = String((error as { stderr?: string }).stderr ?? error);
    }
    expect(refused).toMatch(/exceeded quota: compute/);
  });
});
