import { describe, expect, it } from 'vitest';
import { BURN_RATE_WINDOWS, SLO_WINDOWS, SloOptions, errorRatioRecord, resolveRequestMetrics, sloRules } from '../../lib';

const BASE: SloOptions = {
  name: 'web',
  objective: 0.999,
  latency: { thresholdSeconds: 0.5, objective: 0.99 },
  selector: { namespace: 'web-prod', service: 'web' },
  labels: { namespace: 'web-prod' },
};

const alertsByName = (options: SloOptions = BASE) => Object.fromEntries(sloRules(options).alertRules.map((rule) => [rule.alert, rule]));

describe('sloRules recording rules', () => {
  it('records the error ratio of each SLO over 5m, 30m, 1h, 6h and 3d', () => {
    const { recordingRules } = sloRules(BASE);
    expect(recordingRules.map((rule) => `${rule.labels?.slo} ${rule.record}`)).toEqual([
      'web-availability slo:sli_error:ratio_rate5m',
      'web-availability slo:sli_error:ratio_rate30m',
      'web-availability slo:sli_error:ratio_rate1h',
      'web-availability slo:sli_error:ratio_rate6h',
      'web-availability slo:sli_error:ratio_rate3d',
      'web-latency slo:sli_error:ratio_rate5m',
      'web-latency slo:sli_error:ratio_rate30m',
      'web-latency slo:sli_error:ratio_rate1h',
      'web-latency slo:sli_error:ratio_rate6h',
      'web-latency slo:sli_error:ratio_rate3d',
    ]);
  });

  it('counts availability errors as responses with a 5xx code among all requests', () => {
    expect(sloRules(BASE).recordingRules[2]).toEqual({
      record: 'slo:sli_error:ratio_rate1h',
      expr:
        'sum(rate(http_requests_total{namespace="web-prod",service="web",code=~"5.."}[1h])) / ' +
        'sum(rate(http_requests_total{namespace="web-prod",service="web"}[1h]))',
      labels: { slo: 'web-availability', namespace: 'web-prod' },
    });
  });

  it('counts latency errors as requests above the threshold bucket', () => {
    expect(sloRules(BASE).recordingRules[5]).toEqual({
      record: 'slo:sli_error:ratio_rate5m',
      expr:
        '1 - sum(rate(http_request_duration_seconds_bucket{namespace="web-prod",service="web",le=~"0\\\\.5"}[5m])) / ' +
        'sum(rate(http_request_duration_seconds_count{namespace="web-prod",service="web"}[5m]))',
      labels: { slo: 'web-latency', namespace: 'web-prod' },
    });
  });

  it('matches a whole-second threshold as written by either client library style (1 or 1.0)', () => {
    const { recordingRules } = sloRules({ ...BASE, latency: { thresholdSeconds: 1, objective: 0.99 } });
    expect(recordingRules[5].expr).toContain('le=~"1|1\\\\.0"');
  });

  it('uses the configured metric names, status code label and error codes', () => {
    const { recordingRules } = sloRules({
      ...BASE,
      metrics: {
        requestsTotal: 'api_requests_total',
        statusCodeLabel: 'status',
        errorStatusCodes: '5..|429',
        requestDurationSeconds: 'api_latency_seconds',
      },
    });
    expect(recordingRules[0].expr).toBe(
      'sum(rate(api_requests_total{namespace="web-prod",service="web",status=~"5..|429"}[5m])) / ' +
        'sum(rate(api_requests_total{namespace="web-prod",service="web"}[5m]))',
    );
    expect(recordingRules[5].expr).toContain('api_latency_seconds_bucket{');
    expect(recordingRules[5].expr).toContain('api_latency_seconds_count{');
  });

  it('renders only the availability SLO without a latency objective', () => {
    const { recordingRules, alertRules } = sloRules({ ...BASE, latency: undefined });
    expect(new Set(recordingRules.map((rule) => rule.labels?.slo))).toEqual(new Set(['web-availability']));
    expect(alertRules.map((rule) => rule.alert)).toEqual(['AvailabilityBudgetBurnFast', 'AvailabilityBudgetBurnSlow']);
  });
});

describe('sloRules alerts', () => {
  it('pages on fast burn and opens a ticket on slow burn, for each SLO', () => {
    expect(sloRules(BASE).alertRules.map((rule) => `${rule.alert} ${rule.labels.severity} ${rule.for}`)).toEqual([
      'AvailabilityBudgetBurnFast critical 2m',
      'AvailabilityBudgetBurnSlow warning 15m',
      'LatencyBudgetBurnFast critical 2m',
      'LatencyBudgetBurnSlow warning 15m',
    ]);
  });

  it('pages when 1h and 5m burn at 14.4x, or 6h and 30m at 6x, the budget of the objective', () => {
    const sel = '{slo="web-availability",namespace="web-prod"}';
    expect(alertsByName().AvailabilityBudgetBurnFast.expr).toBe(
      `(slo:sli_error:ratio_rate1h${sel} > (14.4 * (1 - 0.999)) and slo:sli_error:ratio_rate5m${sel} > (14.4 * (1 - 0.999))) or ` +
        `(slo:sli_error:ratio_rate6h${sel} > (6 * (1 - 0.999)) and slo:sli_error:ratio_rate30m${sel} > (6 * (1 - 0.999)))`,
    );
  });

  it('opens a ticket when 3d and 6h burn at 1x the budget', () => {
    const sel = '{slo="web-latency",namespace="web-prod"}';
    expect(alertsByName().LatencyBudgetBurnSlow.expr).toBe(
      `(slo:sli_error:ratio_rate3d${sel} > (1 * (1 - 0.99)) and slo:sli_error:ratio_rate6h${sel} > (1 * (1 - 0.99)))`,
    );
  });

  it('follows the burn-rate table of the SRE workbook', () => {
    expect(BURN_RATE_WINDOWS.map((pair) => `${pair.severity} ${pair.long}/${pair.short} ${pair.burnRate}`)).toEqual([
      'critical 1h/5m 14.4',
      'critical 6h/30m 6',
      'warning 3d/6h 1',
    ]);
    expect([...SLO_WINDOWS].sort()).toEqual([...new Set(BURN_RATE_WINDOWS.flatMap((pair) => [pair.long, pair.short]))].sort());
  });

  it('reads only series its own recording rules record', () => {
    const { recordingRules, alertRules } = sloRules(BASE);
    const recorded = new Set(recordingRules.map((rule) => `${rule.record}{slo="${rule.labels?.slo}",namespace="web-prod"}`));
    const read = alertRules.flatMap((rule) => rule.expr.match(/slo:[a-z_:0-9]+\{[^}]*\}/g) ?? []);
    expect(read).toHaveLength(12);
    expect(read.filter((series) => !recorded.has(series))).toEqual([]);
  });

  it('states the objective in the summary', () => {
    const alerts = alertsByName({ ...BASE, objective: 0.9995 });
    expect(alerts.AvailabilityBudgetBurnFast.annotations.summary).toBe(
      'web-availability: the error budget of "99.95% of requests succeed" burns fast (1h/5m at 14.4× or 6h/30m at 6×).',
    );
    expect(alerts.LatencyBudgetBurnSlow.annotations.summary).toBe(
      'web-latency: the error budget of "99% of requests within 0.5 s" burns steadily (3d/6h at 1×).',
    );
  });

  it('links each alert to its section of the runbook', () => {
    expect(Object.values(alertsByName()).map((rule) => rule.annotations.runbook_url)).toEqual([
      'docs/runbook.md#availabilitybudgetburnfast',
      'docs/runbook.md#availabilitybudgetburnslow',
      'docs/runbook.md#latencybudgetburnfast',
      'docs/runbook.md#latencybudgetburnslow',
    ]);
    expect(
      alertsByName({ ...BASE, runbookBaseUrl: 'https://git.example.com/acme/cutover/blob/main/docs/runbook.md' }).AvailabilityBudgetBurnSlow
        .annotations.runbook_url,
    ).toBe('https://git.example.com/acme/cutover/blob/main/docs/runbook.md#availabilitybudgetburnslow');
  });

  it('is pure: the same options give the same rules and are left unchanged', () => {
    const options = JSON.parse(JSON.stringify(BASE)) as SloOptions;
    expect(sloRules(options)).toEqual(sloRules(BASE));
    expect(options).toEqual(BASE);
  });

  it('names its records level:metric:operations', () => {
    expect(errorRatioRecord('3d')).toBe('slo:sli_error:ratio_rate3d');
  });
});

describe('sloRules validation', () => {
  const cases: Array<[string, Partial<SloOptions>, string]> = [
    ['an objective of 1', { objective: 1 }, 'objective: must be a ratio between 0 and 1 (exclusive), got 1; write 99.9% as 0.999'],
    ['an objective in percent', { objective: 99.9 }, 'objective: must be a ratio between 0 and 1 (exclusive), got 99.9; write 99.9% as 0.999'],
    ['an objective of 0', { objective: 0 }, 'objective: must be a ratio between 0 and 1 (exclusive), got 0; write 99.9% as 0.999'],
    [
      'an objective that is not a number',
      { objective: Number.NaN },
      'objective: must be a ratio between 0 and 1 (exclusive), got NaN; write 99.9% as 0.999',
    ],
    [
      'an objective whose page can never fire',
      { objective: 0.9 },
      'objective: the 14.4× burn-rate page could never fire with an error budget of 10%, got 0.9; use an objective above 0.9306, e.g. 0.999',
    ],
    [
      'a latency objective above 1',
      { latency: { thresholdSeconds: 0.5, objective: 1.5 } },
      'latency.objective: must be a ratio between 0 and 1 (exclusive), got 1.5; write 99% as 0.99',
    ],
    [
      'a latency threshold of 0',
      { latency: { thresholdSeconds: 0, objective: 0.99 } },
      'latency.thresholdSeconds: must be a positive number of seconds, got 0; use a bucket boundary of the duration histogram, e.g. 0.5',
    ],
    [
      'a name that is not a DNS label',
      { name: 'Web' },
      'name: must be a lowercase DNS label of at most 50 characters starting with a letter, got "Web"; e.g. "web"',
    ],
    [
      'a metric name with a dash',
      { metrics: { requestsTotal: 'http-requests-total' } },
      'metrics.requestsTotal: is not a Prometheus metric name, got "http-requests-total"; e.g. "http_requests_total"',
    ],
    [
      'a reserved label name',
      { metrics: { statusCodeLabel: '__name__' } },
      'metrics.statusCodeLabel: is not a Prometheus label name, got "__name__"; e.g. "code" or "status"',
    ],
    [
      'error codes that are not a code pattern',
      { metrics: { errorStatusCodes: '5xx' } },
      'metrics.errorStatusCodes: must be a regular expression of status codes (digits, ".", "|", "[]", "()"), got "5xx"; e.g. "5.." or "5..|429"',
    ],
    [
      'a label that would replace the slo label',
      { labels: { slo: 'other' } },
      'labels: "slo" cannot label the recorded series, got {"slo":"other"}; use Prometheus label names other than "slo", e.g. { namespace: ' +
        '"web-prod" }',
    ],
    [
      'a label name with a dot',
      { labels: { 'cutover.dev/env': 'prod' } },
      'labels: "cutover.dev/env" cannot label the recorded series, got {"cutover.dev/env":"prod"}; use Prometheus label names other than "slo", ' +
        'e.g. { namespace: "web-prod" }',
    ],
    [
      'a runbook URL with an anchor',
      { runbookBaseUrl: 'docs/runbook.md#slo' },
      'runbookBaseUrl: must be a URL or repository path without "#" or spaces, got "docs/runbook.md#slo"; e.g. "docs/runbook.md" or ' +
        '"https://git.example.com/acme/cutover/blob/main/docs/runbook.md"',
    ],
  ];

  it.each(cases)('rejects %s', (_, overrides, message) => {
    expect(() => sloRules({ ...BASE, ...overrides })).toThrow(message);
  });

  it('accepts the objectives of the specifications', () => {
    for (const objective of [0.999, 0.9995, 0.95]) {
      expect(sloRules({ ...BASE, objective }).alertRules).toHaveLength(4);
    }
  });

  it('applies the request metric defaults', () => {
    expect(resolveRequestMetrics()).toEqual({
      requestsTotal: 'http_requests_total',
      statusCodeLabel: 'code',
      errorStatusCodes: '5..',
      requestDurationSeconds: 'http_request_duration_seconds',
    });
  });
});
