import { execFile } from 'node:child_process';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FailureKind, LoadClient, LoadClientProps, TrafficSample, buckets, colorTimeline, summarize, switchTimes } from '../../scripts/traffic';

// The load client against real servers on 127.0.0.1 (ephemeral ports), each run bounded by maxRequests (exact
// counts) or a short maxDurationMs; then the pure functions over hand-made samples, with exact numbers.

const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'traffic.ts');

/** What a test server saw. */
interface TestServer {
  readonly url: string;
  /** Every request received, in arrival order, with the number of the connection it came over. */
  readonly requests: ReadonlyArray<{ readonly connectionHeader: string | undefined; readonly socket: number }>;
  /** Connections accepted. */
  readonly sockets: number;
}

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A server on 127.0.0.1; `handler` gets the request's number (from 0) and how many came before it on its socket. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number, onSocket: number) => void): Promise<TestServer> {
  const server = createServer();
  servers.push(server);
  const requests: Array<{ connectionHeader: string | undefined; socket: number }> = [];
  const perSocket = new Map<Socket, { id: number; requests: number }>();
  server.on('connection', (socket) => perSocket.set(socket, { id: perSocket.size, requests: 0 }));
  server.on('request', (req, res) => {
    const socket = perSocket.get(req.socket) ?? { id: -1, requests: 0 };
    requests.push({ connectionHeader: req.headers.connection, socket: socket.id });
    handler(req, res, requests.length - 1, socket.requests++);
  });
  return {
    url: await listen(server),
    requests,
    get sockets() {
      return perSocket.size;
    },
  };
}

/** A URL where nothing listens: a port the system just handed out and that was closed again. */
async function closedPort(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await close(server);
  return url;
}

/** Answers like the app: color and version headers, a JSON body. */
function answer(res: ServerResponse, color: string, version = '1.0.0', status = 200): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-cutover-color': color, 'x-cutover-version': version });
  res.end(JSON.stringify({ color, version, pod: `web-${color}-0` }));
}

async function run(props: LoadClientProps): Promise<readonly TrafficSample[]> {
  const client = new LoadClient(props);
  client.start();
  return client.finished();
}

describe('LoadClient against local servers', () => {
  it('counts every response with its color and version', async () => {
    const server = await serve((_req, res) => answer(res, 'blue', '1.2.3'));
    const samples = await run({ url: server.url, ratePerSecond: 50, maxDurationMs: 400 });
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBe(server.requests.length);
    expect(summarize(samples)).toMatchObject({
      sent: samples.length,
      ok: samples.length,
      failed: 0,
      byColor: { blue: samples.length, green: 0, none: 0 },
    });
    expect(new Set(samples.map((s) => `${s.status} ${s.color} ${s.version}`))).toEqual(new Set(['200 blue 1.2.3']));
  });

  it('completed() holds the requests that ended so far, in send order, stopping at the first one in flight', async () => {
    let held: ServerResponse | undefined;
    const server = await serve((_req, res, n) => (n === 2 ? (held = res) : answer(res, 'blue')));
    const client = new LoadClient({ url: server.url, ratePerSecond: 50, maxRequests: 5, maxDurationMs: 5000 });
    expect(client.completed()).toEqual([]);
    client.start();
    // Requests 0, 1, 3 and 4 are answered; request 2 waits: only 0 and 1 count as completed until it ends.
    while (server.requests.length < 5 || client.completed().length < 2) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(client.completed()).toHaveLength(2);
    answer(held as ServerResponse, 'green');
    const samples = await client.finished();
    expect(client.completed()).toEqual(samples);
    expect(samples.map((s) => s.color)).toEqual(['blue', 'blue', 'green', 'blue', 'blue']);
  });

  it('sends over both a reused keep-alive pool and a fresh connection per request, as the server sees it', async () => {
    const server = await serve((_req, res) => answer(res, 'blue'));
    const samples = await run({ url: server.url, ratePerSecond: 50, maxRequests: 20, maxDurationMs: 5000 });
    expect(samples.map((s) => s.connection).filter((c) => c === 'new')).toHaveLength(10);
    const closing = server.requests.filter((r) => r.connectionHeader === 'close');
    const keptAlive = server.requests.filter((r) => r.connectionHeader === 'keep-alive');
    expect([closing.length, keptAlive.length]).toEqual([10, 10]);
    // One socket per fresh-connection request; the keep-alive ones share at most a few.
    expect(new Set(closing.map((r) => r.socket)).size).toBe(10);
    expect(new Set(keptAlive.map((r) => r.socket)).size).toBeLessThanOrEqual(4);
    expect(server.sockets).toBeLessThan(20);
  });

  it('sees a color switch mid-run in the summary and in switchTimes', async () => {
    const server = await serve((_req, res, n) => answer(res, n < 10 ? 'blue' : 'green'));
    const samples = await run({ url: server.url, ratePerSecond: 50, maxRequests: 20, maxDurationMs: 5000 });
    expect(summarize(samples).byColor).toEqual({ blue: 10, green: 10, none: 0 });
    const commandStartedAt = samples[0].sentAt;
    const times = switchTimes(samples, { commandStartedAt, from: 'blue', to: 'green' });
    const sentAts = (color: string) => samples.filter((s) => s.color === color).map((s) => s.sentAt);
    expect(times.firstToMs).toBe(Math.min(...sentAts('green')) - commandStartedAt);
    expect(times.lastFromMs).toBe(Math.max(...sentAts('blue')) - commandStartedAt);
    expect(times.allToMs).toBeGreaterThanOrEqual(times.lastFromMs ?? NaN);
    expect(samples.filter((s) => s.sentAt >= commandStartedAt + (times.allToMs ?? NaN)).every((s) => s.color === 'green')).toBe(true);
  });

  it('counts a server that destroys every socket as reset failures, and retries nothing', async () => {
    const server = await serve((req) => req.socket.destroy());
    const samples = await run({ url: server.url, ratePerSecond: 50, maxRequests: 10, maxDurationMs: 5000 });
    expect(summarize(samples).failures.reset).toBe(10);
    expect(new Set(samples.map((s) => s.connection))).toEqual(new Set(['keepalive', 'new']));
    expect(server.requests).toHaveLength(10);
  });

  it('counts a reset on a reused keep-alive socket (a bad drain) as a failure, and retries nothing', async () => {
    // The first request on each socket is answered, the next one on the same socket is cut off.
    const server = await serve((req, res, _n, onSocket) => (onSocket === 0 ? answer(res, 'blue') : req.socket.destroy()));
    const samples = await run({ url: server.url, ratePerSecond: 50, keepAliveShare: 1, maxRequests: 8, maxDurationMs: 5000 });
    const summary = summarize(samples);
    expect(summary.failures.reset).toBeGreaterThanOrEqual(1);
    expect(summary.ok + summary.failures.reset).toBe(8);
    expect(server.requests).toHaveLength(8);
  });

  it('counts a server that never answers as timeouts', async () => {
    const server = await serve(() => undefined);
    const samples = await run({ url: server.url, ratePerSecond: 50, timeoutMs: 300, maxRequests: 4, maxDurationMs: 5000 });
    expect(summarize(samples).failures.timeout).toBe(4);
    expect(samples.map((s) => s.status)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('counts a closed port as refused', async () => {
    const samples = await run({ url: await closedPort(), ratePerSecond: 50, maxRequests: 4, maxDurationMs: 5000 });
    expect(summarize(samples).failures.refused).toBe(4);
  });

  it('counts a non-2xx answer as a status failure and keeps its headers', async () => {
    const server = await serve((_req, res) => answer(res, 'green', '2.0.0', 503));
    const samples = await run({ url: server.url, ratePerSecond: 50, maxRequests: 4, maxDurationMs: 5000 });
    expect(summarize(samples)).toMatchObject({ ok: 0, failures: { status: 4 }, byColor: { blue: 0, green: 0, none: 0 } });
    expect(samples[0]).toMatchObject({ status: 503, color: 'green', version: '2.0.0', error: { kind: 'status', message: 'HTTP 503' } });
  });

  it('does not send a request while maxInFlight wait, and counts it as overload', async () => {
    const server = await serve(() => undefined);
    const samples = await run({ url: server.url, ratePerSecond: 200, timeoutMs: 1000, maxInFlight: 2, maxRequests: 6, maxDurationMs: 5000 });
    const summary = summarize(samples);
    expect([summary.failures.timeout, summary.failures.overload]).toEqual([2, 4]);
    expect(server.requests).toHaveLength(2);
  });

  it('stops by itself at maxDurationMs', async () => {
    const server = await serve((_req, res) => answer(res, 'blue'));
    const samples = await run({ url: server.url, ratePerSecond: 50, maxDurationMs: 300 });
    // The timetable holds ceil(300 ms * 50/s) = 15 requests at most, however slow the machine.
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBeLessThanOrEqual(15);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.requests).toHaveLength(samples.length);
  });

  it('stops by itself after maxRequests', async () => {
    const server = await serve((_req, res) => answer(res, 'blue'));
    const samples = await run({ url: server.url, ratePerSecond: 100, maxRequests: 5, maxDurationMs: 60_000 });
    expect(samples).toHaveLength(5);
    expect(server.requests).toHaveLength(5);
  });

  it('stop() ends a run early and returns every sample in send order', async () => {
    const server = await serve((_req, res) => answer(res, 'blue'));
    const client = new LoadClient({ url: server.url, ratePerSecond: 50, maxDurationMs: 60_000 });
    client.start();
    while (server.requests.length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const samples = await client.stop();
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples.map((s) => s.sentAt)).toEqual([...samples.map((s) => s.sentAt)].sort((a, b) => a - b));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(samples.length);
  });

  it('refuses a second start()', async () => {
    const server = await serve((_req, res) => answer(res, 'blue'));
    const client = new LoadClient({ url: server.url, maxDurationMs: 1000 });
    client.start();
    expect(() => client.start()).toThrow('start(): the client is running, got a second start(); create a new LoadClient per run');
    return client.stop();
  });
});

describe('LoadClient props', () => {
  const url = 'http://127.0.0.1:9/';

  it('rejects a maxDurationMs over 15 minutes', () => {
    expect(() => new LoadClient({ url, maxDurationMs: 15 * 60_000 + 1 })).toThrow(
      'maxDurationMs: must be more than 0 and at most 900000 ms (15 minutes), got 900001',
    );
  });

  it('requires maxDurationMs', () => {
    expect(() => new LoadClient({ url } as LoadClientProps)).toThrow('maxDurationMs: is required, got undefined; every run must stop by itself');
  });

  it("sends only to this machine: loopback and the local cluster's private addresses", () => {
    for (const ok of [
      'http://127.0.0.1:8080/',
      'http://localhost/',
      'http://10.96.0.12/',
      'http://10.244.1.7:8080/healthz',
      'http://172.18.0.2/',
      'http://192.168.49.2/',
      'http://[::1]/',
      'http://[fd00:10:96::a]/',
    ]) {
      expect(() => new LoadClient({ url: ok, maxDurationMs: 1000 }), ok).not.toThrow();
    }
    expect(() => new LoadClient({ url: 'http://93.184.216.34/', maxDurationMs: 1000 })).toThrow(
      'url: must point at this machine (loopback, or a private address of the local cluster such as a ClusterIP), got host "93.184.216.34"; load ' +
        'is only ever sent to hosts this project runs',
    );
    for (const off of ['http://example.com/', 'http://172.32.0.1/', 'http://[2001:db8::1]/', 'http://[fd::1]/']) {
      expect(() => new LoadClient({ url: off, maxDurationMs: 1000 }), off).toThrow(/^url: must point at this machine/);
    }
  });

  it("connects to connectTo, sending the URL's host as Host, as a Gateway listener is reached by a route's host", async () => {
    const hosts: Array<string | undefined> = [];
    const server = await serve((req, res) => {
      hosts.push(req.headers.host);
      answer(res, 'green');
    });
    const port = new URL(server.url).port;
    const samples = await run({
      url: `http://web.shop.example.com:${port}/`,
      connectTo: '127.0.0.1',
      ratePerSecond: 50,
      maxRequests: 4,
      maxDurationMs: 5000,
    });
    expect(summarize(samples)).toMatchObject({ sent: 4, ok: 4, byColor: { green: 4 } });
    expect(new Set(hosts)).toEqual(new Set([`web.shop.example.com:${port}`]));
    // Only ever this machine: connectTo is held to the rule the URL's host is held to without it.
    expect(() => new LoadClient({ url: 'https://web.example.com/', connectTo: '93.184.216.34', maxDurationMs: 1000 })).toThrow(
      /^connectTo: must point at this machine/,
    );
    expect(() => new LoadClient({ url: 'https://web.example.com/', maxDurationMs: 1000 })).toThrow(/^url: must point at this machine/);
    expect(() => new LoadClient({ url: 'https://web.example.com:18443/', connectTo: '127.0.0.1', maxDurationMs: 1000 })).not.toThrow();
  });

  it('lists every problem at once', () => {
    expect(
      () =>
        new LoadClient({
          url: 'ftp://127.0.0.1/',
          maxDurationMs: 0,
          ratePerSecond: 5000,
          keepAliveShare: 1.5,
          timeoutMs: -1,
          maxRequests: 2.5,
          maxInFlight: 0,
        }),
    ).toThrow(
      [
        'url: must use http: or https:, got "ftp://127.0.0.1/"',
        'maxDurationMs: must be more than 0 and at most 900000 ms (15 minutes), got 0',
        'ratePerSecond: must be more than 0 and at most 1000, got 5000',
        'keepAliveShare: must be between 0 and 1, got 1.5',
        'timeoutMs: must be more than 0 and at most 60000 ms, got -1',
        'maxRequests: must be a whole number of at least 1, got 2.5',
        'maxInFlight: must be a whole number from 1 to 1000, got 0',
      ].join('\n'),
    );
  });

  it('resolves defaults once into public fields', () => {
    const client = new LoadClient({ url, maxDurationMs: 1000 });
    expect([client.ratePerSecond, client.keepAliveShare, client.timeoutMs, client.maxRequests, client.maxInFlight]).toEqual([
      100,
      0.5,
      2000,
      undefined,
      200,
    ]);
  });
});

describe('traffic CLI', () => {
  it('prints the summary of a run as one JSON line', async () => {
    const server = await serve((_req, res) => answer(res, 'green'));
    const { stdout } = await promisify(execFile)(TSX, [SCRIPT, '--url', server.url, '--seconds', '0.3', '--rate', '20']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]);
    expect(summary.sent).toBeGreaterThanOrEqual(1);
    expect(summary).toMatchObject({ sent: server.requests.length, ok: server.requests.length, byColor: { green: server.requests.length } });
  });

  it('names the flag the user wrote in a problem, and exits 1', async () => {
    const failed = await promisify(execFile)(TSX, [SCRIPT, '--url', 'http://8.8.8.8/', '--seconds', '2000', '--rate', 'fast']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect('code' in failed && failed.code).toBe(1);
    expect(failed.stderr.split('\n').slice(0, 3)).toEqual([
      '--url: must point at this machine (loopback, or a private address of the local cluster such as a ClusterIP), got host "8.8.8.8"; load is ' +
        'only ever sent to hosts this project runs',
      '--seconds: must be more than 0 and at most 900, got 2000',
      '--rate: must be a number, got "fast"',
    ]);
  });
});

/** A complete 2xx response from `color` (undefined: no color header). */
function served(sentAt: number, color: 'blue' | 'green' | undefined, latencyMs = 10): TrafficSample {
  return { sentAt, latencyMs, connection: 'keepalive', status: 200, color, version: '1.0.0', error: undefined };
}

function failure(sentAt: number, kind: FailureKind, color: 'blue' | 'green' | undefined = undefined): TrafficSample {
  return {
    sentAt,
    latencyMs: 1,
    connection: 'new',
    status: kind === 'status' ? 503 : undefined,
    color,
    version: undefined,
    error: { kind, message: kind },
  };
}

const RUN: readonly TrafficSample[] = [
  served(1000, 'blue', 10),
  served(1100, 'blue', 20),
  served(1200, 'green', 30),
  failure(1300, 'reset'),
  served(1400, 'green', 40),
  served(1500, undefined, 50),
  failure(1600, 'status', 'green'),
  failure(1700, 'overload'),
  served(1800, 'green', 5),
];

describe('summarize', () => {
  it('counts requests, failures by kind and 2xx responses by color, with nearest-rank percentiles', () => {
    expect(summarize(RUN)).toEqual({
      sent: 9,
      ok: 6,
      failed: 3,
      failures: { timeout: 0, reset: 1, refused: 0, status: 1, overload: 1, other: 0 },
      byColor: { blue: 2, green: 3, none: 1 },
      p50Ms: 20,
      p99Ms: 50,
      rps: 10,
    });
  });

  it("summarizes only the samples sent in [from, to), at the window's rate", () => {
    expect(summarize(RUN, { from: 1100, to: 1500 })).toEqual({
      sent: 4,
      ok: 3,
      failed: 1,
      failures: { timeout: 0, reset: 1, refused: 0, status: 0, overload: 0, other: 0 },
      byColor: { blue: 1, green: 2, none: 0 },
      p50Ms: 30,
      p99Ms: 40,
      rps: 10,
    });
  });

  it('leaves percentiles and rate undefined without responses', () => {
    expect(summarize([failure(1000, 'timeout')])).toMatchObject({ sent: 1, ok: 0, failed: 1, p50Ms: undefined, p99Ms: undefined, rps: undefined });
    expect(summarize([])).toMatchObject({ sent: 0, p50Ms: undefined, rps: undefined });
  });
});

describe('colorTimeline', () => {
  it('spans the first to the last 2xx response of a color, failures carrying its header excluded', () => {
    expect(colorTimeline(RUN, 'blue')).toEqual({ first: 1000, last: 1100 });
    expect(colorTimeline([...RUN, failure(1900, 'status', 'green')], 'green')).toEqual({ first: 1200, last: 1800 });
    expect(colorTimeline(RUN.slice(0, 2), 'green')).toBeUndefined();
  });
});

describe('switchTimes', () => {
  const SWITCH: readonly TrafficSample[] = [
    served(900, 'blue'),
    served(950, 'green'),
    served(1000, 'blue'),
    served(1100, 'green'),
    served(1200, 'blue'),
    served(1300, 'green'),
    failure(1400, 'reset'),
    served(1500, 'green'),
    served(1600, 'green'),
  ];

  it('measures from the command start to the first new-color, last old-color and all-new-color responses', () => {
    expect(switchTimes(SWITCH, { commandStartedAt: 1000, from: 'blue', to: 'green' })).toEqual({ firstToMs: 100, lastFromMs: 200, allToMs: 500 });
  });

  it('does not call a switch complete while the last request was not answered by the new color', () => {
    expect(switchTimes([...SWITCH, served(1700, 'blue')], { commandStartedAt: 1000, from: 'blue', to: 'green' })).toEqual({
      firstToMs: 100,
      lastFromMs: 700,
      allToMs: undefined,
    });
  });

  it('reports an instant switch as 0 and no old-color response', () => {
    expect(switchTimes(SWITCH.slice(7), { commandStartedAt: 1500, from: 'blue', to: 'green' })).toEqual({
      firstToMs: 0,
      lastFromMs: undefined,
      allToMs: 0,
    });
  });

  it('ignores samples from until on, for a run that switches back', () => {
    const back = [...SWITCH, served(2000, 'blue'), served(2100, 'blue')];
    expect(switchTimes(back, { commandStartedAt: 1000, from: 'blue', to: 'green', until: 2000 })).toEqual({
      firstToMs: 100,
      lastFromMs: 200,
      allToMs: 500,
    });
    expect(switchTimes(back, { commandStartedAt: 2000, from: 'green', to: 'blue' })).toEqual({ firstToMs: 0, lastFromMs: undefined, allToMs: 0 });
  });
});

describe('buckets', () => {
  const SAMPLES = [served(1000, 'blue'), served(1050, 'green'), failure(1099, 'timeout'), served(1100, 'blue'), served(1350, undefined)];

  it('counts each interval by color and failures, empty intervals included', () => {
    expect(buckets(SAMPLES, 100)).toEqual([
      { startMs: 0, blue: 1, green: 1, none: 0, failed: 1 },
      { startMs: 100, blue: 1, green: 0, none: 0, failed: 0 },
      { startMs: 200, blue: 0, green: 0, none: 0, failed: 0 },
      { startMs: 300, blue: 0, green: 0, none: 1, failed: 0 },
    ]);
  });

  it('counts from window.from up to window.to', () => {
    expect(buckets(SAMPLES, 100, { from: 900, to: 1300 })).toEqual([
      { startMs: 0, blue: 0, green: 0, none: 0, failed: 0 },
      { startMs: 100, blue: 1, green: 1, none: 0, failed: 1 },
      { startMs: 200, blue: 1, green: 0, none: 0, failed: 0 },
      { startMs: 300, blue: 0, green: 0, none: 0, failed: 0 },
    ]);
    expect(buckets([], 100)).toEqual([]);
  });

  it('rejects an interval that is not positive', () => {
    expect(() => buckets(SAMPLES, 0)).toThrow('intervalMs: must be a positive number of ms, got 0');
  });
});
