import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo } from 'node:net';
import { ApiObject, App, Chart } from 'cdk8s';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BlueGreenApp,
  BlueGreenAppProps,
  CutoverGate,
  DEFAULT_GATE_IMAGE,
  Manifest,
  MetricGate,
  MetricGateOptions,
  MetricGateScriptOptions,
  MigrationJob,
  MonitoringStack,
  MonitoringStackProps,
  NetworkPolicySet,
  NetworkPort,
  metricGateScript,
  renderChart,
  restrictedViolations,
} from '../../lib';
import { reportingScript } from '../../lib/gates/gate-job';
import { BASE_PROPS, find } from '../helpers';

const PROMETHEUS_URL = 'http://prometheus-operated.monitoring.svc:9090';

interface Fixture {
  readonly chart: Chart;
  readonly app: BlueGreenApp;
  readonly monitoring: MonitoringStack;
  readonly gate: MetricGate;
  readonly render: () => Manifest[];
}

/** An app (blue live unless told), its monitoring and a metric gate, in namespace `web-test`. */
function fixture(
  options: Partial<MetricGateOptions> & { prometheusUrl?: string } = {},
  app: Partial<BlueGreenAppProps> = {},
  monitoring: Partial<MonitoringStackProps> = {},
): Fixture {
  const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
  const bga = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...app });
  const stack = new MonitoringStack(chart, 'monitoring', { app: bga, ...monitoring });
  const gate = new MetricGate(chart, 'metric-gate', { app: bga, monitoring: stack, prometheusUrl: PROMETHEUS_URL, ...options });
  return { chart, app: bga, monitoring: stack, gate, render: () => renderChart(chart).map((r) => r.manifest) };
}

function gateJob(manifests: Manifest[], color = 'blue'): Record<string, any> {
  return find(manifests, 'Job', `web-metric-gate-${color}`);
}

function container(job: Record<string, any>): Record<string, any> {
  return job.spec.template.spec.containers[0];
}

function envOf(job: Record<string, any>): Record<string, string> {
  return Object.fromEntries((container(job).env as { name: string; value: string }[]).map(({ name, value }) => [name, value]));
}

function dependencyNames(object: ApiObject): string[] {
  return object.node.dependencies.flatMap((d) => d.node.findAll().filter((c) => ApiObject.isApiObject(c))).map((o) => `${o.kind}/${o.name}`);
}

describe('MetricGate defaults', () => {
  it('resolves every default', () => {
    const { gate } = fixture();
    expect({
      maxErrorRatio: gate.maxErrorRatio,
      maxP95LatencySeconds: gate.maxP95LatencySeconds,
      window: gate.window,
      minRequests: gate.minRequests,
      image: gate.image.toString(),
      activeDeadlineSeconds: gate.activeDeadlineSeconds,
    }).toEqual({
      maxErrorRatio: 0.01,
      maxP95LatencySeconds: 0.5,
      window: '5m',
      minRequests: 1,
      image: DEFAULT_GATE_IMAGE,
      activeDeadlineSeconds: 120,
    });
  });

  it('keeps an explicit 0 for maxErrorRatio and minRequests', () => {
    const { gate } = fixture({ maxErrorRatio: 0, minRequests: 0 });
    expect([gate.maxErrorRatio, gate.minRequests]).toEqual([0, 0]);
  });

  it('drops trailing slashes of the Prometheus URL', () => {
    expect(fixture({ prometheusUrl: 'https://prometheus.example.com/prom/' }).gate.prometheusUrl).toBe('https://prometheus.example.com/prom');
  });
});

describe('MetricGate objects', () => {
  it('names the Job after the target color', () => {
    const blue = fixture().render();
    const green = fixture({}, { activeColor: 'green' }).render();
    expect(gateJob(blue, 'blue')).toBeDefined();
    expect(gateJob(green, 'green')).toBeDefined();
    expect(green.some((m) => m.metadata.name === 'web-metric-gate-blue')).toBe(false);
    expect(blue.filter((m) => m.metadata.name.startsWith('web-metric-gate')).map((m) => m.kind)).toEqual(['Job']);
  });

  it('Job runs once, within a deadline, never restarts, keeps its log as termination message and is not TTL-deleted', () => {
    const job = gateJob(fixture().render());
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(120);
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(container(job).terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(job.metadata.annotations).toEqual({ 'pulumi.com/replaceUnready': 'true' });
    expect(job.spec.podFailurePolicy.rules).toEqual([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }]);
  });

  it('Job labels name the metric gate, its component and the color', () => {
    const job = gateJob(fixture({}, { activeColor: 'green' }).render(), 'green');
    for (const labels of [job.metadata.labels, job.spec.template.metadata.labels]) {
      expect(labels).toEqual({
        'app.kubernetes.io/name': 'web-metric-gate',
        'app.kubernetes.io/instance': 'web-metric-gate-green',
        'app.kubernetes.io/component': 'metric-gate',
        'app.kubernetes.io/part-of': 'web',
        'app.kubernetes.io/managed-by': 'cutover',
        'cutover.dev/color': 'green',
      });
    }
  });

  it('Job runs the script with sh in the curl image, with the Prometheus URL and the target color in its environment', () => {
    const job = gateJob(fixture({ prometheusUrl: `${PROMETHEUS_URL}/` }).render());
    expect(container(job).image).toBe(DEFAULT_GATE_IMAGE);
    expect(container(job).command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container(job).command[2]).toContain("query 'p95 latency of blue over 5m'");
    expect(envOf(job)).toMatchObject({
      CUTOVER_PROMETHEUS_URL: PROMETHEUS_URL,
      CUTOVER_TARGET_COLOR: 'blue',
      CUTOVER_TARGET_IMAGE: BASE_PROPS.blue.image,
    });
  });

  it('the Job pod passes Pod Security restricted', () => {
    const job = gateJob(fixture().render());
    expect(restrictedViolations(job.spec.template.spec)).toEqual([]);
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(container(job).securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('a copy without the security contexts is rejected by the restricted check', () => {
    const spec = gateJob(fixture().render()).spec.template.spec;
    const broken = { ...spec, securityContext: {}, containers: [{ ...spec.containers[0], securityContext: undefined }] };
    expect(restrictedViolations(broken).map((v) => v.control)).toEqual(
      expect.arrayContaining(['Privilege Escalation', 'Running as Non-root', 'Seccomp', 'Capabilities']),
    );
  });

  it('sets requests and limits, ephemeral storage included', () => {
    expect(container(gateJob(fixture().render())).resources).toEqual({
      requests: { cpu: '50m', memory: '32Mi', 'ephemeral-storage': '16Mi' },
      limits: { cpu: '200m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
    });
  });
});

describe('MetricGate queries', () => {
  it('measures the target color through both Services, with the metric names of the monitoring', () => {
    const { gate } = fixture(
      { window: '10m' },
      { activeColor: 'green' },
      {
        metrics: {
          requestsTotal: 'api_requests_total',
          statusCodeLabel: 'status',
          errorStatusCodes: '5..|429',
          requestDurationSeconds: 'api_latency_seconds',
        },
      },
    );
    const matchers = 'namespace="web-test",service=~"web|web-preview",color="green"';
    expect(gate.queries).toEqual({
      requests: `sum by (color) (increase(api_requests_total{${matchers}}[10m]))`,
      errorRatio:
        `(sum by (color) (rate(api_requests_total{${matchers},status=~"5..|429"}[10m])) ` +
        `or sum by (color) (rate(api_requests_total{${matchers}}[10m])) * 0)` +
        ` / sum by (color) (rate(api_requests_total{${matchers}}[10m]))`,
      p95Latency: `histogram_quantile(0.95, sum by (color, le) (rate(api_latency_seconds_bucket{${matchers}}[10m])))`,
    });
  });

  it('the monitoring query builders reject a bad window, quantile or color', () => {
    const { monitoring } = fixture();
    expect(() => monitoring.errorRatioQuery('blue', '5 minutes')).toThrow(
      'window: must be a PromQL duration of whole seconds, minutes, hours or days, got "5 minutes"; e.g. "5m"',
    );
    expect(() => monitoring.latencyQuantileQuery('blue', 95, '5m')).toThrow(
      'quantile: must be between 0 and 1 (exclusive), got 95; e.g. 0.95 for p95',
    );
    expect(() => monitoring.requestCountQuery('red' as 'blue', '5m')).toThrow(
      'color: must be "blue" or "green", got "red"; pass app.activeColor or app.idleColor',
    );
  });

  it('adding the gate changes no rendered monitoring object', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
    const app = new BlueGreenApp(chart, 'app', BASE_PROPS);
    new MonitoringStack(chart, 'monitoring', { app });
    const without = renderChart(chart).map((r) => r.manifest);
    const withGate = fixture()
      .render()
      .filter((m) => !m.metadata.name.startsWith('web-metric-gate'));
    const byName = (manifests: Manifest[]): Manifest[] =>
      [...manifests].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    expect(byName(withGate)).toEqual(byName(without));
  });
});

describe('MetricGate re-runs', () => {
  it('Job template changes when the target color gets a new image', () => {
    const before = gateJob(fixture().render());
    const after = gateJob(fixture({}, { blue: { image: 'registry.example.com/acme/web:1.0.1' } }).render());
    expect(after.metadata.name).toBe(before.metadata.name);
    expect(envOf(after).CUTOVER_TARGET_IMAGE).toBe('registry.example.com/acme/web:1.0.1');
    expect(after.spec.template).not.toEqual(before.spec.template);
  });

  it('Job template changes when the target color pod template changes without a new image', () => {
    const before = gateJob(fixture().render());
    const after = gateJob(fixture({}, { blue: { image: BASE_PROPS.blue.image, env: { FEATURE: 'on' } } }).render());
    expect(envOf(after).CUTOVER_TARGET_TEMPLATE).not.toBe(envOf(before).CUTOVER_TARGET_TEMPLATE);
  });

  it('a release to the idle color leaves the metric gate unchanged', () => {
    const before = gateJob(fixture().render());
    const after = gateJob(fixture({}, { green: { image: 'registry.example.com/acme/web:2.0.0' } }).render());
    expect(after).toEqual(before);
  });
});

describe('MetricGate ordering', () => {
  it('every routing object of the app depends on the Job', () => {
    const { app, gate } = fixture({}, { trafficWeight: 25, routing: { router: 'ingress' } });
    expect(app.routingObjects.length).toBeGreaterThanOrEqual(4);
    for (const object of app.routingObjects) {
      expect(ApiObject.of(object).node.dependencies, object.node.path).toContain(gate.job);
    }
  });

  it('the HTTPRoute depends on the Job too', () => {
    const { app, gate } = fixture({}, { routing: { gateway: { name: 'public' } } });
    expect(app.route!.node.dependencies).toContain(gate.job);
  });

  it('the Job waits for the target Deployment only', () => {
    expect(dependencyNames(fixture({}, { activeColor: 'green' }).gate.job)).toEqual(['Deployment/web-green']);
  });

  it('renders the Deployment, then the Job, then the traffic objects', () => {
    const order = fixture()
      .render()
      .map((m) => `${m.kind}/${m.metadata.name}`);
    const at = (key: string): number => {
      expect(order).toContain(key);
      return order.indexOf(key);
    };
    expect(at('Deployment/web-blue')).toBeLessThan(at('Job/web-metric-gate-blue'));
    for (const traffic of ['Service/web', 'Service/web-preview', 'HTTPRoute/web']) {
      expect(at('Job/web-metric-gate-blue')).toBeLessThan(at(traffic));
    }
  });

  it('guard adds more objects that wait for the metric gate', () => {
    const { chart, gate } = fixture();
    const extra = new ApiObject(chart, 'extra', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' } });
    gate.guard(extra);
    expect(extra.node.dependencies).toContain(gate.job);
  });

  it('guard refuses the Deployment the metric gate measures (a cycle)', () => {
    const { app, gate } = fixture();
    expect(() => gate.guard(app.colors.blue!.deployment)).toThrow(
      'guard: the metric gate itself waits for test/app/blue-deployment, got it as an object to guard; that is a dependency cycle: guard only what ' +
        'moves traffic (Services, Ingresses, HTTPRoutes)',
    );
  });

  it('guard refuses a call without objects', () => {
    expect(() => fixture().gate.guard()).toThrow('guard: needs at least one object, got none; e.g. guard(app.liveService)');
  });

  it('after(smoke-test gate, expand migration): the metric gate runs after both, the traffic after it', () => {
    const { chart, app, gate, render } = fixture();
    const smoke = new CutoverGate(chart, 'gate', { app });
    const migration = new MigrationJob(chart, 'expand', {
      app,
      phase: 'expand',
      image: 'registry.example.com/acme/web:1.1.0',
      command: ['bin/migrate'],
    });
    smoke.after(migration);
    gate.after(smoke, migration);
    expect(gate.job.node.dependencies).toEqual(expect.arrayContaining([smoke, migration]));
    const order = render().map((m) => `${m.kind}/${m.metadata.name}`);
    expect(order.indexOf(`Job/${migration.name}`)).toBeLessThan(order.indexOf('Job/web-gate-blue'));
    expect(order.indexOf('Job/web-gate-blue')).toBeLessThan(order.indexOf('Job/web-metric-gate-blue'));
    expect(order.indexOf('Job/web-metric-gate-blue')).toBeLessThan(order.indexOf('Service/web'));
  });

  it('after refuses a contract migration', () => {
    const { chart, app, gate } = fixture();
    const contract = new MigrationJob(chart, 'contract', {
      app,
      phase: 'contract',
      image: 'registry.example.com/acme/web:1.1.0',
      command: ['bin/migrate'],
    });
    expect(() => gate.after(contract)).toThrow(
      'after: test/contract is a contract migration, got it as a prerequisite of the switch; contract only once the old color is retired, in an ' +
        'update of its own, and gate the switch with expand migrations only',
    );
  });

  it('after refuses what already waits for the metric gate (a cycle)', () => {
    const { app, gate } = fixture();
    expect(() => gate.after(app.liveService)).toThrow(
      'after: test/app/live-service already waits for the metric gate, got it as a prerequisite; that is a dependency cycle',
    );
  });

  it('after refuses a call without prerequisites', () => {
    expect(() => fixture().gate.after()).toThrow('after: needs at least one prerequisite, got none; e.g. metricGate.after(gate)');
  });
});

describe('MetricGate network peer', () => {
  function policies(activeColor: 'blue' | 'green', port?: NetworkPort): Manifest[] {
    const { chart, gate, render } = fixture({}, { activeColor });
    const set = new NetworkPolicySet(chart, 'network', { monitoring: { namespace: 'observability' } });
    set.allowPrometheusQuery(gate, port !== undefined ? { port } : {});
    return render().filter((m) => m.kind === 'NetworkPolicy');
  }

  it('selects the metric gate pods by labels without a color', () => {
    const { gate } = fixture({}, { activeColor: 'green' });
    expect(gate.networkPeer).toEqual({
      workloads: [
        {
          name: 'web-metric-gate',
          selector: { matchLabels: { 'app.kubernetes.io/name': 'web-metric-gate', 'app.kubernetes.io/component': 'metric-gate' } },
        },
      ],
    });
    expect(JSON.stringify(gate.networkPeer)).not.toMatch(/blue|green|color/);
  });

  it('the selector matches the Job pods and not the app pods', () => {
    const { gate, render } = fixture();
    const manifests = render();
    const selector = gate.networkPeer.workloads[0].selector.matchLabels!;
    const matches = (labels: Record<string, string>): boolean => Object.entries(selector).every(([key, value]) => labels[key] === value);
    expect(matches(gateJob(manifests).spec.template.metadata.labels)).toBe(true);
    expect(matches(find(manifests, 'Deployment', 'web-blue').spec.template.metadata.labels)).toBe(false);
  });

  it('allowPrometheusQuery: egress from the metric gate pods to the Prometheus pods of the monitoring namespace on 9090 only', () => {
    const policy = find(policies('blue'), 'NetworkPolicy', 'web-metric-gate');
    expect(policy.spec.podSelector).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'web-metric-gate', 'app.kubernetes.io/component': 'metric-gate' },
    });
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } },
            podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
          },
        ],
        ports: [{ protocol: 'TCP', port: 9090 }],
      },
    ]);
    expect(policy.spec.ingress).toBeUndefined();
  });

  it('allowPrometheusQuery takes another port', () => {
    const policy = find(policies('blue', NetworkPort.tcp(8080)), 'NetworkPolicy', 'web-metric-gate');
    expect(policy.spec.egress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
  });

  it('the policies do not change with the live color', () => {
    expect(policies('green')).toEqual(policies('blue'));
  });
});

describe('MetricGate validation', () => {
  const deadline = 'activeDeadlineSeconds: must be a whole number of at least 1, got 0; set activeDeadlineSeconds to 1 or more';
  it.each<[string, Partial<MetricGateOptions> & { prometheusUrl?: string }, string]>([
    [
      'a URL without a scheme',
      { prometheusUrl: 'prometheus:9090' },
      'prometheusUrl: must be an http or https URL of the Prometheus server, got "prometheus:9090"; e.g. ' +
        '"http://prometheus-operated.monitoring.svc:9090"',
    ],
    [
      'a URL of another scheme',
      { prometheusUrl: 'ftp://prometheus' },
      'prometheusUrl: must be an http or https URL of the Prometheus server, got "ftp://prometheus"; e.g. ' +
        '"http://prometheus-operated.monitoring.svc:9090"',
    ],
    [
      'a URL with a space',
      { prometheusUrl: 'http://prometheus 9090' },
      'prometheusUrl: must be an http or https URL of the Prometheus server, got "http://prometheus 9090"; e.g. ' +
        '"http://prometheus-operated.monitoring.svc:9090"',
    ],
    [
      'an empty URL',
      { prometheusUrl: '' },
      'prometheusUrl: must be an http or https URL of the Prometheus server, got ""; e.g. "http://prometheus-operated.monitoring.svc:9090"',
    ],
    [
      'a URL with credentials',
      { prometheusUrl: 'http://admin:secret@prometheus:9090' },
      'prometheusUrl: must not hold credentials, got a URL with a user name or password; they would be stored in the manifests: use ' +
        '"http://prometheus-operated.monitoring.svc:9090" inside the cluster',
    ],
    [
      'a URL with a query',
      { prometheusUrl: 'http://prometheus:9090/api/v1/query?query=up' },
      'prometheusUrl: must be the base URL, without a query or fragment, got "http://prometheus:9090/api/v1/query?query=up"; the gate appends ' +
        '/api/v1/query, e.g. "http://prometheus-operated.monitoring.svc:9090"',
    ],
    ['a negative error ratio', { maxErrorRatio: -0.01 }, 'maxErrorRatio: must be a ratio from 0 to 1, got -0.01; e.g. 0.01 for 1%'],
    ['an error ratio in percent', { maxErrorRatio: 5 }, 'maxErrorRatio: must be a ratio from 0 to 1, got 5; e.g. 0.01 for 1%'],
    ['a NaN error ratio', { maxErrorRatio: NaN }, 'maxErrorRatio: must be a ratio from 0 to 1, got NaN; e.g. 0.01 for 1%'],
    ['a zero latency', { maxP95LatencySeconds: 0 }, 'maxP95LatencySeconds: must be a positive number of seconds, got 0; e.g. 0.5'],
    ['an infinite latency', { maxP95LatencySeconds: Infinity }, 'maxP95LatencySeconds: must be a positive number of seconds, got Infinity; e.g. 0.5'],
    [
      'a window in words',
      { window: '5 minutes' },
      'window: must be a PromQL duration of whole seconds, minutes, hours or days, got "5 minutes"; e.g. "5m"',
    ],
    ['a zero window', { window: '0m' }, 'window: must be a PromQL duration of whole seconds, minutes, hours or days, got "0m"; e.g. "5m"'],
    [
      'a window of one scrape',
      { window: '30s' },
      'window: must span at least two scrapes (2 × scrapeInterval 30s), got "30s"; rate() needs two samples in the window: e.g. "5m"',
    ],
    ['negative minRequests', { minRequests: -1 }, 'minRequests: must be a whole number of at least 0, got -1; set minRequests to 0 or more'],
    ['fractional minRequests', { minRequests: 0.5 }, 'minRequests: must be a whole number of at least 0, got 0.5; set minRequests to 0 or more'],
    [
      'an image without tag',
      { image: 'curlimages/curl' },
      'image: has no tag or digest, got "curlimages/curl"; pin the build, e.g. "curlimages/curl:1.4.2" or "curlimages/curl@sha256:<digest>"',
    ],
    [
      'a latest image',
      { image: 'curlimages/curl:latest' },
      'image: must be pinned to one build, got "curlimages/curl:latest"; use a version tag or a digest, e.g. "curlimages/curl:1.4.2"',
    ],
    ['a zero deadline', { activeDeadlineSeconds: 0 }, deadline],
    [
      'a zero request timeout',
      { requestTimeoutSeconds: 0 },
      'requestTimeoutSeconds: must be a whole number of at least 1, got 0; set requestTimeoutSeconds to 1 or more',
    ],
    [
      'a request timeout not below the deadline',
      { activeDeadlineSeconds: 10, requestTimeoutSeconds: 10 },
      'requestTimeoutSeconds: must be below activeDeadlineSeconds 10, got 10; lower it or raise activeDeadlineSeconds',
    ],
    ['negative retries', { retries: -1 }, 'retries: must be a whole number of at least 0, got -1; set retries to 0 or more'],
    ['a root user', { runAsUser: 0 }, 'runAsUser: must be a whole number of at least 1, got 0; set runAsUser to 1 or more'],
    [
      'a CPU request above its limit',
      { resources: { cpuRequest: '300m' } },
      'resources.cpuRequest: exceeds resources.cpuLimit 200m, got 300m; lower the request or raise the limit',
    ],
  ])('rejects %s', (_, options, message) => {
    expect(() => fixture(options)).toThrow(message);
  });

  it('accepts a window of exactly two scrapes', () => {
    expect(fixture({ window: '1m' }).gate.window).toBe('1m');
  });

  it('rejects a window shorter than two scrapes of a slower scrape interval', () => {
    expect(() => fixture({ window: '3m' }, {}, { scrapeInterval: '2m' })).toThrow(
      'window: must span at least two scrapes (2 × scrapeInterval 2m), got "3m"; rate() needs two samples in the window: e.g. "8m"',
    );
  });

  it('rejects an app name too long for the Job name of either color, while blue is live', () => {
    const name = `a${'b'.repeat(45)}`;
    expect(() => fixture({}, { name }, { dashboard: { uid: 'web' } })).toThrow(
      `app.name: is too long for the metric gate's Job name "${name}-metric-gate-green" (64 characters, at most 63), got "${name}"; shorten the ` +
        `app name to 45 characters or fewer`,
    );
    expect(fixture({}, { name: name.slice(1) }, { dashboard: { uid: 'web' } }).gate.name).toBe(`${name.slice(1)}-metric-gate-blue`);
  });

  it('rejects the monitoring of another app', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
    const app = new BlueGreenApp(chart, 'app', BASE_PROPS);
    const other = new BlueGreenApp(chart, 'other', { ...BASE_PROPS, name: 'api' });
    const monitoring = new MonitoringStack(chart, 'monitoring', { app: other });
    expect(() => new MetricGate(chart, 'metric-gate', { app, monitoring, prometheusUrl: PROMETHEUS_URL })).toThrow(
      'monitoring: test/monitoring monitors another app, got "api" for app "web"; pass the MonitoringStack of web',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The script, run for real with sh, curl and awk against a fake Prometheus
// ---------------------------------------------------------------------------------------------------------------

/** The script's own client runs it: curl must be installed (it is on Debian-based machines and CI). */
function requireCurl(): void {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('curl: not found on PATH; these tests run the generated metric-gate script with it: install curl');
  }
}

const QUERIES = { requests: 'sum(increase(requests[5m]))', errorRatio: 'errors / requests', p95Latency: 'histogram_quantile(0.95, "it\'s" $x `y`)' };

function scriptOptions(overrides: Partial<MetricGateScriptOptions> = {}): MetricGateScriptOptions {
  return {
    color: 'green',
    window: '5m',
    queries: QUERIES,
    minRequests: 1,
    maxErrorRatio: 0.01,
    maxP95LatencySeconds: 0.5,
    requestsMetric: 'http_requests_total',
    latencyHistogram: 'http_request_duration_seconds',
    requestTimeoutSeconds: 2,
    retries: 0,
    ...overrides,
  };
}

describe('metricGateScript', () => {
  it('quotes every interpolated value as one shell word', () => {
    const script = metricGateScript(scriptOptions());
    expect(script).toContain(`query 'p95 latency of green over 5m' 'histogram_quantile(0.95, "it'\\''s" $x \`y\`)'`);
  });

  it('is valid POSIX sh syntax (sh -n)', () => {
    expect(() => execFileSync('sh', ['-n', '-c', metricGateScript(scriptOptions({ retries: 2 }))])).not.toThrow();
  });

  it('a broken script fails the syntax check (the check can fail)', () => {
    expect(() => execFileSync('sh', ['-n', '-c', 'judge() {'], { stdio: 'pipe' })).toThrow('Syntax error: end of file unexpected');
  });
});

type Answer = { readonly value: string } | { readonly empty: true } | { readonly status: number; readonly body: string };

describe('metricGateScript against a fake Prometheus', () => {
  requireCurl();
  const asked: string[] = [];
  let answers: Record<string, Answer> = {};
  let pretty = false;
  let url = '';
  const server = createServer((request, response) => {
    const parsed = new URL(request.url ?? '/', 'http://prometheus');
    const query = parsed.searchParams.get('query') ?? '';
    asked.push(query);
    const answer = parsed.pathname === '/api/v1/query' ? answers[query] : undefined;
    if (answer === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    } else if ('status' in answer) {
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    } else {
      const result = 'empty' in answer ? [] : [{ metric: { color: 'green' }, value: [1767225600.123, answer.value] }];
      const body = { status: 'success', data: { resultType: 'vector', result } };
      response.writeHead(200, { 'content-type': 'application/json' }).end(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
    }
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    asked.length = 0;
    pretty = false;
  });

  /** Runs the script asynchronously, so the server in this process can answer. */
  function run(script: string, prometheusUrl = url, env: Record<string, string> = {}): Promise<{ code: number; lines: string[] }> {
    return new Promise((resolve) => {
      execFile('sh', ['-c', script], { env: { PATH: process.env.PATH, CUTOVER_PROMETHEUS_URL: prometheusUrl, ...env } }, (error, stdout) => {
        resolve({ code: error === null ? 0 : Number(error.code), lines: stdout.split('\n').filter((line) => line !== '') });
      });
    });
  }

  function healthy(): Record<string, Answer> {
    return { [QUERIES.requests]: { value: '119.99' }, [QUERIES.errorRatio]: { value: '0.0012' }, [QUERIES.p95Latency]: { value: '0.231' } };
  }

  it('wrapped as the Job runs it, gives the same verdict and copies it to the termination message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-metric-gate-'));
    const log = join(dir, 'termination-log');
    try {
      answers = { ...healthy(), [QUERIES.p95Latency]: { value: '0.812' } };
      const bare = await run(metricGateScript(scriptOptions()));
      const wrapped = await run(reportingScript(metricGateScript(scriptOptions())), url, { CUTOVER_TERMINATION_LOG: log });
      expect(wrapped).toEqual(bare);
      expect(wrapped.code).toBe(1);
      expect(
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line !== ''),
      ).toEqual(bare.lines);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes within every limit: one line per measurement, then the verdict', async () => {
    answers = healthy();
    expect(await run(metricGateScript(scriptOptions()))).toEqual({
      code: 0,
      lines: [
        'ok   requests to green over 5m: 120 (minimum 1)',
        'ok   error ratio of green over 5m: 0.12% (limit 1%)',
        'ok   p95 latency of green over 5m: 0.231 s (limit 0.5 s)',
        'metric gate passed for green over 5m',
      ],
    });
    expect(asked).toEqual([QUERIES.requests, QUERIES.errorRatio, QUERIES.p95Latency]);
  });

  it('passes a value equal to its limit, and reads exponents', async () => {
    answers = { ...healthy(), [QUERIES.errorRatio]: { value: '1.2e-05' }, [QUERIES.p95Latency]: { value: '0.5' } };
    const result = await run(metricGateScript(scriptOptions()));
    expect(result.code).toBe(0);
    expect(result.lines.slice(1, 3)).toEqual([
      'ok   error ratio of green over 5m: 0.0012% (limit 1%)',
      'ok   p95 latency of green over 5m: 0.5 s (limit 0.5 s)',
    ]);
  });

  it('reads pretty-printed answers too', async () => {
    answers = healthy();
    pretty = true;
    expect((await run(metricGateScript(scriptOptions()))).code).toBe(0);
  });

  it('fails when the error ratio is above its limit, the reason on the last line', async () => {
    answers = { ...healthy(), [QUERIES.errorRatio]: { value: '0.032' } };
    const result = await run(metricGateScript(scriptOptions()));
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'ok   requests to green over 5m: 120 (minimum 1)',
      'FAIL error ratio of green over 5m: 3.2% (limit 1%)',
      'ok   p95 latency of green over 5m: 0.231 s (limit 0.5 s)',
      'metric gate failed for green: error ratio of green over 5m: 3.2% (limit 1%)',
    ]);
  });

  it('fails when the p95 latency is above its limit', async () => {
    answers = { ...healthy(), [QUERIES.p95Latency]: { value: '0.812' } };
    const result = await run(metricGateScript(scriptOptions()));
    expect(result.code).toBe(1);
    expect(result.lines.slice(2)).toEqual([
      'FAIL p95 latency of green over 5m: 0.812 s (limit 0.5 s)',
      'metric gate failed for green: p95 latency of green over 5m: 0.812 s (limit 0.5 s)',
    ]);
  });

  it('names every failed measurement in the verdict', async () => {
    answers = { ...healthy(), [QUERIES.errorRatio]: { value: '0.5' }, [QUERIES.p95Latency]: { value: '+Inf' } };
    const result = await run(metricGateScript(scriptOptions()));
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toBe(
      'metric gate failed for green: error ratio of green over 5m: 50% (limit 1%); p95 latency of green over 5m: above the largest histogram ' +
        'bucket (limit 0.5 s)',
    );
  });

  it('fails without data: not enough traffic to judge, and asks nothing more', async () => {
    answers = { [QUERIES.requests]: { empty: true } };
    const result = await run(metricGateScript(scriptOptions()));
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      'FAIL not enough traffic to judge green: 0 requests over 5m, minRequests is 1; send test traffic through the preview Service or set ' +
        'minRequests: 0',
      'metric gate failed for green: not enough traffic to judge green: 0 requests over 5m, minRequests is 1; send test traffic through the ' +
        'preview Service or set minRequests: 0',
    ]);
    expect(asked).toEqual([QUERIES.requests]);
  });

  it('fails with fewer requests than minRequests', async () => {
    answers = { ...healthy(), [QUERIES.requests]: { value: '9.6' } };
    const result = await run(metricGateScript(scriptOptions({ minRequests: 10 })));
    expect(result.code).toBe(1);
    expect(result.lines[0]).toBe(
      'FAIL not enough traffic to judge green: 10 requests over 5m, minRequests is 10; send test traffic through the preview Service or set ' +
        'minRequests: 0',
    );
  });

  it('with minRequests 0, passes a color without traffic, its measurements without data', async () => {
    answers = { [QUERIES.requests]: { empty: true }, [QUERIES.errorRatio]: { value: 'NaN' }, [QUERIES.p95Latency]: { empty: true } };
    expect(await run(metricGateScript(scriptOptions({ minRequests: 0 })))).toEqual({
      code: 0,
      lines: [
        'ok   requests to green over 5m: 0 (minimum 0)',
        'ok   error ratio of green over 5m: no data (no requests)',
        'ok   p95 latency of green over 5m: no data (no requests)',
        'metric gate passed for green over 5m',
      ],
    });
  });

  it('fails a measurement without data while the color served requests, naming the missing series', async () => {
    answers = { ...healthy(), [QUERIES.p95Latency]: { empty: true } };
    const result = await run(metricGateScript(scriptOptions({ minRequests: 0 })));
    expect(result.code).toBe(1);
    expect(result.lines.at(-2)).toBe(
      'FAIL p95 latency of green over 5m: no data; Prometheus has no histogram http_request_duration_seconds_bucket of green over 5m: check the ' +
        "monitoring's metric names",
    );
  });

  it('fails at once, naming the URL, when Prometheus is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const down = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await run(metricGateScript(scriptOptions()), down);
    const reason =
      `requests to green over 5m: cannot query Prometheus at ${down} (curl exit code 7); ` +
      'check prometheusUrl and that a NetworkPolicy lets the gate reach Prometheus';
    expect(result).toEqual({ code: 1, lines: [`FAIL ${reason}`, `metric gate failed for green: ${reason}`] });
  });

  it("fails at once with Prometheus's error message when the query is refused", async () => {
    const body = JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:5: parse error: unexpected "}"' });
    answers = { [QUERIES.requests]: { status: 400, body } };
    const result = await run(metricGateScript(scriptOptions()));
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toBe(
      `metric gate failed for green: requests to green over 5m: Prometheus at ${url} answered HTTP 400: invalid parameter \\"query\\": 1:5: parse ` +
        `error: unexpected \\"}\\"`,
    );
    expect(asked).toEqual([QUERIES.requests]);
  });

  it('fails when the URL answers something that is not the Prometheus API', async () => {
    const result = await run(metricGateScript(scriptOptions()), `${url}/graph`);
    expect(result.code).toBe(1);
    expect(result.lines.at(-1)).toBe(
      `metric gate failed for green: requests to green over 5m: unexpected answer from Prometheus at ${url}/graph (HTTP 404); check prometheusUrl`,
    );
  });

  it('the rendered Job command queries the PromQL of the monitoring and passes on healthy answers', async () => {
    const { gate, render } = fixture({}, { activeColor: 'green' });
    answers = { [gate.queries.requests]: { value: '42' }, [gate.queries.errorRatio]: { value: '0' }, [gate.queries.p95Latency]: { value: '0.1' } };
    const result = await run(container(gateJob(render(), 'green')).command[2] as string);
    expect(result).toEqual({
      code: 0,
      lines: [
        'ok   requests to green over 5m: 42 (minimum 1)',
        'ok   error ratio of green over 5m: 0% (limit 1%)',
        'ok   p95 latency of green over 5m: 0.1 s (limit 0.5 s)',
        'metric gate passed for green over 5m',
      ],
    });
    expect(asked).toEqual([gate.queries.requests, gate.queries.errorRatio, gate.queries.p95Latency]);
  });
});
