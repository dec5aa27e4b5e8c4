// The rendered AlertmanagerConfig (monitoring.coreos.com/v1alpha1), for tests that read a manifest back: only the fields
// AlertRouting emits, under the CRD's own names (`apiURL`). AlertRouting builds it with the generated types of
// lib/imports/monitoring.coreos.com.ts, which describe the generated class's input (`apiUrl`, enums, `any[]` child
// routes), not the JSON it renders.
import { SecretKeySelector } from '../lib';

/** One label matcher of a route or an inhibit rule. */
export interface AlertmanagerMatcher {
  readonly name: string;
  readonly value: string;
  readonly matchType: '=' | '!=' | '=~' | '!~';
}

/** A route of an AlertmanagerConfig; the operator nests the top one under the Alertmanager's own root route. */
export interface AlertmanagerRoute {
  /** A receiver of the same AlertmanagerConfig; required on the top route. */
  readonly receiver?: string;
  readonly matchers?: readonly AlertmanagerMatcher[];
  readonly groupBy?: readonly string[];
  readonly groupWait?: string;
  readonly groupInterval?: string;
  readonly repeatInterval?: string;
  readonly continue?: boolean;
  readonly routes?: readonly AlertmanagerRoute[];
}

/** `pagerdutyConfigs[]` of a receiver: PagerDuty's Events API v2. */
export interface PagerDutyConfig {
  /** The integration's routing key, read by the operator from a Secret in the AlertmanagerConfig's namespace. */
  readonly routingKey: SecretKeySelector;
  readonly sendResolved?: boolean;
}

/** `slackConfigs[]` of a receiver: a Slack incoming webhook. */
export interface SlackConfig {
  /** The webhook URL, read by the operator from a Secret in the AlertmanagerConfig's namespace. */
  readonly apiURL: SecretKeySelector;
  readonly channel?: string;
  readonly sendResolved?: boolean;
}

/** A receiver of an AlertmanagerConfig; one without any config receives and notifies nothing. */
export interface AlertmanagerReceiver {
  readonly name: string;
  readonly pagerdutyConfigs?: readonly PagerDutyConfig[];
  readonly slackConfigs?: readonly SlackConfig[];
}

/** Mutes the alerts matching `targetMatch` while an alert matching `sourceMatch` with the same `equal` labels fires. */
export interface AlertmanagerInhibitRule {
  readonly sourceMatch: readonly AlertmanagerMatcher[];
  readonly targetMatch: readonly AlertmanagerMatcher[];
  readonly equal: readonly string[];
}

/** `spec` of an AlertmanagerConfig. */
export interface AlertmanagerConfigSpec {
  readonly route: AlertmanagerRoute;
  readonly receivers: readonly AlertmanagerReceiver[];
  readonly inhibitRules?: readonly AlertmanagerInhibitRule[];
}
