import { Fail } from './errors';
import { AlertReceiverField, alertReceiversRule, isSecretPart, receiverSecret } from './rules';
import { AlertingConfig } from './schema';
import { checkRules } from './shape';

/** `monitoring.alerting` resolved: only the receivers that are on, each with its Secret key. */
export interface AlertRoutingConfig {
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly pager?: { readonly secret: { readonly name: string; readonly key: string }; readonly repeatInterval?: string };
  readonly chat?: { readonly secret: { readonly name: string; readonly key: string }; readonly channel?: string; readonly repeatInterval?: string };
}

/**
 * `monitoring.alerting` with its defaults: on in production, both receivers on with the Secrets of
 * ALERTING_DEFAULTS (./schema.ts). A receiver's credential is only ever a Secret reference, so naming a Secret without its
 * name or key is an error rather than a default.
 */
export function parseAlerting(value: AlertingConfig | undefined, production: boolean, fail: Fail): AlertRoutingConfig | undefined {
  const alerting = typeof value === 'object' && value !== null ? value : {};
  if (!(alerting.enabled ?? production)) {
    return undefined;
  }
  checkRules({ alerting }, alertReceiversRule, fail);
  const secretOf = (field: AlertReceiverField): { name: string; key: string } | undefined => {
    const { name, key } = receiverSecret(alerting, field);
    return isSecretPart('name', name) && isSecretPart('key', key) ? { name: name as string, key: key as string } : undefined;
  };
  const pager = alerting.pager?.enabled !== false ? secretOf('pager') : undefined;
  const chat = alerting.chat?.enabled !== false ? secretOf('chat') : undefined;
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
