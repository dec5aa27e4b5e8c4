import { isDnsSubdomain } from '../../lib';
import { Fail } from './errors';
import { ALERTING_DEFAULTS, AlertingConfig } from './schema';
import { CONFIGMAP_KEY } from './services';

/** `monitoring.alerting` resolved: only the receivers that are on, each with its Secret key. */
export interface AlertRoutingConfig {
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly pager?: { readonly secret: { readonly name: string; readonly key: string }; readonly repeatInterval?: string };
  readonly chat?: { readonly secret: { readonly name: string; readonly key: string }; readonly channel?: string; readonly repeatInterval?: string };
}

/** What each `monitoring.alerting` receiver's Secret holds, for the messages. */
const ALERTING_CREDENTIALS = { pager: 'PagerDuty routing key', chat: 'Slack webhook URL' } as const;

/**
 * `monitoring.alerting` with its defaults: on in production, both receivers on with the Secrets of
 * {@link ALERTING_DEFAULTS}. A receiver's credential is only ever a Secret reference, so naming a Secret without its
 * name or key is an error rather than a default.
 */
export function parseAlerting(value: AlertingConfig | undefined, production: boolean, fail: Fail): AlertRoutingConfig | undefined {
  const alerting = typeof value === 'object' && value !== null ? value : {};
  if (!(alerting.enabled ?? production)) {
    return undefined;
  }
  const secretOf = (field: 'pager' | 'chat'): { name: string; key: string } | undefined => {
    const secret = alerting[field]?.secret ?? ALERTING_DEFAULTS[field].secret;
    let ok = true;
    for (const part of ['name', 'key'] as const) {
      const key = `monitoring.alerting.${field}.secret.${part}`;
      const given = secret[part];
      if (given === undefined || given === '') {
        fail(
          key,
          `is required: the ${ALERTING_CREDENTIALS[field]} is read from a Secret, never from config`,
          given,
          `e.g. \`pulumi config set --path ${key} ${ALERTING_DEFAULTS[field].secret[part]}\`, or turn the receiver off with ` +
            `\`pulumi config set --path monitoring.alerting.${field}.enabled false\``,
        );
        ok = false;
      } else if (part === 'name' ? !isDnsSubdomain(given) : !CONFIGMAP_KEY.test(given) || given.length > 253) {
        fail(
          key,
          part === 'name' ? 'is not a Secret name' : 'is not a Secret key (letters, digits, "-", "_" and ".")',
          given,
          `e.g. \`pulumi config set --path ${key} ${ALERTING_DEFAULTS[field].secret[part]}\``,
        );
        ok = false;
      }
    }
    return ok ? { name: secret.name as string, key: secret.key as string } : undefined;
  };
  const pager = alerting.pager?.enabled !== false ? secretOf('pager') : undefined;
  const chat = alerting.chat?.enabled !== false ? secretOf('chat') : undefined;
  if (alerting.pager?.enabled === false && alerting.chat?.enabled === false) {
    fail(
      'monitoring.alerting',
      'turns both receivers off, so no alert would notify anyone',
      value,
      'turn one on, or alert routing off with `pulumi config set --path monitoring.alerting.enabled false`',
    );
  }
  const { groupWait, groupInterval } = alerting;
  return {
    ...(groupWait !== undefined ? { groupWait } : {}),
    ...(groupInterval !== undefined ? { groupInterval } : {}),
    ...(pager !== undefined
      ? { pager: { secret: pager, ...(alerting.pager?.repeatInterval !== undefined ? { repeatInterval: alerting.pager.repeatInterval } : {}) } }
      : {}),
    ...(chat !== undefined
      ? {
          chat: {
            secret: chat,
            ...(alerting.chat?.channel !== undefined ? { channel: alerting.chat.channel } : {}),
            ...(alerting.chat?.repeatInterval !== undefined ? { repeatInterval: alerting.chat.repeatInterval } : {}),
          },
        }
      : {}),
  };
}
