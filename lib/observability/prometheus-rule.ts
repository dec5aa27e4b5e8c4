import { Construct } from 'constructs';
import { isLabelKey, isLabelValue } from '../core/validation';
import {
  PodMonitor,
  PodMonitorSpec,
  PrometheusRule,
  PrometheusRuleSpecGroupsRulesExpr,
  ServiceMonitor,
  ServiceMonitorSpec,
} from '../imports/monitoring.coreos.com';

// The Prometheus Operator resources (monitoring.coreos.com/v1) are generated from the pinned CRDs into
// lib/imports/ (docs/generated-types.md); the rule types below are what the alert and SLO helpers build.
// See https://prometheus-operator.dev/docs/api-reference/api/

/** Metadata of a custom resource this project renders. */
export interface CustomResourceMetadata {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A Kubernetes label selector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

/**
 * How urgent an alert is: `critical` pages someone (P0), `warning` goes to chat and waits for working hours (P2).
 * AlertRouting routes these and the other severities of its priority table (`ALERT_PRIORITIES`).
 */
export type AlertSeverity = 'critical' | 'warning';

/** One alerting rule of a PrometheusRule group. */
export interface AlertRule {
  /** Alert name, in UpperCamelCase. */
  readonly alert: string;
  /** PromQL expression: the alert fires for every series it returns. */
  readonly expr: string;
  /** How long the expression must hold before the alert fires, e.g. `5m`. */
  readonly for: string;
  readonly labels: { readonly severity: AlertSeverity } & Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string } & Readonly<Record<string, string>>;
}

/** One recording rule of a PrometheusRule group: stores the result of `expr` as the series `record`. */
export interface RecordingRule {
  /** Name of the recorded series, `level:metric:operations` by convention, e.g. `slo:sli_error:ratio_rate5m`. */
  readonly record: string;
  /** PromQL expression whose result is recorded. */
  readonly expr: string;
  /** Labels added to every recorded series. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A group of rules, evaluated in order at one interval. */
export interface PrometheusRuleGroup {
  /** Unique within the PrometheusRule. */
  readonly name: string;
  /** @default - Prometheus's global evaluation interval */
  readonly interval?: string;
  readonly rules: readonly (AlertRule | RecordingRule)[];
}

/**
 * Renders a PrometheusRule. Rules are written with `expr` as PromQL text (what the alert and SLO helpers
 * produce); the generated type wants the CRD's int-or-string wrapper.
 */
export function prometheusRule(
  scope: Construct,
  id: string,
  metadata: CustomResourceMetadata,
  spec: { readonly groups: readonly PrometheusRuleGroup[] },
): PrometheusRule {
  const groups = spec.groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) => ({ ...rule, expr: PrometheusRuleSpecGroupsRulesExpr.fromString(rule.expr) })),
  }));
  return new PrometheusRule(scope, id, { metadata, spec: { groups } });
}

/** Renders a PodMonitor. */
export function podMonitor(scope: Construct, id: string, metadata: CustomResourceMetadata, spec: PodMonitorSpec): PodMonitor {
  return new PodMonitor(scope, id, { metadata, spec });
}

/** Renders a ServiceMonitor. */
export function serviceMonitor(scope: Construct, id: string, metadata: CustomResourceMetadata, spec: ServiceMonitorSpec): ServiceMonitor {
  return new ServiceMonitor(scope, id, { metadata, spec });
}

/**
 * A PromQL label matcher list, e.g. `{namespace="shop",pod=~"orders-db-[0-9]+"}`. A value that starts with
 * `=~` is a regular-expression match; every other value is matched exactly.
 */
export function promSelector(matchers: Readonly<Record<string, string | undefined>>): string {
  const parts = Object.entries(matchers)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([label, value]) => (value.startsWith('=~') ? `${label}=~${JSON.stringify(value.slice(2))}` : `${label}=${JSON.stringify(value)}`));
  return `{${parts.join(',')}}`;
}

/**
 * Where alerts point when no runbook URL is configured: the project's own runbook, relative to the repository
 * root. Stacks set the full address of the file on their Git host so that the link works from a notification.
 */
export const DEFAULT_RUNBOOK_URL = 'docs/runbook.md';

/**
 * The anchor of an alert's section in the runbook: the GitHub anchor of a heading that is exactly the alert
 * name (lowercased; alert names are letters and digits only).
 */
export function runbookAnchor(alert: string): string {
  return alert.toLowerCase();
}

/** Throws unless `value` can take an alert's `#anchor`: non-empty, no fragment of its own, no whitespace. */
export function requireRunbookBaseUrl(key: string, value: string): void {
  if (value === '' || /[#\s]/.test(value)) {
    throw new Error(
      `${key}: must be a URL or repository path without "#" or spaces, got "${value}"; ` +
        `e.g. "${DEFAULT_RUNBOOK_URL}" or "https://git.example.com/acme/cutover/blob/main/docs/runbook.md"`,
    );
  }
}

/** Adds `annotations.runbook_url` (the alert's section of the runbook at `baseUrl`) to every rule. */
export function withRunbooks(rules: readonly AlertRule[], baseUrl: string): AlertRule[] {
  return rules.map((rule) => ({ ...rule, annotations: { ...rule.annotations, runbook_url: `${baseUrl}#${runbookAnchor(rule.alert)}` } }));
}

/**
 * Adds `labels` to every rule's, e.g. the namespace and the component of alerts whose expression aggregates their
 * series (`count(...)`, `max by (pod) (...)`): such an alert would carry no `namespace`, so the routes of an
 * AlertmanagerConfig, which the Prometheus Operator confines to its own namespace, would never see it, and no
 * `service` to be grouped and inhibited by.
 */
export function withLabels(rules: readonly AlertRule[], labels: Readonly<Record<string, string>>): AlertRule[] {
  return rules.map((rule) => ({ ...rule, labels: { ...rule.labels, ...labels } }));
}

/** The labels of a data-tier component's alerts: its namespace and its name as `service`. */
export function componentAlertLabels(name: string, namespace: string | undefined): Record<string, string> {
  return { ...(namespace !== undefined ? { namespace } : {}), service: name };
}

/**
 * Throws unless `labels` are valid Kubernetes labels that do not replace any of `reserved` (the labels the
 * construct sets itself). These are the labels a Prometheus or Grafana instance selects objects by.
 */
export function requireExtraLabels(
  key: string,
  labels: Readonly<Record<string, string>>,
  reserved: Readonly<Record<string, string>>,
  example: string,
): void {
  for (const [name, value] of Object.entries(labels)) {
    if (!isLabelKey(name)) {
      throw new Error(`${key}: "${name}" is not a label key, got ${JSON.stringify(labels)}; use e.g. ${example}`);
    }
    if (typeof value !== 'string' || !isLabelValue(value)) {
      throw new Error(
        `${key}: the value of "${name}" is not a label value, got ${JSON.stringify(value)}; ` +
          `use at most 63 letters, digits, "-", "_" or ".", e.g. ${example}`,
      );
    }
    if (Object.hasOwn(reserved, name)) {
      throw new Error(`${key}: "${name}" is set by the construct itself, got ${JSON.stringify(labels)}; choose another key, e.g. ${example}`);
    }
  }
}
