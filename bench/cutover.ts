// `npm run bench:cluster`: what a switch costs on the local cluster's real node, with real requests. In one run, for a
// cutover and a rollback through `pulumi up` and for a bare `kubectl patch` of the same Service selector (the
// cheapest possible switch, the baseline): requests sent and failed, p50/p99 latency during the switch against the
// same client in the seconds before it, the command's time and the time from its start until every response comes
// from the new color. Medians over BENCH_ROUNDS rounds, Pulumi reported as ratios of the baseline. Writes the table
// to bench/results/cluster.txt and a chart of responses per interval by color, and failures, across each switch of
// the first round to bench/results/cluster.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CRD_PATHS } from '../test/crd-schema';
import { KubeClient, LocalStack, ROOT, clusterUp, installCrds, realStackConfig, runCommand, serviceUrl, toolchainEnv } from '../scripts/local';
import { renderSwitchCharts, SwitchChartPanel } from '../scripts/traffic-chart';
import { LoadClient, buckets, summarize, switchTimes } from '../scripts/traffic';

const NAMESPACE = 'web-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** The client's quiet window before each switch: the latency baseline of the same client. */
const BEFORE_MS = 3000;
/**
 * How long the client keeps going after the command returned: a `kubectl patch` returns before kube-proxy moved
 * traffic, and a keep-alive connection keeps its pod until the app closes it (after a second, realStackConfig).
 */
const AFTER_MS = 3000;
const CHART_INTERVAL_MS = 250;

type Color = 'blue' | 'green';
type Method = 'pulumi cutover' | 'pulumi rollback' | 'kubectl patch';

interface Measurement {
  readonly method: Method;
  readonly sent: number;
  readonly failed: number;
  readonly beforeP50Ms: number | undefined;
  readonly beforeP99Ms: number | undefined;
  readonly duringP50Ms: number | undefined;
  readonly duringP99Ms: number | undefined;
  readonly commandSeconds: number;
  /** From the command's start until every response came from the new color. */
  readonly allNewSeconds: number | undefined;
  readonly panel: SwitchChartPanel;
}

function median(values: ReadonlyArray<number | undefined>): number | undefined {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  return known.length === 0 ? undefined : known[Math.floor(known.length / 2)];
}

/** Runs `action` (a switch from `from` to `to`) while a client sends 50 requests per second to `url`. */
async function measure(method: Method, url: string, from: Color, to: Color, action: () => Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<Measurement> {
  const client = new LoadClient({ url, ratePerSecond: 50, keepAliveShare: 0.5, timeoutMs: 2000, maxDurationMs: 10 * 60_000 });
  client.start();
  await new Promise((r) => setTimeout(r, BEFORE_MS));
  const startedAt = Date.now();
  const result = await action();
  const endedAt = Date.now();
  if (result.code !== 0) {
    await client.stop();
    throw new Error(`${method} failed:\n${result.stdout}\n${result.stderr}`);
  }
  await new Promise((r) => setTimeout(r, AFTER_MS));
  const samples = await client.stop();
  if (switchTimes(samples, { commandStartedAt: startedAt, from, to }).allToMs === undefined) {
    throw new Error(`${method}: ${AFTER_MS} ms after the command returned, ${from} still answered or requests failed: ${JSON.stringify(summarize(samples, { from: endedAt }))}`);
  }
  const before = summarize(samples, { to: startedAt });
  const during = summarize(samples, { from: startedAt, to: endedAt });
  const whole = summarize(samples, { from: startedAt });
  const times = switchTimes(samples, { commandStartedAt: startedAt, from, to });
  const first = samples[0]?.sentAt ?? startedAt;
  return {
    method,
    sent: whole.sent,
    failed: whole.failed,
    beforeP50Ms: before.p50Ms,
    beforeP99Ms: before.p99Ms,
    duringP50Ms: during.p50Ms,
    duringP99Ms: during.p99Ms,
    commandSeconds: (endedAt - startedAt) / 1000,
    allNewSeconds: times.allToMs === undefined ? undefined : times.allToMs / 1000,
    panel: {
      title: `${method}: ${from} → ${to}`,
      buckets: buckets(samples, CHART_INTERVAL_MS, { from: first }),
      intervalMs: CHART_INTERVAL_MS,
      markers: [
        { atMs: startedAt - first, label: 'command starts' },
        { atMs: endedAt - first, label: 'command returns' },
        ...(times.allToMs !== undefined ? [{ atMs: startedAt + times.allToMs - first, label: `all ${to}` }] : []),
      ],
    },
  };
}

function fmt(value: number | undefined, digits = 2): string {
  return value === undefined ? '-' : value.toFixed(digits);
}

async function main(): Promise<void> {
  const env = toolchainEnv();
  const kubeconfig = clusterUp(env);
  installCrds(env, kubeconfig, ALL_CRD_PATHS);
  const kube = new KubeClient(kubeconfig);
  const stack = new LocalStack('bench', env, kubeconfig);
  await stack.init(realStackConfig(NAMESPACE, { 'cutover:drainSeconds': 2, 'cutover:shutdownSeconds': 5 }));
  const results: Measurement[] = [];
  try {
    const first = await stack.up();
    if (first.code !== 0) throw new Error(first.stderr + first.stdout);
    const url = await serviceUrl(kube, NAMESPACE, 'web');
    const patch = (color: Color) =>
      runCommand('kubectl', ['-n', NAMESPACE, 'patch', 'service', 'web', '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'cutover.dev/color': color } } })], stack.env);
    for (let round = 0; round < ROUNDS; round++) {
      await stack.set('activeColor', 'green');
      results.push(await measure('pulumi cutover', url, 'blue', 'green', () => stack.up()));
      await stack.set('activeColor', 'blue');
      results.push(await measure('pulumi rollback', url, 'green', 'blue', () => stack.up()));
      // The baseline: the same selector change straight through the API, then back (outside Pulumi).
      results.push(await measure('kubectl patch', url, 'blue', 'green', () => patch('green')));
      const back = await patch('blue');
      if (back.code !== 0) throw new Error(back.stderr);
    }
  } finally {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
    await kube.close();
  }

  const methods: Method[] = ['pulumi cutover', 'pulumi rollback', 'kubectl patch'];
  const rows = methods.map((method) => {
    const of = results.filter((r) => r.method === method);
    const pick = (f: (r: Measurement) => number | undefined) => median(of.map(f));
    return {
      method,
      sent: of.reduce((n, r) => n + r.sent, 0),
      failed: of.reduce((n, r) => n + r.failed, 0),
      beforeP50: pick((r) => r.beforeP50Ms),
      beforeP99: pick((r) => r.beforeP99Ms),
      duringP50: pick((r) => r.duringP50Ms),
      duringP99: pick((r) => r.duringP99Ms),
      command: pick((r) => r.commandSeconds),
      allNew: pick((r) => r.allNewSeconds),
    };
  });
  const baseline = rows.find((r) => r.method === 'kubectl patch');
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? '-' : `${(a / b).toFixed(1)}x`);
  const lines = [
    `cutover bench:cluster, ${ROUNDS} round(s), medians; requests: 50/s through the live Service's ClusterIP, half keep-alive, half new connections`,
    `latency "before" is the same client in the ${BEFORE_MS / 1000} s before the command; "during" is while the command ran`,
    '',
    `${'method'.padEnd(16)} ${'sent'.padStart(6)} ${'failed'.padStart(6)}  ${'p50 before/during ms'.padStart(20)}  ${'p99 before/during ms'.padStart(20)}  ${'command s'.padStart(9)}  ${'all new s'.padStart(9)}  ${'command/patch'.padStart(13)}  ${'all new/patch'.padStart(13)}`,
    ...rows.map(
      (r) =>
        `${r.method.padEnd(16)} ${String(r.sent).padStart(6)} ${String(r.failed).padStart(6)}  ${`${fmt(r.beforeP50, 1)} / ${fmt(r.duringP50, 1)}`.padStart(20)}  ` +
        `${`${fmt(r.beforeP99, 1)} / ${fmt(r.duringP99, 1)}`.padStart(20)}  ${fmt(r.command).padStart(9)}  ${fmt(r.allNew).padStart(9)}  ` +
        `${ratio(r.command, baseline?.command).padStart(13)}  ${ratio(r.allNew, baseline?.allNew).padStart(13)}`,
    ),
  ];
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'cluster.txt'), `${lines.join('\n')}\n`);
  writeFileSync(join(out, 'cluster.svg'), renderSwitchCharts(results.slice(0, methods.length).map((r) => r.panel)));
  console.log(lines.join('\n'));
  console.log(`\nwritten: bench/results/cluster.txt, bench/results/cluster.svg (the first round's switches)`);
  if (rows.some((r) => r.failed > 0)) {
    process.exitCode = 1;
    console.error('some requests failed: see the table');
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
