// amtool on the Alertmanager configuration the Prometheus Operator would generate from each stack's
// AlertmanagerConfig (test/tools/alertmanager.ts): `check-config` (receivers, routes, matchers and inhibit rules
// load) and `config routes test` (the receiver an alert of each severity reaches); then the same configuration in
// a real Alertmanager on loopback, for what amtool cannot show: which alerts the inhibit rule mutes.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AlertRule, Manifest, PrometheusRuleGroup, renderChart } from '../../lib';
import { parseStackConfig } from '../../stacks/config';
import { buildPlatform } from '../../stacks/platform';
import { readStackFile } from '../../stacks/stack-file';
import { AlertmanagerConfigManifest, AlertmanagerFile, DEFAULT_BASE, operatorConfig } from './alertmanager';
import { ROOT, runTool } from './tools';

const WORK = mkdtempSync(join(tmpdir(), 'alert-routing-tools-'));
afterAll(() => rmSync(WORK, { recursive: true, force: true }));

/** Stand-ins for the Secrets' values: the real ones never leave the cluster. Loopback only, should anything send. */
function placeholderSecrets(namespace: string): Record<string, string> {
  return {
    [`${namespace}/alertmanager-pagerduty/routingKey`]: 'placeholder-routing-key',
    [`${namespace}/alertmanager-slack/webhookURL`]: 'http://127.0.0.1:9/placeholder-webhook',
  };
}

/** An alert rule and the PrometheusRule it is in. */
interface RenderedAlert {
  readonly ruleFile: string;
  readonly rule: AlertRule;
}

interface StackRouting {
  readonly namespace: string;
  readonly configs: AlertmanagerConfigManifest[];
  readonly alerts: RenderedAlert[];
}

function stackRouting(stack: string): StackRouting {
  const config = parseStackConfig(readStackFile(ROOT, stack), stack);
  const manifests = renderChart(buildPlatform(config).chart).map((r) => r.manifest);
  return {
    namespace: config.namespace,
    configs: manifests.filter((m): m is AlertmanagerConfigManifest => m.kind === 'AlertmanagerConfig'),
    alerts: manifests
      .filter((m): m is Manifest & { spec: { groups: PrometheusRuleGroup[] } } => m.kind === 'PrometheusRule')
      .flatMap((m) =>
        m.spec.groups.flatMap((group) =>
          group.rules.filter((rule): rule is AlertRule => 'alert' in rule).map((rule) => ({ ruleFile: m.metadata.name, rule })),
        ),
      ),
  };
}

function write(name: string, config: AlertmanagerFile): string {
  const path = join(WORK, name);
  writeFileSync(path, stringify(config, { aliasDuplicateObjects: false, lineWidth: 0 }));
  return path;
}

/** The receivers amtool routes an alert with these labels to, in routing-tree order. */
function routesTo(file: string, labels: Readonly<Record<string, string>>): string[] {
  const result = runTool('amtool', [
    'config',
    'routes',
    'test',
    `--config.file=${file}`,
    ...Object.entries(labels).map(([name, value]) => `${name}=${value}`),
  ]);
  // amtool 0.25 warns that a configuration file is read instead of a running Alertmanager, though none is given.
  expect(result.stderr.replace('Warning: --config.file flag overrides the --alertmanager.url.\n', '')).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.trim().split(',');
}

const prod = stackRouting('prod');
const staging = stackRouting('staging');
const prodFile = write('prod.yml', operatorConfig(prod.configs, { secrets: placeholderSecrets(prod.namespace) }));
const stagingFile = write('staging.yml', operatorConfig(staging.configs, { secrets: placeholderSecrets(staging.namespace) }));

describe('amtool check-config', () => {
  it('finds one AlertmanagerConfig per stack', () => {
    expect([prod, staging].map((each) => each.configs.map((m) => `${m.metadata.namespace}/${m.metadata.name}`))).toEqual([
      ['web-prod/web-alert-routing'],
      ['web-staging/web-alert-routing'],
    ]);
  });

  // Receivers: the base configuration's "null", then the AlertmanagerConfig's (pager, chat, null; staging has no pager).
  it.each([
    ['prod', prodFile, 4],
    ['staging', stagingFile, 3],
  ])('accepts the Alertmanager configuration of %s', (_, file, receivers) => {
    const result = runTool('amtool', ['check-config', file]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
    expect(result.stdout).toContain(' - 1 inhibit rules');
    expect(result.stdout).toContain(` - ${receivers} receivers`);
  });

  it('rejects a PagerDuty receiver whose routing key is empty (the control: the check reads the receivers)', () => {
    const secrets = { ...placeholderSecrets(prod.namespace), [`${prod.namespace}/alertmanager-pagerduty/routingKey`]: '' };
    const result = runTool('amtool', ['check-config', write('prod-broken.yml', operatorConfig(prod.configs, { secrets }))]);
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('missing service or routing key in PagerDuty config');
  });
});

describe('amtool config routes test', () => {
  const alert = (namespace: string, severity: string): Record<string, string> => ({
    alertname: 'AppHighErrorRate',
    namespace,
    service: 'web',
    severity,
  });

  it.each([
    ['critical', 'pager'],
    ['high', 'chat'],
    ['warning', 'chat'],
    ['low', 'null'],
    ['info', 'null'],
    ['unexpected', 'chat'],
  ])('prod: a %s alert reaches %s', (severity, receiver) => {
    expect(routesTo(prodFile, alert('web-prod', severity))).toEqual([`web-prod/web-alert-routing/${receiver}`]);
  });

  it.each([
    ['critical', 'chat'],
    ['warning', 'chat'],
    ['info', 'null'],
  ])('staging: a %s alert reaches %s (staging pages no one)', (severity, receiver) => {
    expect(routesTo(stagingFile, alert('web-staging', severity))).toEqual([`web-staging/web-alert-routing/${receiver}`]);
  });

  it("leaves an alert of another namespace to the Alertmanager's own route", () => {
    expect(routesTo(prodFile, alert('web-staging', 'critical'))).toEqual(['null']);
  });

  it('pages every critical alert the prod rules can fire and posts every other one to chat', () => {
    expect([...new Set(prod.alerts.map(({ rule }) => rule.labels.severity))].sort()).toEqual(['critical', 'warning']);
    expect([...new Set(prod.alerts.map(({ ruleFile }) => ruleFile))].sort()).toEqual(['web-alerts', 'web-cache-alerts', 'web-db-alerts']);
    // The labels an alert reaches the Alertmanager with: its rule's own, plus the namespace that the app's expressions
    // keep (`by (namespace, ...)`, as the promtool cases show). The data tier's aggregate it away: their rules must
    // carry it themselves, or the namespace-confined route would never see them.
    const labelsOf = ({ ruleFile, rule }: RenderedAlert): Record<string, string> => ({
      alertname: rule.alert,
      ...(ruleFile === 'web-alerts' ? { namespace: 'web-prod' } : {}),
      ...rule.labels,
    });
    const reached = prod.alerts.map((alert) => [alert.rule.alert, routesTo(prodFile, labelsOf(alert))]);
    expect(reached).toEqual(
      prod.alerts.map(({ rule }) => [rule.alert, [`web-prod/web-alert-routing/${rule.labels.severity === 'critical' ? 'pager' : 'chat'}`]]),
    );
  });
});

/** A port on loopback that nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` every 200 ms until it returns a value, for at most `seconds`. */
async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${seconds} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface AlertStatus {
  readonly labels: Record<string, string>;
  readonly status: { readonly state: string; readonly inhibitedBy: readonly string[] };
}

describe('inhibition in a live Alertmanager on loopback', () => {
  let alertmanager: ChildProcess | undefined;
  let url = '';
  let log = '';
  const alerts = [
    { alertname: 'AppHighErrorRate', severity: 'critical', namespace: 'web-prod', service: 'web' },
    { alertname: 'AppHighLatency', severity: 'warning', namespace: 'web-prod', service: 'web' },
    { alertname: 'AppPreviewHighErrorRate', severity: 'warning', namespace: 'web-prod', service: 'web-preview' },
    { alertname: 'AppHighLatency', severity: 'warning', namespace: 'web-staging', service: 'web' },
  ];
  let statuses: AlertStatus[] = [];
  const stateOf = (alertname: string, namespace: string, service: string): string | undefined =>
    statuses.find((a) => a.labels.alertname === alertname && a.labels.namespace === namespace && a.labels.service === service)?.status.state;

  beforeAll(async () => {
    // Every notification it might attempt stays on loopback: PagerDuty's URL is the base configuration's to set.
    const base = { ...DEFAULT_BASE, global: { pagerduty_url: 'http://127.0.0.1:9/' } };
    const file = write('live.yml', operatorConfig(prod.configs, { base, secrets: placeholderSecrets(prod.namespace) }));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // An empty cluster address: a single instance that gossips with no one and opens no other port.
    const args = [
      `--config.file=${file}`,
      `--storage.path=${join(WORK, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ];
    alertmanager = spawn('prometheus-alertmanager', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    alertmanager.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      alertmanager?.once('spawn', () => resolve(undefined));
      alertmanager?.once('error', resolve);
    });
    if (spawned !== undefined) {
      throw new Error(`prometheus-alertmanager: could not start (${spawned.message}): run \`npm run test:tools\`, which installs it`);
    }
    await eventually(`Alertmanager ready at ${url} (log: ${log})`, 30, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined));
    const response = await fetch(`${url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: 'test' } }))),
    });
    expect(response.status).toBe(200);
    // The inhibitor learns of the critical alert asynchronously: wait until it mutes something, or time out.
    statuses = await eventually('an inhibited alert', 30, async () => {
      const all = (await (await fetch(`${url}/api/v2/alerts`)).json()) as AlertStatus[];
      return all.length === alerts.length && all.some((a) => a.status.inhibitedBy.length > 0) ? all : undefined;
    });
  });

  afterAll(async () => {
    // On SIGTERM it writes its state to its storage path: wait for it to exit before the directory is removed.
    const running = alertmanager;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
  });

  it('mutes a warning of the service whose critical alert fires', () => {
    expect(stateOf('AppHighLatency', 'web-prod', 'web')).toBe('suppressed');
  });

  it('keeps the critical alert itself active', () => {
    expect(stateOf('AppHighErrorRate', 'web-prod', 'web')).toBe('active');
  });

  it('keeps a warning of another service active (the preview Service is not the live one)', () => {
    expect(stateOf('AppPreviewHighErrorRate', 'web-prod', 'web-preview')).toBe('active');
  });

  it('keeps a warning of the same service in another namespace active', () => {
    expect(stateOf('AppHighLatency', 'web-staging', 'web')).toBe('active');
  });
});
