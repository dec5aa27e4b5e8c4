import { App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { ALERT_PRIORITIES, AlertReceiver, AlertRouting, AlertRoutingProps, Manifest, renderChart } from '../../lib';
import { AlertmanagerConfigSpec, AlertmanagerMatcher, AlertmanagerRoute } from '../alertmanager-manifest';

const PAGER = AlertReceiver.pagerDuty({ routingKey: { name: 'alertmanager-pagerduty', key: 'routingKey' } });
const CHAT = AlertReceiver.slack({ apiUrl: { name: 'alertmanager-slack', key: 'webhookURL' } });
const BOTH: AlertRoutingProps = { pager: PAGER, chat: CHAT };

/** Renders an AlertRouting in a chart of namespace `web-prod`. */
function render(props: AlertRoutingProps = BOTH): { routing: AlertRouting; manifest: Manifest & { spec: AlertmanagerConfigSpec } } {
  const chart = new Chart(new App(), 'test', { namespace: 'web-prod' });
  const routing = new AlertRouting(chart, 'alert-routing', props);
  const manifests = renderChart(chart).map((r) => r.manifest);
  expect(manifests.map((m) => m.kind)).toEqual(['AlertmanagerConfig']);
  return { routing, manifest: manifests[0] as Manifest & { spec: AlertmanagerConfigSpec } };
}

/** Whether an alert with these labels matches the matcher, as the Alertmanager decides (regular expressions anchored). */
function matches(matcher: AlertmanagerMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = labels[matcher.name] ?? '';
  const regex = new RegExp(`^(?:${matcher.value})$`);
  return { '=': value === matcher.value, '!=': value !== matcher.value, '=~': regex.test(value), '!~': !regex.test(value) }[matcher.matchType];
}

/** The receiver the rendered route tree sends an alert with these labels to (first matching child, depth first). */
function routeAlert(route: AlertmanagerRoute, labels: Readonly<Record<string, string>>): string | undefined {
  for (const child of route.routes ?? []) {
    if ((child.matchers ?? []).every((matcher) => matches(matcher, labels))) {
      return routeAlert(child, labels) ?? route.receiver;
    }
  }
  return route.receiver;
}

/** Every string in a rendered object, with its path. */
function strings(value: unknown, path = ''): Array<[string, string]> {
  if (typeof value === 'string') {
    return [[path, value]];
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => strings(child, `${path}/${key}`));
  }
  return [];
}

describe('AlertRouting defaults', () => {
  it('renders one AlertmanagerConfig in the chart namespace', () => {
    const { manifest } = render();
    expect(manifest.apiVersion).toBe('monitoring.coreos.com/v1alpha1');
    expect(manifest.metadata).toMatchObject({ name: 'alert-routing', namespace: 'web-prod' });
  });

  it('is labelled with the monitoring labels the Alertmanager selects it by', () => {
    const { manifest } = render({ ...BOTH, monitoringLabels: { release: 'kube-prometheus-stack' }, name: 'web-alert-routing', partOf: 'web' });
    expect(manifest.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'web-alert-routing',
      'app.kubernetes.io/instance': 'web-alert-routing',
      'app.kubernetes.io/component': 'alert-routing',
      'app.kubernetes.io/part-of': 'web',
      'app.kubernetes.io/managed-by': 'cutover',
      release: 'kube-prometheus-stack',
    });
  });

  it('groups by alert name, namespace and service, waiting 30s and then 5m', () => {
    const { route } = render().manifest.spec;
    expect([route.groupBy, route.groupWait, route.groupInterval]).toEqual([['alertname', 'namespace', 'service'], '30s', '5m']);
  });

  it('has one child route per priority, by the severity label', () => {
    expect(render().manifest.spec.route.routes).toEqual([
      { matchers: [{ name: 'severity', value: 'critical', matchType: '=' }], receiver: 'pager', repeatInterval: '1h' },
      { matchers: [{ name: 'severity', value: 'high', matchType: '=' }], receiver: 'chat', repeatInterval: '4h' },
      { matchers: [{ name: 'severity', value: 'warning', matchType: '=' }], receiver: 'chat', repeatInterval: '4h' },
      { matchers: [{ name: 'severity', value: 'low|info', matchType: '=~' }], receiver: 'null' },
    ]);
  });

  it.each([
    ['critical', 'pager'],
    ['high', 'chat'],
    ['warning', 'chat'],
    ['low', 'null'],
    ['info', 'null'],
  ])('routes a %s alert to %s', (severity, receiver) => {
    const { routing, manifest } = render();
    expect(routeAlert(manifest.spec.route, { severity, namespace: 'web-prod', service: 'web' })).toBe(receiver);
    expect(routing.receiverFor(severity)).toBe(receiver);
  });

  it('sends an alert of a severity outside the table, or of none, to chat rather than dropping or paging it', () => {
    const { routing, manifest } = render();
    expect([routeAlert(manifest.spec.route, { severity: 'page-me' }), routeAlert(manifest.spec.route, {})]).toEqual(['chat', 'chat']);
    expect(manifest.spec.route.repeatInterval).toBe('4h');
    expect(routing.receiverFor('page-me')).toBe('chat');
  });

  it('routes every severity of the priority table', () => {
    expect(ALERT_PRIORITIES.map((row) => [row.priority, row.severities.join('|'), row.notifies])).toEqual([
      ['P0', 'critical', 'pager'],
      ['P1', 'high', 'chat'],
      ['P2', 'warning', 'chat'],
      ['P3', 'low|info', 'none'],
    ]);
  });
});

describe('AlertRouting receivers', () => {
  it('references the PagerDuty routing key and the Slack webhook by Secret key only', () => {
    expect(render().manifest.spec.receivers).toEqual([
      { name: 'pager', pagerdutyConfigs: [{ routingKey: { name: 'alertmanager-pagerduty', key: 'routingKey' }, sendResolved: true }] },
      { name: 'chat', slackConfigs: [{ apiURL: { name: 'alertmanager-slack', key: 'webhookURL' }, sendResolved: true }] },
      { name: 'null' },
    ]);
  });

  it('holds no credential value: every string in the manifest is a name, a label, a matcher or a duration', () => {
    const { manifest } = render({
      ...BOTH,
      chat: AlertReceiver.slack({ apiUrl: { name: 'alertmanager-slack', key: 'webhookURL' }, channel: '#web-alerts' }),
    });
    const values = strings(manifest.spec);
    expect(values.filter(([, value]) => /:\/\/|^[A-Za-z0-9]{20,}$/.test(value))).toEqual([]);
    expect(Object.fromEntries(values.filter(([path]) => /(routingKey|apiURL)\/(name|key)$/.test(path)))).toEqual({
      '/receivers/0/pagerdutyConfigs/0/routingKey/name': 'alertmanager-pagerduty',
      '/receivers/0/pagerdutyConfigs/0/routingKey/key': 'routingKey',
      '/receivers/1/slackConfigs/0/apiURL/name': 'alertmanager-slack',
      '/receivers/1/slackConfigs/0/apiURL/key': 'webhookURL',
    });
  });

  it('posts to the given Slack channel', () => {
    const chat = AlertReceiver.slack({ apiUrl: { name: 'alertmanager-slack', key: 'webhookURL' }, channel: '#web-alerts' });
    expect(render({ chat }).manifest.spec.receivers[0].slackConfigs).toEqual([
      { apiURL: { name: 'alertmanager-slack', key: 'webhookURL' }, channel: '#web-alerts', sendResolved: true },
    ]);
  });

  it('repeats each receiver at its own interval', () => {
    const pager = AlertReceiver.pagerDuty({ routingKey: { name: 'pd', key: 'key' }, repeatInterval: '30m' });
    const chat = AlertReceiver.slack({ apiUrl: { name: 'slack', key: 'url' }, repeatInterval: '12h' });
    const { route } = render({ pager, chat }).manifest.spec;
    expect([route.repeatInterval, ...(route.routes ?? []).map((child) => child.repeatInterval)]).toEqual(['12h', '30m', '12h', '12h', undefined]);
  });

  it('without a pager, sends critical alerts to chat (a staging environment pages no one)', () => {
    const { routing, manifest } = render({ chat: CHAT });
    expect(manifest.spec.receivers.map((receiver) => receiver.name)).toEqual(['chat', 'null']);
    expect(routeAlert(manifest.spec.route, { severity: 'critical' })).toBe('chat');
    expect(routing.receiverFor('critical')).toBe('chat');
  });

  it('without chat, pages critical alerts and notifies no one of the others', () => {
    const { routing, manifest } = render({ pager: PAGER });
    expect(manifest.spec.receivers.map((receiver) => receiver.name)).toEqual(['pager', 'null']);
    expect(['critical', 'high', 'warning', 'info', 'other'].map((severity) => routeAlert(manifest.spec.route, { severity }))).toEqual([
      'pager',
      'null',
      'null',
      'null',
      'null',
    ]);
    expect(['critical', 'high', 'warning', 'info', 'other'].map((severity) => routing.receiverFor(severity))).toEqual([
      'pager',
      'null',
      'null',
      'null',
      'null',
    ]);
  });
});

describe('AlertRouting inhibition', () => {
  it('mutes the other alerts of a service while one of its critical alerts fires', () => {
    expect(render().manifest.spec.inhibitRules).toEqual([
      {
        sourceMatch: [{ name: 'severity', value: 'critical', matchType: '=' }],
        targetMatch: [{ name: 'severity', value: 'high|warning|low|info', matchType: '=~' }],
        equal: ['namespace', 'service'],
      },
    ]);
  });

  it('never mutes a critical alert', () => {
    const [rule] = render().manifest.spec.inhibitRules ?? [];
    expect(rule.targetMatch.some((matcher) => matches(matcher, { severity: 'critical' }))).toBe(false);
    expect(['high', 'warning', 'low', 'info'].every((severity) => rule.targetMatch.every((matcher) => matches(matcher, { severity })))).toBe(true);
  });
});

describe('AlertRouting errors', () => {
  const secret = { name: 'alertmanager-pagerduty', key: 'routingKey' };
  it.each<[string, AlertRoutingProps, string]>([
    [
      'no receiver at all',
      {},
      'pager: is absent and so is chat, so no alert would notify anyone, got nothing; set pager (AlertReceiver.pagerDuty) or chat ' +
        '(AlertReceiver.slack), or render no AlertRouting',
    ],
    [
      'a name that is no object name',
      { ...BOTH, name: 'Web_Routing' },
      'name: is not an object name (lowercase letters, digits, "-" and "."), got "Web_Routing"; e.g. "web-alert-routing"',
    ],
    [
      'a pager routing key without its Secret key',
      { pager: AlertReceiver.pagerDuty({ routingKey: { name: 'alertmanager-pagerduty', key: '' } }) },
      'pager.routingKey: must name a Secret and one of its keys, got {"name":"alertmanager-pagerduty","key":""}; e.g. { name: ' +
        '"alertmanager-pagerduty", key: "routingKey" } (the credential itself stays in the Secret)',
    ],
    [
      'a chat webhook without a Secret name',
      { chat: AlertReceiver.slack({ apiUrl: { name: '', key: 'webhookURL' } }) },
      'chat.apiUrl: must name a Secret and one of its keys, got {"name":"","key":"webhookURL"}; e.g. { name: "alertmanager-slack", key: ' +
        '"webhookURL" } (the credential itself stays in the Secret)',
    ],
    [
      'a Slack channel with a space',
      { chat: AlertReceiver.slack({ apiUrl: { name: 'alertmanager-slack', key: 'webhookURL' }, channel: '#web alerts' }) },
      'chat.channel: is not a Slack channel, got "#web alerts"; e.g. "#web-alerts", or leave it out for the webhook\'s own channel',
    ],
    [
      'a group wait that is no duration',
      { ...BOTH, groupWait: '30 s' },
      'groupWait: must be an Alertmanager duration such as "30s", "5m" or "1h30m", got "30 s"; e.g. "30s"',
    ],
    [
      'a zero group interval',
      { ...BOTH, groupInterval: '0s' },
      'groupInterval: must be a positive Alertmanager duration such as "30s", "5m" or "1h30m", got "0s"; e.g. "5m"',
    ],
    [
      'a repeat interval shorter than the group interval',
      { pager: AlertReceiver.pagerDuty({ routingKey: secret, repeatInterval: '1m' }) },
      'pager.repeatInterval: must be at least groupInterval (5m), got "1m"; raise it or lower groupInterval',
    ],
    [
      'a repeat interval that is no duration',
      { pager: AlertReceiver.pagerDuty({ routingKey: secret, repeatInterval: 'hourly' }) },
      'pager.repeatInterval: must be a positive Alertmanager duration such as "30s", "5m" or "1h30m", got "hourly"; e.g. "5m"',
    ],
    [
      'a repeated groupBy label',
      { ...BOTH, groupBy: ['alertname', 'alertname'] },
      'groupBy: must be distinct label names, or ["..."] alone for no grouping, got ["alertname","alertname"]; e.g. ["alertname", "namespace", ' +
        '"service"]',
    ],
    [
      'monitoring labels that replace its own',
      { ...BOTH, monitoringLabels: { 'app.kubernetes.io/name': 'other' } },
      'monitoringLabels: "app.kubernetes.io/name" is set by the construct itself, got {"app.kubernetes.io/name":"other"}; choose another key, e.g. ' +
        '{ release: "kube-prometheus-stack" }',
    ],
  ])('refuses %s', (_, props, message) => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-prod' });
    expect(() => new AlertRouting(chart, 'alert-routing', props)).toThrow(new Error(message));
  });

  it('reports every independent problem at once', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-prod' });
    expect(() => new AlertRouting(chart, 'alert-routing', { ...BOTH, groupWait: '30 s', groupInterval: 'often' })).toThrow(
      expect.objectContaining({
        problems: [
          'groupWait: must be an Alertmanager duration such as "30s", "5m" or "1h30m", got "30 s"; e.g. "30s"',
          'groupInterval: must be a positive Alertmanager duration such as "30s", "5m" or "1h30m", got "often"; e.g. "5m"',
        ],
      }),
    );
  });

  it('accepts a zero group wait and ["..."] to group nothing', () => {
    expect(render({ ...BOTH, groupWait: '0s', groupBy: ['...'] }).manifest.spec.route).toMatchObject({ groupWait: '0s', groupBy: ['...'] });
  });
});
