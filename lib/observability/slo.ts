import { AlertRule, AlertSeverity, DEFAULT_RUNBOOK_URL, RecordingRule, promSelector, requireRunbookBaseUrl, withRunbooks } from './prometheus-rule';
import { requireDnsLabel } from '../core/validation';

/** The metrics a web service exposes about the requests it handles. */
export interface RequestMetrics {
  /**
   * Counter of handled requests, labelled with the response status code.
   * @see https://prometheus.io/docs/practices/naming/
   * @default 'http_requests_total'
   */
  readonly requestsTotal?: string;

  /**
   * Label of `requestsTotal` that holds the status code.
   * @default 'code'
   */
  readonly statusCodeLabel?: string;

  /**
   * Regular expression (RE2, fully anchored) for the status codes that count as errors.
   * @default '5..'
   */
  readonly errorStatusCodes?: string;

  /**
   * Histogram of request durations in seconds: its `_bucket` (with `le`) and `_count` series are read.
   * @see https://prometheus.io/docs/practices/histograms/
   * @default 'http_request_duration_seconds'
   */
  readonly requestDurationSeconds?: string;
}

/** {@link RequestMetrics} with every default applied and validated. */
export interface ResolvedRequestMetrics {
  readonly requestsTotal: string;
  readonly statusCodeLabel: string;
  readonly errorStatusCodes: string;
  readonly requestDurationSeconds: string;
}

/** A latency objective: the share of requests that must be served within a threshold. */
export interface LatencyObjective {
  /**
   * Requests slower than this count against the objective. Must be a bucket boundary (`le`) of the duration
   * histogram: the default buckets of the Prometheus client libraries include 0.1, 0.25, 0.5, 1 and 2.5.
   */
  readonly thresholdSeconds: number;

  /** Share of requests that must be faster than `thresholdSeconds`, e.g. `0.99`. */
  readonly objective: number;
}

/** Input of {@link sloRules}. */
export interface SloOptions {
  /** Name of the service: the `slo` label is `<name>-availability` or `<name>-latency`. */
  readonly name: string;

  /** Availability objective: the share of requests that must not fail, e.g. `0.999` or `0.9995`. */
  readonly objective: number;

  /**
   * Latency objective, with the same burn-rate alerts as availability.
   * @default - no latency SLO
   */
  readonly latency?: LatencyObjective;

  /**
   * PromQL label matchers of the requests the SLO is about, e.g. `{ namespace: 'web-prod', service: 'web' }`
   * (a value starting with `=~` is a regular expression).
   */
  readonly selector: Readonly<Record<string, string | undefined>>;

  /**
   * Labels that tell this SLO apart from the same SLO of another environment in one Prometheus, e.g.
   * `{ namespace: 'web-prod' }`: added to every recorded series, and matched by the alerts.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;

  /** Names of the request metrics. */
  readonly metrics?: RequestMetrics;

  /**
   * Runbook the alerts link to (`annotations.runbook_url` is this plus `#<alert name in lowercase>`).
   * @default DEFAULT_RUNBOOK_URL
   */
  readonly runbookBaseUrl?: string;
}

/** What {@link sloRules} returns: recording rules first, then the alerts that read them. */
export interface SloRules {
  readonly recordingRules: readonly RecordingRule[];
  readonly alertRules: readonly AlertRule[];
}

/** A window an error ratio is recorded over. */
export type SloWindow = '5m' | '30m' | '1h' | '6h' | '3d';

/** Every window an error ratio is recorded over, shortest first. */
export const SLO_WINDOWS: readonly SloWindow[] = ['5m', '30m', '1h', '6h', '3d'];

/** A multi-window burn-rate condition: both windows burn the error budget at least `burnRate` times too fast. */
export interface BurnRateWindows {
  readonly long: SloWindow;
  readonly short: SloWindow;
  /** How many times faster than sustainable over 30 days the budget burns. */
  readonly burnRate: number;
  /** `critical` pages, `warning` opens a ticket. */
  readonly severity: AlertSeverity;
}

/**
 * The multi-window, multi-burn-rate alerts of the Google SRE workbook for a 30-day budget: page when 2% of it
 * goes in an hour (14.4×, 1h and 5m) or 5% in six hours (6×, 6h and 30m), open a ticket when 10% goes in three
 * days (1×, 3d and 6h). The short window makes an alert stop soon after the burning stops.
 * @see https://sre.google/workbook/alerting-on-slos/
 */
export const BURN_RATE_WINDOWS: readonly BurnRateWindows[] = [
  { long: '1h', short: '5m', burnRate: 14.4, severity: 'critical' },
  { long: '6h', short: '30m', burnRate: 6, severity: 'critical' },
  { long: '3d', short: '6h', burnRate: 1, severity: 'warning' },
];

/** How long a page or ticket condition must hold: one evaluation blip never pages, yet the short window still decides. */
const FOR_BY_SEVERITY: Readonly<Record<AlertSeverity, string>> = { critical: '2m', warning: '15m' };

/** Name of the recorded error ratio over `window`. */
export function errorRatioRecord(window: SloWindow): string {
  return `slo:sli_error:ratio_rate${window}`;
}

/** Applies the defaults of {@link RequestMetrics} and validates the names. */
export function resolveRequestMetrics(metrics: RequestMetrics = {}, key = 'metrics'): ResolvedRequestMetrics {
  const resolved: ResolvedRequestMetrics = {
    requestsTotal: metrics.requestsTotal ?? 'http_requests_total',
    statusCodeLabel: metrics.statusCodeLabel ?? 'code',
    errorStatusCodes: metrics.errorStatusCodes ?? '5..',
    requestDurationSeconds: metrics.requestDurationSeconds ?? 'http_request_duration_seconds',
  };
  requireMetricName(`${key}.requestsTotal`, resolved.requestsTotal, '"http_requests_total"');
  requireMetricName(`${key}.requestDurationSeconds`, resolved.requestDurationSeconds, '"http_request_duration_seconds"');
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(resolved.statusCodeLabel) || resolved.statusCodeLabel.startsWith('__')) {
    throw new Error(`${key}.statusCodeLabel: is not a Prometheus label name, got "${resolved.statusCodeLabel}"; e.g. "code" or "status"`);
  }
  if (!/^[0-9.|()[\]-]+$/.test(resolved.errorStatusCodes)) {
    throw new Error(
      `${key}.errorStatusCodes: must be a regular expression of status codes (digits, ".", "|", "[]", "()"), got "${resolved.errorStatusCodes}"; ` +
        'e.g. "5.." or "5..|429"',
    );
  }
  return resolved;
}

/**
 * Recording and alerting rules for an availability SLO and, optionally, a latency SLO, as multi-window,
 * multi-burn-rate alerts ({@link BURN_RATE_WINDOWS}). For each SLO the error ratio is recorded over every window
 * of {@link SLO_WINDOWS} as `slo:sli_error:ratio_rate<window>{slo="<name>-<sli>", ...labels}`; two alerts read
 * them: `<Sli>BudgetBurnFast` (critical: page) and `<Sli>BudgetBurnSlow` (warning: ticket).
 *
 * Availability errors are responses whose status code matches `errorStatusCodes`; latency errors are requests
 * slower than `thresholdSeconds`. Without traffic the ratios are undefined (0/0) and nothing fires.
 */
export function sloRules(options: SloOptions): SloRules {
  requireDnsLabel('name', options.name, 50, '"web"');
  requireSloObjective('objective', options.objective);
  if (options.latency !== undefined) {
    requireLatencyObjective('latency', options.latency);
  }
  const runbookBaseUrl = options.runbookBaseUrl ?? DEFAULT_RUNBOOK_URL;
  requireRunbookBaseUrl('runbookBaseUrl', runbookBaseUrl);
  const metrics = resolveRequestMetrics(options.metrics);
  const labels = options.labels ?? {};
  for (const name of Object.keys(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__') || name === 'slo') {
      throw new Error(
        `labels: "${name}" cannot label the recorded series, got ${JSON.stringify(labels)}; ` +
          'use Prometheus label names other than "slo", e.g. { namespace: "web-prod" }',
      );
    }
  }
  const requests = (suffix: string, extra: Readonly<Record<string, string>> = {}): string =>
    `${suffix}${promSelector({ ...options.selector, ...extra })}`;

  const availability: SliDefinition = {
    sli: 'availability',
    alertPrefix: 'Availability',
    objective: options.objective,
    what: `${percent(options.objective)} of requests succeed`,
    errorRatio: (window) =>
      `sum(rate(${requests(metrics.requestsTotal, { [metrics.statusCodeLabel]: `=~${metrics.errorStatusCodes}` })}[${window}])) / ` +
      `sum(rate(${requests(metrics.requestsTotal)}[${window}]))`,
  };
  const slis: SliDefinition[] = [availability];
  if (options.latency !== undefined) {
    const { thresholdSeconds, objective } = options.latency;
    slis.push({
      sli: 'latency',
      alertPrefix: 'Latency',
      objective,
      what: `${percent(objective)} of requests within ${thresholdSeconds} s`,
      errorRatio: (window) =>
        `1 - sum(rate(${requests(`${metrics.requestDurationSeconds}_bucket`, { le: `=~${bucketBoundary(thresholdSeconds)}` })}[${window}])) / ` +
        `sum(rate(${requests(`${metrics.requestDurationSeconds}_count`)}[${window}]))`,
    });
  }

  const recordingRules: RecordingRule[] = [];
  const alertRules: AlertRule[] = [];
  for (const sli of slis) {
    const sloLabels = { slo: `${options.name}-${sli.sli}`, ...labels };
    for (const window of SLO_WINDOWS) {
      recordingRules.push({ record: errorRatioRecord(window), expr: sli.errorRatio(window), labels: { ...sloLabels } });
    }
    alertRules.push(burnRateAlert(sli, sloLabels, 'critical', 'Fast'), burnRateAlert(sli, sloLabels, 'warning', 'Slow'));
  }
  return { recordingRules, alertRules: withRunbooks(alertRules, runbookBaseUrl) };
}

interface SliDefinition {
  readonly sli: 'availability' | 'latency';
  readonly alertPrefix: string;
  readonly objective: number;
  /** The objective, for humans. */
  readonly what: string;
  readonly errorRatio: (window: SloWindow) => string;
}

function burnRateAlert(sli: SliDefinition, sloLabels: Readonly<Record<string, string>>, severity: AlertSeverity, speed: 'Fast' | 'Slow'): AlertRule {
  const pairs = BURN_RATE_WINDOWS.filter((pair) => pair.severity === severity);
  const selector = promSelector(sloLabels);
  const budget = `(1 - ${sli.objective})`;
  const condition = (pair: BurnRateWindows): string =>
    `(${errorRatioRecord(pair.long)}${selector} > (${pair.burnRate} * ${budget}) and ` +
    `${errorRatioRecord(pair.short)}${selector} > (${pair.burnRate} * ${budget}))`;
  const windows = pairs.map((pair) => `${pair.long}/${pair.short} at ${pair.burnRate}×`).join(' or ');
  return {
    alert: `${sli.alertPrefix}BudgetBurn${speed}`,
    expr: pairs.map(condition).join(' or '),
    for: FOR_BY_SEVERITY[severity],
    labels: { severity },
    annotations: {
      summary: `${sloLabels.slo}: the error budget of "${sli.what}" burns ${speed === 'Fast' ? 'fast' : 'steadily'} (${windows}).`,
      description:
        `{{ $value | humanizePercentage }} of requests failed the objective over the long window; at this rate the 30-day budget of ` +
        `${percent(1 - sli.objective)} ${speed === 'Fast' ? 'is gone within days' : 'runs out before the 30 days are over'}.`,
    },
  };
}

/** The `le` values a client library may write for `seconds` (`1` or `1.0`), as an anchored regular expression. */
function bucketBoundary(seconds: number): string {
  const text = String(seconds).replace('.', '\\.');
  return Number.isInteger(seconds) ? `${text}|${text}\\.0` : text;
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(10))}%`;
}

/** Throws unless `objective` is an SLO objective the burn-rate alerts can work with, e.g. `0.999`. */
export function requireSloObjective(key: string, objective: number): void {
  requireObjective(key, objective, '0.999', '99.9%');
}

/** Throws unless `latency` has an objective the burn-rate alerts can work with and a positive threshold. */
export function requireLatencyObjective(key: string, latency: LatencyObjective): void {
  requireObjective(`${key}.objective`, latency.objective, '0.99', '99%');
  if (!Number.isFinite(latency.thresholdSeconds) || latency.thresholdSeconds <= 0) {
    throw new Error(
      `${key}.thresholdSeconds: must be a positive number of seconds, got ${latency.thresholdSeconds}; ` +
        'use a bucket boundary of the duration histogram, e.g. 0.5',
    );
  }
}

/**
 * An objective leaves an error budget of `1 - objective`; the page alert fires above 14.4 times that, which an
 * error ratio (at most 1) can only reach while the budget is below 1/14.4.
 */
function requireObjective(key: string, objective: number, example: string, examplePercent: string): void {
  const fastest = Math.max(...BURN_RATE_WINDOWS.map((pair) => pair.burnRate));
  const lowest = 1 - 1 / fastest;
  if (!Number.isFinite(objective) || objective <= 0 || objective >= 1) {
    throw new Error(`${key}: must be a ratio between 0 and 1 (exclusive), got ${objective}; write ${examplePercent} as ${example}`);
  }
  if (objective <= lowest) {
    throw new Error(
      `${key}: the ${fastest}× burn-rate page could never fire with an error budget of ${percent(1 - objective)}, got ${objective}; ` +
        `use an objective above ${Number(lowest.toFixed(4))}, e.g. ${example}`,
    );
  }
}

/** Throws unless `name` is a Prometheus metric name. */
export function requireMetricName(key: string, name: string, example: string): void {
  if (typeof name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
    throw new Error(`${key}: is not a Prometheus metric name, got ${JSON.stringify(name) ?? 'none'}; e.g. ${example}`);
  }
}
