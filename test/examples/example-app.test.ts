// The example app (examples/app): started in-process on ephemeral loopback ports. Waits (the drain, `/?sleep=`)
// go through a clock the test releases, so nothing here depends on how fast the machine is.
import { App, Chart } from 'cdk8s';
import { EventEmitter } from 'node:events';
import { Agent, IncomingHttpHeaders, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ExampleApp, METRIC_NAMES } from '../../examples/app/src/app';
import { AppConfig, configFromEnv } from '../../examples/app/src/config';
import { ProcessLike, main } from '../../examples/app/src/main';
import { BlueGreenApp, Manifest, MetricGate, MonitoringStack, renderChart } from '../../lib';
import { BASE_PROPS, find } from '../helpers';

const TEST_CONFIG: AppConfig = {
  host: '127.0.0.1',
  port: 0,
  metricsPort: 0,
  color: 'blue',
  version: '1.0.0',
  pod: 'web-blue-5d9c7b8f4-x2x7q',
  readyNever: false,
  errorRatio: 0,
  drainSeconds: 0,
  shutdownSeconds: 20,
  maxConnectionAgeSeconds: 0,
};

/** A `sleep` whose waits end only when the test releases them. */
class ManualClock {
  private readonly pending: { ms: number; release: () => void }[] = [];
  private readonly waiters: (() => void)[] = [];

  public readonly sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.pending.push({ ms, release: resolve });
      this.waiters.splice(0).forEach((wake) => wake());
    });

  /** Resolves once something sleeps for `ms`. */
  public async sleeping(ms: number): Promise<void> {
    while (!this.pending.some((entry) => entry.ms === ms)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Ends every wait of `ms` (every wait, without `ms`). */
  public release(ms?: number): void {
    for (const entry of this.pending.filter((candidate) => ms === undefined || candidate.ms === ms)) {
      this.pending.splice(this.pending.indexOf(entry), 1);
      entry.release();
    }
  }
}

interface Running {
  readonly app: ExampleApp;
  readonly clock: ManualClock;
  readonly logs: string[];
  /** `http://127.0.0.1:<port>` of the app. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly metricsUrl: string;
}

const running: Running[] = [];

afterEach(async () => {
  for (const { app, clock } of running.splice(0)) {
    const stopped = app.shutdown('test end');
    clock.release();
    await stopped;
  }
});

async function start(overrides: Partial<AppConfig> = {}): Promise<Running> {
  const clock = new ManualClock();
  const logs: string[] = [];
  const app = new ExampleApp({ ...TEST_CONFIG, ...overrides }, { log: (line) => logs.push(line), sleep: clock.sleep });
  const { port, metricsPort } = await app.listen();
  const started = { app, clock, logs, url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
  running.push(started);
  return started;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function fetchText(url: string, options: { method?: string; agent?: Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: options.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples of a text exposition, in order. */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) {
        throw new Error(`not a sample line: ${line}`);
      }
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]),
      );
      return { name: match[1], labels, value: match[3] === '+Inf' ? Infinity : Number(match[3]) };
    });
}

async function scrape(target: Running): Promise<Sample[]> {
  const answer = await fetchText(target.metricsUrl);
  expect(answer.status).toBe(200);
  return parseExposition(answer.body);
}

function requestCount(samples: readonly Sample[], code: string): number {
  return samples.find((s) => s.name === METRIC_NAMES.requestsTotal && s.labels.code === code && s.labels.method === 'GET')?.value ?? 0;
}

function valueOf(samples: readonly Sample[], name: string): number | undefined {
  return samples.find((s) => s.name === name)?.value;
}

describe('example app configuration', () => {
  it('takes its defaults from an empty environment', () => {
    expect(configFromEnv({}, 'vm-1')).toEqual({
      port: 8080,
      metricsPort: 9090,
      color: 'none',
      version: '0.0.0-dev',
      pod: 'vm-1',
      readyNever: false,
      errorRatio: 0,
      drainSeconds: 1,
      shutdownSeconds: 5,
      maxConnectionAgeSeconds: 0,
    });
  });

  it('reads every variable the Deployment and the images set', () => {
    const env = {
      HOST: '127.0.0.1',
      PORT: '8081',
      METRICS_PORT: '9091',
      CUTOVER_COLOR: 'green',
      APP_VERSION: '1.1.0',
      HOSTNAME: 'web-green-abc-def',
      READY_NEVER: 'true',
      ERROR_RATIO: '0.5',
      DRAIN_SECONDS: '2',
      SHUTDOWN_SECONDS: '10',
      MAX_CONNECTION_AGE_SECONDS: '1',
    };
    expect(configFromEnv(env, 'vm-1')).toEqual({
      host: '127.0.0.1',
      port: 8081,
      metricsPort: 9091,
      color: 'green',
      version: '1.1.0',
      pod: 'web-green-abc-def',
      readyNever: true,
      errorRatio: 0.5,
      drainSeconds: 2,
      shutdownSeconds: 10,
      maxConnectionAgeSeconds: 1,
    });
  });

  it('refuses an invalid environment, naming every bad variable', () => {
    expect(() =>
      configFromEnv({ PORT: '9090', ERROR_RATIO: '50%', READY_NEVER: 'yes', CUTOVER_COLOR: 'blue green', SHUTDOWN_SECONDS: '1', DRAIN_SECONDS: '1' }),
    ).toThrow(
      [
        'invalid environment:',
        '  METRICS_PORT: must differ from PORT, got 9090 for both; serve metrics on a port of their own, e.g. 9090',
        '  READY_NEVER: must be "true" or "false", got "yes"; set it to "true" for a release that never becomes ready',
        '  ERROR_RATIO: must be a share from 0 to 1, got "50%"; e.g. 0.5 for every second request to / answering 500',
        '  DRAIN_SECONDS: must be below SHUTDOWN_SECONDS (1), got 1; the drain happens within the shutdown deadline',
        '  CUTOVER_COLOR: must be 1 to 128 printable ASCII characters without spaces, got "blue green"; e.g. "none"',
      ].join('\n'),
    );
  });

  it('refuses a port out of range', () => {
    expect(() => configFromEnv({ PORT: '70000' })).toThrow('PORT: must be a TCP port from 0 to 65535, got "70000"; e.g. 8080');
  });
});

describe('example app requests', () => {
  it('answers / with its color and version in headers and its color, version and pod in the body', async () => {
    const { url } = await start();
    const answer = await fetchText(`${url}/`);
    expect(answer.status).toBe(200);
    expect(answer.headers['x-cutover-color']).toBe('blue');
    expect(answer.headers['x-cutover-version']).toBe('1.0.0');
    expect(answer.headers['content-type']).toBe('application/json');
    expect(JSON.parse(answer.body)).toEqual({ color: 'blue', version: '1.0.0', pod: 'web-blue-5d9c7b8f4-x2x7q' });
  });

  it('answers HEAD / with the same headers and no body', async () => {
    const { url } = await start();
    const answer = await fetchText(`${url}/`, { method: 'HEAD' });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-cutover-color']).toBe('blue');
    expect(answer.body).toBe('');
  });

  it('is ready and healthy once it listens', async () => {
    const { url, app } = await start();
    expect(app.ready).toBe(true);
    expect(await fetchText(`${url}/ready`)).toMatchObject({ status: 200, body: 'ready\n' });
    expect(await fetchText(`${url}/health`)).toMatchObject({ status: 200, body: 'ok\n' });
  });

  it('answers 404 for unknown paths and 405 for methods other than GET and HEAD', async () => {
    const { url } = await start();
    expect((await fetchText(`${url}/nope`)).status).toBe(404);
    const post = await fetchText(`${url}/`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('answers / after the requested ?sleep= seconds', async () => {
    const { url, clock } = await start();
    const pending = fetchText(`${url}/?sleep=2.5`);
    await clock.sleeping(2500);
    clock.release(2500);
    expect((await pending).status).toBe(200);
  });

  it('refuses a ?sleep= above the maximum', async () => {
    const { url } = await start();
    const answer = await fetchText(`${url}/?sleep=11`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'sleep: must be a number of seconds from 0 to 10, got "11"' });
  });

  it('is taken out of service and put back by POST /admin/unready and /admin/ready on the metrics port only', async () => {
    const target = await start();
    const admin = target.metricsUrl.replace(/\/metrics$/, '/admin');
    expect((await fetchText(`${admin}/unready`)).status).toBe(405);
    expect((await fetchText(`${target.url}/admin/unready`, { method: 'POST' })).status).toBe(405);
    expect((await fetchText(`${target.url}/ready`)).status).toBe(200);
    const out = await fetchText(`${admin}/unready`, { method: 'POST' });
    expect(out).toMatchObject({ status: 200, body: 'not ready: taken out of service (POST /admin/unready on the metrics port)\n' });
    expect(await fetchText(`${target.url}/ready`)).toMatchObject({
      status: 503,
      body: 'not ready: taken out of service (POST /admin/unready on the metrics port)\n',
    });
    // Liveness and the service itself are untouched: the pod is alive, only out of the Service's endpoints.
    expect((await fetchText(`${target.url}/health`)).status).toBe(200);
    expect((await fetchText(`${target.url}/`)).status).toBe(200);
    expect(valueOf(await scrape(target), 'app_ready')).toBe(0);
    expect((await fetchText(`${admin}/ready`, { method: 'POST' })).body).toBe('ready\n');
    expect((await fetchText(`${target.url}/ready`)).status).toBe(200);
    expect(valueOf(await scrape(target), 'app_ready')).toBe(1);
    expect(target.logs.map((line) => JSON.parse(line).msg)).toEqual(expect.arrayContaining(['taken out of service', 'back in service']));
  });

  it('serves metrics only on the metrics port', async () => {
    const target = await start();
    expect((await fetchText(`${target.url}/metrics`)).status).toBe(404);
    const answer = await fetchText(target.metricsUrl);
    expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});

describe('example app metrics', () => {
  it('declares the type of every metric it exposes', async () => {
    const target = await start();
    const text = (await fetchText(target.metricsUrl)).body;
    expect(text.split('\n').filter((line) => line.startsWith('# TYPE'))).toEqual([
      '# TYPE http_requests_total counter',
      '# TYPE http_request_duration_seconds histogram',
      '# TYPE http_requests_in_flight gauge',
      '# TYPE app_ready gauge',
    ]);
  });

  it('counts the requests it answers by status code and method', async () => {
    const target = await start();
    await fetchText(`${target.url}/`);
    await fetchText(`${target.url}/`);
    await fetchText(`${target.url}/missing`);
    const samples = await scrape(target);
    expect(requestCount(samples, '200')).toBe(2);
    expect(requestCount(samples, '404')).toBe(1);
    await fetchText(`${target.url}/`);
    expect(requestCount(await scrape(target), '200')).toBe(3);
  });

  it('does not count the probes', async () => {
    const target = await start();
    await fetchText(`${target.url}/ready`);
    await fetchText(`${target.url}/health`);
    const samples = await scrape(target);
    expect(samples.filter((s) => s.name === METRIC_NAMES.requestsTotal)).toEqual([]);
    expect(valueOf(samples, `${METRIC_NAMES.requestDurationSeconds}_count`)).toBe(0);
  });

  it('records the latency of every counted request in a cumulative histogram ending in +Inf', async () => {
    const target = await start();
    for (let i = 0; i < 3; i += 1) {
      await fetchText(`${target.url}/`);
    }
    const samples = await scrape(target);
    const buckets = samples.filter((s) => s.name === `${METRIC_NAMES.requestDurationSeconds}_bucket`);
    expect(buckets.map((s) => s.labels.le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    const counts = buckets.map((s) => s.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[counts.length - 1]).toBe(3);
    expect(valueOf(samples, `${METRIC_NAMES.requestDurationSeconds}_count`)).toBe(3);
    expect(valueOf(samples, `${METRIC_NAMES.requestDurationSeconds}_sum`)).toBeGreaterThan(0);
  });

  it('reports ready as a gauge', async () => {
    const target = await start();
    expect(valueOf(await scrape(target), METRIC_NAMES.ready)).toBe(1);
  });
});

describe('example app variants', () => {
  it('ERROR_RATIO=0.5 answers every second request to / with 500, counted by its status code', async () => {
    const target = await start({ errorRatio: 0.5 });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      statuses.push((await fetchText(`${target.url}/`)).status);
    }
    expect(statuses).toEqual([200, 500, 200, 500, 200, 500]);
    const samples = await scrape(target);
    expect(requestCount(samples, '200')).toBe(3);
    expect(requestCount(samples, '500')).toBe(3);
  });

  it('ERROR_RATIO=1 fails every request to / but keeps its probes passing', async () => {
    const target = await start({ errorRatio: 1 });
    const failed = await fetchText(`${target.url}/`);
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body)).toMatchObject({ error: 'injected failure (ERROR_RATIO=1)', color: 'blue' });
    expect((await fetchText(`${target.url}/ready`)).status).toBe(200);
  });

  it('READY_NEVER answers 503 on /ready while / still answers', async () => {
    const target = await start({ readyNever: true });
    expect(await fetchText(`${target.url}/ready`)).toMatchObject({ status: 503, body: 'not ready: READY_NEVER is set\n' });
    expect((await fetchText(`${target.url}/`)).status).toBe(200);
    expect((await fetchText(`${target.url}/health`)).status).toBe(200);
    expect(valueOf(await scrape(target), METRIC_NAMES.ready)).toBe(0);
  });
});

describe('example app keep-alive connections', () => {
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('keeps a keep-alive connection open for as long as the client likes by default', async () => {
    const target = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    expect((await fetchText(`${target.url}/`, { agent })).headers.connection).toBe('keep-alive');
    await pause(20);
    expect((await fetchText(`${target.url}/`, { agent })).headers.connection).toBe('keep-alive');
    agent.destroy();
  });

  it('closes a connection older than MAX_CONNECTION_AGE_SECONDS after its next response, so clients re-balance', async () => {
    const target = await start({ maxConnectionAgeSeconds: 0.01 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await fetchText(`${target.url}/`, { agent });
    expect(first.status).toBe(200);
    // setTimeout waits at least this long, however fast the machine: the connection is then older than 10 ms.
    await pause(20);
    const aged = await fetchText(`${target.url}/`, { agent });
    expect(aged.status).toBe(200);
    expect(aged.headers.connection).toBe('close');
    agent.destroy();
  });
});

describe('example app shutdown', () => {
  it('stops being ready at once and keeps serving, with Connection: close, during the drain', async () => {
    const target = await start({ drainSeconds: 3 });
    const agent = new Agent({ keepAlive: true });
    expect((await fetchText(`${target.url}/`, { agent })).headers.connection).toBe('keep-alive');
    const stopped = target.app.shutdown('SIGTERM');
    await target.clock.sleeping(3000);
    expect(await fetchText(`${target.url}/ready`, { agent })).toMatchObject({ status: 503, body: 'not ready: shutting down\n' });
    const during = await fetchText(`${target.url}/`, { agent });
    expect(during.status).toBe(200);
    expect(during.headers.connection).toBe('close');
    target.clock.release(3000);
    expect((await stopped).forced).toBe(false);
    agent.destroy();
  });

  it('finishes a request in flight at SIGTERM before it stops', async () => {
    const target = await start();
    const slow = fetchText(`${target.url}/?sleep=4`);
    await target.clock.sleeping(4000);
    const stopped = target.app.shutdown('SIGTERM');
    target.clock.release(4000);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect((await stopped).forced).toBe(false);
    await expect(fetchText(`${target.url}/`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('closes idle keep-alive connections instead of waiting for them to time out', async () => {
    const target = await start({ shutdownSeconds: 600 });
    const agent = new Agent({ keepAlive: true });
    await fetchText(`${target.url}/`, { agent });
    await fetchText(target.metricsUrl, { agent });
    // Either connection left open would hold the shutdown for the 65 s keep-alive timeout, beyond the test timeout.
    expect((await target.app.shutdown('SIGTERM')).forced).toBe(false);
    agent.destroy();
  });

  it('cuts the requests still in flight at the shutdown deadline', async () => {
    const target = await start({ shutdownSeconds: 0.2 });
    const stuck = fetchText(`${target.url}/?sleep=10`);
    await target.clock.sleeping(10_000);
    expect((await target.app.shutdown('SIGTERM')).forced).toBe(true);
    await expect(stuck).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('stops listening at the shutdown deadline even when the drain has not ended', async () => {
    const target = await start({ drainSeconds: 1, shutdownSeconds: 0.2 });
    expect((await target.app.shutdown('SIGTERM')).forced).toBe(true);
    await expect(fetchText(`${target.url}/`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('returns the same shutdown when signalled twice', async () => {
    const target = await start();
    expect(target.app.shutdown('SIGTERM')).toBe(target.app.shutdown('SIGINT'));
  });

  it('logs one line when it starts and one when it stops', async () => {
    const target = await start();
    await target.app.shutdown('SIGTERM');
    expect(target.logs.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ msg: 'started', color: 'blue', version: '1.0.0', readyNever: false, errorRatio: 0 }),
      expect.objectContaining({ msg: 'stopped', reason: 'SIGTERM', forced: false }),
    ]);
  });
});

/** A stand-in for `process`: records what main writes and how it exits; the test emits the signals. */
class FakeProcess extends EventEmitter implements ProcessLike {
  public readonly stdoutLines: string[] = [];
  public stderrText = '';
  public readonly exited: Promise<number>;
  /** Resolves with the first line written to standard output. */
  public readonly firstLine: Promise<string>;
  private resolveExit: (code: number) => void = () => undefined;
  private resolveFirstLine: (line: string) => void = () => undefined;
  public readonly stdout = {
    write: (text: string) => {
      this.stdoutLines.push(...text.split('\n').filter((line) => line !== ''));
      this.resolveFirstLine(this.stdoutLines[0]);
    },
  };
  public readonly stderr = { write: (text: string) => (this.stderrText += text) };

  public constructor(public readonly env: Readonly<Record<string, string | undefined>>) {
    super();
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.firstLine = new Promise((resolve) => (this.resolveFirstLine = resolve));
  }

  public exit(code: number): void {
    this.resolveExit(code);
  }
}

describe('example app entry point', () => {
  it('shuts down gracefully on SIGTERM and exits 0', async () => {
    const proc = new FakeProcess({ HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', DRAIN_SECONDS: '0', CUTOVER_COLOR: 'green' });
    const app = main(proc);
    expect(JSON.parse(await proc.firstLine)).toMatchObject({ msg: 'started', color: 'green' });
    expect(app?.ready).toBe(true);
    proc.emit('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(app?.ready).toBe(false);
    expect(proc.stdoutLines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['started', 'stopped']);
  });

  it('exits 2 with the reasons on an invalid environment', async () => {
    const proc = new FakeProcess({ ERROR_RATIO: '2' });
    expect(main(proc)).toBeUndefined();
    expect(await proc.exited).toBe(2);
    expect(proc.stderrText).toBe(
      'example-app: invalid environment:\n  ERROR_RATIO: must be a share from 0 to 1, got "2"; e.g. 0.5 for every second request to / answering ' +
        '500\n',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Drift between the app and the product's monitoring: every series the rules, the dashboard and the metric gate
// read from the app must be one the app exposes, with the labels they match on.
// ---------------------------------------------------------------------------------------------------------------

interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

interface Selector {
  readonly name: string;
  readonly matchers: readonly Matcher[];
}

/** PromQL words that are not metric names: aggregations, set operators, modifiers and the literals. */
const PROMQL_KEYWORDS = new Set([
  ...['sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group', 'limitk', 'limit_ratio'],
  ...['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan'],
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

interface ParsedExpr {
  readonly selectors: readonly Selector[];
  /** Labels of `by (...)`, `on (...)` and the like. */
  readonly grouping: readonly string[];
}

/** The series selectors and grouping labels of a PromQL expression (enough of PromQL for the rules rendered here). */
function parsePromQl(expr: string): ParsedExpr {
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  const token =
    /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\}|\[[^\]]*\]|\d[\d.]*(?:e[+-]?\d+)?[a-z]*|[a-zA-Z_:][a-zA-Z0-9_:]*|./gy;
  const all = [...expr.matchAll(token)].map((match) => match[0]);
  if (all.join('') !== expr) {
    throw new Error(`cannot tokenize ${expr}`);
  }
  const tokens = all.filter((text) => !/^\s+$/.test(text));
  for (let i = 0; i < tokens.length; i += 1) {
    const text = tokens[i];
    if (/^[a-zA-Z_:]/.test(text)) {
      const next = tokens[i + 1];
      if (GROUPING.has(text)) {
        if (next === '(') {
          let j = i + 2;
          for (; j < tokens.length && tokens[j] !== ')'; j += 1) {
            if (tokens[j] !== ',') {
              grouping.push(tokens[j]);
            }
          }
          i = j;
        }
      } else if (!PROMQL_KEYWORDS.has(text.toLowerCase()) && next !== '(') {
        const braces = next?.startsWith('{') === true ? next : undefined;
        selectors.push({ name: text, matchers: braces !== undefined ? parseMatchers(braces) : [] });
        if (braces !== undefined) {
          i += 1;
        }
      }
    } else if (text.startsWith('{')) {
      const matchers = parseMatchers(text);
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=');
      selectors.push({ name: name?.value ?? '', matchers: matchers.filter((m) => m !== name) });
    }
  }
  return { selectors, grouping };
}

function parseMatchers(braces: string): Matcher[] {
  return [...braces.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")/g)].map((match) => ({
    label: match[1],
    op: match[2] as Matcher['op'],
    value: JSON.parse(match[3]) as string,
  }));
}

/** Series that are not the app's: Prometheus' own, kube-state-metrics', cAdvisor's, and recorded ones (`level:metric:ops`). */
function isAppSeries(name: string): boolean {
  return name !== 'up' && !name.startsWith('kube_') && !name.startsWith('container_') && !name.includes(':');
}

/** Labels Prometheus puts on every series of a ServiceMonitor target (the Prometheus Operator's), besides relabelings. */
const OPERATOR_TARGET_LABELS = ['job', 'instance', 'namespace', 'service', 'pod', 'container', 'endpoint'];

function collectExprs(value: unknown, into: string[]): string[] {
  if (Array.isArray(value)) {
    value.forEach((item) => collectExprs(item, into));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'expr' && typeof item === 'string') {
        into.push(item);
      } else {
        collectExprs(item, into);
      }
    }
  }
  return into;
}

/** The PromQL the product runs on the app's series, and the labels its scrape adds to them. */
function productQueries(): { exprs: string[]; targetLabels: string[] } {
  const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
  const app = new BlueGreenApp(chart, 'app', BASE_PROPS);
  const monitoring = new MonitoringStack(chart, 'monitoring', { app });
  const gate = new MetricGate(chart, 'metric-gate', { app, monitoring, prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090' });
  const manifests: Manifest[] = renderChart(chart).map((r) => r.manifest);
  const rules = find(manifests, 'PrometheusRule', 'web-alerts');
  const dashboard = JSON.parse(find(manifests, 'ConfigMap', 'web-dashboard').data['web-dashboard.json'] as string) as unknown;
  const relabeled = (find(manifests, 'ServiceMonitor', 'web').spec.endpoints as { relabelings?: { targetLabel?: string }[] }[]).flatMap((endpoint) =>
    (endpoint.relabelings ?? []).flatMap((relabeling) => (relabeling.targetLabel !== undefined ? [relabeling.targetLabel] : [])),
  );
  return {
    exprs: [...collectExprs(rules.spec, []), ...collectExprs(dashboard, []), ...Object.values(gate.queries)],
    targetLabels: [...OPERATOR_TARGET_LABELS, ...relabeled],
  };
}

/** A scrape after requests that answered 200, 404 and 500, so every status code label value the rules match exists. */
async function exercisedScrape(): Promise<Sample[]> {
  const target = await start({ errorRatio: 0.5 });
  await fetchText(`${target.url}/`);
  await fetchText(`${target.url}/`);
  await fetchText(`${target.url}/missing`);
  return scrape(target);
}

function matches(matcher: Matcher, value: string | undefined): boolean {
  const text = value ?? '';
  const regex = (): RegExp => new RegExp(`^(?:${matcher.value})$`);
  return { '=': text === matcher.value, '!=': text !== matcher.value, '=~': regex().test(text), '!~': !regex().test(text) }[matcher.op];
}

describe('example app against the product monitoring', () => {
  it('exposes every app series the alerts, SLO rules, dashboard and metric gate read', async () => {
    const { exprs } = productQueries();
    const exposed = new Set((await exercisedScrape()).map((s) => s.name));
    const read = new Set(exprs.flatMap((expr) => parsePromQl(expr).selectors.map((s) => s.name)).filter(isAppSeries));
    expect([...read].sort()).toEqual(['http_request_duration_seconds_bucket', 'http_request_duration_seconds_count', 'http_requests_total']);
    expect([...read].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it('has a series for every matcher of the app labels the queries select on (code, le)', async () => {
    const { exprs, targetLabels } = productQueries();
    const samples = await exercisedScrape();
    const unmatched: string[] = [];
    const checked = new Set<string>();
    for (const expr of exprs) {
      for (const selector of parsePromQl(expr).selectors.filter((s) => isAppSeries(s.name))) {
        for (const matcher of selector.matchers.filter((m) => !targetLabels.includes(m.label))) {
          checked.add(matcher.label);
          if (!samples.some((s) => s.name === selector.name && matches(matcher, s.labels[matcher.label]))) {
            unmatched.push(`${selector.name}{${matcher.label}${matcher.op}${JSON.stringify(matcher.value)}} in ${expr}`);
          }
        }
      }
    }
    expect(unmatched).toEqual([]);
    expect([...checked].sort()).toEqual(['code', 'le']);
  });

  it('has every label the queries group the app series by, apart from the labels the scrape adds', async () => {
    const { exprs, targetLabels } = productQueries();
    const samples = await exercisedScrape();
    const missing: string[] = [];
    for (const expr of exprs) {
      const parsed = parsePromQl(expr);
      const appSeries = parsed.selectors.filter((s) => isAppSeries(s.name)).map((s) => s.name);
      if (appSeries.length === 0) {
        continue;
      }
      for (const label of parsed.grouping.filter((l) => !targetLabels.includes(l))) {
        if (!samples.some((s) => appSeries.includes(s.name) && s.labels[label] !== undefined)) {
          missing.push(`${label} in ${expr}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('exposes none of the labels the scrape sets, which Prometheus would rename to exported_*', async () => {
    const { targetLabels } = productQueries();
    const labels = new Set((await exercisedScrape()).flatMap((s) => Object.keys(s.labels)));
    expect(targetLabels.filter((label) => labels.has(label))).toEqual([]);
  });

  it('reads the same metric names the monitoring resolves by default', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
    const monitoring = new MonitoringStack(chart, 'monitoring', { app: new BlueGreenApp(chart, 'app', BASE_PROPS) });
    expect(monitoring.metrics).toMatchObject({
      requestsTotal: METRIC_NAMES.requestsTotal,
      requestDurationSeconds: METRIC_NAMES.requestDurationSeconds,
      statusCodeLabel: 'code',
    });
  });
});
