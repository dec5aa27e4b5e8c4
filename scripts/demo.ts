// `npm run demo`: try cutover without a cluster. Builds the pinned toolchain if needed, starts the local
// control plane, then deploys a staging-like stack and runs up → cutover → rollback, printing for each step
// which color is live, what changed and how long it took.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, LocalStack, ROOT, clusterUp, localStackConfig, podColor, toolchainEnv } from './local';

const NAMESPACE = 'web-demo';

function say(message: string): void {
  console.log(`[demo] ${message}`);
}

async function liveColor(kube: KubeClient): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const colors = [...new Set((await kube.readyEndpointPods(NAMESPACE, 'web')).map((pod) => podColor(pod, 'web')))];
    if (colors.length === 1) return colors[0];
    await new Promise((r) => setTimeout(r, 200));
  }
  return 'unsettled';
}

async function step(stack: LocalStack, kube: KubeClient, title: string): Promise<void> {
  const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same' && !s.type.startsWith('pulumi:'));
  say(`${title}: ${steps.length === 0 ? 'no changes' : steps.map((s) => `${s.op} ${s.type.replace('kubernetes:', '')} ${s.name}`).join(', ')}`);
  const result = await stack.up();
  if (result.code !== 0) {
    throw new Error(`pulumi up failed:\n${result.stdout}\n${result.stderr}`);
  }
  say(`${title}: done in ${result.seconds.toFixed(1)} s; live color is now ${await liveColor(kube)}`);
}

async function main(): Promise<void> {
  say('building or reusing the pinned toolchain (first run builds from Go modules and takes a while)');
  execFileSync(join(ROOT, 'scripts', 'toolchain'), ['install'], { stdio: 'inherit' });
  const env = toolchainEnv();
  say('starting the local control plane');
  const kubeconfig = clusterUp(env);
  const kube = new KubeClient(kubeconfig);
  const stateDir = join(env.CUTOVER_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'cutover'), 'demo-state', String(Date.now()));
  mkdirSync(stateDir, { recursive: true });
  const stack = new LocalStack('demo', env, kubeconfig, stateDir);
  await stack.init(localStackConfig(NAMESPACE, { 'cutover:drainSeconds': 2 }));
  try {
    await step(stack, kube, 'up (blue live)');
    await stack.set('activeColor', 'green');
    await step(stack, kube, 'cutover to green');
    await stack.set('activeColor', 'blue');
    await step(stack, kube, 'rollback to blue');
  } finally {
    say('cleaning up: pulumi destroy');
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    await kube.close();
  }
  say('done. Stop the cluster with `scripts/cluster down`.');
}

main().catch((error: Error) => {
  console.error(`[demo] ${error.message}`);
  process.exitCode = 1;
});
