import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

/**
 * Typed Prometheus Operator resources (monitoring.coreos.com/v1): only the fields the data tier emits,
 * written from the pinned CRDs (Prometheus Operator v0.93.0).
 * @see https://prometheus-operator.dev/docs/api-reference/api/
 */
export const MONITORING_API_VERSION = 'monitoring.coreos.com/v1';

/** Metadata of a custom resource this project renders. */
export interface CustomResourceMetadata {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A Kubernetes label selector. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values?: readonly string[] }[];
}

/** How urgent an alert is: `critical` pages someone, `warning` waits for working hours. */
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

/** `spec` of a PrometheusRule. */
export interface PrometheusRuleSpec {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
}

/** One scraped port of a PodMonitor. */
export interface PodMetricsEndpoint {
  /** Name of the container port. */
  readonly port: string;
  /** @default '/metrics' */
  readonly path?: string;
  /** @default - Prometheus's global scrape interval */
  readonly interval?: string;
}

/** `spec` of a PodMonitor. */
export interface PodMonitorSpec {
  readonly selector: LabelSelector;
  readonly podMetricsEndpoints: readonly PodMetricsEndpoint[];
  /** Pod labels copied onto every scraped series (dots and slashes become underscores). */
  readonly podTargetLabels?: readonly string[];
}

/** One scraped port of a ServiceMonitor. */
export interface ServiceMonitorEndpoint {
  /** Name of the Service port. */
  readonly port: string;
  /** @default '/metrics' */
  readonly path?: string;
  /** @default - Prometheus's global scrape interval */
  readonly interval?: string;
}

/** `spec` of a ServiceMonitor. */
export interface ServiceMonitorSpec {
  readonly selector: LabelSelector;
  readonly endpoints: readonly ServiceMonitorEndpoint[];
}

/** Renders a PrometheusRule. */
export function prometheusRule(scope: Construct, id: string, metadata: CustomResourceMetadata, spec: PrometheusRuleSpec): ApiObject {
  return new ApiObject(scope, id, { apiVersion: MONITORING_API_VERSION, kind: 'PrometheusRule', metadata, spec });
}

/** Renders a PodMonitor. */
export function podMonitor(scope: Construct, id: string, metadata: CustomResourceMetadata, spec: PodMonitorSpec): ApiObject {
  return new ApiObject(scope, id, { apiVersion: MONITORING_API_VERSION, kind: 'PodMonitor', metadata, spec });
}

/** Renders a ServiceMonitor. */
export function serviceMonitor(scope: Construct, id: string, metadata: CustomResourceMetadata, spec: ServiceMonitorSpec): ApiObject {
  return new ApiObject(scope, id, { apiVersion: MONITORING_API_VERSION, kind: 'ServiceMonitor', metadata, spec });
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
