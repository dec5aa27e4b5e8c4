import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configProblems, platformProblems } from '../helpers';
import { ALERTING_DEFAULTS, parseStackConfig } from '../../stacks/config';
import { readStackFile } from '../../stacks/stack-file';

const ROOT = join(__dirname, '..', '..');

/** A minimal valid raw config (production, the default), as Pulumi hands it to the program. */
const MINIMAL: Record<string, string> = {
  'cutover:activeColor': 'blue',
  'cutover:host': 'web.example.com',
  'cutover:blue': JSON.stringify({ image: 'acme/web:1.0.0' }),
  'cutover:routing': JSON.stringify({ gateway: { name: 'public', namespace: 'gateway-system' } }),
};

function withAlerting(alerting: unknown, extra: Record<string, string> = {}): Record<string, string> {
  return { ...MINIMAL, ...extra, 'cutover:monitoring': JSON.stringify({ labels: { release: 'kube-prometheus-stack' }, alerting }) };
}

function problems(raw: Record<string, string>): string[] {
  return configProblems(raw, 'test');
}

describe('monitoring.alerting defaults', () => {
  it('production routes to the pager and chat, each reading the default Secret', () => {
    expect(parseStackConfig(MINIMAL, 'prod').alerting).toEqual({
      pager: { secret: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
      chat: { secret: { name: 'alertmanager-slack', key: 'webhookURL' } },
    });
    expect(ALERTING_DEFAULTS).toEqual({
      pager: { secret: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
      chat: { secret: { name: 'alertmanager-slack', key: 'webhookURL' } },
    });
  });

  it('a non-production stack routes nothing unless it turns routing on', () => {
    expect(parseStackConfig({ ...MINIMAL, 'cutover:production': 'false' }, 'dev').alerting).toBeUndefined();
    expect(parseStackConfig(withAlerting({ enabled: true }, { 'cutover:production': 'false' }), 'dev').alerting).toEqual(
      parseStackConfig(MINIMAL, 'prod').alerting,
    );
  });

  it('production can turn routing off explicitly', () => {
    expect(parseStackConfig(withAlerting({ enabled: false }), 'prod').alerting).toBeUndefined();
  });

  it('prod uses the production defaults; staging turns routing on without a pager', () => {
    expect(parseStackConfig(readStackFile(ROOT, 'prod'), 'prod').alerting).toEqual(parseStackConfig(MINIMAL, 'prod').alerting);
    expect(parseStackConfig(readStackFile(ROOT, 'staging'), 'staging').alerting).toEqual({
      chat: { secret: { name: 'alertmanager-slack', key: 'webhookURL' } },
    });
  });
});

describe('monitoring.alerting values', () => {
  it('takes each receiver Secret, the channel and the intervals as written', () => {
    const alerting = {
      groupWait: '10s',
      groupInterval: '2m',
      pager: { secret: { name: 'pagerduty-web', key: 'integrationKey' }, repeatInterval: '30m' },
      chat: { secret: { name: 'slack-web', key: 'url' }, channel: '#web-alerts', repeatInterval: '12h' },
    };
    expect(parseStackConfig(withAlerting(alerting), 'prod').alerting).toEqual({
      groupWait: '10s',
      groupInterval: '2m',
      pager: { secret: { name: 'pagerduty-web', key: 'integrationKey' }, repeatInterval: '30m' },
      chat: { secret: { name: 'slack-web', key: 'url' }, channel: '#web-alerts', repeatInterval: '12h' },
    });
  });

  it('leaves out a receiver that is turned off', () => {
    expect(parseStackConfig(withAlerting({ chat: { enabled: false } }), 'prod').alerting).toEqual({
      pager: { secret: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
    });
  });
});

describe('monitoring.alerting errors', () => {
  it.each<[string, unknown, string[]]>([
    [
      'a pager Secret without its key',
      { pager: { secret: { name: 'pagerduty-web' } } },
      [
        'monitoring.alerting.pager.secret.key: is required: the PagerDuty routing key is read from a Secret, never from config, got nothing; ' +
          'e.g. `pulumi config set --path monitoring.alerting.pager.secret.key routingKey`, or turn the receiver off with `pulumi config set ' +
          '--path monitoring.alerting.pager.enabled false`',
      ],
    ],
    [
      'a chat Secret without its name',
      { chat: { secret: { key: 'url' } } },
      [
        'monitoring.alerting.chat.secret.name: is required: the Slack webhook URL is read from a Secret, never from config, got nothing; e.g. ' +
          '`pulumi config set --path monitoring.alerting.chat.secret.name alertmanager-slack`, or turn the receiver off with `pulumi config set ' +
          '--path monitoring.alerting.chat.enabled false`',
      ],
    ],
    [
      'an empty Secret',
      { pager: { secret: {} } },
      [
        'monitoring.alerting.pager.secret.name: is required: the PagerDuty routing key is read from a Secret, never from config, got nothing; ' +
          'e.g. `pulumi config set --path monitoring.alerting.pager.secret.name alertmanager-pagerduty`, or turn the receiver off with `pulumi ' +
          'config set --path monitoring.alerting.pager.enabled false`',
        'monitoring.alerting.pager.secret.key: is required: the PagerDuty routing key is read from a Secret, never from config, got nothing; ' +
          'e.g. `pulumi config set --path monitoring.alerting.pager.secret.key routingKey`, or turn the receiver off with `pulumi config set ' +
          '--path monitoring.alerting.pager.enabled false`',
      ],
    ],
    [
      'a Secret name that is no object name',
      { chat: { secret: { name: 'Slack Hook', key: 'url' } } },
      [
        'monitoring.alerting.chat.secret.name: is not a Secret name, got "Slack Hook"; e.g. `pulumi config set --path ' +
          'monitoring.alerting.chat.secret.name alertmanager-slack`',
      ],
    ],
    [
      'a Secret key with a slash',
      { pager: { secret: { name: 'pagerduty-web', key: 'routing/key' } } },
      [
        'monitoring.alerting.pager.secret.key: is not a Secret key (letters, digits, "-", "_" and "."), got "routing/key"; e.g. `pulumi config ' +
          'set --path monitoring.alerting.pager.secret.key routingKey`',
      ],
    ],
    [
      'both receivers off',
      { pager: { enabled: false }, chat: { enabled: false } },
      [
        'monitoring.alerting: turns both receivers off, so no alert would notify anyone, got ' +
          '{"pager":{"enabled":false},"chat":{"enabled":false}}; turn one on, or alert routing off with `pulumi config set --path ' +
          'monitoring.alerting.enabled false`',
      ],
    ],
    [
      'a credential written into config',
      { pager: { routingKey: 'a-routing-key-value' } },
      [
        'monitoring.alerting.pager.routingKey: is not a monitoring.alerting.pager field, got "a-routing-key-value"; use one of enabled, secret, ' +
          'repeatInterval',
      ],
    ],
    [
      'a misspelt field',
      { chanel: '#web' },
      ['monitoring.alerting.chanel: is not a monitoring.alerting field, got "#web"; use one of enabled, groupWait, groupInterval, pager, chat'],
    ],
  ])('refuses %s', (_, alerting, expected) => {
    expect(problems(withAlerting(alerting))).toEqual(expected);
  });

  it('checks the Secrets of a non-production stack only when it turns routing on', () => {
    expect(parseStackConfig(withAlerting({ pager: { secret: {} } }, { 'cutover:production': 'false' }), 'dev').alerting).toBeUndefined();
  });

  it('names the key in a construct error, such as an interval that is no duration', () => {
    expect(platformProblems(withAlerting({ groupWait: 'soon' }), 'prod')).toEqual([
      'monitoring.alerting.groupWait: must be an Alertmanager duration such as "30s", "5m" or "1h30m", got "soon"; e.g. "30s"',
    ]);
  });
});
