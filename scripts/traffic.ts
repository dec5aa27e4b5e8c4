// Real traffic through a Service while `pulumi up` switches it between colors: a load client that sends HTTP
// requests at a steady rate and records every response (or failure), and pure functions that turn the record into
// the numbers the end-to-end suite, the demo and the cluster benchmark report. Node built-ins only.
//
//   npx tsx scripts/traffic.ts --url http://10.96.0.12/ --seconds 10 --rate 50
import { Agent, IncomingHttpHeaders, IncomingMessage, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

/** The two colors the app reports in `X-Cutover-Color`. */
export type Color = 'blue' | 'green';

/** How a request reached the server: over the keep-alive pool, or over a connection of its own. */
export type ConnectionKind = 'keepalive' | 'new';

/**
 * Why a request did not count as served: `timeout` (no complete response within `timeoutMs`), `reset` (the
 * connection was reset or closed mid-exchange, what a bad drain causes), `refused` (nothing listens), `status` (a
 * non-2xx answer), `overload` (not sent: `maxInFlight` requests were already waiting), `other`.
 */
export type FailureKind = 'timeout' | 'reset' | 'refused' | 'status' | 'overload' | 'other';

/** Every failure kind, in the order reports list them. */
export const FAILURE_KINDS: readonly FailureKind[] = ['timeout', 'reset', 'refused', 'status', 'overload', 'other'];

/** What went wrong with one request. */
export interface TrafficFailure {
  readonly kind: FailureKind;
  readonly message: string;
}

/** One request and what came back. */
export interface TrafficSample {
  /**
   * When the request was sent (or skipped, for `overload`), in ms since the epoch, with a fraction: requests sent
   * in the same millisecond (catching up after a stall) keep their order.
   */
  readonly sentAt: number;
  /** From sending to the end of the response body, or to the failure; 0 for `overload`. */
  readonly latencyMs: number;
  readonly connection: ConnectionKind;
  /** The HTTP status, undefined when no response head arrived. */
  readonly status: number | undefined;
  /** `X-Cutover-Color`, undefined when missing or neither blue nor green. */
  readonly color: Color | undefined;
  /** `X-Cutover-Version`, undefined when missing. */
  readonly version: string | undefined;
  /** Undefined for a complete 2xx response. */
  readonly error: TrafficFailure | undefined;
}

/** Constructor props of a {@link LoadClient}. */
export interface LoadClientProps {
  /**
   * Where to send `GET` requests: an `http:` or `https:` URL on this machine (loopback, or a private address of the
   * local cluster such as a ClusterIP or pod IP), or, with `connectTo`, a URL whose host is a name (a route's host).
   */
  readonly url: string;
  /**
   * The address to connect to instead of resolving the URL's host, as curl's `--resolve` does: the host is still
   * sent as `Host` (and, over TLS, as the server name). Must be this machine, like `url`'s host without it.
   * @default - the URL's host
   */
  readonly connectTo?: string;
  /**
   * PEM certificate(s) an `https:` server's chain must lead to. The server's name is then not checked: the local
   * Gateway's one self-signed certificate serves every test host.
   * @default - the system's CAs, and the name checked
   */
  readonly ca?: string;
  /**
   * Requests per second, kept on an absolute timetable: a slow response never lowers the rate.
   * @default 100
   */
  readonly ratePerSecond?: number;
  /**
   * The share of requests sent over the keep-alive pool, between 0 and 1; the others each open a connection of
   * their own and close it (`Connection: close`). The two kinds are interleaved evenly.
   * @default 0.5
   */
  readonly keepAliveShare?: number;
  /**
   * How long a request may take, up to the end of its response body, before it counts as a `timeout`.
   * @default 2000
   */
  readonly timeoutMs?: number;
  /** After this long the client stops sending by itself; at most 15 minutes. */
  readonly maxDurationMs: number;
  /**
   * After this many requests the client stops sending by itself.
   * @default no limit besides maxDurationMs
   */
  readonly maxRequests?: number;
  /**
   * Requests waiting for an answer at once; a request due while this many wait is not sent and counts as an
   * `overload` failure, so a hanging server cannot pile up sockets.
   * @default 200
   */
  readonly maxInFlight?: number;
}

const MAX_DURATION_MS = 15 * 60_000;
const MAX_RATE_PER_SECOND = 1000;
const MAX_TIMEOUT_MS = 60_000;
const MAX_IN_FLIGHT = 1000;
/** Sockets of the keep-alive pool: few, so that each is reused many times during a run. */
const KEEPALIVE_SOCKETS = 4;

/**
 * Sends `GET` requests to one URL at a steady rate until `maxDurationMs` (or `maxRequests`) is reached or `stop()`
 * is called, and records every outcome. Nothing is retried: a request that fails is a failure.
 */
export class LoadClient {
  public readonly url: URL;
  public readonly ratePerSecond: number;
  public readonly keepAliveShare: number;
  public readonly timeoutMs: number;
  public readonly maxDurationMs: number;
  public readonly maxRequests: number | undefined;
  public readonly maxInFlight: number;

  private readonly agent: Agent;
  private readonly connectTo: string | undefined;
  private readonly ca: string | undefined;
  /** Indexed by send order; a slot fills when its request ends. */
  private readonly samples: TrafficSample[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly drained: Promise<void>;
  private resolveDrained: () => void = () => undefined;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private startedAt = 0;
  private due = 0;
  private tickTimer: NodeJS.Timeout | undefined;
  private boundTimer: NodeJS.Timeout | undefined;

  public constructor(props: LoadClientProps) {
    const problems = loadClientProblems(props);
    if (problems.length > 0) {
      throw new Error(problems.map((p) => `${p.key}: ${p.problem}`).join('\n'));
    }
    this.url = new URL(props.url);
    this.connectTo = props.connectTo;
    this.ca = props.ca;
    this.agent =
      this.url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: KEEPALIVE_SOCKETS, ...this.tls() })
        : new Agent({ keepAlive: true, maxSockets: KEEPALIVE_SOCKETS });
    this.ratePerSecond = props.ratePerSecond ?? 100;
    this.keepAliveShare = props.keepAliveShare ?? 0.5;
    this.timeoutMs = props.timeoutMs ?? 2000;
    this.maxDurationMs = props.maxDurationMs;
    this.maxRequests = props.maxRequests;
    this.maxInFlight = props.maxInFlight ?? 200;
    this.drained = new Promise((resolve) => {
      this.resolveDrained = resolve;
    });
  }

  /** Starts sending; the first request goes out now. */
  public start(): void {
    if (this.state !== 'idle') {
      throw new Error(`start(): the client is ${this.state}, got a second start(); create a new LoadClient per run`);
    }
    this.state = 'running';
    this.startedAt = performance.now();
    this.boundTimer = setTimeout(() => this.stopSending(), this.maxDurationMs);
    this.tick();
  }

  /** Stops sending now; resolves, once the requests still in flight have ended, to every sample in send order. */
  public async stop(): Promise<readonly TrafficSample[]> {
    this.stopSending();
    return this.finished();
  }

  /** The requests that have ended so far, in send order up to the first one still in flight. */
  public completed(): readonly TrafficSample[] {
    const done: TrafficSample[] = [];
    for (const sample of this.samples) {
      if (sample === undefined) {
        break;
      }
      done.push(sample);
    }
    return done;
  }

  /** Resolves, once the client has stopped by itself (or by `stop()`) and nothing is in flight, to every sample. */
  public async finished(): Promise<readonly TrafficSample[]> {
    await this.drained;
    return [...this.samples];
  }

  /** Sends every request that is due by the timetable, then sleeps until the next one. */
  private tick(): void {
    this.tickTimer = undefined;
    const intervalMs = 1000 / this.ratePerSecond;
    const now = performance.now() - this.startedAt;
    while (this.state === 'running' && this.due * intervalMs <= now) {
      this.send(this.due);
      this.due++;
      if (this.due >= (this.maxRequests ?? Infinity) || this.due * intervalMs >= this.maxDurationMs) {
        this.stopSending();
        return;
      }
    }
    if (this.state === 'running') {
      this.tickTimer = setTimeout(() => this.tick(), Math.max(0, this.due * intervalMs - now));
    }
  }

  private stopSending(): void {
    if (this.state === 'stopped') {
      return;
    }
    this.state = 'stopped';
    clearTimeout(this.tickTimer);
    clearTimeout(this.boundTimer);
    // Every request in flight ends within timeoutMs, so this settles in bounded time.
    void Promise.all([...this.inFlight]).then(() => {
      this.agent.destroy();
      this.resolveDrained();
    });
  }

  private send(index: number): void {
    const connection: ConnectionKind = Math.floor((index + 1) * this.keepAliveShare) > Math.floor(index * this.keepAliveShare) ? 'keepalive' : 'new';
    const sentAt = performance.timeOrigin + performance.now();
    if (this.inFlight.size >= this.maxInFlight) {
      const error: TrafficFailure = { kind: 'overload', message: `not sent: ${this.inFlight.size} requests already in flight (maxInFlight)` };
      this.samples[index] = { sentAt, latencyMs: 0, connection, status: undefined, color: undefined, version: undefined, error };
      return;
    }
    const exchange = this.exchange(connection).then((outcome) => {
      this.samples[index] = { sentAt, connection, ...outcome };
      this.inFlight.delete(exchange);
    });
    this.inFlight.add(exchange);
  }

  private tls(): ReturnType<typeof tlsOptions> {
    return tlsOptions(this.url, this.ca);
  }

  /** One request; never rejects, a failure is an outcome. */
  private exchange(connection: ConnectionKind): Promise<Omit<TrafficSample, 'sentAt' | 'connection'>> {
    return new Promise((resolve) => {
      const begun = performance.now();
      let head: { status: number; color: Color | undefined; version: string | undefined } | undefined;
      let settled = false;
      const settle = (error: TrafficFailure | undefined) => {
        if (settled) {
          return;
        }
        settled = true;
        clearTimeout(timer);
        const latencyMs = Math.round((performance.now() - begun) * 100) / 100;
        resolve({ latencyMs, status: head?.status, color: head?.color, version: head?.version, error });
      };
      const onResponse = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        head = { status, color: colorOf(res.headers), version: single(res.headers['x-cutover-version']) };
        const verdict = (): TrafficFailure | undefined => (status >= 200 && status < 300 ? undefined : { kind: 'status', message: `HTTP ${status}` });
        res.on('error', (error) => settle(failureOf(error)));
        res.on('end', () => settle(verdict()));
        res.on('close', () => settle(res.complete ? verdict() : { kind: 'reset', message: 'connection closed before the response body ended' }));
        res.resume();
      };
      const options = {
        method: 'GET',
        protocol: this.url.protocol,
        hostname: this.connectTo ?? this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: this.url.port,
        path: `${this.url.pathname}${this.url.search}`,
        agent: connection === 'keepalive' ? this.agent : false,
        headers: { host: this.url.host, ...(connection === 'new' ? { connection: 'close' } : {}) },
      } as const;
      const req = this.url.protocol === 'https:' ? httpsRequest({ ...options, ...this.tls() }, onResponse) : request(options, onResponse);
      const timer = setTimeout(() => {
        settle({ kind: 'timeout', message: `no complete response within ${this.timeoutMs} ms` });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (error) => settle(failureOf(error)));
      req.end();
    });
  }
}

/** The TLS options of an `https:` URL's requests, and of its keep-alive pool. */
function tlsOptions(url: URL, ca: string | undefined): { servername?: string; ca?: string; checkServerIdentity?: () => undefined } {
  const name = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    ...(isIP(name) === 0 ? { servername: name } : {}),
    ...(ca !== undefined ? { ca, checkServerIdentity: () => undefined } : {}),
  };
}

/** One problem with a prop, worded to follow `<prop>: `. */
interface PropProblem {
  readonly key: keyof LoadClientProps;
  readonly problem: string;
}

/**
 * What is wrong with `props`, every problem. Load only ever goes to this machine: the URL must be loopback or a
 * private address (the local cluster's ClusterIPs and pod IPs are private), so a typo cannot aim it at someone
 * else's host.
 */
function loadClientProblems(props: LoadClientProps): PropProblem[] {
  const problems: PropProblem[] = [];
  const range = (key: keyof LoadClientProps, value: number | undefined, check: (v: number) => boolean, wanted: string) => {
    if (value !== undefined && (!Number.isFinite(value) || !check(value))) {
      problems.push({ key, problem: `must be ${wanted}, got ${value}` });
    }
  };
  if (!URL.canParse(props.url)) {
    problems.push({ key: 'url', problem: `is not a URL, got "${props.url}"; write it like http://10.96.0.12/` });
  } else {
    const url = new URL(props.url);
    const host = props.connectTo ?? url.hostname.replace(/^\[(.*)\]$/, '$1');
    const key = props.connectTo !== undefined ? 'connectTo' : 'url';
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push({ key: 'url', problem: `must use http: or https:, got "${props.url}"` });
    } else if (!isLocalHost(host)) {
      problems.push({
        key,
        problem:
          `must point at this machine (loopback, or a private address of the local cluster such as a ClusterIP), got host "${host}"; ` +
          `load is only ever sent to hosts this project runs`,
      });
    }
  }
  if (props.maxDurationMs === undefined) {
    problems.push({ key: 'maxDurationMs', problem: 'is required, got undefined; every run must stop by itself' });
  }
  range('maxDurationMs', props.maxDurationMs, (v) => v > 0 && v <= MAX_DURATION_MS, `more than 0 and at most ${MAX_DURATION_MS} ms (15 minutes)`);
  range('ratePerSecond', props.ratePerSecond, (v) => v > 0 && v <= MAX_RATE_PER_SECOND, `more than 0 and at most ${MAX_RATE_PER_SECOND}`);
  range('keepAliveShare', props.keepAliveShare, (v) => v >= 0 && v <= 1, 'between 0 and 1');
  range('timeoutMs', props.timeoutMs, (v) => v > 0 && v <= MAX_TIMEOUT_MS, `more than 0 and at most ${MAX_TIMEOUT_MS} ms`);
  range('maxRequests', props.maxRequests, (v) => Number.isInteger(v) && v >= 1, 'a whole number of at least 1');
  range('maxInFlight', props.maxInFlight, (v) => Number.isInteger(v) && v >= 1 && v <= MAX_IN_FLIGHT, `a whole number from 1 to ${MAX_IN_FLIGHT}`);
  return problems;
}

function isLocalHost(host: string): boolean {
  if (host === 'localhost') {
    return true;
  }
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number);
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  // Loopback, or a unique local address (fc00::/7), what an IPv6 local cluster uses.
  return isIP(host) === 6 && (host === '::1' || /^f[cd][0-9a-f]{2}:/i.test(host));
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function colorOf(headers: IncomingHttpHeaders): Color | undefined {
  const color = single(headers['x-cutover-color']);
  return color === 'blue' || color === 'green' ? color : undefined;
}

function failureOf(error: NodeJS.ErrnoException): TrafficFailure {
  const code = error.code;
  const kind: FailureKind =
    code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : code === 'ECONNREFUSED' ? 'refused' : code === 'ETIMEDOUT' ? 'timeout' : 'other';
  return { kind, message: code !== undefined && !error.message.includes(code) ? `${code}: ${error.message}` : error.message };
}

/** A time window over `sentAt`, in ms since the epoch: `from` included, `to` excluded. */
export interface SampleWindow {
  readonly from?: number;
  readonly to?: number;
}

/** The numbers of a run, or of a window of it. */
export interface TrafficSummary {
  /** Requests due in the window, `overload` ones included. */
  readonly sent: number;
  /** Complete 2xx responses. */
  readonly ok: number;
  readonly failed: number;
  readonly failures: Readonly<Record<FailureKind, number>>;
  /** Complete 2xx responses by `X-Cutover-Color`; `none` when the header was missing. */
  readonly byColor: { readonly blue: number; readonly green: number; readonly none: number };
  /** Latency of complete 2xx responses, nearest rank; undefined without any. */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /**
   * Requests due per second, to two decimals: `sent / (to - from)` when the window has both ends, else the rate they
   * went out at, `(sent - 1) / (last - first sentAt)`; undefined when that is not defined.
   */
  readonly rps: number | undefined;
}

/** Counts, failures by kind, responses by color, latency percentiles and rate of the samples sent in `window`. */
export function summarize(samples: readonly TrafficSample[], window: SampleWindow = {}): TrafficSummary {
  const inWindow = samples.filter((s) => (window.from === undefined || s.sentAt >= window.from) && (window.to === undefined || s.sentAt < window.to));
  const ok = inWindow.filter((s) => s.error === undefined);
  const failures = Object.fromEntries(FAILURE_KINDS.map((kind) => [kind, 0])) as Record<FailureKind, number>;
  for (const s of inWindow) {
    if (s.error !== undefined) {
      failures[s.error.kind]++;
    }
  }
  const latencies = ok.map((s) => s.latencyMs).sort((a, b) => a - b);
  return {
    sent: inWindow.length,
    ok: ok.length,
    failed: inWindow.length - ok.length,
    failures,
    byColor: {
      blue: ok.filter((s) => s.color === 'blue').length,
      green: ok.filter((s) => s.color === 'green').length,
      none: ok.filter((s) => s.color === undefined).length,
    },
    p50Ms: nearestRank(latencies, 50),
    p99Ms: nearestRank(latencies, 99),
    rps: rate(inWindow, window),
  };
}

function rate(inWindow: readonly TrafficSample[], window: SampleWindow): number | undefined {
  const sent = sentRange(inWindow);
  const [count, spanMs] =
    window.from !== undefined && window.to !== undefined
      ? [inWindow.length, window.to - window.from]
      : [inWindow.length - 1, sent === undefined ? 0 : sent.last - sent.first];
  return spanMs > 0 ? Math.round((count / (spanMs / 1000)) * 100) / 100 : undefined;
}

function nearestRank(sorted: readonly number[], percentile: number): number | undefined {
  return sorted.length === 0 ? undefined : sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)];
}

/** When a color served: the `sentAt` of its first and last complete 2xx response. */
export interface ColorTimeline {
  readonly first: number;
  readonly last: number;
}

/** The first and last `sentAt` of a complete 2xx response from `color`; undefined when it never answered. */
export function colorTimeline(samples: readonly TrafficSample[], color: Color): ColorTimeline | undefined {
  return sentRange(samples.filter((s) => s.error === undefined && s.color === color));
}

/** The earliest and latest `sentAt`; a loop, since a long run has too many samples to spread into Math.min. */
function sentRange(samples: readonly TrafficSample[]): ColorTimeline | undefined {
  if (samples.length === 0) {
    return undefined;
  }
  let first = Infinity;
  let last = -Infinity;
  for (const s of samples) {
    first = Math.min(first, s.sentAt);
    last = Math.max(last, s.sentAt);
  }
  return { first, last };
}

/** Options of {@link switchTimes}. */
export interface SwitchTimesOptions {
  /** When the command that switches traffic started, in ms since the epoch; earlier samples are ignored. */
  readonly commandStartedAt: number;
  readonly from: Color;
  readonly to: Color;
  /**
   * Ignore samples sent from this moment on (ms since the epoch), when one run records several switches.
   * @default the end of the run
   */
  readonly until?: number;
}

/** How a switch looked from the client, in ms after the command started; undefined when it did not happen. */
export interface SwitchTimes {
  /** To the first complete 2xx response from the new color. */
  readonly firstToMs: number | undefined;
  /** To the last complete 2xx response from the old color. */
  readonly lastFromMs: number | undefined;
  /**
   * To the moment after which every request was answered by the new color: the first `sentAt` after the last
   * request that was not (an old-color response or any failure). Undefined when the last request was not.
   */
  readonly allToMs: number | undefined;
}

/** When the first response from `to`, the last from `from`, and only responses from `to` came, after the command started. */
export function switchTimes(samples: readonly TrafficSample[], options: SwitchTimesOptions): SwitchTimes {
  const after = samples
    .filter((s) => s.sentAt >= options.commandStartedAt && (options.until === undefined || s.sentAt < options.until))
    .sort((a, b) => a.sentAt - b.sentAt);
  const since = (at: number | undefined) => (at === undefined ? undefined : at - options.commandStartedAt);
  const isTo = (s: TrafficSample) => s.error === undefined && s.color === options.to;
  const lastOther = after.map((s) => !isTo(s)).lastIndexOf(true);
  return {
    firstToMs: since(colorTimeline(after, options.to)?.first),
    lastFromMs: since(colorTimeline(after, options.from)?.last),
    allToMs: since(after[lastOther + 1]?.sentAt),
  };
}

/** The requests sent in one interval of a run. */
export interface TrafficBucket {
  /** Start of the interval, in ms after the start of the first one. */
  readonly startMs: number;
  /** Complete 2xx responses by color; `none` when `X-Cutover-Color` was missing. */
  readonly blue: number;
  readonly green: number;
  readonly none: number;
  readonly failed: number;
}

/**
 * Counts per `intervalMs` interval by `sentAt`, empty intervals included, from `window.from` (default: the first
 * sample) up to `window.to` (default: through the last sample).
 */
export function buckets(samples: readonly TrafficSample[], intervalMs: number, window: SampleWindow = {}): TrafficBucket[] {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new Error(`intervalMs: must be a positive number of ms, got ${intervalMs}`);
  }
  const inWindow = samples.filter((s) => (window.from === undefined || s.sentAt >= window.from) && (window.to === undefined || s.sentAt < window.to));
  const sent = sentRange(inWindow);
  if (sent === undefined && (window.from === undefined || window.to === undefined)) {
    return [];
  }
  const origin = window.from ?? sent?.first ?? 0;
  const count =
    window.to !== undefined ? Math.ceil((window.to - origin) / intervalMs) : Math.floor(((sent?.last ?? origin) - origin) / intervalMs) + 1;
  const result = Array.from({ length: count }, (_, i) => ({ startMs: i * intervalMs, blue: 0, green: 0, none: 0, failed: 0 }));
  for (const s of inWindow) {
    const bucket = result[Math.floor((s.sentAt - origin) / intervalMs)];
    if (s.error !== undefined) {
      bucket.failed++;
    } else {
      bucket[s.color ?? 'none']++;
    }
  }
  return result;
}

const USAGE =
  'npx tsx scripts/traffic.ts --url <http://host/path> [--seconds 10] [--rate 100] [--keepalive-share 0.5] [--timeout-ms 2000] [--max-requests N]';

/** The CLI's flags, in the order problems are listed, and the prop each one sets. */
const FLAGS = [
  { flag: 'url', key: 'url' },
  { flag: 'seconds', key: 'maxDurationMs' },
  { flag: 'rate', key: 'ratePerSecond' },
  { flag: 'keepalive-share', key: 'keepAliveShare' },
  { flag: 'timeout-ms', key: 'timeoutMs' },
  { flag: 'max-requests', key: 'maxRequests' },
] as const;

/** Runs the CLI: the summary as one JSON line, or every problem with the arguments. */
async function main(argv: readonly string[]): Promise<string> {
  let values: Partial<Record<(typeof FLAGS)[number]['flag'], string>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: Object.fromEntries(FLAGS.map(({ flag }) => [flag, { type: 'string' }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\nusage: ${USAGE}`, { cause: error });
  }
  const problems = new Map<string, string>();
  const number = (flag: (typeof FLAGS)[number]['flag']): number | undefined => {
    const value = values[flag];
    if (value !== undefined && (value.trim() === '' || !Number.isFinite(Number(value)))) {
      problems.set(flag, 'must be a number, got "' + value + '"');
    }
    return value === undefined ? undefined : Number(value);
  };
  const seconds = number('seconds') ?? 10;
  if (values.url === undefined) {
    problems.set('url', 'is required, got nothing; pass the Service address, e.g. --url http://10.96.0.12/');
  }
  // --seconds is checked in the unit it was written in.
  if (!problems.has('seconds') && !(seconds > 0 && seconds <= MAX_DURATION_MS / 1000)) {
    problems.set('seconds', `must be more than 0 and at most ${MAX_DURATION_MS / 1000}, got ${values.seconds}`);
  }
  const props: LoadClientProps = {
    url: values.url ?? '',
    maxDurationMs: seconds * 1000,
    ratePerSecond: number('rate'),
    keepAliveShare: number('keepalive-share'),
    timeoutMs: number('timeout-ms'),
    maxRequests: number('max-requests'),
  };
  for (const { key, problem } of loadClientProblems(props)) {
    const flag = FLAGS.find((f) => f.key === key)?.flag;
    if (flag !== undefined && !problems.has(flag)) {
      problems.set(flag, problem);
    }
  }
  if (problems.size > 0) {
    const lines = FLAGS.filter(({ flag }) => problems.has(flag)).map(({ flag }) => `--${flag}: ${problems.get(flag)}`);
    throw new Error(`${lines.join('\n')}\nusage: ${USAGE}`);
  }
  const client = new LoadClient(props);
  process.once('SIGINT', () => void client.stop());
  client.start();
  return JSON.stringify(summarize(await client.finished()));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (line) => process.stdout.write(`${line}\n`),
    (error: Error) => {
      console.error(error.message);
      process.exitCode = 1;
    },
  );
}
