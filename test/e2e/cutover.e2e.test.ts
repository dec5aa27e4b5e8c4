// End to end on a real control plane (kube-apiserver, controller-manager, scheduler, etcd) with a real node
// (containerd, runc, kubelet, kube-proxy, CoreDNS: scripts/cluster.d/node.sh) running the example app
// (examples/app), driven by the real Pulumi CLI and Kubernetes provider. A load client sends real requests through
// the live Service's ClusterIP for the whole of every update and counts every response. The steps share one stack
// and run in order.
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE, KubeClient, LocalStack, parseUrn, podColor, realStackConfig, runCommand, serviceUrl } from '../../scripts/local';
import { TrafficSample, summarize, switchTimes } from '../../scripts/traffic';
import {
  LoadRun,
  deleteNamespace,
  describeFailures,
  expectMovedTo,
  expectSucceeded,
  namespaceDiagnostics,
  readyCluster,
  underLoad,
  waitFor,
} from './helpers';
import { toRawConfig } from '../../stacks/stack-file';
import { synthesize } from '../../stacks/synthesize';

const APP = 'web';
const NAMESPACE = 'web-e2e';
const IMAGE = EXAMPLE_IMAGE;
/** The example app built never to pass readiness (scripts/images). */
const NEVER_READY = `${IMAGE}:1.1.0-never-ready`;
/** The example app answering 500 to every request of `/` while ready. */
const FAILING = `${IMAGE}:1.1.0-failing`;
const TIMEOUT_SECONDS = 60;

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;
let kubeconfig: string;
/** The live Service's ClusterIP URL, where every load client sends its requests. */
let liveUrl: string;
/** The namespace's workloads and events, for the message of a failed update. */
const diagnose = (): string => namespaceDiagnostics(env, kubeconfig, NAMESPACE);
const timings: Record<string, number | undefined> = {};
const traffic: Record<string, unknown> = {};

/** The fields these steps read of the Pods, Deployments, Jobs and Services they get from the API server. */
interface Container {
  readonly image?: string;
  readonly env?: { readonly name: string; readonly value: string }[];
}
interface ContainerStatus {
  readonly containerID?: string;
  readonly state?: { readonly waiting?: { reason?: string; message?: string }; readonly terminated?: { exitCode: number } };
}
interface Item {
  readonly metadata: { name: string; labels?: Record<string, string> };
  readonly spec?: {
    readonly nodeName?: string;
    readonly replicas?: number;
    readonly selector?: Record<string, string>;
    readonly containers?: Container[];
    readonly template?: { readonly metadata?: { labels?: Record<string, string> }; readonly spec?: { readonly containers?: Container[] } };
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly availableReplicas?: number;
    readonly succeeded?: number;
    readonly containerStatuses?: ContainerStatus[];
  };
}

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

/** The running pods of a color (not the gate's), with their IPs. */
async function colorPods(color: string): Promise<Item[]> {
  return (await list(`/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=app.kubernetes.io%2Fname%3D${APP},cutover.dev%2Fcolor%3D${color}`)).filter(
    (pod) => pod.status?.phase === 'Running' && pod.status?.podIP !== undefined,
  );
}

/** `POST /admin/<action>` on a pod's metrics port (the example app's maintenance switch), from the node. */
function adminPost(pod: Item, action: 'ready' | 'unready'): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: pod.status?.podIP, port: 9090, path: `/admin/${action}`, method: 'POST', timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200 ? resolve() : reject(new Error(`POST /admin/${action} on ${pod.metadata.name}: ${res.statusCode}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`POST /admin/${action} on ${pod.metadata.name}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Samples sent at or after `from` (ms since the epoch). */
function after(samples: readonly TrafficSample[], from: number): TrafficSample[] {
  return samples.filter((s) => s.sentAt >= from);
}

/** Records what a load run saw, for the log at the end. */
function record(name: string, run: LoadRun<unknown>, from?: 'blue' | 'green', to?: 'blue' | 'green'): void {
  const summary = summarize(run.samples);
  traffic[name] = {
    sent: summary.sent,
    failed: summary.failed,
    byColor: summary.byColor,
    p50Ms: summary.p50Ms,
    p99Ms: summary.p99Ms,
    commandSeconds: (run.commandEndedAt - run.commandStartedAt) / 1000,
    ...(from !== undefined && to !== undefined ? switchTimes(run.samples, { commandStartedAt: run.commandStartedAt, from, to }) : {}),
  };
}

beforeAll(async () => {
  const cluster = readyCluster();
  env = cluster.env;
  kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  deleteNamespace(env, kubeconfig, NAMESPACE);
  stack = new LocalStack('e2e', env, kubeconfig);
  await stack.init(
    realStackConfig(NAMESPACE, { 'cutover:deployTimeoutSeconds': TIMEOUT_SECONDS, 'cutover:drainSeconds': 2, 'cutover:shutdownSeconds': 5 }),
  );
});

afterAll(async () => {
  await kube?.close();
  console.log(`e2e timings (s): ${JSON.stringify(timings)}`);
  console.log(`e2e traffic: ${JSON.stringify(traffic)}`);
});

describe('blue-green with real pods and real requests', () => {
  it('1. pulumi up with blue live: every object exists, both colors run, every request is answered by blue', async () => {
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
      `/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes/${APP}`,
      `/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes/${APP}-https-redirect`,
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
    // Real containers on the real node, not simulated pods.
    const pods = await list(`/api/v1/namespaces/${NAMESPACE}/pods`);
    for (const pod of pods.filter((p) => p.metadata.name.startsWith(`${APP}-`) && !p.metadata.name.includes('-gate-'))) {
      expect(pod.spec?.nodeName, pod.metadata.name).toBe('cutover-node-real');
      expect(pod.status?.containerStatuses?.[0]?.containerID, pod.metadata.name).toMatch(/^containerd:\/\//);
    }
    // The gate's smoke test ran for real: curl in the gate image called the blue pods through Service web-blue.
    const gateJob = await kube.get<Item>(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${APP}-gate-blue`);
    expect(gateJob?.status?.succeeded).toBe(1);

    liveUrl = await serviceUrl(kube, NAMESPACE, APP);
    const run = await underLoad(liveUrl, async () => new Promise((r) => setTimeout(r, 3000)), { leadMs: 0, tailMs: 0 });
    record('blueLive', run);
    expect(run.samples.length).toBeGreaterThanOrEqual(100);
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expect(summarize(run.samples).byColor).toEqual({ blue: run.samples.length, green: 0, none: 0 });
    expect(new Set(run.samples.map((s) => s.connection))).toEqual(new Set(['keepalive', 'new']));
    // The preview Service is the idle color's.
    const preview = await underLoad(await serviceUrl(kube, NAMESPACE, `${APP}-preview`), async () => new Promise((r) => setTimeout(r, 1000)), {
      leadMs: 0,
      tailMs: 0,
    });
    expect(summarize(preview.samples).byColor.green).toBe(preview.samples.length);
  });

  it(
    '5. runtime security: pods run as the non-root UID on a read-only root filesystem; admission and the kubelet refuse what breaks ' + 'it',
    async () => {
      const namespace = await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}`);
      expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
      const pod = (await list(`/api/v1/namespaces/${NAMESPACE}/pods`)).find((p) => p.metadata.name.startsWith(`${APP}-blue-`));
      expect(pod).toBeDefined();
      // Read from the running container itself.
      const probe = `const fs = require('fs'); let root = 'writable'; try { fs.writeFileSync('/probe', 'x'); } catch (e) { root = e.code; }
      fs.writeFileSync('/tmp/probe', 'x');
      process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), root, tmp: 'writable' }));`;
      const seen = JSON.parse(
        execFileSync('kubectl', ['-n', NAMESPACE, 'exec', pod!.metadata.name, '-c', 'app', '--', 'node', '-e', probe], {
          env: stack.env,
          encoding: 'utf8',
        }),
      ) as Record<string, unknown>;
      expect(seen).toEqual({ uid: 10001, gid: 10001, root: 'EROFS', tmp: 'writable' });

      // Admission refuses a pod without the restricted settings.
      const denied = await runCommand(
        'kubectl',
        ['-n', NAMESPACE, 'run', 'not-restricted', `--image=${IMAGE}:1.0.0`, '--restart=Never', '--dry-run=server'],
        stack.env,
      );
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain('violates PodSecurity "restricted');
      // The kubelet refuses to start an image that runs as root in a pod that requires non-root (admission cannot see
      // the image's user).
      const rootPod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'runs-as-root' },
        spec: {
          nodeSelector: { 'cutover.dev/node-pool': 'real' },
          tolerations: [{ key: 'cutover.dev/real-node', operator: 'Exists', effect: 'NoSchedule' }],
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'app',
              image: `${IMAGE}:1.1.0-root`,
              imagePullPolicy: 'Never',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              resources: {
                requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '16Mi' },
                limits: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
              },
            },
          ],
        },
      };
      execFileSync('kubectl', ['-n', NAMESPACE, 'apply', '-f', '-'], { env: stack.env, input: JSON.stringify(rootPod), encoding: 'utf8' });
      let waiting: { reason?: string; message?: string } | undefined;
      await waitFor('the kubelet to refuse the root image', async () => {
        waiting = (await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}/pods/runs-as-root`))?.status?.containerStatuses?.[0]?.state?.waiting;
        return waiting?.reason === 'CreateContainerConfigError';
      });
      expect(waiting?.message).toContain('image will run as root');
      execFileSync('kubectl', ['-n', NAMESPACE, 'delete', 'pod', 'runs-as-root', '--wait=false'], { env: stack.env });
    },
  );

  it(
    '2a. a green that stopped being ready since it was deployed is refused by the gate, its Deployment unchanged; traffic stays on ' + 'blue',
    async () => {
      // Green was deployed healthy in step 1; now every green pod takes itself out of service (readiness fails).
      await Promise.all((await colorPods('green')).map((pod) => adminPost(pod, 'unready')));
      await waitFor('green to have no ready endpoint', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-green`)).length === 0, 30);
      await stack.set('activeColor', 'green');
      const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
      // Nothing re-awaits green's rollout: only the gate (per target color) and the routing objects are in the update.
      expect(steps.filter((s) => s.type === 'kubernetes:apps/v1:Deployment')).toEqual([]);
      const run = await underLoad(liveUrl, () => stack.up());
      record('unreadyTarget', run);
      expect(run.result.code).not.toBe(0);
      // The smoke test's first request found no ready endpoint behind green's Service.
      expect(run.result.stdout + run.result.stderr).toContain(`${NAMESPACE}/${APP}-gate-green`);
      expect(run.result.stdout + run.result.stderr).toMatch(/FAIL GET \/ready: no HTTP response \(curl exit code 7\)/);
      expect(await serviceSelectorColor(APP)).toBe('blue');
      expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
      expect(summarize(run.samples).byColor.green).toBe(0);
      // Back in service: the next step's cutover goes through.
      await Promise.all((await colorPods('green')).map((pod) => adminPost(pod, 'ready')));
      await waitFor('green to be ready again', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-green`)).length === 2, 30);
    },
  );

  it('2. cutover under load: the preview changes only routing objects, no request fails, traffic moves to green', async () => {
    await stack.set('activeColor', 'green');
    const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
    // The gate is a Job per target color that checks it through its own Service web-green: no other object changes.
    // Step 2a's gate failed: its Job is replaced (pulumi.com/replaceUnready), so it runs again.
    expect(steps.map((s) => `${s.op} ${s.type} ${s.name}`).sort()).toEqual([
      `delete kubernetes:batch/v1:Job ${NAMESPACE}/${APP}-gate-blue`,
      `replace kubernetes:batch/v1:Job ${NAMESPACE}/${APP}-gate-green`,
      `update kubernetes:core/v1:Service ${NAMESPACE}/${APP}`,
      `update kubernetes:core/v1:Service ${NAMESPACE}/${APP}-preview`,
    ]);

    const run = await underLoad(liveUrl, () => stack.up(), { settleOn: 'green' });
    expectSucceeded(run.result, diagnose);
    timings.cutover = run.result.seconds;
    record('cutover', run, 'blue', 'green');
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expect(summarize(run.samples).byColor.green).toBeGreaterThan(0);
    expectMovedTo(run, 'green');
    expect(await endpointColors(`${APP}-preview`)).toEqual(['blue']);
  });

  it('3. rollback under load: back to blue with the same guarantees', async () => {
    await stack.set('activeColor', 'blue');
    const run = await underLoad(liveUrl, () => stack.up(), { settleOn: 'blue' });
    expectSucceeded(run.result, diagnose);
    timings.rollback = run.result.seconds;
    record('rollback', run, 'green', 'blue');
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expectMovedTo(run, 'blue');
  });

  it(
    '3b. npm run rollback refuses an idle color that stopped being ready; once it is ready, moves traffic first, and the stack agrees ' + 'after',
    async () => {
      // Blue is live since step 3; green is idle at full size, unchanged since. Green's pods take themselves out of service.
      await Promise.all((await colorPods('green')).map((pod) => adminPost(pod, 'unready')));
      await waitFor('green to have no ready endpoint', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-green`)).length === 0, 30);
      const refused = await underLoad(liveUrl, () => stack.rollback());
      expect(refused.result.code).not.toBe(0);
      expect(refused.result.stderr).toContain(`rollback of stack ${stack.name} to green refused, nothing changed:`);
      expect(refused.result.stderr).toContain(
        `${APP}: Service ${APP}-green has 0 ready endpoint(s), needs 2 (the Deployment's replicas); traffic stays on blue`,
      );
      expect(await serviceSelectorColor(APP)).toBe('blue');
      expect((await stack.pulumi(['config', 'get', 'activeColor'])).stdout.trim()).toBe('blue');
      expect(summarize(refused.samples).failed, describeFailures(refused.samples)).toBe(0);
      expect(summarize(refused.samples).byColor.green).toBe(0);

      // Back in service: the fast path moves traffic, then runs the normal update, which records it.
      await Promise.all((await colorPods('green')).map((pod) => adminPost(pod, 'ready')));
      await waitFor('green to be ready again', async () => (await kube.readyEndpointPods(NAMESPACE, `${APP}-green`)).length === 2, 30);
      const run = await underLoad(liveUrl, () => stack.rollback(), { settleOn: 'green' });
      expectSucceeded(run.result, diagnose);
      record('fastRollback', run, 'blue', 'green');
      timings.fastRollback = run.result.seconds;
      expect(run.result.stdout).toMatch(
        new RegExp(
          `rollback: traffic of ${APP} moved from blue to green at [0-9.]+ s[^]*running pulumi up[^]*the stack file, its state and the ` +
            `cluster agree on green`,
        ),
      );
      expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
      expectMovedTo(run, 'green');
      // Traffic moved before the update that records it ended: the last blue response came before the command returned.
      expect(switchTimes(run.samples, { commandStartedAt: run.commandStartedAt, from: 'blue', to: 'green' }).lastFromMs).toBeLessThan(
        run.commandEndedAt - run.commandStartedAt,
      );
      // The stack file, the state and the cluster agree: green in the config and the recorded state, nothing to change.
      expect((await stack.pulumi(['config', 'get', 'activeColor'])).stdout.trim()).toBe('green');
      expect(JSON.parse((await stack.pulumi(['stack', 'output', 'cutoverState', '--json'])).stdout)).toMatchObject({ activeColor: 'green' });
      expect((await stack.previewSteps()).filter((step) => step.op !== 'same')).toEqual([]);

      // And back: blue is live again for the next steps.
      const back = await underLoad(liveUrl, () => stack.rollback(), { settleOn: 'blue' });
      expectSucceeded(back.result, diagnose);
      expect(summarize(back.samples).failed, describeFailures(back.samples)).toBe(0);
      expectMovedTo(back, 'blue');
      expect(await serviceSelectorColor(APP)).toBe('blue');
    },
  );

  it('4. broken release: a never-ready green made live fails the update, green answers no request, none fails', async () => {
    await stack.set('green.image', NEVER_READY);
    await stack.set('activeColor', 'green');
    const run = await underLoad(liveUrl, () => stack.up());
    const failed = run.result;
    timings.brokenRelease = failed.seconds;
    record('brokenRelease', run);
    expect(failed.code).not.toBe(0);
    const output = failed.stdout + failed.stderr;
    expect(output).toContain(`${APP}-green`);
    expect(output).toMatch(/not (yet )?ready|did not become|Minimum number of live Pods was not attained|failed to become available|timed out/i);
    expect(await serviceSelectorColor(APP)).toBe('blue');
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expect(summarize(run.samples).byColor).toEqual({ blue: run.samples.length, green: 0, none: 0 });
  });

  it('4b. the smoke-test gate fails a green that answers 500, quoting the real response; traffic stays on blue', async () => {
    await stack.set('green.image', FAILING);
    const run = await underLoad(liveUrl, () => stack.up());
    const failed = run.result;
    timings.failingGate = failed.seconds;
    record('failingGate', run);
    expect(failed.code).not.toBe(0);
    const output = failed.stdout + failed.stderr;
    expect(output).toContain(`${APP}-gate-green`);
    // The gate script's own line, with what the green pods really answered.
    expect(output).toMatch(
      /FAIL GET \/: expected status 200, got 500: \{\\?"error\\?":\\?"injected failure \(ERROR_RATIO=1\)\\?",\\?"color\\?":\\?"green/,
    );
    // The gate checked through the Service of green's new pod template: every pod behind it runs the failing image,
    // none of the 1.1.0 pods this rollout replaced (which answered 200 while they drained).
    const gate = await kube.get<Item>(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${APP}-gate-green`);
    const gateUrl = (gate?.spec?.template?.spec?.containers?.[0]?.env ?? []).find((e) => e.name === 'CUTOVER_GATE_URL')?.value;
    const gateService = new URL(gateUrl as string).hostname.split('.')[0];
    const template = (await deployment('green'))?.spec?.template?.metadata?.labels?.['cutover.dev/template'];
    expect(gateService).toBe(`${APP}-green-${template}`);
    const behind = await kube.readyEndpointPods(NAMESPACE, gateService);
    expect(behind.length).toBeGreaterThan(0);
    for (const name of behind) {
      expect((await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}/pods/${name}`))?.spec?.containers?.[0]?.image).toBe(FAILING);
    }
    expect(await serviceSelectorColor(APP)).toBe('blue');
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expect(summarize(run.samples).byColor.green).toBe(0);

    // Fixed: green healthy again, the same update converges and moves traffic.
    await stack.set('green.image', `${IMAGE}:1.2.0`);
    const fixed = await underLoad(liveUrl, () => stack.up(), { settleOn: 'green' });
    expectSucceeded(fixed.result, diagnose);
    record('fixedRelease', fixed, 'blue', 'green');
    expect(summarize(fixed.samples).failed, describeFailures(fixed.samples)).toBe(0);
    expect(await serviceSelectorColor(APP)).toBe('green');
    expectMovedTo(fixed, 'green');
    expect(new Set(after(fixed.samples, fixed.settledAt as number).map((s) => s.version))).toEqual(new Set(['1.2.0']));
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
    const resources = JSON.parse((await stack.pulumi(['stack', 'export'])).stdout) as {
      deployment: { resources: Array<{ urn: string }>; pending_operations?: unknown[] };
    };
    expect(resources.deployment.pending_operations ?? []).toEqual([]);
    // Every object the stack renders, once: none lost, none duplicated by the interrupted update.
    const config = await stack.pulumi(['config', '--json']);
    const raw = toRawConfig(
      Object.fromEntries(Object.entries(JSON.parse(config.stdout) as Record<string, { value: unknown }>).map(([key, entry]) => [key, entry.value])),
    );
    const rendered = synthesize(raw, 'e2e').objects.length;
    expect(rendered).toBeGreaterThan(15);
    expect(resources.deployment.resources.filter((r) => parseUrn(r.urn).type.startsWith('kubernetes:'))).toHaveLength(rendered);
    // What blue serves now is the recovered release (once the proxies and keep-alive clients followed the switch).
    const run = await underLoad(liveUrl, () => Promise.resolve(), { leadMs: 0, settleOn: 'blue' });
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expectMovedTo(run, 'blue');
    expect(new Set(after(run.samples, run.settledAt as number).map((s) => `${s.color} ${s.version}`))).toEqual(new Set(['blue 1.3.0']));
  });

  it('7. drift: a hand-patched live Service is reported by a refreshing preview and put back by pulumi up --refresh', async () => {
    expect(await serviceSelectorColor(APP)).toBe('blue');
    // The "quick fix" someone makes with kubectl, behind the code's back.
    execFileSync(
      'kubectl',
      ['-n', NAMESPACE, 'patch', 'service', APP, '--type', 'merge', '-p', '{"spec":{"selector":{"cutover.dev/color":"green"}}}'],
      {
        env: stack.env,
        encoding: 'utf8',
      },
    );
    await waitFor('the hand-patched Service to route to green', async () => (await endpointColors(APP)).join() === 'green', 30);
    // The drift check (docs/cutover.md#drift, .github/workflows/drift.yml): fails, and names what drifted.
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

  it('8. retiring the idle color (idleReplicas: 0) under load: no request fails, and its pods drain and exit cleanly', async () => {
    await stack.set('idleReplicas', '0');
    const greenPods = (await list(`/api/v1/namespaces/${NAMESPACE}/pods`))
      .filter((p) => p.metadata.name.startsWith(`${APP}-green-`))
      .map((p) => p.metadata.name);
    expect(greenPods).toHaveLength(2);
    // Watch the retiring pods' containers to their end: the exit code is what SIGTERM handling looked like.
    const exits = new Map<string, number | undefined>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const name of greenPods) {
          const terminated = (await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}/pods/${name}`))?.status?.containerStatuses?.[0]?.state
            ?.terminated;
          if (terminated !== undefined) exits.set(name, terminated.exitCode);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const run = await underLoad(liveUrl, () => stack.up());
    await waitFor(
      'the retired pods to be gone',
      async () => (await list(`/api/v1/namespaces/${NAMESPACE}/pods`)).every((p) => !greenPods.includes(p.metadata.name)),
      60,
    );
    watching = false;
    await watcher;
    expectSucceeded(run.result, diagnose);
    record('retireIdle', run);
    expect(summarize(run.samples).failed, describeFailures(run.samples)).toBe(0);
    expect(summarize(run.samples).byColor).toEqual({ blue: run.samples.length, green: 0, none: 0 });
    expect((await deployment('green'))?.spec?.replicas).toBe(0);
    traffic.retiredExitCodes = Object.fromEntries(exits);
    // Every retired container that was seen ending ended by its own graceful exit (0), not by SIGKILL (137).
    expect([...exits.values()].filter((code) => code !== 0)).toEqual([]);
  });

  it('9. pulumi destroy leaves no object of the stack behind', async () => {
    const result = await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    expectSucceeded(result, diagnose);
    await waitFor('the namespace to be gone', async () => (await kube.get(`/api/v1/namespaces/${NAMESPACE}`)) === undefined, 120);
    const leftovers = execFileSync(
      'kubectl',
      ['get', 'all,ingress,httproutes,configmap,pdb,hpa,serviceaccount', '-A', '-l', 'app.kubernetes.io/managed-by=cutover', '-o', 'name'],
      {
        env: stack.env,
        encoding: 'utf8',
      },
    );
    expect(leftovers.trim()).toBe('');
  });
});
