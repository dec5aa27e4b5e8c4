// A stack deployed before the objects were grouped under ComponentResources (every object a child of the stack) updates
// in place with today's program: the aliases in stacks/bridge.ts move each resource under its component, and nothing is
// replaced or deleted, on the simulated nodes of the local control plane. The previous layout's program is the
// repository's own tree at PREVIOUS_LAYOUT, taken from git history (a full clone, as `git clone` makes).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, LocalStack, ROOT, localStackConfig, parseUrn } from '../../scripts/local';
import { deleteNamespace, namespaceDiagnostics, readyCluster } from './helpers';

/** The last commit whose program registered every object as a child of the stack. */
const PREVIOUS_LAYOUT = '065bf4157720948c9e8642f1f2f01f3b5014ad5f';
const NAMESPACE = 'web-layout';
const GATE_IMAGE = 'registry.example.com/acme/smoke:1.0.0';

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;
let kubeconfig: string;
let previousTree: string;

interface Item {
  metadata: { name: string; uid: string };
}

/** The uid of every Deployment, Service and Job of the namespace: a replaced object gets a new one. */
async function uids(): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const [kind, path] of [
    ['Deployment', `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`],
    ['Service', `/api/v1/namespaces/${NAMESPACE}/services`],
    ['Job', `/apis/batch/v1/namespaces/${NAMESPACE}/jobs`],
  ]) {
    for (const item of (await kube.get<{ items: Item[] }>(path))?.items ?? []) {
      found[`${kind}/${item.metadata.name}`] = item.metadata.uid;
    }
  }
  return found;
}

beforeAll(async () => {
  ({ env, kubeconfig } = readyCluster());
  kube = new KubeClient(kubeconfig);
  deleteNamespace(env, kubeconfig, NAMESPACE);
  const present = (): boolean => {
    try {
      execFileSync('git', ['-C', ROOT, 'cat-file', '-e', `${PREVIOUS_LAYOUT}^{commit}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!present()) {
    // A shallow clone: ask its origin for that one commit.
    try {
      execFileSync('git', ['-C', ROOT, 'fetch', '--quiet', '--depth=1', 'origin', PREVIOUS_LAYOUT], { stdio: 'ignore' });
    } catch {
      // Reported below.
    }
  }
  if (!present()) {
    throw new Error(
      `commit ${PREVIOUS_LAYOUT} (the previous layout) is not in this clone: this test needs the repository's history (git clone without --depth)`,
    );
  }
  previousTree = mkdtempSync(join(tmpdir(), 'cutover-previous-layout-'));
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive ${PREVIOUS_LAYOUT} | tar -x -C "${previousTree}"`]);
  symlinkSync(join(ROOT, 'node_modules'), join(previousTree, 'node_modules'));
  stack = new LocalStack('layout', env, kubeconfig);
  await stack.init(
    localStackConfig(NAMESPACE, {
      'cutover:deployTimeoutSeconds': 40,
      'cutover:drainSeconds': 1,
      'cutover:shutdownSeconds': 2,
      'cutover:gate': { image: GATE_IMAGE, checks: [{ path: '/healthz', expectStatus: 200 }] },
      'cutover:services': {
        api: {
          host: `api.${NAMESPACE}.example.com`,
          blue: { image: 'registry.example.com/acme/api:2.0.0' },
          green: { image: 'registry.example.com/acme/api:2.1.0' },
          backends: false,
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
  if (previousTree !== undefined) {
    rmSync(previousTree, { recursive: true, force: true });
  }
});

describe('a stack of the previous layout updates in place', () => {
  it('moves every object under its component: zero replaces, zero deletes, the same objects in the cluster', async () => {
    const previous = await stack.up(['--cwd', previousTree]);
    expect(previous.code, `${previous.stdout}${previous.stderr}\n${namespaceDiagnostics(env, kubeconfig, NAMESPACE)}`).toBe(0);
    const exported = async (): Promise<string[]> =>
      (
        JSON.parse((await stack.pulumi(['stack', 'export'])).stdout) as { deployment: { resources: Array<{ urn: string }> } }
      ).deployment.resources.map((r) => r.urn);
    const flat = (await exported()).filter((urn) => parseUrn(urn).type.startsWith('kubernetes:'));
    expect(flat.length).toBeGreaterThan(20);
    // The previous layout: every object directly under the stack.
    expect(flat.filter((urn) => urn.split('::')[2].includes('$'))).toEqual([]);
    const before = await uids();

    const steps = await stack.previewSteps();
    const changes = steps.filter((step) => step.op !== 'same');
    // The components are new; nothing else changes.
    expect(changes.filter((step) => !step.type.startsWith('cutover:index:'))).toEqual([]);
    expect(changes.map((step) => `${step.op} ${step.type}::${step.name}`).sort()).toEqual([
      'create cutover:index:BlueGreenApp::app',
      'create cutover:index:BlueGreenApp::app-api',
      'create cutover:index:CutoverGate::gate',
      'create cutover:index:CutoverGate::gate-api',
      'create cutover:index:EnvironmentNamespace::namespace',
      'create cutover:index:MonitoringStack::monitoring',
      'create cutover:index:MonitoringStack::monitoring-api',
      'create cutover:index:NetworkPolicySet::network',
      'create cutover:index:Platform::web-layout',
    ]);

    const update = await stack.upTimed();
    expect(update.code, `${update.stdout}${update.stderr}`).toBe(0);
    const grouped = (await exported()).filter((urn) => parseUrn(urn).type.startsWith('kubernetes:'));
    const ops = update.events.flatMap(({ event }) => (event.resOutputsEvent !== undefined ? [event.resOutputsEvent.metadata.op] : []));
    // Every resource reports its step: the components' creates and the objects' moves (`same`, under their alias).
    expect(ops.length).toBeGreaterThanOrEqual(grouped.length);
    expect(ops.filter((op) => /replace|delete/.test(op))).toEqual([]);
    expect(grouped.map((urn) => parseUrn(urn).name).sort()).toEqual(flat.map((urn) => parseUrn(urn).name).sort());
    // Today's layout: every object under the Platform and its component.
    expect(grouped.filter((urn) => !urn.split('::')[2].startsWith('cutover:index:Platform$cutover:index:'))).toEqual([]);
    expect(await uids()).toEqual(before);
    // And the next preview has nothing left to do.
    expect((await stack.previewSteps()).filter((step) => step.op !== 'same')).toEqual([]);
  });
});
