// Safe cutovers on the real control plane: the gate (a per-color Service the provider awaits for ready endpoints,
// then a smoke-test Job) and an expand migration must succeed before the live Service moves; a weighted shift
// changes only routing objects. kwok fails Job pods whose image is tagged `*-fail` and makes pods annotated
// `cutover.test/unready: "true"` stop being ready (scripts/cluster.d/stages.yaml).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, LocalStack, localStackConfig } from '../../scripts/local';
import { deleteNamespace, expectSucceeded, readyCluster, waitFor } from './helpers';

const APP = 'web';
const NAMESPACE = 'web-gates';
const TIMEOUT_SECONDS = 40;
const GATE_IMAGE = 'registry.example.com/acme/smoke:1.0.0';
const MIGRATE_IMAGE = 'registry.example.com/acme/web-migrate';

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;

interface Item {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec?: { selector?: Record<string, string> };
  status?: { succeeded?: number; failed?: number };
}

async function liveColor(): Promise<string | undefined> {
  return (await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}/services/${APP}`))?.spec?.selector?.['cutover.dev/color'];
}

async function jobs(prefix: string): Promise<Item[]> {
  const list = await kube.get<{ items: Item[] }>(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`);
  return (list?.items ?? []).filter((job) => job.metadata.name.startsWith(prefix));
}

function kubectl(args: readonly string[]): string {
  return execFileSync('kubectl', ['-n', NAMESPACE, ...args], { env: stack.env, encoding: 'utf8' });
}


function expectFailedNaming(result: { code: number | null; stdout: string; stderr: string }, ...needles: string[]): void {
  expect(result.code, result.stdout).not.toBe(0);
  for (const needle of needles) {
    expect(result.stdout + result.stderr).toContain(needle);
  }
}

beforeAll(async () => {
  const cluster = readyCluster();
  env = cluster.env;
  const kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  deleteNamespace(env, kubeconfig, NAMESPACE);
  stack = new LocalStack('gates', env, kubeconfig);
  await stack.init(
    localStackConfig(NAMESPACE, {
      'cutover:deployTimeoutSeconds': TIMEOUT_SECONDS,
      'cutover:drainSeconds': 1,
      'cutover:shutdownSeconds': 2,
      'cutover:gate': { image: GATE_IMAGE, checks: [{ path: '/api/orders', expectStatus: 200 }] },
      // A database to migrate: the CloudNativePG resources are accepted by the API server (CRDs installed); no
      // operator runs here, and the migration Job's outcome comes from kwok.
      'cutover:postgres': { instances: 1, backup: { enabled: false } },
      'cutover:migrations': { expand: { image: `${MIGRATE_IMAGE}:1.0.0`, command: ['migrate', 'up'] } },
    }),
  );
}, 1800_000);

afterAll(async () => {
  if (stack !== undefined) {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    await stack.pulumi(['stack', 'rm', '--yes', '--force']);
  }
  await kube?.close();
});

describe('gates, migrations and weighted shifts on a real control plane', () => {
  it('1. the first pulumi up runs the expand migration and the gate of the live color before the live Service exists', async () => {
    expectSucceeded(await stack.up());
    expect(await liveColor()).toBe('blue');
    const [migration] = await jobs(`${APP}-migrate-expand-`);
    expect(migration?.status?.succeeded).toBe(1);
    const [gate] = await jobs(`${APP}-gate-blue`);
    expect(gate?.status?.succeeded).toBe(1);
  });

  it('2. a color that stopped being ready since it was deployed is refused by the gate, though its Deployment is unchanged', async () => {
    // Green was deployed healthy in step 1; now its pods stop passing readiness.
    kubectl(['annotate', 'pods', '-l', 'cutover.dev/color=green', 'cutover.test/unready=true']);
    await waitFor('green pods to be unready', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-preview`)).length === 0, 30);
    await stack.set('activeColor', 'green');
    const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
    // The Deployments are unchanged: only the gate (per target color) and the routing objects are in the update.
    expect(steps.filter((s) => s.type === 'kubernetes:apps/v1:Deployment')).toEqual([]);
    const result = await stack.up();
    expectFailedNaming(result, `${NAMESPACE}/${APP}-gate-green`);
    expect(await liveColor()).toBe('blue');
    // Green recovers (new pods): the next update goes past the readiness half of the gate.
    kubectl(['delete', 'pods', '-l', 'cutover.dev/color=green', '--wait=false']);
    await waitFor('green pods to be ready again', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-preview`)).length === 2, 60);
  });

  it('3. a failing smoke test stops the cutover: the live Service stays on blue and the error names the gate', async () => {
    await stack.set('gate.image', `${GATE_IMAGE}-fail`);
    const result = await stack.up();
    expectFailedNaming(result, `${NAMESPACE}/${APP}-gate-green`, 'BackoffLimitExceeded');
    expect(await liveColor()).toBe('blue');
    // What the smoke test printed is in its pod's termination message (FallbackToLogsOnError), where the runbook
    // (docs/gates.md) sends the reader: `kubectl logs job/web-gate-green` on a real cluster.
    expect(kubectl(['get', 'pods', '-l', 'job-name=web-gate-green', '-o', 'jsonpath={.items[*].status.containerStatuses[*].state.terminated.message}'])).toContain('FAIL');
    // A passing smoke test lets the same cutover through.
    await stack.set('gate.image', GATE_IMAGE);
    expectSucceeded(await stack.up());
    expect(await liveColor()).toBe('green');
    expect((await jobs(`${APP}-gate-`)).map((job) => `${job.metadata.name} ${job.status?.succeeded}`)).toEqual([`${APP}-gate-green 1`]);
  });

  it('4. a failing expand migration stops the cutover; a rollback never re-runs a migration', async () => {
    const [before] = await jobs(`${APP}-migrate-expand-`);
    await stack.set('migrations.expand.image', `${MIGRATE_IMAGE}:1.1.0-fail`);
    await stack.set('activeColor', 'blue');
    const failed = await stack.up();
    expectFailedNaming(failed, `${APP}-migrate-expand-`, 'BackoffLimitExceeded');
    expect(await liveColor()).toBe('green');
    // Back to the migration that succeeded: the same Job as before (same uid), not run again, and blue goes live.
    await stack.set('migrations.expand.image', `${MIGRATE_IMAGE}:1.0.0`);
    expectSucceeded(await stack.up());
    expect(await liveColor()).toBe('blue');
    const after = await jobs(`${APP}-migrate-expand-`);
    expect(after.map((job) => job.metadata.name)).toEqual([before.metadata.name]);
    // Rollback to green: only the activeColor changes, and the migration Job stays the very same object.
    await stack.set('activeColor', 'green');
    expectSucceeded(await stack.up());
    expect(await liveColor()).toBe('green');
    expect((await jobs(`${APP}-migrate-expand-`)).map((job) => job.metadata.uid)).toEqual([after[0].metadata.uid]);
  });

  it('5. a weighted shift changes only the canary routing object, step by step', async () => {
    // Green is live; shift towards blue. The canary Ingress exists only while the weight is above 0.
    for (const [weight, op] of [[5, 'create'], [25, 'update']] as const) {
      await stack.set('trafficWeight', String(weight));
      const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
      expect(steps.map((s) => `${s.op} ${s.type} ${s.name}`)).toEqual([`${op} kubernetes:networking.k8s.io/v1:Ingress ${NAMESPACE}/${APP}-canary`]);
      expectSucceeded(await stack.up());
      const canary = await kube.get<Item>(`/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/${APP}-canary`);
      expect(canary?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight']).toBe(String(weight));
    }
  });
});
