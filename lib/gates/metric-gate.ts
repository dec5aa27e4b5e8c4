import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { IBlueGreenApp } from '../app/blue-green-app';
import { Color } from '../core/color';
import { ImageRef } from '../core/image';
import { Problems, requireInteger } from '../core/validation';
import { IMonitoringStack, requirePromDuration } from '../observability/monitoring-stack';
import { DEFAULT_GATE_IMAGE } from './cutover-gate';
import {
  GateJobOptions,
  SwitchGate,
  checkGateTiming,
  createGateJob,
  curlCommand,
  gateResources,
  gateTarget,
  requireGateJobName,
  requirePinnedImage,
  requireTimeoutBelowDeadline,
  resolveGateTiming,
  shellQuote,
} from './gate-job';

/** The thresholds of {@link MetricGate} and how it queries, apart from the app, its monitoring and Prometheus. */
export interface MetricGateOptions extends GateJobOptions {
  /**
   * Share of the requests to the target color (status code matching the monitoring's `errorStatusCodes`) above
   * which the gate fails, from 0 (any failed request fails the gate) to 1.
   * @default 0.01
   */
  readonly maxErrorRatio?: number;

  /**
   * p95 latency of the target color's requests, in seconds, above which the gate fails.
   * @default 0.5
   */
  readonly maxP95LatencySeconds?: number;

  /**
   * How far back the measurements look, as a PromQL duration (`30s`, `5m`, `1h`): at least two scrape intervals.
   * @see https://prometheus.io/docs/prometheus/latest/querying/basics/#float-literals-and-time-durations
   * @default '5m'
   */
  readonly window?: string;

  /**
   * Requests the target color must have served within `window` for the gate to judge it; with fewer it fails
   * ("not enough traffic"). `0` lets a color without traffic pass, its error ratio and latency unmeasured.
   * @default 1
   */
  readonly minRequests?: number;
}

/** Props of {@link MetricGate}. */
export interface MetricGateProps extends MetricGateOptions {
  /** The app whose active color (the one about to be, or being, live) is measured before its traffic objects change. */
  readonly app: IBlueGreenApp;

  /** The app's monitoring: the gate measures with the metric names and label matchers its alerts use. */
  readonly monitoring: IMonitoringStack;

  /**
   * Base URL of the Prometheus HTTP API, as the gate's pod reaches it, e.g. the Prometheus Operator's
   * `http://prometheus-operated.monitoring.svc:9090`. Credentials in the URL are refused (they would end up in the
   * manifests).
   * @see https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries
   */
  readonly prometheusUrl: string;
}

/**
 * The optional metric gate before a switch: traffic moves to a color only while Prometheus says it is healthy.
 *
 * For the app's active color `c` it renders `Job <app>-metric-gate-<c>`, after `c`'s Deployment, that asks
 * Prometheus (`prometheusUrl`) for three measurements of `c` over `window`, by the metric names of the app's
 * {@link MonitoringStack} and through both of its Services (so `c` is measured while it is still the preview):
 * - the requests `c` served: fewer than `minRequests` fails the gate (nothing to judge);
 * - the share of them that failed: above `maxErrorRatio` fails it;
 * - their p95 latency: above `maxP95LatencySeconds` fails it.
 *
 * It prints one line per measurement (`ok   error ratio of green over 5m: 0.12% (limit 1%)`) and a verdict line;
 * on failure the verdict, with every reason, is the last line. The output is also the pod's termination message
 * ({@link reportingScript}), which `pulumi up` prints when the Job fails and the stacks report when it passes.
 * The app's live Service, preview Service, routes (HTTPRoute; or Ingress and canary Ingress) wait for it ({@link guard} adds more).
 *
 * Like {@link CutoverGate}, its name carries the color, so it runs on every change of `activeColor`, and its
 * environment carries `c`'s image and pod-template hash, so a rollout of the live color re-runs it. Traffic for
 * the measurement is not generated here: send test traffic through the preview Service first, or order the gate
 * {@link after} the smoke test of a CutoverGate (whose requests count if the app counts its probe paths and a
 * scrape happened in between), or set `minRequests: 0`.
 *
 * Network: the gate's pods need Prometheus, `policies.allowPrometheusQuery(metricGate)` with a NetworkPolicySet
 * whose `monitoring` pods are that Prometheus (and ingress from this namespace if the monitoring namespace has
 * policies of its own).
 */
export class MetricGate extends SwitchGate {
  /** The color measured: the app's active color. */
  public readonly color: Color;
  /** Name of the Job, `<app>-metric-gate-<color>`. */
  public readonly name: string;
  /** The Prometheus base URL, without a trailing slash. */
  public readonly prometheusUrl: string;
  public readonly maxErrorRatio: number;
  public readonly maxP95LatencySeconds: number;
  public readonly window: string;
  public readonly minRequests: number;
  public readonly image: ImageRef;
  public readonly activeDeadlineSeconds: number;
  /** The PromQL the gate runs. */
  public readonly queries: MetricGateQueries;
  public readonly job: ApiObject;

  public constructor(scope: Construct, id: string, props: MetricGateProps) {
    super(scope, id, {
      what: 'the metric gate',
      afterExample: 'metricGate.after(gate)',
      podName: `${props.app.name}-metric-gate`,
      component: 'metric-gate',
    });
    const app = props.app;
    const monitoring = props.monitoring;
    const target = gateTarget(app);
    this.color = target.color;
    if (monitoring.appName !== app.name) {
      throw new Error(
        `monitoring: ${monitoring.node.path} monitors another app, got "${monitoring.appName}" for app "${app.name}"; ` +
          `pass the MonitoringStack of ${app.name}`,
      );
    }
    requireGateJobName(app.name, 'metric-gate', 'the metric gate');
    this.name = `${app.name}-metric-gate-${this.color}`;
    this.maxErrorRatio = props.maxErrorRatio ?? 0.01;
    this.maxP95LatencySeconds = props.maxP95LatencySeconds ?? 0.5;
    this.window = props.window ?? '5m';
    this.minRequests = props.minRequests ?? 1;
    const timing = resolveGateTiming(props, 10);
    this.activeDeadlineSeconds = timing.activeDeadlineSeconds;
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    const prometheusUrl = problems.attempt(() => requirePrometheusUrl('prometheusUrl', props.prometheusUrl));
    const image = problems.attempt(() => requirePinnedImage('image', props.image ?? DEFAULT_GATE_IMAGE));
    problems.check(
      () => {
        if (!Number.isFinite(this.maxErrorRatio) || this.maxErrorRatio < 0 || this.maxErrorRatio > 1) {
          throw new Error(`maxErrorRatio: must be a ratio from 0 to 1, got ${this.maxErrorRatio}; e.g. 0.01 for 1%`);
        }
      },
      () => {
        if (!Number.isFinite(this.maxP95LatencySeconds) || this.maxP95LatencySeconds <= 0) {
          throw new Error(`maxP95LatencySeconds: must be a positive number of seconds, got ${this.maxP95LatencySeconds}; e.g. 0.5`);
        }
      },
      () => {
        const windowSeconds = requirePromDuration('window', this.window);
        const scrapeSeconds = requirePromDuration('monitoring.scrapeInterval', monitoring.scrapeInterval);
        if (windowSeconds < 2 * scrapeSeconds) {
          throw new Error(
            `window: must span at least two scrapes (2 × scrapeInterval ${monitoring.scrapeInterval}), got "${this.window}"; ` +
              `rate() needs two samples in the window: e.g. "${Math.max(5, Math.ceil((4 * scrapeSeconds) / 60))}m"`,
          );
        }
      },
      () => requireInteger('minRequests', this.minRequests, 0),
    );
    checkGateTiming(problems, timing);
    problems.throwIfAny();
    // Defined once no check refused.
    this.prometheusUrl = prometheusUrl as string;
    this.image = image as ImageRef;
    requireTimeoutBelowDeadline(timing);
    const resources = gateResources(props);
    this.queries = {
      requests: monitoring.requestCountQuery(this.color, this.window),
      errorRatio: monitoring.errorRatioQuery(this.color, this.window),
      p95Latency: monitoring.latencyQuantileQuery(this.color, 0.95, this.window),
    };
    const script = metricGateScript({
      color: this.color,
      window: this.window,
      queries: this.queries,
      minRequests: this.minRequests,
      maxErrorRatio: this.maxErrorRatio,
      maxP95LatencySeconds: this.maxP95LatencySeconds,
      requestsMetric: monitoring.metrics.requestsTotal,
      latencyHistogram: monitoring.metrics.requestDurationSeconds,
      requestTimeoutSeconds: timing.requestTimeoutSeconds,
      retries: timing.retries,
    });

    this.job = createGateJob(this, {
      app,
      target,
      name: this.name,
      component: 'metric-gate',
      podName: `${app.name}-metric-gate`,
      containerName: 'metric-gate',
      image: this.image,
      script,
      env: [{ name: 'CUTOVER_PROMETHEUS_URL', value: this.prometheusUrl }],
      resources,
      timing,
    });
    this.job.node.addDependency(target.deployment);

    this.guard(...app.routingObjects);
  }
}

/** The PromQL of the three measurements of {@link MetricGate}, each an instant query of at most one series. */
export interface MetricGateQueries {
  /** Requests served by the target color over the window. */
  readonly requests: string;
  /** Share of those that failed. */
  readonly errorRatio: string;
  /** Their p95 latency, in seconds. */
  readonly p95Latency: string;
}

/** Input of {@link metricGateScript}. */
export interface MetricGateScriptOptions {
  /** The color measured, for the messages. */
  readonly color: Color;
  /** The PromQL window, for the messages. */
  readonly window: string;
  readonly queries: MetricGateQueries;
  readonly minRequests: number;
  readonly maxErrorRatio: number;
  readonly maxP95LatencySeconds: number;
  /** Name of the request counter, for the message when there is no data. */
  readonly requestsMetric: string;
  /** Name of the latency histogram, for the message when there is no data. */
  readonly latencyHistogram: string;
  /** curl `--max-time` of each attempt. */
  readonly requestTimeoutSeconds: number;
  /** curl `--retry`. */
  readonly retries: number;
}

/**
 * Reads a Prometheus API answer on standard input and prints `value <sample>` (the first sample of an instant
 * vector), `empty` (no series), `error <message>` (a status other than success) or nothing (not an API answer).
 */
const PARSE_AWK = [
  '    { body = body $0 " " }',
  '    END {',
  '      if (body !~ /"status" *: *"success"/) {',
  '        if (body !~ /"status" *: *"error"/) exit',
  '        message = "no error message"',
  '        if (match(body, /"error" *: *"([^"\\\\]|\\\\.)*"/)) { message = substr(body, RSTART, RLENGTH - 1); sub(/^"error" *: *"/, "", message) }',
  '        print "error " substr(message, 1, 300)',
  '      } else if (body ~ /"result" *: *\\[ *\\]/) print "empty"',
  '      else if (match(body, /"value" *: *\\[[^,]*, *"[^"]*"/)) { v = substr(body, RSTART, RLENGTH - 1); sub(/.*"/, "", v); print "value " v }',
  '    }',
].join('\n');

/**
 * The metric gate as a POSIX `sh` script that needs only `curl` (>= 7.52) and `awk`: it queries
 * `$CUTOVER_PROMETHEUS_URL/api/v1/query` for each measurement, prints one `ok   ...` or `FAIL ...` line per
 * measurement, then `metric gate passed ...`, or `metric gate failed for <color>: <every reason>` and exit status 1.
 * An unreachable Prometheus or an answer other than `"status":"success"` fails at once, naming the URL.
 * Every value from the options is a single-quoted shell word.
 */
export function metricGateScript(options: MetricGateScriptOptions): string {
  const curl = `${curlCommand(options)} -G --data-urlencode "query=$2" --write-out '%{http_code}' "$CUTOVER_PROMETHEUS_URL/api/v1/query"`;
  const over = `of ${options.color} over ${options.window}`;
  const q = (value: string | number): string => shellQuote(String(value));
  const hint = (series: string): string =>
    `; Prometheus has no ${series} of ${options.color} over ${options.window}: check the monitoring's metric names`;
  return [
    'set -u',
    'failures=',
    `pass() { printf 'ok   %s\\n' "$1"; }`,
    `fail() { printf 'FAIL %s\\n' "$1"; failures="\${failures:+$failures; }$1"; }`,
    '# verdict: the last line of the log, with every reason when the gate fails.',
    'verdict() {',
    '  if [ -n "$failures" ]; then',
    `    printf 'metric gate failed for %s: %s\\n' ${q(options.color)} "$failures"`,
    '    exit 1',
    '  fi',
    `  printf 'metric gate passed for %s over %s\\n' ${q(options.color)} ${q(options.window)}`,
    '  exit 0',
    '}',
    '# above A B: whether the number A is greater than the number B.',
    `above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }`,
    '# query WHAT PROMQL: $value becomes the sample of the instant vector PROMQL, empty when the vector is.',
    'query() {',
    `  out=$(${curl})`,
    '  code=$?',
    '  if [ "$code" -ne 0 ]; then',
    '    fail "$1: cannot query Prometheus at $CUTOVER_PROMETHEUS_URL (curl exit code $code); ' +
      'check prometheusUrl and that a NetworkPolicy lets the gate reach Prometheus"',
    '    verdict',
    '  fi',
    '  status=${out#"${out%???}"}',
    '  body=${out%???}',
    `  parsed=$(printf '%s' "$body" | awk '\n${PARSE_AWK}\n  ')`,
    '  case $parsed in',
    '    empty) value= ;;',
    '    value\\ *) value=${parsed#value } ;;',
    '    error\\ *) fail "$1: Prometheus at $CUTOVER_PROMETHEUS_URL answered HTTP $status: ${parsed#error }"; verdict ;;',
    '    *) fail "$1: unexpected answer from Prometheus at $CUTOVER_PROMETHEUS_URL (HTTP $status); check prometheusUrl"; verdict ;;',
    '  esac',
    '}',
    '# judge WHAT UNIT LIMIT LIMIT_TEXT HINT: compares $value (a ratio when UNIT is %, else in UNIT) with LIMIT.',
    '# No data passes only when the color served no request ($requests); otherwise HINT says what is missing.',
    'judge() {',
    '  case $value in',
    `    ''|NaN)`,
    '      if above "$requests" 0; then fail "$1: no data$5"; else pass "$1: no data (no requests)"; fi',
    '      return ;;',
    `    +Inf) shown='above the largest histogram bucket' ;;`,
    '    *[!0-9eE.+-]*) fail "$1: not a number, got $value"; return ;;',
    `    *) if [ "$2" = '%' ]; then shown=$(awk -v v="$value" 'BEGIN { printf "%.3g%%", v * 100 }'); ` +
      `else shown="$(awk -v v="$value" 'BEGIN { printf "%.3g", v }') $2"; fi ;;`,
    '  esac',
    '  if above "$value" "$3"; then fail "$1: $shown (limit $4)"; else pass "$1: $shown (limit $4)"; fi',
    '}',
    '',
    `query ${q(`requests to ${options.color} over ${options.window}`)} ${q(options.queries.requests)}`,
    `requests=$(awk -v v="\${value:-0}" 'BEGIN { if (v == "NaN") v = 0; printf "%.10g", v }')`,
    `shown=$(awk -v v="$requests" 'BEGIN { if (v >= 1) printf "%.0f", v; else printf "%.2g", v }')`,
    `if above ${q(options.minRequests)} "$requests"; then`,
    `  fail ${q(`not enough traffic to judge ${options.color}: `)}"$shown"${q(
      ` requests over ${options.window}, minRequests is ${options.minRequests}; send test traffic through the preview Service or set minRequests: 0`,
    )}`,
    '  verdict',
    'fi',
    `pass ${q(`requests to ${options.color} over ${options.window}: `)}"$shown"${q(` (minimum ${options.minRequests})`)}`,
    `query ${q(`error ratio ${over}`)} ${q(options.queries.errorRatio)}`,
    `judge ${q(`error ratio ${over}`)} '%' ` +
      `${q(options.maxErrorRatio)} ${q(percent(options.maxErrorRatio))} ${q(hint(`request counter ${options.requestsMetric}`))}`,
    `query ${q(`p95 latency ${over}`)} ${q(options.queries.p95Latency)}`,
    `judge ${q(`p95 latency ${over}`)} s ` +
      `${q(options.maxP95LatencySeconds)} ${q(`${options.maxP95LatencySeconds} s`)} ${q(hint(`histogram ${options.latencyHistogram}_bucket`))}`,
    'verdict',
    '',
  ].join('\n');
}

function percent(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(10))}%`;
}

/** Validates the Prometheus base URL and returns it without a trailing slash. */
function requirePrometheusUrl(key: string, value: string): string {
  const example = '"http://prometheus-operated.monitoring.svc:9090"';
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : undefined;
  if (
    url === undefined ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.hostname === '' ||
    !/^https?:\/\/[\x21-\x7e]+$/.test(value)
  ) {
    throw new Error(`${key}: must be an http or https URL of the Prometheus server, got ${JSON.stringify(value)}; e.g. ${example}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(
      `${key}: must not hold credentials, got a URL with a user name or password; ` +
        `they would be stored in the manifests: use ${example} inside the cluster`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error(
      `${key}: must be the base URL, without a query or fragment, got ${JSON.stringify(value)}; the gate appends /api/v1/query, e.g. ${example}`,
    );
  }
  return value.replace(/\/+$/, '');
}
