import { App, Chart } from 'cdk8s';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BlueGreenApp,
  BlueGreenAppProps,
  GrafanaDashboardModel,
  Manifest,
  MonitoringStack,
  MonitoringStackProps,
  PostgresHA,
  RedisCluster,
  renderChart,
} from '../../lib';
import { readStackFile } from '../../stacks/stack-file';
import { CrdSchemaValidator } from '../crd-schema';
import { BASE_PROPS, find, names } from '../helpers';
import { synthesize } from '../../stacks/synthesize';

const ROOT = join(__dirname, '..', '..');
const MONITORING_OBJECTS = ['ConfigMap/web-dashboard', 'PrometheusRule/web-alerts', 'ServiceMonitor/web'];

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };

/** Renders a BlueGreenApp and its MonitoringStack in a chart of namespace `web-prod` (or of none, for `null`). */
function renderMonitoring(
  overrides: Partial<MonitoringStackProps> = {},
  app: Partial<BlueGreenAppProps> = {},
  namespace: string | null = 'web-prod',
): { monitoring: MonitoringStack; manifests: Manifest[] } {
  const chart = new Chart(new App(), 'test', namespace !== null ? { namespace } : {});
  const web = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...app });
  const monitoring = new MonitoringStack(chart, 'monitoring', { app: web, ...overrides });
  return { monitoring, manifests: renderChart(chart).map((r) => r.manifest) };
}

function labelsOf(manifest: Manifest): Record<string, string> {
  return (manifest.metadata.labels ?? {}) as Record<string, string>;
}

function groups(manifests: Manifest[]): Array<{ name: string; rules: Rule[] }> {
  return find(manifests, 'PrometheusRule', 'web-alerts').spec.groups;
}

function appAlerts(manifests: Manifest[]): Record<string, Rule> {
  return Object.fromEntries(groups(manifests)[0].rules.map((rule) => [rule.alert, rule]));
}

function dashboardModel(manifests: Manifest[]): GrafanaDashboardModel {
  return JSON.parse(find(manifests, 'ConfigMap', 'web-dashboard').data['web-dashboard.json']) as GrafanaDashboardModel;
}

/**
 * The anchors GitHub gives the headings of a Markdown document: the heading text lowercased, without characters
 * other than letters, digits, `_`, `-` and spaces, spaces turned into `-`; a repeated anchor gets `-1`, `-2`, ...
 */
function githubAnchors(markdown: string): string[] {
  const seen = new Map<string, number>();
  const anchors: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) {
      continue;
    }
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.push(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/**
 * The runbook URLs among `urls` whose anchor is not a heading of the runbook, or that point at another file than
 * `docs/runbook.md` (as a repository path, or at the end of a URL on a Git host).
 */
function brokenRunbookLinks(urls: readonly string[], markdown: string): string[] {
  const anchors = new Set(githubAnchors(markdown));
  return urls.filter((url) => {
    const [file, anchor, ...rest] = url.split('#');
    const runbook = file === 'docs/runbook.md' || file.endsWith('/docs/runbook.md');
    return !runbook || anchor === undefined || rest.length > 0 || !anchors.has(anchor);
  });
}

/** Every alert the platform renders: the app's, the SLOs', and the data tier's in every variant. */
function everyAlert(): Rule[] {
  const manifests: Manifest[] = [];
  for (const stack of ['prod', 'staging']) {
    const platform = synthesize(readStackFile(ROOT, stack), stack).platform;
    if (!platform.chart.node.findAll().some((construct) => construct instanceof MonitoringStack)) {
      new MonitoringStack(platform.chart, 'monitoring', { app: platform.web });
    }
    manifests.push(...renderChart(platform.chart).map((r) => r.manifest));
  }
  manifests.push(...renderMonitoring({ databasePool: { inUse: 'db_client_connections_usage', max: 'db_client_connections_max' } }).manifests);
  const chart = new Chart(new App(), 'variants', { namespace: 'shop' });
  new PostgresHA(chart, 'db', { name: 'orders-db', backup: { destinationPath: 's3://acme-backups/orders-db' }, pooler: {} });
  new PostgresHA(chart, 'single-db', { name: 'single-db', instances: 1, production: false, backup: { enabled: false } });
  new RedisCluster(chart, 'sentinel', { name: 'cache' });
  new RedisCluster(chart, 'cluster', { name: 'sharded', mode: 'cluster' });
  manifests.push(...renderChart(chart).map((r) => r.manifest));
  return manifests
    .filter((m) => m.kind === 'PrometheusRule')
    .flatMap((m) => (m as Manifest & { spec: { groups: Array<{ rules: Rule[] }> } }).spec.groups.flatMap((g) => g.rules))
    .filter((rule) => rule.alert !== undefined);
}

describe('MonitoringStack objects', () => {
  it('pins the names of its objects to the app name', () => {
    const { manifests } = renderMonitoring();
    expect(names(manifests).filter((name) => MONITORING_OBJECTS.includes(name))).toEqual(MONITORING_OBJECTS);
  });

  it('renders nothing that depends on the live color: a cutover changes only the two Services', () => {
    const blue = renderMonitoring({}, { activeColor: 'blue' }).manifests;
    const green = renderMonitoring({}, { activeColor: 'green' }).manifests;
    const byName = new Map(green.map((m) => [`${m.kind}/${m.metadata.name}`, JSON.stringify(m)]));
    expect(names(blue)).toEqual(names(green));
    const changed = blue.filter((m) => JSON.stringify(m) !== byName.get(`${m.kind}/${m.metadata.name}`)).map((m) => `${m.kind}/${m.metadata.name}`);
    expect(changed.sort()).toEqual(['Service/web', 'Service/web-preview']);
  });

  it('validates every custom resource against the pinned Prometheus Operator CRDs', () => {
    const validator = CrdSchemaValidator.fromDirectory();
    const custom = [
      ...renderMonitoring().manifests,
      ...renderMonitoring({ monitoringLabels: { release: 'kube-prometheus-stack' }, databasePool: { inUse: 'a', max: 'b' } }, {}, null).manifests,
    ].filter((m) => validator.covers(m));
    expect(custom.map((m) => m.kind).sort()).toEqual(['PrometheusRule', 'PrometheusRule', 'ServiceMonitor', 'ServiceMonitor']);
    for (const manifest of custom) {
      expect(validator.validate(manifest), `${manifest.kind}/${manifest.metadata.name}`).toEqual([]);
    }
  });

  it('would be rejected by the CRD schema with a relabeling action Prometheus does not know', () => {
    const validator = CrdSchemaValidator.fromDirectory();
    const monitor = JSON.parse(JSON.stringify(find(renderMonitoring().manifests, 'ServiceMonitor', 'web'))) as Record<string, any>;
    monitor.spec.endpoints[0].relabelings[0].action = 'rename';
    expect(validator.validate(monitor)).toEqual(['/spec/endpoints/0/relabelings/0/action must be equal to one of the allowed values']);
  });
});

describe('MonitoringStack scraping', () => {
  it('selects both the live and the preview Service, and scrapes their metrics port', () => {
    const { manifests } = renderMonitoring();
    const monitor = find(manifests, 'ServiceMonitor', 'web');
    const services = manifests.filter((m) => m.kind === 'Service');
    const selector = monitor.spec.selector as {
      matchLabels: Record<string, string>;
      matchExpressions: { key: string; operator: string; values: string[] }[];
    };
    expect(selector.matchExpressions.every((e) => e.operator === 'In')).toBe(true);
    const selected = services.filter(
      (service) =>
        Object.entries(selector.matchLabels).every(([key, value]) => labelsOf(service)[key] === value) &&
        selector.matchExpressions.every((e) => e.values.includes(labelsOf(service)[e.key])),
    );
    expect(selected.map((s) => s.metadata.name).sort()).toEqual(['web', 'web-preview']);
    for (const service of selected) {
      expect((service as Record<string, any>).spec.ports.map((p: { name: string }) => p.name)).toContain(monitor.spec.endpoints[0].port);
    }
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', interval: '30s' });
  });

  it('keeps the pod color as the color target label, and the version beside it', () => {
    expect(find(renderMonitoring().manifests, 'ServiceMonitor', 'web').spec.endpoints[0].relabelings).toEqual([
      { sourceLabels: ['__meta_kubernetes_pod_label_cutover_dev_color'], targetLabel: 'color', action: 'replace' },
      { sourceLabels: ['__meta_kubernetes_pod_label_app_kubernetes_io_version'], targetLabel: 'version', action: 'replace' },
    ]);
  });

  it('labels the ServiceMonitor and the rules, not the dashboard, for the Prometheus that selects them', () => {
    const { manifests } = renderMonitoring({ monitoringLabels: { release: 'kube-prometheus-stack' } });
    const labelled = manifests.filter((m) => labelsOf(m).release === 'kube-prometheus-stack').map((m) => `${m.kind}/${m.metadata.name}`);
    expect(labelled.sort()).toEqual(['PrometheusRule/web-alerts', 'ServiceMonitor/web']);
  });

  it('scrapes at the configured interval', () => {
    expect(find(renderMonitoring({ scrapeInterval: '15s' }).manifests, 'ServiceMonitor', 'web').spec.endpoints[0].interval).toBe('15s');
  });
});

describe('MonitoringStack alerts', () => {
  it('alerts on errors, unresponsiveness, latency, saturation and restarts', () => {
    const rules = groups(renderMonitoring().manifests)[0].rules;
    expect(rules.map((r) => `${r.alert} ${r.labels?.severity} ${r.for}`)).toEqual([
      'AppHighErrorRate critical 5m',
      'AppPreviewHighErrorRate warning 5m',
      'AppUnresponsive critical 2m',
      'AppTargetDown warning 5m',
      'AppHighLatency warning 10m',
      'AppCpuNearLimit warning 15m',
      'AppMemoryNearLimit warning 15m',
      'AppPodRestarting warning 0s',
    ]);
  });

  it('alerts per color on the error ratio of the live Service above 5%', () => {
    expect(appAlerts(renderMonitoring().manifests).AppHighErrorRate.expr).toBe(
      'sum by (namespace, service, color) (rate(http_requests_total{namespace="web-prod",service="web",code=~"5.."}[5m])) / ' +
        'sum by (namespace, service, color) (rate(http_requests_total{namespace="web-prod",service="web"}[5m])) > 0.05',
    );
  });

  it('takes the error rate threshold and the metric names from props', () => {
    const alerts = appAlerts(
      renderMonitoring({
        errorRateThreshold: 0.001,
        metrics: { requestsTotal: 'api_requests_total', statusCodeLabel: 'status', requestDurationSeconds: 'api_seconds' },
      }).manifests,
    );
    expect(alerts.AppHighErrorRate.expr).toBe(
      'sum by (namespace, service, color) (rate(api_requests_total{namespace="web-prod",service="web",status=~"5.."}[5m])) / ' +
        'sum by (namespace, service, color) (rate(api_requests_total{namespace="web-prod",service="web"}[5m])) > 0.001',
    );
    expect(alerts.AppHighErrorRate.annotations?.summary).toBe('More than 0.1% of the requests to the live web ({{ $labels.color }}) fail.');
    expect(alerts.AppHighLatency.expr).toContain('rate(api_seconds_bucket{namespace="web-prod",service="web"}[5m])');
  });

  it("warns on the preview Service's error ratio separately", () => {
    expect(appAlerts(renderMonitoring().manifests).AppPreviewHighErrorRate.expr).toContain('service="web-preview",code=~"5.."');
  });

  it('pages when no live pod answers, even when the live Service has no endpoint', () => {
    const rule = appAlerts(renderMonitoring().manifests).AppUnresponsive;
    expect(rule.expr).toBe('absent(up{namespace="web-prod",service="web"} == 1)');
    expect(rule.labels).toEqual({ severity: 'critical', namespace: 'web-prod', service: 'web' });
  });

  it('watches every pod of both colors for down targets', () => {
    expect(appAlerts(renderMonitoring().manifests).AppTargetDown.expr).toBe('up{namespace="web-prod",service=~"web|web-preview"} == 0');
  });

  it('alerts on the p95 latency of the live Service above the threshold', () => {
    expect(appAlerts(renderMonitoring({ p95LatencySeconds: 0.3 }).manifests).AppHighLatency.expr).toBe(
      'histogram_quantile(0.95, sum by (namespace, service, color, le) ' +
        '(rate(http_request_duration_seconds_bucket{namespace="web-prod",service="web"}[5m]))) > 0.3',
    );
  });

  it("compares CPU and memory with the app container's limits and names the color from the pod", () => {
    const alerts = appAlerts(renderMonitoring().manifests);
    const pods = '{namespace="web-prod",pod=~"web-(blue|green)-[a-z0-9]+-[a-z0-9]+",container="app"';
    expect(alerts.AppCpuNearLimit.expr).toBe(
      `label_replace(sum by (namespace, pod) (rate(container_cpu_usage_seconds_total${pods}}[5m])) / ` +
        `sum by (namespace, pod) (kube_pod_container_resource_limits${pods},resource="cpu"}), "color", "$1", "pod", ` +
        `"web-(blue|green)-[a-z0-9]+-[a-z0-9]+") > 0.9`,
    );
    expect(alerts.AppMemoryNearLimit.expr).toContain(`container_memory_working_set_bytes${pods}}`);
    expect(alerts.AppMemoryNearLimit.expr).toContain(`kube_pod_container_resource_limits${pods},resource="memory"}`);
  });

  it('counts restarts exactly, without extrapolation, and alerts above 3 in 5 minutes', () => {
    const restarts = 'kube_pod_container_status_restarts_total{namespace="web-prod",pod=~"web-(blue|green)-[a-z0-9]+-[a-z0-9]+",container="app"}';
    expect(appAlerts(renderMonitoring().manifests).AppPodRestarting.expr).toBe(
      `label_replace(sum by (namespace, pod) (max_over_time(${restarts}[5m]) - min_over_time(${restarts}[5m])), "color", "$1", "pod", ` +
        `"web-(blue|green)-[a-z0-9]+-[a-z0-9]+") > 3`,
    );
  });

  it('alerts on the database pool only when its metrics are given', () => {
    expect(Object.keys(appAlerts(renderMonitoring().manifests))).not.toContain('AppDatabasePoolSaturated');
    const rule = appAlerts(
      renderMonitoring({ databasePool: { inUse: 'hikaricp_connections_active', max: 'hikaricp_connections_max' } }).manifests,
    ).AppDatabasePoolSaturated;
    expect(rule.expr).toBe(
      'sum by (namespace, service, color, pod) (hikaricp_connections_active{namespace="web-prod",service=~"web|web-preview"}) / ' +
        'sum by (namespace, service, color, pod) (hikaricp_connections_max{namespace="web-prod",service=~"web|web-preview"}) > 0.8',
    );
    expect(appAlerts(renderMonitoring({ databasePool: { inUse: 'a', max: 'b', threshold: 0.9 } }).manifests).AppDatabasePoolSaturated.expr).toMatch(
      / > 0\.9$/,
    );
  });

  it('leaves out the namespace matcher and label outside a namespace', () => {
    const rule = appAlerts(renderMonitoring({}, {}, null).manifests).AppUnresponsive;
    expect(rule.expr).toBe('absent(up{service="web"} == 1)');
    expect(rule.labels).toEqual({ severity: 'critical', service: 'web' });
  });
});

describe('MonitoringStack SLOs', () => {
  it("records the live Service's error ratios and alerts on their burn rate, 99.9% and 99% within 0.5 s by default", () => {
    const slo = groups(renderMonitoring().manifests)[1];
    expect(slo.name).toBe('web.slo');
    expect(slo.rules.filter((r) => r.record !== undefined)).toHaveLength(10);
    expect(slo.rules.filter((r) => r.alert !== undefined).map((r) => r.alert)).toEqual([
      'AvailabilityBudgetBurnFast',
      'AvailabilityBudgetBurnSlow',
      'LatencyBudgetBurnFast',
      'LatencyBudgetBurnSlow',
    ]);
    expect(slo.rules[0]).toMatchObject({ labels: { slo: 'web-availability', namespace: 'web-prod' } });
    expect(slo.rules[0].expr).toContain('http_requests_total{namespace="web-prod",service="web",code=~"5.."}[5m]');
    expect(slo.rules.find((r) => r.alert === 'AvailabilityBudgetBurnFast')?.expr).toContain('(14.4 * (1 - 0.999))');
    expect(slo.rules.find((r) => r.alert === 'LatencyBudgetBurnFast')?.expr).toContain('(14.4 * (1 - 0.99))');
    expect(slo.rules[5].expr).toContain('le=~"0\\\\.5"');
  });

  it('keeps the default of a latency objective field left out', () => {
    const slo = groups(renderMonitoring({ latencyObjective: { thresholdSeconds: 0.25 } }).manifests)[1];
    expect(slo.rules.find((r) => r.alert === 'LatencyBudgetBurnSlow')?.expr).toContain('(1 * (1 - 0.99))');
    expect(slo.rules[5].expr).toContain('le=~"0\\\\.25"');
  });

  it('takes the objectives from props', () => {
    const slo = groups(
      renderMonitoring({ availabilityObjective: 0.9995, latencyObjective: { thresholdSeconds: 0.25, objective: 0.95 } }).manifests,
    )[1];
    expect(slo.rules.find((r) => r.alert === 'AvailabilityBudgetBurnSlow')?.expr).toContain('(1 * (1 - 0.9995))');
    expect(slo.rules.find((r) => r.alert === 'LatencyBudgetBurnSlow')?.expr).toContain('(1 * (1 - 0.95))');
    expect(slo.rules[5].expr).toContain('le=~"0\\\\.25"');
  });
});

describe('runbook', () => {
  const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
  const alerts = everyAlert();

  it('every alert of every construct links to a section of docs/runbook.md that exists', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(40);
    expect(alerts.filter((rule) => rule.annotations?.runbook_url === undefined).map((rule) => rule.alert)).toEqual([]);
    expect(brokenRunbookLinks([...new Set(alerts.map((rule) => rule.annotations?.runbook_url ?? ''))], runbook)).toEqual([]);
  });

  it('has a section for every alert and none for an alert that does not exist', () => {
    const sections = [...runbook.matchAll(/^### (\S+)$/gm)].map((match) => match[1]).sort();
    expect(sections).toEqual([...new Set(alerts.map((rule) => rule.alert as string))].sort());
  });

  it('reports a link whose anchor is not a heading, or that points at another file', () => {
    const links = [
      'docs/runbook.md#apphigherrorrate',
      'https://git.example.com/acme/cutover/blob/main/docs/runbook.md#redisnomaster',
      'docs/runbook.md#nosuchalert',
      'docs/other.md#apphigherrorrate',
      'docs/runbook.md',
    ];
    expect(brokenRunbookLinks(links, runbook)).toEqual(['docs/runbook.md#nosuchalert', 'docs/other.md#apphigherrorrate', 'docs/runbook.md']);
  });

  it('derives anchors the way GitHub does', () => {
    expect(githubAnchors('# Run book: Release & Cutover\n```sh\n# not a heading\n```\n## A_b-c (d)\n## A_b-c (d)\n')).toEqual([
      'run-book-release--cutover',
      'a_b-c-d',
      'a_b-c-d-1',
    ]);
  });
});

describe('MonitoringStack dashboard', () => {
  it('is a ConfigMap for the Grafana sidecar with a stable uid', () => {
    const { manifests } = renderMonitoring();
    const configMap = find(manifests, 'ConfigMap', 'web-dashboard');
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/name': 'web' });
    expect(dashboardModel(manifests)).toMatchObject({ uid: 'web-prod-web', title: 'web (web-prod)' });
    expect(dashboardModel(renderMonitoring({}, {}, null).manifests).uid).toBe('web');
    expect(dashboardModel(renderMonitoring({ dashboard: { uid: 'shop-web' } }).manifests).uid).toBe('shop-web');
  });

  it('shows the live color, request rate, error ratio, p95/p99 latency and saturation, per color', () => {
    const model = dashboardModel(renderMonitoring().manifests);
    expect(model.panels.map((p) => p.title)).toEqual([
      'Live color',
      'Pods answering',
      'Request rate',
      'Error ratio',
      'Latency p95 / p99',
      'Saturation: CPU and memory of the busiest pod',
    ]);
    for (const panel of model.panels.slice(2)) {
      for (const target of panel.targets) {
        expect(target.expr, panel.title).toMatch(/by \(color(, le)?\)/);
        expect(target.legendFormat, panel.title).toMatch(/^\{\{color\}\}/);
      }
    }
    expect(model.panels[4].targets.map((t) => t.expr.slice(0, 24))).toEqual(['histogram_quantile(0.95,', 'histogram_quantile(0.99,']);
  });

  it('tells the live color by the Service its targets are behind, not by configuration', () => {
    const live = dashboardModel(renderMonitoring().manifests).panels[0];
    expect(live.targets[0].expr).toBe('count by (color) (up{namespace="web-prod",service="web"})');
    expect(live.options).toMatchObject({ textMode: 'name' });
  });

  it('paints blue series blue and green series green', () => {
    const panel = dashboardModel(renderMonitoring().manifests).panels[2];
    expect(panel.fieldConfig.overrides.map((o) => [o.matcher.options, o.properties[0].value.fixedColor])).toEqual([
      ['^blue', 'blue'],
      ['^green', 'green'],
    ]);
  });

  it('uses the configured sidecar labels', () => {
    const configMap = find(
      renderMonitoring({ dashboard: { sidecarLabels: { grafana_dashboard: 'cutover' } } }).manifests,
      'ConfigMap',
      'web-dashboard',
    );
    expect(labelsOf(configMap).grafana_dashboard).toBe('cutover');
  });
});

describe('MonitoringStack validation', () => {
  it('reports every independent problem at once', () => {
    expect(() => renderMonitoring({ errorRateThreshold: 2, p95LatencySeconds: 0, scrapeInterval: 'often' })).toThrow(
      expect.objectContaining({
        problems: [
          'scrapeInterval: must be a whole number of seconds or minutes, got "often"; e.g. "30s"',
          expect.stringMatching(/^errorRateThreshold: /),
          'p95LatencySeconds: must be a positive number of seconds, got 0; e.g. 0.5',
        ],
      }),
    );
  });

  const cases: Array<[string, Partial<MonitoringStackProps>, string]> = [
    [
      'an error rate threshold in percent',
      { errorRateThreshold: 5 },
      'errorRateThreshold: must be a ratio between 0 and 1 (exclusive), got 5; e.g. 0.05 for 5%',
    ],
    [
      'an error rate threshold of 0',
      { errorRateThreshold: 0 },
      'errorRateThreshold: must be a ratio between 0 and 1 (exclusive), got 0; e.g. 0.05 for 5%',
    ],
    [
      'a saturation threshold of 1',
      { saturationThreshold: 1 },
      'saturationThreshold: must be a ratio between 0 and 1 (exclusive), got 1; e.g. 0.9 for 90%',
    ],
    [
      'a pool threshold in percent',
      { databasePool: { inUse: 'a', max: 'b', threshold: 80 } },
      'databasePool.threshold: must be a ratio between 0 and 1 (exclusive), got 80; e.g. 0.8 for 80%',
    ],
    ['a p95 latency of 0', { p95LatencySeconds: 0 }, 'p95LatencySeconds: must be a positive number of seconds, got 0; e.g. 0.5'],
    [
      'a scrape interval without unit',
      { scrapeInterval: '30' },
      'scrapeInterval: must be a whole number of seconds or minutes, got "30"; e.g. "30s"',
    ],
    [
      'monitoring labels that replace its own',
      { monitoringLabels: { 'app.kubernetes.io/managed-by': 'helm' } },
      'monitoringLabels: "app.kubernetes.io/managed-by" is set by the construct itself, got {"app.kubernetes.io/managed-by":"helm"}; choose ' +
        'another key, e.g. { release: "kube-prometheus-stack" }',
    ],
    [
      'a runbook URL with spaces',
      { runbookBaseUrl: 'docs/run book.md' },
      'runbookBaseUrl: must be a URL or repository path without "#" or spaces, got "docs/run book.md"; e.g. "docs/runbook.md" or ' +
        '"https://git.example.com/acme/cutover/blob/main/docs/runbook.md"',
    ],
    [
      'an availability objective in percent',
      { availabilityObjective: 99.9 },
      'availabilityObjective: must be a ratio between 0 and 1 (exclusive), got 99.9; write 99.9% as 0.999',
    ],
    [
      'a latency objective whose page could never fire',
      { latencyObjective: { thresholdSeconds: 0.5, objective: 0.9 } },
      'latencyObjective.objective: the 14.4× burn-rate page could never fire with an error budget of 10%, got 0.9; use an objective above 0.9306, ' +
        'e.g. 0.99',
    ],
    [
      'a negative latency threshold',
      { latencyObjective: { thresholdSeconds: -300, objective: 0.99 } },
      'latencyObjective.thresholdSeconds: must be a positive number of seconds, got -300; use a bucket boundary of the duration histogram, e.g. 0.5',
    ],
    [
      'a pool metric that is not a metric name',
      { databasePool: { inUse: 'pool in use', max: 'pool_max' } },
      'databasePool.inUse: is not a Prometheus metric name, got "pool in use"; e.g. "db_client_connections_usage"',
    ],
    [
      'a metric name with a dot',
      { metrics: { requestsTotal: 'http.requests' } },
      'metrics.requestsTotal: is not a Prometheus metric name, got "http.requests"; e.g. "http_requests_total"',
    ],
  ];

  it.each(cases)('rejects %s', (_, overrides, message) => {
    expect(() => renderMonitoring(overrides)).toThrow(message);
  });

  it('rejects an app name that is not a DNS label', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-prod' });
    expect(
      () => new MonitoringStack(chart, 'monitoring', { app: { name: 'Web', liveService: { name: 'Web' }, previewService: { name: 'Web-preview' } } }),
    ).toThrow('app.name: must be a lowercase DNS label of at most 50 characters starting with a letter, got "Web"; e.g. "web"');
  });

  it('asks for a dashboard uid when the default would be longer than Grafana allows', () => {
    const namespace = 'a-very-long-namespace-name-for-the-web-service';
    expect(() => renderMonitoring({}, {}, namespace)).toThrow(
      `dashboard.uid: the default "<namespace>-<app>" exceeds the 40 characters Grafana allows, got "${namespace}-web"; set dashboard.uid, e.g. ` +
        `"web-prod"`,
    );
    expect(() => renderMonitoring({ dashboard: { uid: 'long-ns-web' } }, {}, namespace)).not.toThrow();
  });
});
