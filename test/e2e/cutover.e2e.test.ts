// End to end on a real control plane (kube-apiserver, controller-manager, scheduler, etcd, kwok nodes)
// driven by the real Pulumi CLI and Kubernetes provider. The steps share one stack and run in order.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../lib';
import { EndpointWatcher, KubeClient, LOCAL_IMAGE, LocalStack, localStackConfig, parseUrn, podColor, runCommand } from '../../scripts/local';
import { deleteNamespace, expectSucceeded, namespaceDiagnostics, readyCluster, waitFor } from './helpers';
import { parseStackConfig } from '../../stacks/config';
import { buildPlatform } from '../../stacks/platform';
import { toRawConfig } from '../../stacks/stack-file';

const APP = 'web';
const NAMESPACE = 'web-e2e';
const IMAGE = LOCAL_IMAGE;
/** kwok keeps pods of this tag running but never ready (scripts/cluster.d/stages.yaml). */
const NEVER_READY = `${IMAGE}:0.0.0-never-ready`;
const TIMEOUT_SECONDS = 45;

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;
let kubeconfig: string;
/** The namespace's workloads and events, for the message of a failed update. */
const diagnose = (): string => namespaceDiagnostics(env, kubeconfig, NAMESPACE);
const timings: Record<string, number> = {};

type Item = { metadata: { name: string; labels?: Record<string, string> }; status?: Record<string, any>; spec?: Record<string, any> };

async function list(path: string): Promise<Item[]> {
  return (await kube.get<{ items: Item[] }>(path))?.items ?? [];
}

async function deployment(color: string): Promise<Item | undefined> {
  return kube.get<Item>(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${APP}-${color}`);
}

async function serviceSelectorColor(name: string): Promise<string | undefined> {
  return (await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}/services/${name}`))?.spec?.selector?.['cutover.dev/color'];
}

/** Colors of the pods behind a Service's ready endpoints. */
async function endpointColors(service: string): Promise<string[]> {
  return [...new Set((await kube.readyEndpointPods(NAMESPACE, service)).map((pod) => podColor(pod, APP)))];
}

beforeAll(async () => {
  const cluster = readyCluster();
  env = cluster.env;
  kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  deleteNamespace(env, kubeconfig, NAMESPACE);
  stack = new LocalStack('e2e', env, kubeconfig);
  await stack.init(
    localStackConfig(NAMESPACE, { 'cutover:deployTimeoutSeconds': TIMEOUT_SECONDS, 'cutover:drainSeconds': 2, 'cutover:shutdownSeconds': 5 }),
  );
}, 1800_000);

afterAll(async () => {
  await kube?.close();
  console.log(`e2e timings (s): ${JSON.stringify(timings)}`);
});

describe('blue-green on a real control plane', () => {
  it('1. pulumi up with blue live: every object exists, both colors available, Services select one color each', async () => {
    const result = await stack.up();
    expectSucceeded(result, diagnose);
    timings.firstUp = result.seconds;

    for (const path of [
      `/api/v1/namespaces/${NAMESPACE}`,
      `/api/v1/namespaces/${NAMESPACE}/resourcequotas/compute`,
      `/api/v1/namespaces/${NAMESPACE}/limitranges/container-defaults`,
      `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${APP}`,
      `/api/v1/namespaces/${NAMESPACE}/configmaps/${APP}-settings`,
      `/api/v1/namespaces/${NAMESPACE}/services/${APP}`,
      `/api/v1/namespaces/${NAMESPACE}/services/${APP}-preview`,
      `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/${APP}`,
      ...['blue', 'green'].flatMap((color) => [
        `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${APP}-${color}`,
        `/apis/autoscaling/v2/namespaces/${NAMESPACE}/horizontalpodautoscalers/${APP}-${color}`,
        `/apis/policy/v1/namespaces/${NAMESPACE}/poddisruptionbudgets/${APP}-${color}`,
      ]),
    ]) {
      expect(await kube.get(path), path).toBeDefined();
    }
    for (const color of ['blue', 'green']) {
      await waitFor(`${color} to be available at 2 replicas`, async () => (await deployment(color))?.status?.availableReplicas === 2);
    }
    await waitFor('live endpoints', async () => (await kube.readyEndpointPods(NAMESPACE, APP)).length === 2);
    expect(await endpointColors(APP)).toEqual(['blue']);
    await waitFor('preview endpoints', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-preview`)).length === 2);
    expect(await endpointColors(`${APP}-preview`)).toEqual(['green']);
  });

  it('5. pods were admitted under enforce: restricted, which rejects a pod that breaks it', async () => {
    const namespace = await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}`);
    expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const pods = await list(`/api/v1/namespaces/${NAMESPACE}/pods`);
    expect(pods.filter((p) => p.metadata.name.startsWith(`${APP}-blue-`))).toHaveLength(2);
    expect(pods.filter((p) => p.metadata.name.startsWith(`${APP}-green-`))).toHaveLength(2);
    // The control: the same admission refuses a pod without the restricted settings.
    const denied = await runCommand(
      'kubectl',
      ['-n', NAMESPACE, 'run', 'not-restricted', `--image=${IMAGE}:1.0.0`, '--restart=Never', '--dry-run=server'],
      stack.env,
    );
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('violates PodSecurity "restricted');
  });

  it('2. cutover: the preview updates only routing objects (and runs the gate of green), traffic moves to green without a gap', async () => {
    await stack.set('activeColor', 'green');
    const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
    expect(steps.map((s) => `${s.op} ${s.type} ${s.name}`).sort()).toEqual([
      `create kubernetes:batch/v1:Job ${NAMESPACE}/${APP}-gate-green`,
      `create kubernetes:core/v1:Service ${NAMESPACE}/${APP}-gate-green`,
      `delete kubernetes:batch/v1:Job ${NAMESPACE}/${APP}-gate-blue`,
      `delete kubernetes:core/v1:Service ${NAMESPACE}/${APP}-gate-blue`,
      `update kubernetes:core/v1:Service ${NAMESPACE}/${APP}`,
      `update kubernetes:core/v1:Service ${NAMESPACE}/${APP}-preview`,
    ]);

    const watcher = new EndpointWatcher(kube, NAMESPACE, APP);
    const result = await stack.up();
    await waitFor('green endpoints', async () => (await endpointColors(APP)).join() === 'green', 30);
    await watcher.stop();
    expectSucceeded(result, diagnose);
    timings.cutover = result.seconds;
    timings.cutoverSamples = watcher.samples.length;
    timings.cutoverLongestSampleGapMs = watcher.longestGapMs;
    timings.cutoverMinimumReadyEndpoints = watcher.minimum;
    expect(watcher.errors).toEqual([]);
    expect(watcher.samples.length).toBeGreaterThan(5);
    expect(watcher.longestGapMs).toBeLessThanOrEqual(150);
    expect(watcher.minimum).toBeGreaterThan(0);
    expect(await endpointColors(APP)).toEqual(['green']);
    expect(await endpointColors(`${APP}-preview`)).toEqual(['blue']);
  });

  it('3. rollback: back to blue with the same guarantees', async () => {
    await stack.set('activeColor', 'blue');
    const watcher = new EndpointWatcher(kube, NAMESPACE, APP);
    const result = await stack.up();
    await waitFor('blue endpoints', async () => (await endpointColors(APP)).join() === 'blue', 30);
    await watcher.stop();
    expectSucceeded(result, diagnose);
    timings.rollback = result.seconds;
    expect(watcher.minimum).toBeGreaterThan(0);
    expect(await endpointColors(APP)).toEqual(['blue']);
  });

  it('4. broken release: the update fails in bounded time, traffic never leaves blue, fixing converges', async () => {
    await stack.set('green.image', NEVER_READY);
    await stack.set('activeColor', 'green');
    const watcher = new EndpointWatcher(kube, NAMESPACE, APP);
    const failed = await stack.up();
    await watcher.stop();
    timings.brokenRelease = failed.seconds;
    expect(failed.code).not.toBe(0);
    expect(failed.seconds).toBeLessThan(TIMEOUT_SECONDS + 90);
    const output = failed.stdout + failed.stderr;
    expect(output).toContain(`${APP}-green`);
    expect(output).toMatch(/not (yet )?ready|did not become|Minimum number of live Pods was not attained|failed to become available|timed out/i);
    expect(await serviceSelectorColor(APP)).toBe('blue');
    expect(watcher.minimum).toBeGreaterThan(0);
    expect(new Set(watcher.samples.flatMap((s) => s.pods.map((p) => podColor(p, APP))))).toEqual(new Set(['blue']));

    await stack.set('green.image', `${IMAGE}:1.2.0`);
    const fixed = await stack.up();
    expectSucceeded(fixed, diagnose);
    await waitFor('green endpoints after the fix', async () => (await endpointColors(APP)).join() === 'green', 30);
    expect(await serviceSelectorColor(APP)).toBe('green');
  });

  it('6. an interrupted pulumi up is recovered by cancel + refresh + up, with nothing lost', async () => {
    await stack.set('blue.image', `${IMAGE}:1.3.0`);
    await stack.set('activeColor', 'blue');
    const interrupted = stack.up();
    // Kill the CLI once the blue rollout is under way: after the new ReplicaSet appears.
    await waitFor(
      'the blue rollout to start',
      async () => (await deployment('blue'))?.spec?.template?.spec?.containers?.[0]?.image === `${IMAGE}:1.3.0`,
      120,
    );
    interrupted.child.kill('SIGKILL');
    await interrupted;
    // The documented recovery (README runbook): release the killed update's lock, refresh the state from the
    // cluster (clearing the pending operations it left behind), then run the same update again.
    const locked = await stack.up();
    expect(locked.code).not.toBe(0);
    expect(locked.stderr + locked.stdout).toContain('the stack is currently locked');
    expectSucceeded(await stack.pulumi(['cancel', '--yes']));
    const refresh = await stack.pulumi(['refresh', '--yes', '--skip-preview', '--clear-pending-creates']);
    expectSucceeded(refresh);
    const up = await stack.up();
    expectSucceeded(up, diagnose);
    await waitFor('blue endpoints after recovery', async () => (await endpointColors(APP)).join() === 'blue', 30);
    const blue = await deployment('blue');
    expect(blue?.spec?.template?.spec?.containers?.[0]?.image).toBe(`${IMAGE}:1.3.0`);
    expect((await deployment('green'))?.status?.availableReplicas).toBe(2);
    const resources = JSON.parse((await stack.pulumi(['stack', 'export'])).stdout) as { deployment: { resources: Array<{ urn: string }>; pending_operations?: unknown[] } };
    expect(resources.deployment.pending_operations ?? []).toEqual([]);
    // Every object the stack renders, once: none lost, none duplicated by the interrupted update.
    const config = await stack.pulumi(['config', '--json']);
    const raw = toRawConfig(Object.fromEntries(Object.entries(JSON.parse(config.stdout) as Record<string, { value: unknown }>).map(([key, entry]) => [key, entry.value])));
    const rendered = renderChart(buildPlatform(parseStackConfig(raw, 'e2e')).chart).length;
    expect(rendered).toBeGreaterThan(15);
    expect(resources.deployment.resources.filter((r) => parseUrn(r.urn).type.startsWith('kubernetes:'))).toHaveLength(rendered);
  });

  it('7. drift: a hand-patched live Service is reported by a refreshing preview and put back by pulumi up --refresh', async () => {
    expect(await serviceSelectorColor(APP)).toBe('blue');
    // The "quick fix" someone makes with kubectl, behind the code's back.
    execFileSync('kubectl', ['-n', NAMESPACE, 'patch', 'service', APP, '--type', 'merge', '-p', '{"spec":{"selector":{"cutover.dev/color":"green"}}}'], {
      env: stack.env,
      encoding: 'utf8',
    });
    await waitFor('the hand-patched Service to route to green', async () => (await endpointColors(APP)).join() === 'green', 30);
    // The drift check (README runbook, .github/workflows/drift.yml): fails, and names what drifted.
    const check = await stack.pulumi(['preview', '--refresh', '--expect-no-changes', '--diff']);
    expect(check.code, check.stdout).not.toBe(0);
    expect(check.stdout + check.stderr).toMatch(/no changes were expected (for preview )?but changes were proposed/);
    expect(check.stdout).toMatch(new RegExp(`~ kubernetes:core/v1:Service: \\(update\\)\\s+\\[id=${NAMESPACE}/${APP}\\]`));
    expect(check.stdout).toContain('~ cutover.dev/color: "green" => "blue"');
    // Restoring: refresh the state from the cluster, then apply the code's color again.
    expectSucceeded(await stack.up(['--refresh']), diagnose);
    await waitFor('blue endpoints after restoring', async () => (await endpointColors(APP)).join() === 'blue', 30);
    expect(await serviceSelectorColor(APP)).toBe('blue');
    expectSucceeded(await stack.pulumi(['preview', '--refresh', '--expect-no-changes']));
  });

  it('8. pulumi destroy leaves no object of the stack behind', async () => {
    const result = await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    expectSucceeded(result, diagnose);
    await waitFor('the namespace to be gone', async () => (await kube.get(`/api/v1/namespaces/${NAMESPACE}`)) === undefined, 120);
    const leftovers = execFileSync('kubectl', ['get', 'all,ingress,configmap,pdb,hpa,serviceaccount', '-A', '-l', 'app.kubernetes.io/managed-by=cutover', '-o', 'name'], {
      env: stack.env,
      encoding: 'utf8',
    });
    expect(leftovers.trim()).toBe('');
  });
});
