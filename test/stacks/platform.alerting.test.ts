import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Manifest, renderChart } from '../../lib';
import { buildPlatform } from '../../stacks/platform';
import { readStackFile } from '../../stacks/stack-file';
import { find } from '../helpers';
import { synthesize } from '../../stacks/synthesize';

const ROOT = join(__dirname, '..', '..');

function platformOf(stack: string, overrides: Record<string, string> = {}) {
  return synthesize({ ...readStackFile(ROOT, stack), ...overrides }, stack).platform;
}

function manifestsOf(platform: ReturnType<typeof buildPlatform>): Manifest[] {
  return renderChart(platform.chart).map((r) => r.manifest);
}

describe('platform alert routing', () => {
  it('prod renders one AlertmanagerConfig for the namespace, selected by the monitoring labels', () => {
    const platform = platformOf('prod');
    const config = find(manifestsOf(platform), 'AlertmanagerConfig', 'web-alert-routing');
    expect(config.metadata.namespace).toBe('web-prod');
    expect(config.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/part-of': 'web' });
    expect(platform.alertRouting?.alertmanagerConfig.node.path).toBe('prod/alert-routing/config');
  });

  it('prod pages critical alerts and posts high and warning ones to chat', () => {
    const routing = platformOf('prod').alertRouting;
    expect(['critical', 'high', 'warning', 'low', 'info'].map((severity) => routing?.receiverFor(severity))).toEqual([
      'pager',
      'chat',
      'chat',
      'null',
      'null',
    ]);
  });

  it('staging posts critical alerts to chat and has no pager receiver', () => {
    const platform = platformOf('staging');
    expect(platform.alertRouting?.receiverFor('critical')).toBe('chat');
    expect(
      find(manifestsOf(platform), 'AlertmanagerConfig', 'web-alert-routing').spec.receivers.map((receiver: { name: string }) => receiver.name),
    ).toEqual(['chat', 'null']);
  });

  it('renders the receivers from the configured Secrets, channel and intervals', () => {
    const monitoring = {
      labels: { release: 'kube-prometheus-stack' },
      alerting: {
        groupInterval: '2m',
        pager: { secret: { name: 'pagerduty-web', key: 'integrationKey' }, repeatInterval: '30m' },
        chat: { secret: { name: 'slack-web', key: 'url' }, channel: '#web-alerts' },
      },
    };
    const config = find(
      manifestsOf(platformOf('prod', { 'cutover:monitoring': JSON.stringify(monitoring) })),
      'AlertmanagerConfig',
      'web-alert-routing',
    );
    expect(config.spec.receivers.slice(0, 2)).toEqual([
      { name: 'pager', pagerdutyConfigs: [{ routingKey: { name: 'pagerduty-web', key: 'integrationKey' }, sendResolved: true }] },
      { name: 'chat', slackConfigs: [{ apiURL: { name: 'slack-web', key: 'url' }, channel: '#web-alerts', sendResolved: true }] },
    ]);
    expect([config.spec.route.groupInterval, config.spec.route.routes[0].repeatInterval]).toEqual(['2m', '30m']);
  });

  it('a stack with alert routing off renders no AlertmanagerConfig', () => {
    const platform = platformOf('prod', { 'cutover:monitoring': JSON.stringify({ alerting: { enabled: false } }) });
    expect(platform.alertRouting).toBeUndefined();
    expect(manifestsOf(platform).filter((m) => m.kind === 'AlertmanagerConfig')).toEqual([]);
  });

  it('routes the alerts of every app of the stack with the one AlertmanagerConfig', () => {
    const services = { api: { host: 'api.example.com', blue: { image: 'registry.example.com/acme/api:2.0.0' } } };
    const manifests = manifestsOf(platformOf('prod', { 'cutover:services': JSON.stringify(services) }));
    expect(manifests.filter((m) => m.kind === 'AlertmanagerConfig').map((m) => m.metadata.name)).toEqual(['web-alert-routing']);
  });

  it('names the AlertmanagerConfig after the app', () => {
    const manifests = manifestsOf(platformOf('prod', { 'cutover:app': 'shop', 'cutover:namespace': 'shop-prod' }));
    expect(manifests.filter((m) => m.kind === 'AlertmanagerConfig').map((m) => `${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
      'shop-prod/shop-alert-routing',
    ]);
  });
});
