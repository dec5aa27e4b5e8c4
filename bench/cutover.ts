// `npm run bench:cluster`: on the local control plane, what a cutover costs through Pulumi next to the
// cheapest possible switch, a `kubectl patch` of the same Service selector, measured in the same run.
// Reports medians over BENCH_ROUNDS rounds and their ratio, plus how long until the EndpointSlices show
// the new color, and the rollback time.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointWatcher, KubeClient, LocalStack, clusterUp, localStackConfig, runCommand, toolchainEnv } from '../scripts/local';

const NAMESPACE = 'web-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Runs `action` while sampling the live Service; returns command time and time until only `color` is served. */
async function timed(kube: KubeClient, color: string, action: () => Promise<{ code: number | null; stderr: string }>) {
  const watcher = new EndpointWatcher(kube, NAMESPACE, 'web', 20);
  const started = Date.now();
  const result = await action();
  const commandSeconds = (Date.now() - started) / 1000;
  const deadline = Date.now() + 30_000;
  while (watcher.settledOn(color, 'web') === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await watcher.stop();
  if (result.code !== 0) throw new Error(result.stderr);
  const settled = watcher.settledOn(color, 'web');
  if (settled === undefined) throw new Error(`endpoints never settled on ${color}`);
  return { commandSeconds, endpointsSeconds: (settled - started) / 1000, minimum: watcher.minimum };
}

async function main(): Promise<void> {
  const env = toolchainEnv();
  const kubeconfig = clusterUp(env);
  const kube = new KubeClient(kubeconfig);
  const stack = new LocalStack('bench', env, kubeconfig, mkdtempSync(join(tmpdir(), 'cutover-bench-')));
  await stack.init(localStackConfig(NAMESPACE));
  const first = await stack.up();
  if (first.code !== 0) throw new Error(first.stderr + first.stdout);
  const rows: Record<string, number[]> = { pulumiCutover: [], pulumiCutoverEndpoints: [], pulumiRollback: [], kubectlPatch: [], kubectlPatchEndpoints: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await stack.set('activeColor', 'green');
      const cutover = await timed(kube, 'green', () => stack.up());
      rows.pulumiCutover.push(cutover.commandSeconds);
      rows.pulumiCutoverEndpoints.push(cutover.endpointsSeconds);
      await stack.set('activeColor', 'blue');
      rows.pulumiRollback.push((await timed(kube, 'blue', () => stack.up())).commandSeconds);
      // The baseline: the same selector change straight through the API, then back (outside Pulumi).
      const patch = (color: string) =>
        runCommand('kubectl', ['-n', NAMESPACE, 'patch', 'service', 'web', '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'cutover.dev/color': color } } })], stack.env);
      const patched = await timed(kube, 'green', () => patch('green'));
      rows.kubectlPatch.push(patched.commandSeconds);
      rows.kubectlPatchEndpoints.push(patched.endpointsSeconds);
      await timed(kube, 'blue', () => patch('blue'));
    }
  } finally {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    await kube.close();
  }
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
  console.log(`rounds: ${ROUNDS} (medians, seconds)`);
  console.log(`cutover pulumi up: ${m.pulumiCutover.toFixed(2)} s; kubectl patch of the same selector: ${m.kubectlPatch.toFixed(2)} s; ratio ${(m.pulumiCutover / m.kubectlPatch).toFixed(1)}x`);
  console.log(`command start → EndpointSlices only green: pulumi ${m.pulumiCutoverEndpoints.toFixed(2)} s, kubectl ${m.kubectlPatchEndpoints.toFixed(2)} s`);
  console.log(`rollback pulumi up: ${m.pulumiRollback.toFixed(2)} s`);
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
