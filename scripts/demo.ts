// `npm run demo`: cutover on a local cluster with real pods and real requests. Installs what the local cluster needs
// (Debian packages, the pinned toolchain built from Go modules, the example app's images), starts a control plane
// with a real node, installs the CRDs the stack renders, and deploys a staging-like stack of the example app. Then,
// while a client sends requests through the live Service, it runs up → cutover → rollback (the gated `pulumi up`) →
// incident rollback (`npm run rollback`: traffic first, then the same update) and prints, per step, which color
// answered, how many requests were sent and failed, and how long the switch took.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CRD_PATHS } from '../test/crd-schema';
import { CommandResult, KubeClient, LocalStack, ROOT, clusterUp, installCrds, realStackConfig, serviceUrl, toolchainEnv } from './local';
import { LoadClient, TrafficSample, summarize, switchTimes } from './traffic';

const NAMESPACE = 'web-demo';

function say(message: string): void {
  console.log(`[demo] ${message}`);
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}

/** What the client saw from `from` on, as one line: colors, sent, failed, latency. */
function report(samples: readonly TrafficSample[]): string {
  const s = summarize(samples);
  const colors = Object.entries(s.byColor)
    .filter(([, n]) => n > 0)
    .map(([color, n]) => `${color} ${n}`)
    .join(', ');
  return `${s.sent} requests, ${s.failed} failed; answered by ${colors || 'nobody'}; p50 ${s.p50Ms ?? '-'} ms, p99 ${s.p99Ms ?? '-'} ms`;
}

/** What a preview plans, object by object; for a long plan (the first update), counts by operation and kind. */
function describeSteps(steps: ReadonlyArray<{ op: string; type: string; name: string }>): string {
  if (steps.length === 0) return 'no changes';
  if (steps.length <= 8) return steps.map((s) => `${s.op} ${s.type.replace('kubernetes:', '')} ${s.name}`).join(', ');
  const counts = new Map<string, number>();
  for (const s of steps) {
    const key = `${s.op} ${s.type.split(':').pop()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return `${steps.length} changes: ${[...counts].map(([key, n]) => (n > 1 ? `${key} ×${n}` : key)).join(', ')}`;
}

/** Runs one step (`pulumi up` unless `command` says otherwise) while a fresh client sends 50 requests per second to `url` (when given). */
async function step(
  stack: LocalStack,
  title: string,
  url?: string,
  from?: 'blue' | 'green',
  to?: 'blue' | 'green',
  command: { name: string; run: () => Promise<CommandResult> } = { name: 'pulumi up', run: () => stack.up() },
): Promise<TrafficSample[]> {
  if (command.name === 'pulumi up') {
    const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same' && !s.type.startsWith('pulumi:'));
    say(`${title}: ${describeSteps(steps)}`);
  }
  const client =
    url === undefined ? undefined : new LoadClient({ url, ratePerSecond: 50, keepAliveShare: 0.5, timeoutMs: 2000, maxDurationMs: 10 * 60_000 });
  client?.start();
  await new Promise((r) => setTimeout(r, client === undefined ? 0 : 1000));
  const startedAt = Date.now();
  const result = await command.run();
  const endedAt = Date.now();
  // The client keeps going a little after the command, so what it saw once the switch settled counts too.
  await new Promise((r) => setTimeout(r, client === undefined ? 0 : 2000));
  const samples = [...((await client?.stop()) ?? [])];
  if (result.code !== 0) {
    throw new Error(`${command.name} failed:\n${result.stdout}\n${result.stderr}`);
  }
  say(`${title}: ${command.name} took ${((endedAt - startedAt) / 1000).toFixed(1)} s`);
  if (client !== undefined) {
    say(`${title}: from 1 s before the command to 2 s after it: ${report(samples)}`);
  }
  if (from !== undefined && to !== undefined) {
    const times = switchTimes(samples, { commandStartedAt: startedAt, from, to });
    say(
      `${title}: after the command started, the first ${to} response came at ${seconds(times.firstToMs)}, the last ${from} one at ` +
        `${seconds(times.lastFromMs)}; from ${seconds(times.allToMs)} on, ${to} answered every request`,
    );
  }
  return samples;
}

async function main(): Promise<void> {
  say('installing the Debian packages the local cluster needs (containerd, runc, CNI plugins, ...) if missing');
  execFileSync(join(ROOT, 'scripts', 'system-packages'), { stdio: 'inherit' });
  say('building or reusing the pinned toolchain (the first run builds it from Go modules: about 30 min on 2 cores, with progress)');
  execFileSync(join(ROOT, 'scripts', 'toolchain'), ['install'], { stdio: 'inherit' });
  const env = toolchainEnv();
  say('starting the local cluster: control plane, three simulated nodes and one real node (builds the example app images first)');
  const kubeconfig = clusterUp(env);
  say('installing the CRDs the stack renders (Prometheus Operator, CloudNativePG, redis-operator, Gateway API)');
  installCrds(env, kubeconfig, ALL_CRD_PATHS);
  const kube = new KubeClient(kubeconfig);
  const stateDir = join(env.CUTOVER_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'cutover'), 'demo-state', String(Date.now()));
  mkdirSync(stateDir, { recursive: true });
  const stack = new LocalStack('demo', env, kubeconfig, stateDir);
  await stack.init(realStackConfig(NAMESPACE, { 'cutover:drainSeconds': 2, 'cutover:shutdownSeconds': 5 }));
  try {
    await step(stack, 'up (blue live)');
    const url = await serviceUrl(kube, NAMESPACE, 'web');
    say(`the live Service answers at ${url}; every step below sends it 50 requests per second (keep-alive and new connections)`);
    const samples = await step(stack, 'blue live, no change', url);
    await stack.set('activeColor', 'green');
    samples.push(...(await step(stack, 'cutover to green', url, 'blue', 'green')));
    await stack.set('activeColor', 'blue');
    samples.push(...(await step(stack, 'rollback to blue', url, 'green', 'blue')));
    // The incident path: traffic moves to the idle color first (it is unchanged and every replica is ready), then the
    // same gated update records it.
    samples.push(
      ...(await step(stack, 'incident rollback to green', url, 'blue', 'green', { name: 'npm run rollback', run: () => stack.rollback() })),
    );
    say(`all steps: ${report(samples)}`);
    if (summarize(samples).failed > 0) {
      throw new Error(`${summarize(samples).failed} requests failed: ${JSON.stringify(summarize(samples).failures)}`);
    }
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
