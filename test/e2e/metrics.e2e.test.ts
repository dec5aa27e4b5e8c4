// The metric gate against a real Prometheus (Debian's server, scripts/prometheus.ts) that scrapes the example app's
// real pods on the local cluster's real node, configured from the stack's own ServiceMonitor. Test traffic goes
// through the preview Service to the idle color, the way a team warms up a release before switching to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, LocalPrometheus, ServiceMonitorLike } from '../../scripts/prometheus';
import { EXAMPLE_IMAGE, GATE_IMAGE, KubeClient, LocalStack, realStackConfig, serviceUrl } from '../../scripts/local';
import { LoadClient, summarize } from '../../scripts/traffic';
import { toRawConfig } from '../../stacks/stack-file';
import { deleteNamespace, describeFailures, expectSucceeded, namespaceDiagnostics, readyCluster, waitFor } from './helpers';
import { synthesize } from '../../stacks/synthesize';

const APP = 'web';
const NAMESPACE = 'web-metrics';
/** The real node's address (scripts/cluster.d/node.sh): pods reach the host's Prometheus there. */
const PROMETHEUS_LISTEN = '10.88.0.1:19090';
/** The gate's window: at least two of the ServiceMonitor's 30 s scrapes, as the config requires (the local Prometheus scrapes every 2 s). */
const WINDOW = '1m';

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;
let kubeconfig: string;
let prometheus: LocalPrometheus | undefined;
const clients: LoadClient[] = [];
const diagnose = (): string => namespaceDiagnostics(env, kubeconfig, NAMESPACE);

const BASE = realStackConfig(NAMESPACE, {
  'cutover:green': { image: `${EXAMPLE_IMAGE}:1.1.0-errors` },
  'cutover:gate': { image: GATE_IMAGE },
  'cutover:drainSeconds': 2,
  'cutover:shutdownSeconds': 5,
  'cutover:deployTimeoutSeconds': 120,
});
const METRIC_GATE = {
  image: GATE_IMAGE,
  metrics: { prometheusUrl: `http://${PROMETHEUS_LISTEN}`, window: WINDOW, minRequests: 50, maxErrorRatio: 0.05, maxP95LatencySeconds: 1 },
};

/** The stack's rendered ServiceMonitors, as Prometheus Operator would read them. */
function serviceMonitors(): ServiceMonitorLike[] {
  return synthesize(toRawConfig(BASE), 'metrics')
    .objects.map((r) => r.manifest as unknown as ServiceMonitorLike & { kind: string })
    .filter((m) => m.kind === 'ServiceMonitor' && m.metadata.name === APP);
}

beforeAll(async () => {
  const cluster = readyCluster();
  env = cluster.env;
  kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  deleteNamespace(env, kubeconfig, NAMESPACE);
  stack = new LocalStack('metrics', env, kubeconfig);
  await stack.init(BASE);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await prometheus?.stop();
  if (stack !== undefined) {
    await stack.pulumi(['destroy', '--yes', '--skip-preview']);
  }
  await kube?.close();
});

describe('metric gate with a real Prometheus scraping real pods', () => {
  it('Prometheus scrapes both colors through the ServiceMonitor with the labels the gate queries', async () => {
    expectSucceeded(await stack.up(), diagnose);
    const monitors = serviceMonitors();
    expect(monitors).toHaveLength(1);
    prometheus = await startPrometheus({ kube, monitors, listen: PROMETHEUS_LISTEN, interval: '2s' });
    // Users on the live Service (blue), test traffic on the preview Service (green, the release that fails 1 in 2).
    for (const service of [APP, `${APP}-preview`]) {
      const client = new LoadClient({
        url: await serviceUrl(kube, NAMESPACE, service),
        ratePerSecond: 20,
        keepAliveShare: 0.5,
        maxDurationMs: 10 * 60_000,
      });
      client.start();
      clients.push(client);
    }
    const selector = (color: string) => `{namespace="${NAMESPACE}",service=~"${APP}|${APP}-preview",color="${color}"}`;
    await waitFor(
      `Prometheus to count ${WINDOW} of requests to both colors`,
      async () =>
        ((await prometheus?.query(`sum(increase(http_requests_total${selector('green')}[${WINDOW}]))`)) ?? 0) >= 100 &&
        ((await prometheus?.query(`sum(increase(http_requests_total${selector('blue')}[${WINDOW}]))`)) ?? 0) >= 100,
      120,
    );
    const errorRatio = await prometheus.query(
      `sum(rate(http_requests_total{namespace="${NAMESPACE}",color="green",code=~"5.."}[${WINDOW}])) / ` +
        `sum(rate(http_requests_total${selector('green')}[${WINDOW}]))`,
    );
    expect(errorRatio).toBeGreaterThan(0.4);
    expect(errorRatio).toBeLessThan(0.6);
  });

  it('passes for the healthy live color (blue), reporting what it measured', async () => {
    await stack.set('gate', JSON.stringify(METRIC_GATE));
    const result = await stack.up();
    expectSucceeded(result, diagnose);
    const job = await kube.get<{ status?: { succeeded?: number } }>(`/apis/batch/v1/namespaces/${NAMESPACE}/jobs/${APP}-metric-gate-blue`);
    expect(job?.status?.succeeded).toBe(1);
    const gates = await stack.pulumi(['stack', 'output', 'gates', '--json']);
    expect(gates.stdout).toMatch(/ok {3}error ratio of blue over 1m: 0% \(limit 5%\)/);
  });

  it('fails a cutover to the 5xx release with the measured error ratio; users stay on blue and none of their requests fails', async () => {
    const users = new LoadClient({ url: await serviceUrl(kube, NAMESPACE, APP), ratePerSecond: 20, keepAliveShare: 0.5, maxDurationMs: 10 * 60_000 });
    users.start();
    await stack.set('activeColor', 'green');
    const result = await stack.up();
    const samples = await users.stop();
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toContain(`${APP}-metric-gate-green`);
    // The ratio Prometheus measured from the real pods' counters: about one request in two failed.
    const measured = /FAIL error ratio of green over 1m: ([0-9.]+)% \(limit 5%\)/.exec(output);
    expect(measured, output).not.toBeNull();
    expect(Number(measured?.[1])).toBeGreaterThan(40);
    expect(Number(measured?.[1])).toBeLessThan(60);
    const live = await kube.get<{ spec: { selector: Record<string, string> } }>(`/api/v1/namespaces/${NAMESPACE}/services/${APP}`);
    expect(live?.spec.selector['cutover.dev/color']).toBe('blue');
    expect(summarize(samples).failed, describeFailures(samples)).toBe(0);
    expect(summarize(samples).byColor).toEqual({ blue: samples.length, green: 0, none: 0 });
  });
});
