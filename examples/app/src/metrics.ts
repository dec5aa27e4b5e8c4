/**
 * The few Prometheus metric types the example app needs, rendered in the text exposition format 0.0.4. A client
 * library would be one npm dependency more; the app has none at run time.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/** `Content-Type` of {@link Registry.render}. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Upper bounds (`le`) of the latency histogram, in seconds: the default buckets of the Prometheus client
 * libraries, which include the thresholds the product's SLO and alerts use by default (0.5 s).
 */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A metric that renders its own `# HELP`, `# TYPE` and sample lines. */
export interface Metric {
  readonly name: string;
  render(): string[];
}

type LabelValues = Readonly<Record<string, string>>;

/** A counter with a fixed set of label names; a series appears once it is first incremented. */
export class Counter implements Metric {
  private readonly series = new Map<string, { labels: LabelValues; value: number }>();

  public constructor(
    public readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[],
  ) {}

  public inc(labels: LabelValues, by = 1): void {
    const names = Object.keys(labels).sort();
    if (names.join(',') !== [...this.labelNames].sort().join(',')) {
      throw new Error(`${this.name}: takes the labels ${this.labelNames.join(', ')}, got ${names.join(', ') || 'none'}`);
    }
    const key = this.labelNames.map((name) => labels[name]).join('\u0000');
    const entry = this.series.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.series.set(key, entry);
  }

  public render(): string[] {
    const samples = [...this.series.values()].map(({ labels, value }) => sample(this.name, labels, value)).sort();
    return [...header(this.name, this.help, 'counter'), ...samples];
  }
}

/** A gauge without labels. */
export class Gauge implements Metric {
  private value = 0;

  public constructor(
    public readonly name: string,
    private readonly help: string,
  ) {}

  public set(value: number): void {
    this.value = value;
  }

  public add(by: number): void {
    this.value += by;
  }

  public render(): string[] {
    return [...header(this.name, this.help, 'gauge'), sample(this.name, {}, this.value)];
  }
}

/** A histogram without labels other than `le`: cumulative buckets, `+Inf`, `_sum` and `_count`. */
export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  public constructor(
    public readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {
    if (buckets.length === 0 || buckets.some((bound, index) => !Number.isFinite(bound) || (index > 0 && bound <= buckets[index - 1]))) {
      throw new Error(`${name}: buckets must be finite and strictly increasing, got ${JSON.stringify(buckets)}`);
    }
    this.counts = buckets.map(() => 0);
  }

  public observe(value: number): void {
    this.buckets.forEach((bound, index) => {
      if (value <= bound) {
        this.counts[index] += 1;
      }
    });
    this.sum += value;
    this.count += 1;
  }

  public render(): string[] {
    return [
      ...header(this.name, this.help, 'histogram'),
      ...this.buckets.map((bound, index) => sample(`${this.name}_bucket`, { le: formatNumber(bound) }, this.counts[index])),
      sample(`${this.name}_bucket`, { le: '+Inf' }, this.count),
      sample(`${this.name}_sum`, {}, this.sum),
      sample(`${this.name}_count`, {}, this.count),
    ];
  }
}

/** The metrics one scrape returns, in registration order. */
export class Registry {
  private readonly metrics: Metric[] = [];

  public register<T extends Metric>(metric: T): T {
    if (this.metrics.some((existing) => existing.name === metric.name)) {
      throw new Error(`${metric.name}: is registered twice`);
    }
    this.metrics.push(metric);
    return metric;
  }

  public render(): string {
    return this.metrics.flatMap((metric) => metric.render()).join('\n') + '\n';
  }
}

function header(name: string, help: string, type: string): string[] {
  return [`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`];
}

function sample(name: string, labels: LabelValues, value: number): string {
  const pairs = Object.entries(labels).map(([label, text]) => `${label}="${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatNumber(value)}`;
}

/** Prometheus' spelling of a sample value or bucket bound: `1` rather than `1.0`, `+Inf`, `NaN`. */
function formatNumber(value: number): string {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '+Inf' : '-Inf';
  }
  return String(value);
}
