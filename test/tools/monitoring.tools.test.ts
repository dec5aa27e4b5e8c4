// promtool on every rule file the stacks render: `check rules` (PromQL syntax, templates, duplicates) and
// `test rules` (alerts that fire on synthetic series, and that stay silent).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { App, Chart } from 'cdk8s';
import { AlertRule, BlueGreenApp, Manifest, MonitoringStack, MonitoringStackProps, PrometheusRuleGroup, RecordingRule, renderChart } from '../../lib';
import { readStackFile } from '../../stacks/stack-file';
import { BASE_PROPS } from '../helpers';
import { ROOT, runTool } from './tools';
import { synthesize } from '../../stacks/synthesize';

const WORK = mkdtempSync(join(tmpdir(), 'monitoring-tools-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

/** Every optional rule on: the database pool alert is only rendered with its metrics. */
const MONITORING: Omit<MonitoringStackProps, 'app'> = {
  monitoringLabels: { release: 'kube-prometheus-stack' },
  databasePool: { inUse: 'db_client_connections_usage', max: 'db_client_connections_max' },
};

interface RuleFile {
  readonly name: string;
  readonly groups: readonly PrometheusRuleGroup[];
}

function ruleFiles(chart: Chart, prefix: string): RuleFile[] {
  return renderChart(chart)
    .map((r) => r.manifest)
    .filter((m): m is Manifest & { spec: { groups: PrometheusRuleGroup[] } } => m.kind === 'PrometheusRule')
    .map((m) => ({ name: `${prefix}-${m.metadata.name}`, groups: m.spec.groups }));
}

/** Every PrometheusRule of a stack, with the app's MonitoringStack added unless the stack already composes one. */
function stackRuleFiles(stack: string): RuleFile[] {
  const platform = synthesize(readStackFile(ROOT, stack), stack).platform;
  if (!platform.chart.node.findAll().some((construct) => construct instanceof MonitoringStack)) {
    new MonitoringStack(platform.chart, 'monitoring', { app: platform.web, ...MONITORING });
  }
  return ruleFiles(platform.chart, stack);
}

/** A MonitoringStack with fixed thresholds (5% errors, 99.9% availability, 99% within 0.5 s) in `web-prod`. */
function appRuleFiles(props: Omit<MonitoringStackProps, 'app'>): RuleFile[] {
  const chart = new Chart(new App(), 'rules', { namespace: 'web-prod' });
  const web = new BlueGreenApp(chart, 'app', BASE_PROPS);
  new MonitoringStack(chart, 'monitoring', { app: web, ...props });
  return ruleFiles(chart, 'app');
}

function write(name: string, document: unknown): string {
  const path = join(WORK, name);
  writeFileSync(path, stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 }));
  return path;
}

function ruleCount(file: RuleFile): number {
  return file.groups.reduce((sum, group) => sum + group.rules.length, 0);
}

describe('promtool check rules', () => {
  const files = [...['prod', 'staging'].flatMap(stackRuleFiles), ...appRuleFiles(MONITORING)];

  it('finds the app, database and cache rules of both stacks', () => {
    expect(files.map((f) => f.name).sort()).toEqual([
      'app-web-alerts',
      'prod-web-alerts',
      'prod-web-cache-alerts',
      'prod-web-db-alerts',
      'staging-web-alerts',
      'staging-web-cache-alerts',
      'staging-web-db-alerts',
    ]);
  });

  it.each(files.map((file) => [file.name, file] as const))('accepts %s', (name, file) => {
    const result = runTool('promtool', ['check', 'rules', write(`${name}.yaml`, { groups: file.groups })]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`SUCCESS: ${ruleCount(file)} rules found`);
    expect(result.status).toBe(0);
  });

  it('rejects a rule file with invalid PromQL or a broken template, so the checks above can fail', () => {
    const broken = write('broken.yaml', {
      groups: [
        { name: 'broken', rules: [{ alert: 'Broken', expr: 'sum(rate(http_requests_total[5m])', for: '5m', labels: { severity: 'warning' } }] },
        { name: 'template', rules: [{ alert: 'Template', expr: 'up == 0', annotations: { summary: '{{ $labels.pod ' } }] },
      ],
    });
    const result = runTool('promtool', ['check', 'rules', broken]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/unclosed left parenthesis|unexpected end of input/);
    expect(result.stderr).toContain('template');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// promtool test rules
// ---------------------------------------------------------------------------------------------------------------

/**
 * The app's rules with the default thresholds, for unit tests. Annotations are left out: promtool compares them
 * verbatim once expanded, and `check rules` above already validates their templates; the expressions, `for` and
 * labels under test are exactly the rendered ones.
 */
function appRuleFile(): string {
  const [rules] = appRuleFiles({
    errorRateThreshold: 0.05,
    availabilityObjective: 0.999,
    latencyObjective: { thresholdSeconds: 0.5, objective: 0.99 },
  });
  const groups = rules.groups.map((group) => ({
    name: group.name,
    rules: group.rules.map((rule): Omit<AlertRule, 'annotations'> | RecordingRule =>
      'alert' in rule ? { alert: rule.alert, expr: rule.expr, for: rule.for, labels: rule.labels } : rule,
    ),
  }));
  return write('web-alerts.yaml', { groups });
}

const RULE_FILE = appRuleFile();

interface SeriesInput {
  readonly series: string;
  readonly values: string;
}

interface AlertExpectation {
  readonly eval_time: string;
  readonly alertname: string;
  /** Labels of each firing alert; empty when the alert must stay silent. */
  readonly exp_alerts: readonly { readonly exp_labels: Readonly<Record<string, string>> }[];
}

let testFiles = 0;

/** Runs one `promtool test rules` case against the rendered rules; input samples are 1 minute apart. */
function promtoolTest(
  input: readonly SeriesInput[],
  alerts: readonly AlertExpectation[],
  evaluationInterval = '1m',
): { status: number; output: string } {
  testFiles += 1;
  const file = write(`test-${testFiles}.yaml`, {
    rule_files: [RULE_FILE],
    evaluation_interval: evaluationInterval,
    tests: [{ interval: '1m', input_series: input, alert_rule_test: alerts }],
  });
  const result = runTool('promtool', ['test', 'rules', file]);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function expectPass(input: readonly SeriesInput[], alerts: readonly AlertExpectation[], evaluationInterval?: string): void {
  const result = promtoolTest(input, alerts, evaluationInterval);
  expect(result.output).toContain('SUCCESS');
  expect(result.status).toBe(0);
}

const LIVE = 'namespace="web-prod",service="web"';
const PREVIEW = 'namespace="web-prod",service="web-preview"';
/** Counter series of requests of `color` behind a Service, `ok` and `failed` per minute. */
const requests = (service: string, color: string, ok: number, failed: number, minutes: number): SeriesInput[] => [
  { series: `http_requests_total{${service},color="${color}",code="200"}`, values: `0+${ok}x${minutes}` },
  { series: `http_requests_total{${service},color="${color}",code="500"}`, values: `0+${failed}x${minutes}` },
];
const fires = (eval_time: string, alertname: string, ...labels: Record<string, string>[]): AlertExpectation => ({
  eval_time,
  alertname,
  exp_alerts: labels.map((exp_labels) => ({ exp_labels })),
});
const silent = (eval_time: string, alertname: string): AlertExpectation => ({ eval_time, alertname, exp_alerts: [] });

describe('promtool test rules: app error rate', () => {
  it("pages when 6% of the live color's requests fail for 5 minutes", () => {
    expectPass(requests(LIVE, 'blue', 94, 6, 20), [
      silent('4m', 'AppHighErrorRate'),
      fires('15m', 'AppHighErrorRate', { severity: 'critical', namespace: 'web-prod', service: 'web', color: 'blue' }),
      silent('15m', 'AppPreviewHighErrorRate'),
    ]);
  });

  it('stays silent at 4% errors', () => {
    expectPass(requests(LIVE, 'blue', 96, 4, 20), [silent('15m', 'AppHighErrorRate'), silent('15m', 'AppPreviewHighErrorRate')]);
  });

  it('only warns when the failing color is the idle one behind the preview Service', () => {
    expectPass(
      [...requests(LIVE, 'blue', 100, 0, 20), ...requests(PREVIEW, 'green', 5, 5, 20)],
      [
        silent('15m', 'AppHighErrorRate'),
        fires('15m', 'AppPreviewHighErrorRate', { severity: 'warning', namespace: 'web-prod', service: 'web-preview', color: 'green' }),
      ],
    );
  });

  it('fails a case that expects an alert the rules do not fire, or silence where they fire, so the cases above can fail', () => {
    const result = promtoolTest(requests(LIVE, 'blue', 96, 4, 20), [
      fires('15m', 'AppHighErrorRate', { severity: 'critical', namespace: 'web-prod', service: 'web', color: 'blue' }),
    ]);
    expect(result.status).toBe(1);
    expect(result.output).toContain('alertname: AppHighErrorRate');
    const unexpected = promtoolTest(requests(LIVE, 'blue', 94, 6, 20), [silent('15m', 'AppHighErrorRate')]);
    expect(unexpected.status).toBe(1);
    expect(unexpected.output).toContain('color="blue"');
  });
});

describe('promtool test rules: API unresponsive', () => {
  const up = (values: string): SeriesInput => ({ series: `up{${LIVE},color="blue",pod="web-blue-7d9f8c6b5-abcde"}`, values });

  it('pages when no live pod has answered for 2 minutes', () => {
    expectPass(
      [up('1 1 1 0 0 0 0 0 0 0')],
      [silent('3m', 'AppUnresponsive'), fires('8m', 'AppUnresponsive', { severity: 'critical', namespace: 'web-prod', service: 'web' })],
    );
  });

  it('pages when the live Service has no target at all', () => {
    expectPass(
      [{ series: `up{${PREVIEW},color="green",pod="web-green-5c8d7f9b4-fghij"}`, values: '1x10' }],
      [fires('5m', 'AppUnresponsive', { severity: 'critical', namespace: 'web-prod', service: 'web' })],
    );
  });

  it('stays silent while one live pod answers', () => {
    expectPass(
      [up('1x10'), { series: `up{${LIVE},color="blue",pod="web-blue-7d9f8c6b5-klmno"}`, values: '0x10' }],
      [silent('8m', 'AppUnresponsive')],
    );
  });
});

describe('promtool test rules: pod restarts', () => {
  const restarts = (pod: string, values: string): SeriesInput => ({
    series: `kube_pod_container_status_restarts_total{namespace="web-prod",pod="${pod}",container="app"}`,
    values,
  });
  const POD = 'web-blue-7d9f8c6b5-abcde';

  it('alerts when a pod restarts 4 times within 5 minutes, naming its color', () => {
    expectPass(
      [restarts(POD, '0 0 0 1 2 3 4 4 4 4 4 4 4 4')],
      [
        silent('5m', 'AppPodRestarting'),
        fires('6m', 'AppPodRestarting', { severity: 'warning', namespace: 'web-prod', pod: POD, color: 'blue' }),
        silent('12m', 'AppPodRestarting'),
      ],
    );
  });

  it('stays silent at 3 restarts in 5 minutes, and at 4 restarts spread over 8 minutes', () => {
    expectPass(
      [restarts(POD, '0 0 1 2 3 3 3 3 3 3'), restarts('web-green-5c8d7f9b4-fghij', '0 0 1 1 2 2 3 3 4 4 4 4')],
      [silent('4m', 'AppPodRestarting'), silent('6m', 'AppPodRestarting'), silent('8m', 'AppPodRestarting'), silent('10m', 'AppPodRestarting')],
    );
  });

  it('stays silent at exactly 3 restarts when the window falls between scrapes, where increase() would extrapolate to 3.75', () => {
    expectPass([restarts(POD, '1 1 2 3 4 4 4 4 4')], [silent('5m30s', 'AppPodRestarting')], '30s');
  });

  it('ignores pods of other workloads in the namespace', () => {
    expectPass([restarts('web-cache-0', '0 1 2 3 4 5 6 7'), restarts('web-db-1', '0 1 2 3 4 5 6 7')], [silent('6m', 'AppPodRestarting')]);
  });
});

describe('promtool test rules: availability SLO (99.9%)', () => {
  const availability = { slo: 'web-availability', namespace: 'web-prod' };

  it('pages and opens a ticket when 2% of requests fail (14.4x burn over 1h and 5m)', () => {
    expectPass(requests(LIVE, 'blue', 980, 20, 60), [
      fires('30m', 'AvailabilityBudgetBurnFast', { severity: 'critical', ...availability }),
      fires('30m', 'AvailabilityBudgetBurnSlow', { severity: 'warning', ...availability }),
    ]);
  });

  it('opens only a ticket when 0.4% of requests fail (below 6x, above 1x)', () => {
    expectPass(requests(LIVE, 'blue', 996, 4, 150), [
      silent('2h', 'AvailabilityBudgetBurnFast'),
      fires('2h', 'AvailabilityBudgetBurnSlow', { severity: 'warning', ...availability }),
    ]);
  });

  it('stays silent when 0.05% of requests fail (within the budget)', () => {
    expectPass(requests(LIVE, 'blue', 1999, 1, 300), [silent('4h', 'AvailabilityBudgetBurnFast'), silent('4h', 'AvailabilityBudgetBurnSlow')]);
  });

  it('stops paging once the short windows recover, although the 6h window still shows the burn', () => {
    expectPass(
      [
        { series: `http_requests_total{${LIVE},color="blue",code="200"}`, values: '0+980x120' },
        { series: `http_requests_total{${LIVE},color="blue",code="500"}`, values: '0+20x60 1200+0x59' },
      ],
      [fires('50m', 'AvailabilityBudgetBurnFast', { severity: 'critical', ...availability }), silent('100m', 'AvailabilityBudgetBurnFast')],
    );
  });

  it("does not count the preview Service's errors against the budget", () => {
    expectPass(
      [...requests(LIVE, 'blue', 1000, 0, 60), ...requests(PREVIEW, 'green', 10, 10, 60)],
      [silent('30m', 'AvailabilityBudgetBurnFast'), silent('30m', 'AvailabilityBudgetBurnSlow')],
    );
  });
});

describe('promtool test rules: latency SLO (99% within 0.5 s)', () => {
  const latency = (fast: number, total: number, minutes: number): SeriesInput[] => [
    { series: `http_request_duration_seconds_bucket{${LIVE},color="blue",le="0.5"}`, values: `0+${fast}x${minutes}` },
    { series: `http_request_duration_seconds_bucket{${LIVE},color="blue",le="+Inf"}`, values: `0+${total}x${minutes}` },
    { series: `http_request_duration_seconds_count{${LIVE},color="blue"}`, values: `0+${total}x${minutes}` },
  ];

  it('pages when 20% of requests take longer than 0.5 s', () => {
    expectPass(latency(800, 1000, 60), [fires('30m', 'LatencyBudgetBurnFast', { severity: 'critical', slo: 'web-latency', namespace: 'web-prod' })]);
  });

  it('stays silent when 0.5% of requests take longer than 0.5 s', () => {
    expectPass(latency(995, 1000, 300), [silent('4h', 'LatencyBudgetBurnFast'), silent('4h', 'LatencyBudgetBurnSlow')]);
  });
});
