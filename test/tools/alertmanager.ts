// The Alertmanager configuration the Prometheus Operator generates from AlertmanagerConfig resources, so that
// amtool can check what a rendered AlertmanagerConfig becomes. A test helper, written from the operator's
// documented behaviour (v0.93.0, its AlertmanagerConfig reference and its golden test files), for the fields
// AlertRouting renders; any other field fails loudly rather than being dropped:
// - each AlertmanagerConfig's top route is nested first under the Alertmanager's own root route, with
//   `namespace="<namespace>"` appended to its matchers and `continue: true`, so alerts fall through to the
//   Alertmanager's own routes too (the default matcher strategy, OnNamespace);
// - receiver names, on routes and receivers, become `<namespace>/<name>/<receiver>`; a route without a receiver
//   keeps none (it inherits its parent's);
// - matchers become `name<matchType>"value"` strings; inhibit rules get the namespace matcher on both sides;
// - a Secret reference becomes the value of that key of that Secret (in the AlertmanagerConfig's namespace).
import { Manifest, SecretKeySelector } from '../../lib';
import {
  AlertmanagerConfigSpec,
  AlertmanagerInhibitRule,
  AlertmanagerMatcher,
  AlertmanagerReceiver,
  AlertmanagerRoute,
} from '../alertmanager-manifest';

/** A rendered AlertmanagerConfig. */
export type AlertmanagerConfigManifest = Manifest & { readonly metadata: { readonly namespace?: string }; readonly spec: AlertmanagerConfigSpec };

/** A route of an Alertmanager configuration file. */
export interface RouteFile {
  readonly receiver?: string;
  readonly matchers?: readonly string[];
  readonly group_by?: readonly string[];
  readonly group_wait?: string;
  readonly group_interval?: string;
  readonly repeat_interval?: string;
  readonly continue?: boolean;
  readonly routes?: readonly RouteFile[];
}

/** An Alertmanager configuration file (`alertmanager.yml`), as far as the tests write one. */
export interface AlertmanagerFile {
  readonly global?: Readonly<Record<string, unknown>>;
  readonly route: RouteFile;
  readonly receivers: readonly Readonly<Record<string, unknown>>[];
  readonly inhibit_rules?: readonly Readonly<Record<string, unknown>>[];
  readonly templates?: readonly string[];
}

/** What the operator starts from when the Alertmanager has no configuration Secret of its own. */
export const DEFAULT_BASE: AlertmanagerFile = { route: { receiver: 'null' }, receivers: [{ name: 'null' }], templates: [] };

/** Options of {@link operatorConfig}. */
export interface OperatorConfigOptions {
  /** The value of each referenced Secret key, by `<namespace>/<secret>/<key>`; placeholders in tests. */
  readonly secrets: Readonly<Record<string, string>>;
  /** @default DEFAULT_BASE */
  readonly base?: AlertmanagerFile;
}

/** The Alertmanager configuration the operator generates from `base` and `configs`. */
export function operatorConfig(configs: readonly AlertmanagerConfigManifest[], options: OperatorConfigOptions): AlertmanagerFile {
  const base = options.base ?? DEFAULT_BASE;
  // The operator visits AlertmanagerConfigs in the order of their `<namespace>/<name>` keys.
  const sorted = [...configs].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const routes: RouteFile[] = [];
  const receivers: Array<Readonly<Record<string, unknown>>> = [];
  const inhibitRules: Array<Readonly<Record<string, unknown>>> = [];
  for (const config of sorted) {
    const namespace = namespaceOf(config);
    const prefix = `${namespace}/${config.metadata.name}/`;
    const namespaceMatcher = matcherString({ name: 'namespace', value: namespace, matchType: '=' });
    const spec = config.spec;
    requireOnly('spec', spec, ['route', 'receivers', 'inhibitRules']);
    for (const rule of spec.inhibitRules ?? []) {
      inhibitRules.push(inhibitRuleFile(rule, namespaceMatcher));
    }
    const top = routeFile(spec.route, prefix, 'spec.route');
    routes.push({ ...top, matchers: [...(top.matchers ?? []), namespaceMatcher], continue: true });
    receivers.push(
      ...spec.receivers.map((receiver, index) => receiverFile(receiver, prefix, namespace, options.secrets, `spec.receivers[${index}]`)),
    );
  }
  return {
    ...base,
    route: { ...base.route, routes: [...routes, ...(base.route.routes ?? [])] },
    receivers: [...base.receivers, ...receivers],
    inhibit_rules: [...(base.inhibit_rules ?? []), ...inhibitRules],
    templates: base.templates ?? [],
  };
}

function keyOf(config: AlertmanagerConfigManifest): string {
  return `${namespaceOf(config)}/${config.metadata.name}`;
}

function namespaceOf(config: AlertmanagerConfigManifest): string {
  const namespace = config.metadata.namespace;
  if (namespace === undefined) {
    throw new Error(
      `AlertmanagerConfig ${config.metadata.name}: has no namespace, and the operator confines it to its own; render it in a namespaced chart`,
    );
  }
  return namespace;
}

function matcherString(matcher: AlertmanagerMatcher): string {
  return `${matcher.name}${matcher.matchType}${JSON.stringify(matcher.value)}`;
}

function routeFile(route: AlertmanagerRoute, prefix: string, where: string): RouteFile {
  requireOnly(where, route, ['receiver', 'matchers', 'groupBy', 'groupWait', 'groupInterval', 'repeatInterval', 'continue', 'routes']);
  return omitUndefined({
    receiver: route.receiver !== undefined && route.receiver !== '' ? `${prefix}${route.receiver}` : undefined,
    matchers: route.matchers?.map(matcherString),
    group_by: route.groupBy,
    group_wait: route.groupWait,
    group_interval: route.groupInterval,
    repeat_interval: route.repeatInterval,
    continue: route.continue,
    routes: route.routes?.map((child, index) => routeFile(child, prefix, `${where}.routes[${index}]`)),
  });
}

function receiverFile(
  receiver: AlertmanagerReceiver,
  prefix: string,
  namespace: string,
  secrets: Readonly<Record<string, string>>,
  where: string,
): Record<string, unknown> {
  requireOnly(where, receiver, ['name', 'pagerdutyConfigs', 'slackConfigs']);
  const secret = (selector: SecretKeySelector, field: string): string => {
    const value = secrets[`${namespace}/${selector.name}/${selector.key}`];
    if (value === undefined) {
      throw new Error(
        `${where}.${field}: no value for Secret ${namespace}/${selector.name} key ${selector.key}; the operator would refuse the AlertmanagerConfig`,
      );
    }
    return value;
  };
  return omitUndefined({
    name: `${prefix}${receiver.name}`,
    pagerduty_configs: receiver.pagerdutyConfigs?.map((config, index) => {
      requireOnly(`${where}.pagerdutyConfigs[${index}]`, config, ['routingKey', 'sendResolved']);
      return omitUndefined({ routing_key: secret(config.routingKey, `pagerdutyConfigs[${index}].routingKey`), send_resolved: config.sendResolved });
    }),
    slack_configs: receiver.slackConfigs?.map((config, index) => {
      requireOnly(`${where}.slackConfigs[${index}]`, config, ['apiURL', 'channel', 'sendResolved']);
      return omitUndefined({
        api_url: secret(config.apiURL, `slackConfigs[${index}].apiURL`),
        channel: config.channel,
        send_resolved: config.sendResolved,
      });
    }),
  });
}

function inhibitRuleFile(rule: AlertmanagerInhibitRule, namespaceMatcher: string): Record<string, unknown> {
  requireOnly('spec.inhibitRules[]', rule, ['sourceMatch', 'targetMatch', 'equal']);
  return {
    source_matchers: [...rule.sourceMatch.map(matcherString), namespaceMatcher],
    target_matchers: [...rule.targetMatch.map(matcherString), namespaceMatcher],
    equal: rule.equal,
  };
}

/** Fails on a field this helper does not convert: a silently dropped field would make amtool check something else. */
function requireOnly(where: string, value: object, fields: readonly string[]): void {
  const unknown = Object.keys(value).filter((field) => !fields.includes(field));
  if (unknown.length > 0) {
    throw new Error(`${where}: the test's conversion does not handle ${unknown.join(', ')}; add it to test/tools/alertmanager.ts`);
  }
}

function omitUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
