// Safe cutovers on the real control plane: the gate (a smoke-test Job per target color, through that color's own
// Service) and an expand migration must succeed before the live Service moves; a weighted shift changes only
// routing objects. The Jobs are simulated here: what the gate's requests prove is tested with real pods in
// cutover.e2e.test.ts. kwok fails Job pods whose image is tagged `*-fail` (scripts/cluster.d/stages.yaml).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, LocalStack, localStackConfig } from '../../scripts/local';
import { deleteNamespace, expectSucceeded, namespaceDiagnostics, readyCluster } from './helpers';

const APP = 'web';
/** A second app in the same stack (`services.api`): one activeColor switches both. */
const API = 'api';
const NAMESPACE = 'web-gates';
const TIMEOUT_SECONDS = 40;
const GATE_IMAGE = 'registry.example.com/acme/smoke:1.0.0';
const MIGRATE_IMAGE = 'registry.example.com/acme/web-migrate';
const API_IMAGE = 'registry.example.com/acme/api';

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;
let kubeconfig: string;
/** The namespace's workloads and events, for the message of a failed update. */
const diagnose = (): string => namespaceDiagnostics(env, kubeconfig, NAMESPACE);

interface Item {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec?: { selector?: Record<string, string> };
  status?: { succeeded?: number; failed?: number };
}

async function liveColor(app = APP): Promise<string | undefined> {
  return (await kube.get<Item>(`/api/v1/namespaces/${NAMESPACE}/services/${app}`))?.spec?.selector?.['cutover.dev/color'];
}

/** The live color of each app: `web=blue api=blue`. */
async function liveColors(): Promise<string> {
  return `web=${await liveColor(APP)} api=${await liveColor(API)}`;
}

async function jobs(prefix: string): Promise<Item[]> {
  const list = await kube.get<{ items: Item[] }>(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs`);
  return (list?.items ?? []).filter((job) => job.metadata.name.startsWith(prefix));
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
  kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  deleteNamespace(env, kubeconfig, NAMESPACE);
  // The data tier's StorageClass, which preflight checks for: no provisioner, as nothing here binds a volume.
  const storageClass = {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'fast-ssd' },
    provisioner: 'kubernetes.io/no-provisioner',
  };
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-f', '-'], {
    env,
    input: JSON.stringify(storageClass),
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  stack = new LocalStack('gates', env, kubeconfig);
  await stack.init(
    localStackConfig(NAMESPACE, {
      'cutover:deployTimeoutSeconds': TIMEOUT_SECONDS,
      'cutover:drainSeconds': 1,
      'cutover:shutdownSeconds': 2,
      // The metric gate's Jobs run (kwok completes them: no Prometheus here; the script is tested against a fake one in
      // test/gates/metric-gate.test.ts): they must exist per app, after its smoke test, and report in the gates output.
      'cutover:gate': {
        image: GATE_IMAGE,
        checks: [{ path: '/api/orders', expectStatus: 200 }],
        metrics: { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', minRequests: 0 },
      },
      // A database to migrate: the CloudNativePG resources are accepted by the API server (CRDs installed); no
      // operator runs here, and the migration Job's outcome comes from kwok.
      'cutover:postgres': { instances: 1, backup: { enabled: false } },
      'cutover:migrations': { expand: { image: `${MIGRATE_IMAGE}:1.0.0`, command: ['migrate', 'up'] } },
      'cutover:services': {
        [API]: {
          host: `${API}.${NAMESPACE}.example.com`,
          blue: { image: `${API_IMAGE}:2.0.0` },
          green: { image: `${API_IMAGE}:2.1.0` },
          backends: false,
          gate: { image: GATE_IMAGE, checks: [{ path: '/api/v2/health' }] },
        },
      },
    }),
  );
});

afterAll(async () => {
  if (stack !== undefined) {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    await stack.pulumi(['stack', 'rm', '--yes', '--force']);
  }
  await kube?.close();
});

describe('gates, migrations and weighted shifts on a real control plane', () => {
  it('1. the first pulumi up runs the expand migration and the gate of the live color before the live Service exists', async () => {
    const result = await stack.up();
    expectSucceeded(result, diagnose);
    expect(await liveColors()).toBe('web=blue api=blue');
    // Each passed gate's output (its pods' termination message; kwok's stand-in text) is in the update output.
    const gates = JSON.parse((await stack.pulumi(['stack', 'output', 'gates', '--json'])).stdout) as Record<string, string>;
    expect(gates).toEqual(
      Object.fromEntries(
        [`${APP}-gate-blue`, `${API}-gate-blue`, `${APP}-metric-gate-blue`, `${API}-metric-gate-blue`].map((job) => [
          job,
          'PASS: simulated success (kwok)',
        ]),
      ),
    );
    expect(result.stdout).toContain(`${APP}-gate-blue: PASS: simulated success (kwok)`);
    const [migration] = await jobs(`${APP}-migrate-expand-`);
    expect(migration?.status?.succeeded).toBe(1);
    for (const app of [APP, API]) {
      const [gate] = await jobs(`${app}-gate-blue`);
      expect(gate?.status?.succeeded, `${app}-gate-blue`).toBe(1);
    }
  });

  it('3. a failing smoke test stops the cutover: the live Service stays on blue and the error names the gate', async () => {
    // (Step 2, a color that stopped being ready since it was deployed, needs real pods: test/e2e/cutover.e2e.test.ts 2a.)
    await stack.set('activeColor', 'green');
    await stack.set('gate.image', `${GATE_IMAGE}-fail`);
    const result = await stack.up();
    // The error carries what the smoke test printed: its pod's termination message (FallbackToLogsOnError), which
    // kwok sets to the line below for a `-fail` image.
    expectFailedNaming(result, `${NAMESPACE}/${APP}-gate-green`, 'BackoffLimitExceeded', 'FAIL: simulated failure');
    expect(await liveColors()).toBe('web=blue api=blue');
    // A passing smoke test lets the same cutover through, for both apps at once.
    await stack.set('gate.image', GATE_IMAGE);
    expectSucceeded(await stack.up(), diagnose);
    expect(await liveColors()).toBe('web=green api=green');
    expect((await jobs(`${APP}-gate-`)).map((job) => `${job.metadata.name} ${job.status?.succeeded}`)).toEqual([`${APP}-gate-green 1`]);
    expect((await jobs(`${API}-gate-`)).map((job) => `${job.metadata.name} ${job.status?.succeeded}`)).toEqual([`${API}-gate-green 1`]);
  });

  it('4. a failing expand migration stops the cutover; a rollback never re-runs a migration', async () => {
    const [before] = await jobs(`${APP}-migrate-expand-`);
    await stack.set('migrations.expand.image', `${MIGRATE_IMAGE}:1.1.0-fail`);
    await stack.set('activeColor', 'blue');
    const failed = await stack.up();
    expectFailedNaming(failed, `${APP}-migrate-expand-`, 'BackoffLimitExceeded', 'FAIL: simulated failure');
    expect(await liveColors()).toBe('web=green api=green');
    // Back to the migration that succeeded: the same Job as before (same uid), not run again, and blue goes live.
    await stack.set('migrations.expand.image', `${MIGRATE_IMAGE}:1.0.0`);
    expectSucceeded(await stack.up(), diagnose);
    expect(await liveColors()).toBe('web=blue api=blue');
    const after = await jobs(`${APP}-migrate-expand-`);
    expect(after.map((job) => job.metadata.name)).toEqual([before.metadata.name]);
    // Rollback to green: only the activeColor changes, and the migration Job stays the very same object.
    await stack.set('activeColor', 'green');
    expectSucceeded(await stack.up(), diagnose);
    expect(await liveColors()).toBe('web=green api=green');
    expect((await jobs(`${APP}-migrate-expand-`)).map((job) => job.metadata.uid)).toEqual([after[0].metadata.uid]);
  });

  it('5. a weighted shift changes only the HTTPRoutes, step by step', async () => {
    // Green is live; shift towards blue. Above 0 each route weighs the color Services; back at 0 it sends to the live
    // Service again. Nothing else changes at any step.
    for (const weight of [5, 25, 0]) {
      await stack.set('trafficWeight', String(weight));
      const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
      expect(steps.map((s) => `${s.op} ${s.type} ${s.name}`).sort()).toEqual(
        [API, APP].map((app) => `update kubernetes:gateway.networking.k8s.io/v1:HTTPRoute ${NAMESPACE}/${app}`),
      );
      expectSucceeded(await stack.up(), diagnose);
      for (const app of [APP, API]) {
        const route = await kube.get<{ spec: { rules: Array<{ backendRefs: Array<{ name: string; weight?: number }> }> } }>(
          `/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes/${app}`,
        );
        const backends = route?.spec.rules[0].backendRefs.map((ref) => (ref.weight === undefined ? ref.name : `${ref.name}=${ref.weight}`));
        // Back at 0, the one backend has the weight the API server fills in (the CRD's default, 1).
        expect(backends).toEqual(weight > 0 ? [`${app}-blue=${weight}`, `${app}-green=${100 - weight}`] : [`${app}=1`]);
      }
    }
  });

  it('6. two apps, one flip: one failing gate keeps both live Services where they are; fixed, both move together', async () => {
    await stack.set(`services.${API}.gate.image`, `${GATE_IMAGE}-fail`);
    await stack.set('activeColor', 'blue');
    const failed = await stack.up();
    expectFailedNaming(failed, `${NAMESPACE}/${API}-gate-blue`, 'FAIL: simulated failure');
    // web's own gate passed, but web's traffic objects wait for api's gate as well.
    expect((await jobs(`${APP}-gate-blue`))[0]?.status?.succeeded).toBe(1);
    expect(await liveColors()).toBe('web=green api=green');
    await stack.set(`services.${API}.gate.image`, GATE_IMAGE);
    expectSucceeded(await stack.up(), diagnose);
    expect(await liveColors()).toBe('web=blue api=blue');
  });

  it('7. retire the old color, then contract: idleReplicas waits for the update after the switch, contract for the one after that', async () => {
    const replicasOf = async (name: string): Promise<number | undefined> =>
      (await kube.get<{ spec?: { replicas?: number } }>(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${name}`))?.spec?.replicas;
    const contract = { image: `${MIGRATE_IMAGE}:1.1.0`, command: ['migrate', 'contract'] };
    // a) A contract step in the update that switches is refused before anything is applied.
    await stack.set('activeColor', 'green');
    await stack.set('idleReplicas', '0');
    await stack.set('migrations.contract.image', contract.image);
    await stack.set('migrations.contract.command[0]', 'migrate');
    const refused = await stack.up();
    expectFailedNaming(
      refused,
      'cutover:migrations.contract: runs only in an update of its own, got it in the update that switches traffic from blue to green',
    );
    expect(await liveColors()).toBe('web=blue api=blue');
    expect(await jobs(`${APP}-migrate-contract-`)).toEqual([]);
    // b) The switch alone: only traffic moves, blue stays at full size although idleReplicas is 0.
    await stack.pulumi(['config', 'rm', 'migrations.contract', '--path']);
    const switchSteps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
    expect(switchSteps.filter((s) => s.type === 'kubernetes:apps/v1:Deployment')).toEqual([]);
    const switched = await stack.up();
    expectSucceeded(switched, diagnose);
    expect(switched.stdout).toContain('idleReplicas (0) applies to blue from the next update');
    expect(await liveColors()).toBe('web=green api=green');
    expect([await replicasOf(`${APP}-blue`), await replicasOf(`${API}-blue`)]).not.toContain(0);
    // c) The next update, with the same config, retires blue: only blue's objects change (Deployments to 0 pods; the
    //    HPA, PDB, color and template Services of a color without pods go).
    const retireSteps = (await stack.previewSteps())
      .filter((s) => s.op !== 'same')
      .map((s) => `${s.op} ${s.type} ${s.name}`.replace(/-blue-[0-9a-f]{6}$/, '-blue-<template>'));
    expect(retireSteps.sort()).toEqual(
      [APP, API]
        .flatMap((app) => [
          `delete kubernetes:autoscaling/v2:HorizontalPodAutoscaler ${NAMESPACE}/${app}-blue`,
          `delete kubernetes:core/v1:Service ${NAMESPACE}/${app}-blue`,
          `delete kubernetes:core/v1:Service ${NAMESPACE}/${app}-blue-<template>`,
          `delete kubernetes:policy/v1:PodDisruptionBudget ${NAMESPACE}/${app}-blue`,
          `update kubernetes:apps/v1:Deployment ${NAMESPACE}/${app}-blue`,
        ])
        .sort(),
    );
    expectSucceeded(await stack.up(), diagnose);
    expect([await replicasOf(`${APP}-blue`), await replicasOf(`${API}-blue`)]).toEqual([0, 0]);
    // d) Now the contract step runs, in an update of its own.
    await stack.set('migrations.contract.image', contract.image);
    await stack.set('migrations.contract.command[0]', 'migrate');
    expectSucceeded(await stack.up(), diagnose);
    const [done] = await jobs(`${APP}-migrate-contract-`);
    expect(done?.status?.succeeded).toBe(1);
    // e) Switching back to the retired color is refused until it is scaled back up.
    await stack.set('activeColor', 'blue');
    const back = await stack.up();
    expectFailedNaming(back, 'cutover:activeColor: blue runs 0 replica(s) since the last update (idleReplicas)');
    expect(await liveColors()).toBe('web=green api=green');
  });
});
