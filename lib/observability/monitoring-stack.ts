import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { COLORS, Color, isColor } from '../core/color';
import { DashboardPanel, GrafanaDashboard, SeriesColor } from './grafana-dashboard';
import { LABEL_COLOR, LABEL_SERVICE_ROLE, appLabels } from '../core/labels';
import {
  AlertRule,
  CustomResourceMetadata,
  DEFAULT_RUNBOOK_URL,
  prometheusRule,
  promSelector,
  requireExtraLabels,
  requireRunbookBaseUrl,
  serviceMonitor,
  withRunbooks,
} from './prometheus-rule';
import { ServiceMonitorSpecEndpointsRelabelingsAction } from '../imports/monitoring.coreos.com';
import {
  LatencyObjective,
  RequestMetrics,
  ResolvedRequestMetrics,
  requireLatencyObjective,
  requireMetricName,
  requireSloObjective,
  resolveRequestMetrics,
  sloRules,
} from './slo';
import { Problems, requireDnsLabel } from '../core/validation';
import { APP_CONTAINER_NAME, METRICS_PORT_NAME } from '../core/workload';

/**
 * What {@link MonitoringStack} needs of a blue-green service: its name and the names of its two Services.
 * `BlueGreenApp` is one. Deliberately nothing about which color is live: monitoring objects never change on a
 * cutover.
 */
export interface IBlueGreenService {
  readonly name: string;
  /** The Service that selects the live color. */
  readonly liveService: { readonly name: string };
  /** The Service that selects the idle color. */
  readonly previewService: { readonly name: string };
  /**
   * Name of the app's container, in cAdvisor and kube-state-metrics series.
   * @default APP_CONTAINER_NAME ('app', as BlueGreenApp renders it)
   */
  readonly containerName?: string;
  /**
   * Name of the Services' metrics port, which the ServiceMonitor scrapes.
   * @default METRICS_PORT_NAME ('metrics', as BlueGreenApp renders it)
   */
  readonly metricsPortName?: string;
}

/** What a {@link MetricGate} needs of an app's monitoring: the metric names and queries its alerts use. */
export interface IMonitoringStack extends IConstruct {
  /** Name of the monitored service. */
  readonly appName: string;
  /** Names of the request metrics, defaults applied. */
  readonly metrics: ResolvedRequestMetrics;
  /** How often Prometheus scrapes each pod, e.g. `30s`. */
  readonly scrapeInterval: string;
  requestCountQuery(color: Color, window: string): string;
  errorRatioQuery(color: Color, window: string): string;
  latencyQuantileQuery(color: Color, quantile: number, window: string): string;
}

/** Gauges of the app's database connection pool, per pod. */
export interface DatabasePoolMetrics {
  /** Gauge of connections in use, e.g. `db_client_connections_usage`. */
  readonly inUse: string;
  /** Gauge of the pool's maximum size, e.g. `db_client_connections_max`. */
  readonly max: string;
  /**
   * Share of the pool in use above which the alert fires.
   * @default 0.8
   */
  readonly threshold?: number;
}

/** The app's Grafana dashboard. */
export interface MonitoringDashboardOptions {
  /**
   * Grafana's stable id of the dashboard.
   * @default `${namespace}-${app}` (or the app name without a namespace)
   */
  readonly uid?: string;

  /**
   * Labels the Grafana dashboard sidecar picks the ConfigMap up by.
   * @default { grafana_dashboard: '1' }
   */
  readonly sidecarLabels?: Readonly<Record<string, string>>;

  /**
   * Annotations of the ConfigMap, e.g. `{ grafana_folder: 'cutover' }` when the sidecar's `folderAnnotation` is set.
   * @default {}
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Props of {@link MonitoringStack}. */
export interface MonitoringStackProps {
  /** The service to monitor (a `BlueGreenApp`). */
  readonly app: IBlueGreenService;

  /**
   * Labels a Prometheus selects ServiceMonitors and PrometheusRules by (`serviceMonitorSelector`,
   * `ruleSelector`). kube-prometheus-stack installed as release `kube-prometheus-stack` selects
   * `{ release: 'kube-prometheus-stack' }` unless its `*SelectorNilUsesHelmValues` are false.
   * @see https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PrometheusSpec
   * @default {}
   */
  readonly monitoringLabels?: Readonly<Record<string, string>>;

  /**
   * The runbook every alert links to in `annotations.runbook_url` (plus `#<alert name in lowercase>`): the
   * repository path of this project's runbook, or its full URL on your Git host.
   * @default DEFAULT_RUNBOOK_URL ('docs/runbook.md')
   */
  readonly runbookBaseUrl?: string;

  /** Names of the request metrics the app exposes. */
  readonly metrics?: RequestMetrics;

  /**
   * How often Prometheus scrapes each pod.
   * @default '30s'
   */
  readonly scrapeInterval?: string;

  /**
   * Share of failed requests (status code matching `metrics.errorStatusCodes`) over 5 minutes above which a
   * color alerts, e.g. `0.05` (5%) or `0.001` (0.1%).
   * @default 0.05
   */
  readonly errorRateThreshold?: number;

  /**
   * p95 latency of the live Service, in seconds, above which it alerts.
   * @default 0.5
   */
  readonly p95LatencySeconds?: number;

  /**
   * Share of the CPU or memory limit above which a pod alerts.
   * @default 0.9
   */
  readonly saturationThreshold?: number;

  /**
   * The app's connection pool gauges. No client library shares their names, and an alert on a metric that is
   * never exported never fires, so without them there is no pool alert rather than a silent one.
   * @default - no pool alert
   */
  readonly databasePool?: DatabasePoolMetrics;

  /**
   * Availability SLO of the live Service: the share of requests that must not fail over 30 days.
   * @default 0.999
   */
  readonly availabilityObjective?: number;

  /**
   * Latency SLO of the live Service; a field left out keeps its default.
   * @default { thresholdSeconds: 0.5, objective: 0.99 }
   */
  readonly latencyObjective?: Partial<LatencyObjective>;

  /** The Grafana dashboard. */
  readonly dashboard?: MonitoringDashboardOptions;

  /**
   * The `app.kubernetes.io/part-of` label.
   * @default app.name
   */
  readonly partOf?: string;
}

const SERIES_COLORS: readonly SeriesColor[] = COLORS.map((color: Color) => ({ pattern: `^${color}`, color }));

/**
 * Monitoring of one blue-green service for the Prometheus Operator and Grafana: a ServiceMonitor, alerting and
 * SLO rules, and a dashboard.
 *
 * Scraping: one ServiceMonitor selects both the live and the preview Service. The live Service selects the
 * active color and the preview Service the idle one, so every pod of both colors is scraped exactly once, and
 * the target's `service` label tells whether its color is live. The pod's color label is copied to a `color`
 * target label, so blue and green are compared side by side. Nothing here depends on which color is live:
 * after a cutover the same targets carry the other `service` label (their series restart under the new label).
 *
 * Alerts: error rate per color (critical on the live Service, warning on the preview), no live pod answering,
 * targets down, p95 latency, CPU and memory near their limits, restart loops, optionally the database pool, and
 * the multi-window burn-rate alerts of the availability and latency SLOs of the live Service (see `sloRules`).
 * Every alert links to its section of the runbook.
 */
export class MonitoringStack extends Construct implements IMonitoringStack {
  public readonly serviceMonitor: ApiObject;
  public readonly rules: ApiObject;
  public readonly dashboard: GrafanaDashboard;
  /** Every alerting rule rendered, in order. */
  public readonly alertRules: readonly AlertRule[];
  /** Name of the monitored service. */
  public readonly appName: string;
  /** Names of the request metrics the alerts and the gate queries read, defaults applied. */
  public readonly metrics: ResolvedRequestMetrics;
  /** How often Prometheus scrapes each pod, e.g. `30s`. */
  public readonly scrapeInterval: string;

  private readonly queries: AppQueries;

  public constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id);
    const app = props.app;
    const namespace = Chart.of(this).namespace;
    const monitoringLabels = props.monitoringLabels ?? {};
    const runbookBaseUrl = props.runbookBaseUrl ?? DEFAULT_RUNBOOK_URL;
    const scrapeInterval = props.scrapeInterval ?? '30s';
    const errorRateThreshold = props.errorRateThreshold ?? 0.05;
    const p95LatencySeconds = props.p95LatencySeconds ?? 0.5;
    const saturationThreshold = props.saturationThreshold ?? 0.9;
    const availabilityObjective = props.availabilityObjective ?? 0.999;
    // Field by field: setting one (`monitoring.latencyObjective.thresholdSeconds`) keeps the other's default.
    const latencyObjective = {
      thresholdSeconds: props.latencyObjective?.thresholdSeconds ?? 0.5,
      objective: props.latencyObjective?.objective ?? 0.99,
    };
    const dashboard = props.dashboard ?? {};
    const dashboardUid = dashboard.uid ?? (namespace !== undefined ? `${namespace}-${app.name}` : app.name);

    requireDnsLabel('app.name', app.name, 50, '"web"');
    const labels = appLabels({ name: app.name, partOf: props.partOf ?? app.name, component: 'monitoring' });
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    const resolvedMetrics = problems.attempt(() => resolveRequestMetrics(props.metrics));
    problems.check(
      () => requireExtraLabels('monitoringLabels', monitoringLabels, labels, '{ release: "kube-prometheus-stack" }'),
      () => requireRunbookBaseUrl('runbookBaseUrl', runbookBaseUrl),
      () => {
        if (!/^[1-9][0-9]*(s|m)$/.test(scrapeInterval)) {
          throw new Error(`scrapeInterval: must be a whole number of seconds or minutes, got "${scrapeInterval}"; e.g. "30s"`);
        }
      },
      () => requireRatio('errorRateThreshold', errorRateThreshold, '0.05 for 5%'),
      () => requireRatio('saturationThreshold', saturationThreshold, '0.9 for 90%'),
      () => {
        if (!Number.isFinite(p95LatencySeconds) || p95LatencySeconds <= 0) {
          throw new Error(`p95LatencySeconds: must be a positive number of seconds, got ${p95LatencySeconds}; e.g. 0.5`);
        }
      },
      ...(props.databasePool !== undefined
        ? [
            () => requireMetricName('databasePool.inUse', props.databasePool?.inUse as string, '"db_client_connections_usage"'),
            () => requireMetricName('databasePool.max', props.databasePool?.max as string, '"db_client_connections_max"'),
            () => requireRatio('databasePool.threshold', props.databasePool?.threshold ?? 0.8, '0.8 for 80%'),
          ]
        : []),
      () => requireSloObjective('availabilityObjective', availabilityObjective),
      () => requireLatencyObjective('latencyObjective', latencyObjective),
      () => {
        if (dashboard.uid === undefined && dashboardUid.length > 40) {
          throw new Error(
            `dashboard.uid: the default "<namespace>-<app>" exceeds the 40 characters Grafana allows, got "${dashboardUid}"; ` +
              `set dashboard.uid, e.g. "${app.name}-prod"`,
          );
        }
      },
    );
    problems.throwIfAny();
    // Defined once no check refused.
    const metrics = resolvedMetrics as ResolvedRequestMetrics;

    const query = new AppQueries(app, namespace, metrics);
    this.appName = app.name;
    this.metrics = metrics;
    this.scrapeInterval = scrapeInterval;
    this.queries = query;
    const slo = sloRules({
      name: app.name,
      objective: availabilityObjective,
      latency: latencyObjective,
      selector: query.live,
      labels: namespace !== undefined ? { namespace } : {},
      metrics: props.metrics,
      runbookBaseUrl,
    });
    const appAlerts = withRunbooks(
      appAlertRules(app, query, { errorRateThreshold, p95LatencySeconds, saturationThreshold, databasePool: props.databasePool }),
      runbookBaseUrl,
    );
    this.alertRules = [...appAlerts, ...slo.alertRules];

    const metadata = (name: string): CustomResourceMetadata => ({ name, labels: { ...labels, ...monitoringLabels } });
    this.serviceMonitor = serviceMonitor(this, 'service-monitor', metadata(app.name), {
      // Both Services carry the same app labels; nothing else in the namespace carries this name.
      // The live and preview Services only: together they hold every pod of both colors exactly once (color
      // Services select the same pods again).
      selector: {
        matchLabels: { 'app.kubernetes.io/name': app.name, 'app.kubernetes.io/managed-by': 'cutover' },
        matchExpressions: [{ key: LABEL_SERVICE_ROLE, operator: 'In', values: ['live', 'preview'] }],
      },
      endpoints: [
        {
          port: app.metricsPortName ?? METRICS_PORT_NAME,
          path: '/metrics',
          interval: scrapeInterval,
          relabelings: [
            { sourceLabels: [podLabelMeta(LABEL_COLOR)], targetLabel: 'color', action: ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE },
            {
              sourceLabels: [podLabelMeta('app.kubernetes.io/version')],
              targetLabel: 'version',
              action: ServiceMonitorSpecEndpointsRelabelingsAction.REPLACE,
            },
          ],
        },
      ],
    });
    this.rules = prometheusRule(this, 'alerts', metadata(`${app.name}-alerts`), {
      groups: [
        { name: `${app.name}.app`, rules: appAlerts },
        // Recording rules first: within a group, the alerts read what this same evaluation recorded.
        { name: `${app.name}.slo`, rules: [...slo.recordingRules, ...slo.alertRules] },
      ],
    });
    this.dashboard = new GrafanaDashboard(this, 'dashboard', {
      name: `${app.name}-dashboard`,
      uid: dashboardUid,
      title: namespace !== undefined ? `${app.name} (${namespace})` : app.name,
      description: 'Blue and green side by side: traffic, errors, latency and saturation per color, and which color is live.',
      tags: ['cutover', app.name],
      labels,
      sidecarLabels: dashboard.sidecarLabels,
      annotations: dashboard.annotations,
      panels: dashboardPanels(query),
    });
  }

  /**
   * PromQL of the requests the pods of `color` served over `window`, live or not (both Services' targets): one
   * series labelled `color`, or none when Prometheus holds no request series of that color.
   */
  public requestCountQuery(color: Color, window: string): string {
    requirePromDuration('window', window);
    return `sum by (color) (increase(${this.metrics.requestsTotal}${promSelector(this.colorMatchers(color))}[${window}]))`;
  }

  /**
   * PromQL of the share of the requests to `color` that failed over `window`, by the metric and status codes of
   * the error-rate alerts: 0 when none failed (the error series may not exist at all), NaN when no request was
   * served in the window, no series when Prometheus holds no request series of that color.
   */
  public errorRatioQuery(color: Color, window: string): string {
    requirePromDuration('window', window);
    const all = this.colorMatchers(color);
    const errors = { ...all, [this.metrics.statusCodeLabel]: `=~${this.metrics.errorStatusCodes}` };
    const total = this.queries.requestRate(all, 'color', window);
    return `(${this.queries.requestRate(errors, 'color', window)} or ${total} * 0) / ${total}`;
  }

  /**
   * PromQL of a latency quantile (e.g. 0.95) of the requests to `color` over `window`, in seconds, from the histogram
   * of the latency alert: NaN when no request was served in the window, no series without any bucket series.
   */
  public latencyQuantileQuery(color: Color, quantile: number, window: string): string {
    requirePromDuration('window', window);
    if (!Number.isFinite(quantile) || quantile <= 0 || quantile >= 1) {
      throw new Error(`quantile: must be between 0 and 1 (exclusive), got ${quantile}; e.g. 0.95 for p95`);
    }
    return this.queries.latency(quantile, this.colorMatchers(color), 'color', window);
  }

  /** Every target of one color, through either Service. */
  private colorMatchers(color: Color): Record<string, string | undefined> {
    if (!isColor(color)) {
      throw new Error(`color: must be "blue" or "green", got ${JSON.stringify(color)}; pass app.activeColor or app.idleColor`);
    }
    return { ...this.queries.both, color };
  }
}

/**
 * Checks a PromQL range duration of one unit (`30s`, `5m`, `1h`, `1d`) and returns it in seconds.
 * @throws naming `key` when `value` is not one
 */
export function requirePromDuration(key: string, value: string): number {
  const match = typeof value === 'string' ? /^([1-9][0-9]*)(s|m|h|d)$/.exec(value) : null;
  if (match === null) {
    throw new Error(`${key}: must be a PromQL duration of whole seconds, minutes, hours or days, got ${JSON.stringify(value)}; e.g. "5m"`);
  }
  return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
}

/** PromQL building blocks for one app's metrics, scraped through its two Services. */
class AppQueries {
  /** Matchers of the live Service's targets. */
  public readonly live: Readonly<Record<string, string | undefined>>;
  /** Matchers of the preview Service's targets. */
  public readonly preview: Readonly<Record<string, string | undefined>>;
  /** Matchers of both Services' targets: every pod of both colors. */
  public readonly both: Readonly<Record<string, string | undefined>>;
  /** Matchers of the app container in cAdvisor and kube-state-metrics series, which know pods but not Services. */
  public readonly container: Readonly<Record<string, string | undefined>>;

  public constructor(
    private readonly app: IBlueGreenService,
    private readonly namespace: string | undefined,
    public readonly metrics: ResolvedRequestMetrics,
  ) {
    this.live = { namespace, service: app.liveService.name };
    this.preview = { namespace, service: app.previewService.name };
    this.both = { namespace, service: `=~${app.liveService.name}|${app.previewService.name}` };
    // Pods of a Deployment are named <deployment>-<pod-template-hash>-<suffix>; the Deployments are <app>-<color>.
    this.container = { namespace, pod: `=~${this.podPattern}`, container: app.containerName ?? APP_CONTAINER_NAME };
  }

  /** The app's pods of either color. */
  public get podPattern(): string {
    return `${this.app.name}-(${COLORS.join('|')})-[a-z0-9]+-[a-z0-9]+`;
  }

  /** Adds the `color` label, taken from the pod name, to series that have only `pod`. */
  public withColor(expr: string): string {
    return `label_replace(${expr}, "color", "$1", "pod", ${JSON.stringify(this.podPattern)})`;
  }

  /** Requests per second, summed by `by`. */
  public requestRate(matchers: Readonly<Record<string, string | undefined>>, by: string, window: string): string {
    return `sum by (${by}) (rate(${this.metrics.requestsTotal}${promSelector(matchers)}[${window}]))`;
  }

  /** Share of requests that failed. */
  public errorRatio(matchers: Readonly<Record<string, string | undefined>>, by: string, window: string): string {
    const errors = { ...matchers, [this.metrics.statusCodeLabel]: `=~${this.metrics.errorStatusCodes}` };
    return `${this.requestRate(errors, by, window)} / ${this.requestRate(matchers, by, window)}`;
  }

  /** A latency quantile in seconds. */
  public latency(quantile: number, matchers: Readonly<Record<string, string | undefined>>, by: string, window: string): string {
    return (
      `histogram_quantile(${quantile}, sum by (${by}, le) ` +
      `(rate(${this.metrics.requestDurationSeconds}_bucket${promSelector(matchers)}[${window}])))`
    );
  }

  /** Per pod, the share of its CPU limit in use. */
  public cpuSaturation(window: string): string {
    return (
      `sum by (namespace, pod) (rate(container_cpu_usage_seconds_total${promSelector(this.container)}[${window}])) / ` +
      `sum by (namespace, pod) (kube_pod_container_resource_limits${promSelector({ ...this.container, resource: 'cpu' })})`
    );
  }

  /** Per pod, the share of its memory limit in use (working set: what the OOM killer counts). */
  public memorySaturation(): string {
    return (
      `sum by (namespace, pod) (container_memory_working_set_bytes${promSelector(this.container)}) / ` +
      `sum by (namespace, pod) (kube_pod_container_resource_limits${promSelector({ ...this.container, resource: 'memory' })})`
    );
  }

  /** The namespace as a static alert label, for alerts whose expression has no series to take it from. */
  public get namespaceLabel(): Record<string, string> {
    return this.namespace !== undefined ? { namespace: this.namespace } : {};
  }
}

interface AppAlertThresholds {
  readonly errorRateThreshold: number;
  readonly p95LatencySeconds: number;
  readonly saturationThreshold: number;
  readonly databasePool?: DatabasePoolMetrics;
}

/** Restarts within 5 minutes above which a pod alerts. */
const RESTARTS_IN_5M = 3;

function appAlertRules(app: IBlueGreenService, query: AppQueries, thresholds: AppAlertThresholds): AlertRule[] {
  const by = 'namespace, service, color';
  const percent = (ratio: number): string => `${Number((ratio * 100).toPrecision(10))}%`;
  const restarts = `kube_pod_container_status_restarts_total${promSelector(query.container)}`;
  const rules: AlertRule[] = [
    {
      alert: 'AppHighErrorRate',
      expr: `${query.errorRatio(query.live, by, '5m')} > ${thresholds.errorRateThreshold}`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `More than ${percent(thresholds.errorRateThreshold)} of the requests to the live ${app.name} ({{ $labels.color }}) fail.`,
        description: "{{ $value | humanizePercentage }} of the live color's requests failed over 5 minutes; users see the errors.",
      },
    },
    {
      alert: 'AppPreviewHighErrorRate',
      expr: `${query.errorRatio(query.preview, by, '5m')} > ${thresholds.errorRateThreshold}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `More than ${percent(thresholds.errorRateThreshold)} of the requests to the idle ${app.name} ({{ $labels.color }}) fail.`,
        description: "{{ $value | humanizePercentage }} of the preview Service's requests failed over 5 minutes; do not cut over to this color.",
      },
    },
    {
      alert: 'AppUnresponsive',
      // absent() of the filtered series also covers a live Service without any endpoint.
      expr: `absent(up${promSelector(query.live)} == 1)`,
      for: '2m',
      labels: { severity: 'critical', ...query.namespaceLabel, service: app.liveService.name },
      annotations: {
        summary: `No pod behind the live Service ${app.liveService.name} answers.`,
        description: 'Prometheus has scraped no live pod successfully for 2 minutes: the API is down or unreachable.',
      },
    },
    {
      alert: 'AppTargetDown',
      expr: `up${promSelector(query.both)} == 0`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Pod {{ $labels.pod }} ({{ $labels.color }}, Service {{ $labels.service }}) does not answer its metrics endpoint.`,
        description: 'The pod is running but Prometheus cannot scrape it; it is probably hung or overloaded.',
      },
    },
    {
      alert: 'AppHighLatency',
      expr: `${query.latency(0.95, query.live, by, '5m')} > ${thresholds.p95LatencySeconds}`,
      for: '10m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `p95 latency of the live ${app.name} ({{ $labels.color }}) is above ${thresholds.p95LatencySeconds} s.`,
        description: 'The slowest 5% of requests took {{ $value | humanizeDuration }} or longer over 5 minutes.',
      },
    },
    {
      alert: 'AppCpuNearLimit',
      expr: `${query.withColor(query.cpuSaturation('5m'))} > ${thresholds.saturationThreshold}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Pod {{ $labels.pod }} ({{ $labels.color }}) uses more than ${percent(thresholds.saturationThreshold)} of its CPU limit.`,
        description: 'The container is throttled at its limit, which shows as latency; the HPA should be adding pods.',
      },
    },
    {
      alert: 'AppMemoryNearLimit',
      expr: `${query.withColor(query.memorySaturation())} > ${thresholds.saturationThreshold}`,
      for: '15m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Pod {{ $labels.pod }} ({{ $labels.color }}) uses more than ${percent(thresholds.saturationThreshold)} of its memory limit.`,
        description: 'At the limit the container is OOM-killed and restarts.',
      },
    },
    {
      alert: 'AppPodRestarting',
      // The exact count seen in the window: increase() would extrapolate 3 restarts to more than 3.
      expr: `${query.withColor(`sum by (namespace, pod) (max_over_time(${restarts}[5m]) - min_over_time(${restarts}[5m]))`)} > ${RESTARTS_IN_5M}`,
      for: '0s',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Pod {{ $labels.pod }} ({{ $labels.color }}) restarted more than ${RESTARTS_IN_5M} times in 5 minutes.`,
        description: 'The container keeps crashing or failing its liveness probe: {{ $value }} restarts in 5 minutes.',
      },
    },
  ];
  const pool = thresholds.databasePool;
  if (pool !== undefined) {
    const threshold = pool.threshold ?? 0.8;
    const poolBy = 'namespace, service, color, pod';
    rules.push({
      alert: 'AppDatabasePoolSaturated',
      expr:
        `sum by (${poolBy}) (${pool.inUse}${promSelector(query.both)}) / ` +
        `sum by (${poolBy}) (${pool.max}${promSelector(query.both)}) > ${threshold}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Pod {{ $labels.pod }} ({{ $labels.color }}) uses more than ${percent(threshold)} of its database connection pool.`,
        description: 'When the pool is exhausted requests wait for a connection and time out.',
      },
    });
  }
  return rules;
}

function dashboardPanels(query: AppQueries): DashboardPanel[] {
  const by = 'color';
  const window = '$__rate_interval';
  return [
    DashboardPanel.stat({
      title: 'Live color',
      description: 'The color whose pods the live Service selects: the one users reach.',
      queries: [{ expr: `count by (color) (up${promSelector(query.live)})`, legend: '{{color}}' }],
      textMode: 'name',
      width: 6,
      height: 4,
      seriesColors: SERIES_COLORS,
    }),
    DashboardPanel.stat({
      title: 'Pods answering',
      description: 'Pods per color whose metrics endpoint answers, live and preview.',
      queries: [{ expr: `sum by (color, service) (up${promSelector(query.both)})`, legend: '{{color}} ({{service}})' }],
      textMode: 'value_and_name',
      width: 18,
      height: 4,
      seriesColors: SERIES_COLORS,
    }),
    DashboardPanel.timeSeries({
      title: 'Request rate',
      description: 'Requests per second each color handles.',
      queries: [{ expr: query.requestRate(query.both, by, window), legend: '{{color}}' }],
      unit: 'reqps',
      min: 0,
      seriesColors: SERIES_COLORS,
    }),
    DashboardPanel.timeSeries({
      title: 'Error ratio',
      description: `Share of requests answered with a status code matching ${query.metrics.errorStatusCodes}.`,
      queries: [{ expr: query.errorRatio(query.both, by, window), legend: '{{color}}' }],
      unit: 'percentunit',
      min: 0,
      seriesColors: SERIES_COLORS,
    }),
    DashboardPanel.timeSeries({
      title: 'Latency p95 / p99',
      description: 'The time within which 95% and 99% of the requests were served.',
      queries: [
        { expr: query.latency(0.95, query.both, by, window), legend: '{{color}} p95' },
        { expr: query.latency(0.99, query.both, by, window), legend: '{{color}} p99' },
      ],
      unit: 's',
      min: 0,
      seriesColors: SERIES_COLORS,
    }),
    DashboardPanel.timeSeries({
      title: 'Saturation: CPU and memory of the busiest pod',
      description: 'The highest share of its CPU and memory limit any pod of the color uses.',
      queries: [
        { expr: `max by (color) (${query.withColor(query.cpuSaturation(window))})`, legend: '{{color}} cpu' },
        { expr: `max by (color) (${query.withColor(query.memorySaturation())})`, legend: '{{color}} memory' },
      ],
      unit: 'percentunit',
      min: 0,
      seriesColors: SERIES_COLORS,
    }),
  ];
}

/** Kubernetes service discovery's name for a pod label: every character outside `[a-zA-Z0-9_]` becomes `_`. */
function podLabelMeta(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

function requireRatio(key: string, value: number, example: string): void {
  if (!Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new Error(`${key}: must be a ratio between 0 and 1 (exclusive), got ${value}; e.g. ${example}`);
  }
}
