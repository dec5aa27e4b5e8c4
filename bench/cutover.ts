// `npm run bench:cluster`: what a switch costs on the local cluster, in one run.
// 1. On the real node, with real requests: a no-op `pulumi up`, a cutover and a rollback through `pulumi up`, and a
//    bare `kubectl patch` of the same Service selector (the cheapest possible switch, the baseline): requests sent and
//    failed, p50/p99 latency during the switch against the same client in the seconds before it, the command's time
//    and the time from its start until every response comes from the new color; and where the time of each `pulumi
//    up` goes (its engine events: program start, each resource's step and await).
// 2. On the simulated nodes, for 1, 10 and 50 apps in one stack: the same commands, timed until every live
//    Service's EndpointSlices hold only the new color's pods (kwok runs no containers, so no requests here).
// Medians over BENCH_ROUNDS rounds, reported as ratios of the baselines measured in the same run. Writes the tables
// to bench/results/cluster.txt and a chart of responses per interval by color, and failures, across each switch of
// the first round to bench/results/cluster.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_CRD_PATHS } from '../test/crd-schema';
import {
  CommandResult,
  KubeClient,
  LOCAL_IMAGE,
  LocalStack,
  ROOT,
  clusterUp,
  installCrds,
  localStackConfig,
  podColor,
  realStackConfig,
  runCommand,
  serviceUrl,
  toolchainEnv,
} from '../scripts/local';
import { formatPhases, updatePhases } from '../scripts/timeline';
import { renderSwitchCharts, SwitchChartPanel } from '../scripts/traffic-chart';
import { LoadClient, buckets, summarize, switchTimes } from '../scripts/traffic';

const NAMESPACE = 'web-bench';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** How many apps the simulated-node stacks hold (`BENCH_APPS`, comma-separated; `BENCH_REAL_NODE=0` skips part 1). */
const APP_COUNTS = (process.env.BENCH_APPS ?? '1,10,50')
  .split(',')
  .filter((n) => n !== '')
  .map(Number);
/** The client's quiet window before each switch: the latency baseline of the same client. */
const BEFORE_MS = 3000;
/**
 * How long the client keeps going after the command returned: a `kubectl patch` returns before kube-proxy moved
 * traffic, and a keep-alive connection keeps its pod until the app closes it (after a second, realStackConfig).
 */
const AFTER_MS = 3000;
const CHART_INTERVAL_MS = 250;

type Color = 'blue' | 'green';
type Method = 'pulumi no-op' | 'pulumi cutover' | 'pulumi rollback' | 'fast rollback' | 'kubectl patch';

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
async function measure(
  method: Method,
  url: string,
  from: Color,
  to: Color,
  action: () => Promise<{ code: number | null; stdout: string; stderr: string }>,
): Promise<Measurement> {
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
    throw new Error(
      `${method}: ${AFTER_MS} ms after the command returned, ${from} still answered or requests failed: ` +
        `${JSON.stringify(summarize(samples, { from: endedAt }))}`,
    );
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

/** A timed `pulumi up`: its result, and the span of its gate Jobs (from its engine events). */
type Timed = CommandResult & {
  /** From the first gate Job's start to the last one's end, in seconds; 0 without a gate Job. */
  readonly gateSeconds: number;
};

/** Runs `pulumi up` with its engine events; the first round's breakdown goes to `breakdowns`. */
async function timedUp(stack: LocalStack, title: string, breakdowns: string[] | undefined): Promise<Timed> {
  const result = await stack.upTimed();
  const phases = updatePhases(result.events);
  breakdowns?.push(...formatPhases(title, phases, result.seconds * 1000), '');
  const gates = phases.steps.filter((step) => step.type === 'kubernetes:batch/v1:Job' && step.op === 'create' && step.endMs !== undefined);
  const gateSeconds = gates.length === 0 ? 0 : (Math.max(...gates.map((g) => g.endMs as number)) - Math.min(...gates.map((g) => g.startMs))) / 1000;
  return { ...result, gateSeconds };
}

/** Part 1: the real node, one app, real requests. */
async function realNode(
  env: Record<string, string>,
  kubeconfig: string,
  kube: KubeClient,
  breakdowns: string[],
): Promise<{ results: Measurement[]; noop: number[]; gates: number[] }> {
  const stack = new LocalStack('bench', env, kubeconfig);
  await stack.init(realStackConfig(NAMESPACE, { 'cutover:drainSeconds': 2, 'cutover:shutdownSeconds': 5 }));
  const results: Measurement[] = [];
  const noop: number[] = [];
  const gates: number[] = [];
  try {
    const first = await stack.up();
    if (first.code !== 0) throw new Error(first.stderr + first.stdout);
    const url = await serviceUrl(kube, NAMESPACE, 'web');
    const patch = (color: Color) =>
      runCommand(
        'kubectl',
        ['-n', NAMESPACE, 'patch', 'service', 'web', '--type=merge', '-p', JSON.stringify({ spec: { selector: { 'cutover.dev/color': color } } })],
        stack.env,
      );
    const fastRollback = () => stack.rollback();
    for (let round = 0; round < ROUNDS; round++) {
      const log = round === 0 ? breakdowns : undefined;
      const idle = await timedUp(stack, 'real node, 1 app: no-op pulumi up', log);
      if (idle.code !== 0) throw new Error(idle.stderr + idle.stdout);
      noop.push(idle.seconds);
      await stack.set('activeColor', 'green');
      results.push(
        await measure('pulumi cutover', url, 'blue', 'green', async () => {
          const up = await timedUp(stack, 'real node, 1 app: cutover', log);
          gates.push(up.gateSeconds);
          return up;
        }),
      );
      await stack.set('activeColor', 'blue');
      results.push(await measure('pulumi rollback', url, 'green', 'blue', () => timedUp(stack, 'real node, 1 app: rollback', log)));
      // The incident path (scripts/rollback.ts): traffic to the idle color first, then the gated update; there and back.
      results.push(await measure('fast rollback', url, 'blue', 'green', fastRollback));
      results.push(await measure('fast rollback', url, 'green', 'blue', fastRollback));
      // The baseline: the same selector change straight through the API, then back (outside Pulumi).
      results.push(await measure('kubectl patch', url, 'blue', 'green', () => patch('green')));
      const back = await patch('blue');
      if (back.code !== 0) throw new Error(back.stderr);
    }
  } finally {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
  }
  return { results, noop, gates };
}

/** One app per `services` entry besides the main one, all on the simulated nodes. */
function appsConfig(namespace: string, apps: number): Record<string, unknown> {
  const services = Object.fromEntries(
    Array.from({ length: apps - 1 }, (_, index) => {
      const name = `svc${String(index + 1).padStart(2, '0')}`;
      return [
        name,
        {
          host: `${name}.${namespace}.example.com`,
          backends: false,
          blue: { image: `${LOCAL_IMAGE}:1.0.0` },
          green: { image: `${LOCAL_IMAGE}:1.1.0` },
        },
      ];
    }),
  );
  return localStackConfig(namespace, {
    'cutover:drainSeconds': 1,
    'cutover:shutdownSeconds': 2,
    'cutover:deployTimeoutSeconds': 300,
    ...(apps > 1 ? { 'cutover:services': services } : {}),
  });
}

/** Names of the live Services of a stack of {@link appsConfig}. */
function liveServices(apps: number): string[] {
  return ['web', ...Array.from({ length: apps - 1 }, (_, index) => `svc${String(index + 1).padStart(2, '0')}`)];
}

/** Polls the namespace's EndpointSlices until every live Service's ready endpoints are pods of `color` only. */
async function untilAllOn(
  kube: KubeClient,
  namespace: string,
  services: readonly string[],
  color: Color,
  signal: { stop: boolean },
): Promise<number | undefined> {
  while (!signal.stop) {
    const ready = await kube.readyEndpointPodsByService(namespace);
    const done = services.every((service) => {
      const pods = ready.get(service) ?? [];
      return pods.length > 0 && pods.every((pod) => podColor(pod, service) === color);
    });
    if (done) {
      return Date.now();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

interface ScaleRow {
  readonly apps: number;
  readonly method: Method;
  readonly command: number | undefined;
  readonly allNew: number | undefined;
}

/** Part 2: 1, 10 and 50 apps on the simulated nodes, switches timed by EndpointSlices. */
async function simulated(env: Record<string, string>, kubeconfig: string, kube: KubeClient, apps: number, breakdowns: string[]): Promise<ScaleRow[]> {
  const namespace = `web-bench-${apps}`;
  const stack = new LocalStack(`bench-${apps}`, env, kubeconfig);
  await stack.init(appsConfig(namespace, apps));
  const services = liveServices(apps);
  const samples: Record<Method, { command: number[]; allNew: Array<number | undefined> }> = {
    'pulumi no-op': { command: [], allNew: [] },
    'pulumi cutover': { command: [], allNew: [] },
    'pulumi rollback': { command: [], allNew: [] },
    'fast rollback': { command: [], allNew: [] },
    'kubectl patch': { command: [], allNew: [] },
  };
  const switchTo = async (
    method: Method,
    color: Color,
    action: () => Promise<{ code: number | null; stdout: string; stderr: string }>,
  ): Promise<void> => {
    const signal = { stop: false };
    const startedAt = Date.now();
    const watched = method === 'pulumi no-op' ? Promise.resolve(undefined) : untilAllOn(kube, namespace, services, color, signal);
    const result = await action();
    const endedAt = Date.now();
    if (result.code !== 0) {
      signal.stop = true;
      throw new Error(`${apps} apps, ${method} failed:\n${result.stdout}\n${result.stderr}`);
    }
    const timeout = setTimeout(() => (signal.stop = true), 30_000);
    const allAt = await watched;
    clearTimeout(timeout);
    if (method !== 'pulumi no-op' && allAt === undefined) {
      throw new Error(`${apps} apps, ${method}: 30 s after the command returned, not every live Service selected ${color} only`);
    }
    samples[method].command.push((endedAt - startedAt) / 1000);
    samples[method].allNew.push(allAt === undefined ? undefined : (allAt - startedAt) / 1000);
  };
  const patchAll = (input: string) =>
    runCommand(
      'kubectl',
      ['-n', namespace, 'apply', '--server-side', '--force-conflicts', '--field-manager=bench', '-f', '-'],
      stack.env,
      ROOT,
      input,
    );
  try {
    const first = await stack.up();
    if (first.code !== 0) throw new Error(first.stderr + first.stdout);
    for (let round = 0; round < ROUNDS; round++) {
      const log = round === 0 ? breakdowns : undefined;
      await switchTo('pulumi no-op', 'blue', () => timedUp(stack, `simulated, ${apps} app(s): no-op pulumi up`, log));
      await stack.set('activeColor', 'green');
      await switchTo('pulumi cutover', 'green', () => timedUp(stack, `simulated, ${apps} app(s): cutover`, log));
      await stack.set('activeColor', 'blue');
      await switchTo('pulumi rollback', 'blue', () => timedUp(stack, `simulated, ${apps} app(s): rollback`, log));
      await switchTo('fast rollback', 'green', () => stack.rollback());
      await switchTo('fast rollback', 'blue', () => stack.rollback());
      // The baseline: every live Service's selector in one server-side apply, then back.
      const selectors = (color: Color) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: services.map((name) => ({
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name, namespace },
            spec: { selector: { 'app.kubernetes.io/name': name, 'cutover.dev/color': color } },
          })),
        });
      await switchTo('kubectl patch', 'green', () => patchAll(selectors('green')));
      const back = await patchAll(selectors('blue'));
      if (back.code !== 0) throw new Error(back.stderr);
    }
  } finally {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
  }
  return (Object.keys(samples) as Method[]).map((method) => ({
    apps,
    method,
    command: median(samples[method].command),
    allNew: median(samples[method].allNew),
  }));
}

async function main(): Promise<void> {
  const env = toolchainEnv();
  const kubeconfig = clusterUp(env);
  installCrds(env, kubeconfig, ALL_CRD_PATHS);
  const kube = new KubeClient(kubeconfig);
  const breakdowns: string[] = [];
  let real: Awaited<ReturnType<typeof realNode>>;
  const scale: ScaleRow[] = [];
  try {
    real = process.env.BENCH_REAL_NODE === '0' ? { results: [], noop: [], gates: [] } : await realNode(env, kubeconfig, kube, breakdowns);
    for (const apps of APP_COUNTS) {
      scale.push(...(await simulated(env, kubeconfig, kube, apps, breakdowns)));
    }
  } finally {
    await kube.close();
  }
  const { results } = real;

  const methods: Method[] = ['pulumi cutover', 'pulumi rollback', 'fast rollback', 'kubectl patch'];
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
    `${'method'.padEnd(16)} ${'sent'.padStart(6)} ${'failed'.padStart(6)}  ${'p50 before/during ms'.padStart(20)}  ` +
      `${'p99 before/during ms'.padStart(20)}  ${'command s'.padStart(9)}  ${'all new s'.padStart(9)}  ` +
      `${'command/patch'.padStart(13)}  ${'all new/patch'.padStart(13)}`,
    ...rows.map(
      (r) =>
        `${r.method.padEnd(16)} ${String(r.sent).padStart(6)} ${String(r.failed).padStart(6)}  ` +
        `${`${fmt(r.beforeP50, 1)} / ${fmt(r.duringP50, 1)}`.padStart(20)}  ` +
        `${`${fmt(r.beforeP99, 1)} / ${fmt(r.duringP99, 1)}`.padStart(20)}  ${fmt(r.command).padStart(9)}  ${fmt(r.allNew).padStart(9)}  ` +
        `${ratio(r.command, baseline?.command).padStart(13)}  ${ratio(r.allNew, baseline?.allNew).padStart(13)}`,
    ),
  ];
  const noop = median(real.noop);
  const gate = median(real.gates);
  const cutover = rows.find((r) => r.method === 'pulumi cutover')?.command;
  lines.push(
    '',
    `no-op pulumi up: ${fmt(noop)} s; the cutover's gate Job: ${fmt(gate)} s; cutover command / (no-op + gate): ` +
      `${ratio(cutover, noop === undefined || gate === undefined ? undefined : noop + gate)}`,
    '',
    `simulated nodes (kwok), N apps in one stack, ${ROUNDS} round(s), medians; "all new" = every live Service's EndpointSlices hold only ` +
      `the new color's pods`,
    `${'apps'.padStart(4)}  ${'method'.padEnd(16)} ${'command s'.padStart(9)}  ${'all new s'.padStart(9)}  ${'command/1 app'.padStart(13)}  ` +
      `${'command/patch'.padStart(13)}`,
    ...scale.map((r) => {
      const one = scale.find((o) => o.apps === 1 && o.method === r.method);
      const patch = scale.find((o) => o.apps === r.apps && o.method === 'kubectl patch');
      return (
        `${String(r.apps).padStart(4)}  ${r.method.padEnd(16)} ${fmt(r.command).padStart(9)}  ${fmt(r.allNew).padStart(9)}  ` +
        `${ratio(r.command, one?.command).padStart(13)}  ${ratio(r.command, patch?.command).padStart(13)}`
      );
    }),
    '',
    "where the time goes (first round; seconds from the command's start: each resource step that did something, start → end, its await included)",
    '',
    ...breakdowns,
  );
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'cluster.txt'), `${lines.join('\n')}\n`);
  if (results.length > 0) {
    writeFileSync(join(out, 'cluster.svg'), renderSwitchCharts(results.slice(0, results.length / ROUNDS).map((r) => r.panel)));
  }
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
