import { Construct } from 'constructs';
import { appLabels } from '../core/labels';
import { SecretKeySelector } from '../data/postgres-ha';
import {
  AlertmanagerConfig,
  AlertmanagerConfigSpecInhibitRulesSourceMatchMatchType,
  AlertmanagerConfigSpecInhibitRulesTargetMatchMatchType,
  AlertmanagerConfigSpecReceivers,
  AlertmanagerConfigSpecRoute,
  AlertmanagerConfigSpecRouteMatchersMatchType,
  toJson_AlertmanagerConfigSpecRoute,
} from '../imports/monitoring.coreos.com';
import { CustomResourceMetadata, requireExtraLabels } from './prometheus-rule';
import { Problems, isDataKey, isDnsSubdomain } from '../core/validation';

/**
 * The AlertmanagerConfig of the Prometheus Operator (monitoring.coreos.com/v1alpha1). {@link AlertRouting} builds it
 * with the types generated from the pinned CRD (Prometheus Operator v0.93.0, test/crds/prometheus-operator) into
 * lib/imports/monitoring.coreos.com.ts.
 * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1alpha1.AlertmanagerConfig
 */
export const ALERTMANAGER_CONFIG_API_VERSION = 'monitoring.coreos.com/v1alpha1';

/** Who an alert of a priority notifies: the paging receiver, the chat receiver, or no one. */
export type AlertTarget = 'pager' | 'chat' | 'none';

/** One row of the priority table: the `severity` label values of a priority and whom they notify. */
export interface AlertPriority {
  readonly priority: 'P0' | 'P1' | 'P2' | 'P3';
  readonly severities: readonly string[];
  readonly notifies: AlertTarget;
}

/**
 * The priority table every AlertRouting renders, by the alerts' `severity` label: P0 pages, P1 and P2 go to chat,
 * P3 notifies no one (the alert stays visible in the Alertmanager and Prometheus UIs). This project's rules use
 * `critical` and `warning` (see {@link AlertSeverity}); `high`, `low` and `info` are routed for rules of other origin.
 */
export const ALERT_PRIORITIES: readonly AlertPriority[] = [
  { priority: 'P0', severities: ['critical'], notifies: 'pager' },
  { priority: 'P1', severities: ['high'], notifies: 'chat' },
  { priority: 'P2', severities: ['warning'], notifies: 'chat' },
  { priority: 'P3', severities: ['low', 'info'], notifies: 'none' },
];

/** Names of the receivers in the AlertmanagerConfig; the operator prefixes them with `<namespace>/<name>/`. */
export const PAGER_RECEIVER = 'pager';
export const CHAT_RECEIVER = 'chat';
export const NULL_RECEIVER = 'null';

/** What every receiver accepts. */
export interface AlertReceiverOptions {
  /**
   * How long the Alertmanager waits before it notifies this receiver again of an alert that still fires.
   * @see https://prometheus.io/docs/alerting/latest/configuration/#route
   * @default - `1h` as the pager, `4h` as chat (see {@link AlertRoutingProps})
   */
  readonly repeatInterval?: string;
}

/** A PagerDuty receiver. */
export interface PagerDutyReceiverOptions extends AlertReceiverOptions {
  /**
   * The Secret key that holds the integration's routing key (Events API v2), in the AlertmanagerConfig's namespace.
   * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1alpha1.PagerDutyConfig
   */
  readonly routingKey: SecretKeySelector;
}

/** A Slack receiver. */
export interface SlackReceiverOptions extends AlertReceiverOptions {
  /**
   * The Secret key that holds the incoming webhook's URL, in the AlertmanagerConfig's namespace.
   * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1alpha1.SlackConfig
   */
  readonly apiUrl: SecretKeySelector;
  /**
   * Channel to post to, e.g. `#web-alerts`.
   * @default - the webhook's own channel
   */
  readonly channel?: string;
}

/**
 * Where notifications go. Credentials are only ever a Secret reference: the operator reads the value when it builds
 * the Alertmanager's configuration, so it never passes through this program, its manifests or Pulumi state.
 */
export class AlertReceiver {
  /** PagerDuty, through an Events API v2 integration: a page that resolves itself when the alert does. */
  public static pagerDuty(options: PagerDutyReceiverOptions): AlertReceiver {
    const { routingKey } = options;
    return new AlertReceiver(
      { field: 'routingKey', selector: routingKey, example: { name: 'alertmanager-pagerduty', key: 'routingKey' } },
      options.repeatInterval,
      undefined,
      (name) => ({
        name,
        pagerdutyConfigs: [{ routingKey: { name: routingKey.name, key: routingKey.key }, sendResolved: true }],
      }),
    );
  }

  /** Slack, through an incoming webhook; resolved alerts are posted too. */
  public static slack(options: SlackReceiverOptions): AlertReceiver {
    const { apiUrl, channel } = options;
    return new AlertReceiver(
      { field: 'apiUrl', selector: apiUrl, example: { name: 'alertmanager-slack', key: 'webhookURL' } },
      options.repeatInterval,
      channel,
      (name) => ({
        name,
        slackConfigs: [{ apiUrl: { name: apiUrl.name, key: apiUrl.key }, ...(channel !== undefined ? { channel } : {}), sendResolved: true }],
      }),
    );
  }

  private constructor(
    private readonly secret: { readonly field: string; readonly selector: SecretKeySelector; readonly example: SecretKeySelector },
    /** As given; {@link AlertRouting} applies the default of the receiver's role. */
    public readonly repeatInterval: string | undefined,
    private readonly channel: string | undefined,
    private readonly render: (name: string) => AlertmanagerConfigSpecReceivers,
  ) {}

  /**
   * Checks the receiver under `key` (`pager` or `chat`) and renders it as the receiver `name`.
   * @internal
   */
  public _toReceiver(key: string, name: string): AlertmanagerConfigSpecReceivers {
    const { field, selector, example } = this.secret;
    if (typeof selector !== 'object' || selector === null || !isDnsSubdomain(String(selector.name)) || !isDataKey(String(selector.key))) {
      throw new Error(
        `${key}.${field}: must name a Secret and one of its keys, got ${JSON.stringify(selector)}; ` +
          `e.g. { name: "${example.name}", key: "${example.key}" } (the credential itself stays in the Secret)`,
      );
    }
    if (this.channel !== undefined && !SLACK_CHANNEL.test(this.channel)) {
      throw new Error(
        `${key}.channel: is not a Slack channel, got ${JSON.stringify(this.channel)}; ` +
          `e.g. "#web-alerts", or leave it out for the webhook's own channel`,
      );
    }
    return this.render(name);
  }
}

/** Props of {@link AlertRouting}. */
export interface AlertRoutingProps {
  /**
   * Name of the AlertmanagerConfig. The operator names its receivers `<namespace>/<name>/<receiver>`.
   * @default 'alert-routing'
   */
  readonly name?: string;

  /**
   * The receiver of P0 alerts (`severity="critical"`), e.g. `AlertReceiver.pagerDuty(...)`.
   * @default - no pager: P0 alerts go to `chat`
   */
  readonly pager?: AlertReceiver;

  /**
   * The receiver of P1 and P2 alerts (`high`, `warning`) and of alerts whose severity is not in the table,
   * e.g. `AlertReceiver.slack(...)`. Its `repeatInterval` defaults to `4h`; the pager's to `1h`.
   * @default - no chat: P1 and P2 alerts notify no one
   */
  readonly chat?: AlertReceiver;

  /**
   * Labels the Alertmanager selects AlertmanagerConfigs by (`alertmanagerConfigSelector`); its
   * `alertmanagerConfigNamespaceSelector` must also select this namespace (nil selects only its own).
   * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.AlertmanagerSpec
   * @default {}
   */
  readonly monitoringLabels?: Readonly<Record<string, string>>;

  /**
   * Labels that make alerts one notification: alerts with the same values are grouped.
   * @see https://prometheus.io/docs/alerting/latest/configuration/#route
   * @default ['alertname', 'namespace', 'service']
   */
  readonly groupBy?: readonly string[];

  /**
   * How long the Alertmanager waits for more alerts of a new group before its first notification.
   * @default '30s'
   */
  readonly groupWait?: string;

  /**
   * How long it waits before it notifies a group of alerts added to it.
   * @default '5m'
   */
  readonly groupInterval?: string;

  /**
   * The `app.kubernetes.io/part-of` label.
   * @default name
   */
  readonly partOf?: string;
}

/** A channel name (`#...`), a user (`@...`) or a channel ID. */
const SLACK_CHANNEL = /^[#@]?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
/** An Alertmanager duration, as the CRD's pattern has it, without the bare `0`. */
const DURATION = /^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$/;
const DURATION_MS: Readonly<Record<string, number>> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};
/** A Prometheus label name. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Routes the alerts of an environment's namespace by severity, as one AlertmanagerConfig of the Prometheus Operator:
 * P0 (`critical`) to the pager, P1/P2 (`high`, `warning`) to chat, P3 (`low`, `info`) to no one (see
 * {@link ALERT_PRIORITIES}); an alert of another severity goes to chat, so a new severity is seen rather than
 * dropped or paged. Alerts are grouped by alert name, namespace and service, and while a critical alert of a service
 * fires its other alerts (`high` to `info`) are inhibited: one page, not a page and a chat storm.
 *
 * The operator confines everything to this namespace: it adds `namespace="<namespace>"` to the route and to both
 * sides of the inhibit rule. Receivers' credentials are Secret references in the same namespace.
 */
export class AlertRouting extends Construct {
  public readonly alertmanagerConfig: AlertmanagerConfig;
  /** Name of the AlertmanagerConfig. */
  public readonly name: string;

  private readonly targets: ReadonlyMap<AlertTarget, string>;
  private readonly defaultReceiver: string;

  public constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    const name = props.name ?? 'alert-routing';
    const monitoringLabels = props.monitoringLabels ?? {};
    const groupBy = props.groupBy ?? ['alertname', 'namespace', 'service'];
    const groupWait = props.groupWait ?? '30s';
    const groupInterval = props.groupInterval ?? '5m';

    const labels = appLabels({ name, partOf: props.partOf ?? name, component: 'alert-routing' });
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    problems.check(
      () => {
        if (!isDnsSubdomain(name)) {
          throw new Error(
            `name: is not an object name (lowercase letters, digits, "-" and "."), got ${JSON.stringify(name)}; e.g. "web-alert-routing"`,
          );
        }
      },
      () => requireExtraLabels('monitoringLabels', monitoringLabels, labels, '{ release: "kube-prometheus-stack" }'),
      () => {
        if (props.pager === undefined && props.chat === undefined) {
          throw new Error(
            'pager: is absent and so is chat, so no alert would notify anyone, got nothing; ' +
              'set pager (AlertReceiver.pagerDuty) or chat (AlertReceiver.slack), or render no AlertRouting',
          );
        }
      },
      () => requireGroupBy(groupBy),
      () => requireDuration('groupWait', groupWait, true),
    );
    const groupIntervalMs = problems.attempt(() => requireDuration('groupInterval', groupInterval, false));
    const receivers: AlertmanagerConfigSpecReceivers[] = [];
    const repeat = new Map<string, string>();
    for (const [key, receiver, fallback] of [
      ['pager', props.pager, '1h'],
      ['chat', props.chat, '4h'],
    ] as const) {
      if (receiver === undefined) {
        continue;
      }
      const receiverName = key === 'pager' ? PAGER_RECEIVER : CHAT_RECEIVER;
      const converted = problems.attempt(() => receiver._toReceiver(key, receiverName));
      if (converted !== undefined) {
        receivers.push(converted);
      }
      const interval = receiver.repeatInterval ?? fallback;
      problems.check(() => {
        // The Alertmanager only re-notifies at a group interval, so a shorter repeat interval would silently be longer.
        if (requireDuration(`${key}.repeatInterval`, interval, false) < (groupIntervalMs ?? 0)) {
          throw new Error(
            `${key}.repeatInterval: must be at least groupInterval (${groupInterval}), got "${interval}"; raise it or lower groupInterval`,
          );
        }
      });
      repeat.set(receiverName, interval);
    }
    problems.throwIfAny();
    receivers.push({ name: NULL_RECEIVER });

    const chat = props.chat !== undefined ? CHAT_RECEIVER : NULL_RECEIVER;
    this.targets = new Map<AlertTarget, string>([
      ['pager', props.pager !== undefined ? PAGER_RECEIVER : CHAT_RECEIVER],
      ['chat', chat],
      ['none', NULL_RECEIVER],
    ]);
    this.defaultReceiver = chat;
    this.name = name;

    const routeTo = (receiver: string): Pick<AlertmanagerConfigSpecRoute, 'receiver' | 'repeatInterval'> => ({
      receiver,
      ...(repeat.has(receiver) ? { repeatInterval: repeat.get(receiver) } : {}),
    });
    // The generated route type leaves child routes untyped (`any[]`, as the CRD's schema does): each is typed as a
    // route here and converted by the generated converter, as AlertmanagerConfig converts the top route.
    const routes: AlertmanagerConfigSpecRoute[] = ALERT_PRIORITIES.map((row) => ({
      matchers: [severityMatcher(row.severities, AlertmanagerConfigSpecRouteMatchersMatchType)],
      ...routeTo(this.receiverOf(row.notifies)),
    }));
    const lowerSeverities = ALERT_PRIORITIES.filter((row) => row.priority !== 'P0').flatMap((row) => row.severities);
    const metadata: CustomResourceMetadata = { name, labels: { ...labels, ...monitoringLabels } };
    this.alertmanagerConfig = new AlertmanagerConfig(this, 'config', {
      metadata,
      spec: {
        route: {
          ...routeTo(this.defaultReceiver),
          groupBy: [...groupBy],
          groupWait,
          groupInterval,
          routes: routes.map((route) => toJson_AlertmanagerConfigSpecRoute(route)),
        },
        receivers,
        inhibitRules: [
          {
            sourceMatch: [severityMatcher(severitiesOf('P0'), AlertmanagerConfigSpecInhibitRulesSourceMatchMatchType)],
            targetMatch: [severityMatcher(lowerSeverities, AlertmanagerConfigSpecInhibitRulesTargetMatchMatchType)],
            equal: ['namespace', 'service'],
          },
        ],
      },
    });
  }

  /**
   * The receiver of this AlertmanagerConfig that an alert with this `severity` label notifies: `pager`, `chat` or
   * `null` (no one).
   */
  public receiverFor(severity: string): string {
    const row = ALERT_PRIORITIES.find((each) => each.severities.includes(severity));
    return row !== undefined ? this.receiverOf(row.notifies) : this.defaultReceiver;
  }

  private receiverOf(target: AlertTarget): string {
    return this.targets.get(target) as string;
  }
}

function severitiesOf(priority: AlertPriority['priority']): readonly string[] {
  return ALERT_PRIORITIES.filter((row) => row.priority === priority).flatMap((row) => row.severities);
}

/** The `=` and `=~` members of one of the generated matchType enums: one per matcher list, with the same values. */
interface MatchTypes<T> {
  readonly VALUE_EQUALS: T;
  readonly VALUE_EQUAL_TILDE: T;
}

/** `severity="critical"`, or `severity=~"low|info"` for several (Alertmanager anchors the expression). */
function severityMatcher<T>(
  severities: readonly string[],
  matchType: MatchTypes<T>,
): { readonly name: string; readonly value: string; readonly matchType: T } {
  return severities.length === 1
    ? { name: 'severity', value: severities[0], matchType: matchType.VALUE_EQUALS }
    : { name: 'severity', value: severities.join('|'), matchType: matchType.VALUE_EQUAL_TILDE };
}

/** Checks an Alertmanager duration and returns it in milliseconds; `zero` allows `0s`. */
function requireDuration(key: string, value: string, zero: boolean): number {
  const match = typeof value === 'string' && value !== '' ? DURATION.exec(value) : null;
  const ms =
    match !== null ? [...value.matchAll(/([0-9]+)(ms|y|w|d|h|m|s)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_MS[unit], 0) : NaN;
  if (match === null || (!zero && ms === 0)) {
    throw new Error(
      `${key}: must be ${zero ? 'an' : 'a positive'} Alertmanager duration such as "30s", "5m" or "1h30m", ` +
        `got ${JSON.stringify(value)}; e.g. "${zero ? '30s' : '5m'}"`,
    );
  }
  return ms;
}

function requireGroupBy(groupBy: readonly string[]): void {
  const distinct = Array.isArray(groupBy) && groupBy.length > 0 && new Set(groupBy).size === groupBy.length;
  const labels =
    distinct && (groupBy.every((label) => typeof label === 'string' && LABEL_NAME.test(label)) || (groupBy.length === 1 && groupBy[0] === '...'));
  if (!labels) {
    throw new Error(
      `groupBy: must be distinct label names, or ["..."] alone for no grouping, got ${JSON.stringify(groupBy)}; ` +
        'e.g. ["alertname", "namespace", "service"]',
    );
  }
}
