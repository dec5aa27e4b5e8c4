import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { AppConfig, MAX_SLEEP_SECONDS } from './config';
import { Counter, EXPOSITION_CONTENT_TYPE, Gauge, Histogram, Registry } from './metrics';

/**
 * Names of the series the app exposes: the defaults of the product's `RequestMetrics`, which its alerts, SLO
 * rules, dashboard and metric gate query (test/examples/example-app.test.ts checks them against the rendered rules).
 */
export const METRIC_NAMES = {
  /** Counter of answered requests, by `code` (the status code) and `method`. */
  requestsTotal: 'http_requests_total',
  /** Histogram of the time to answer, in seconds. */
  requestDurationSeconds: 'http_request_duration_seconds',
  /** Gauge of the requests being served. */
  requestsInFlight: 'http_requests_in_flight',
  /** Gauge: 1 while `/ready` answers 200. */
  ready: 'app_ready',
} as const;

/** Paths the kubelet probes: answered, but not counted as requests (a draining pod's 503 is not a failure). */
const PROBE_PATHS = new Set(['/ready', '/health']);

/** Seams for the tests: how the app logs and waits. */
export interface AppOptions {
  /** Writes one log line (without newline). @default - to standard output */
  readonly log?: (line: string) => void;
  /** Resolves after `ms` milliseconds; the drain after SIGTERM and `/?sleep=` wait with it. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Where the servers listen, once they do. */
export interface ListeningAddresses {
  readonly port: number;
  readonly metricsPort: number;
}

/** How a shutdown ended. */
export interface ShutdownResult {
  /** The deadline passed with connections still open, which were then cut. */
  readonly forced: boolean;
  /** Seconds from the start of the shutdown to its end. */
  readonly seconds: number;
}

/**
 * The example web service: `GET /` answers its color, version and pod; `/ready` and `/health` are the probes;
 * `/metrics` on the metrics port is for Prometheus. See docs/example-app.md.
 */
export class ExampleApp {
  public readonly config: AppConfig;
  private readonly log: (line: string) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly http: Server;
  private readonly metricsServer: Server;
  private readonly registry = new Registry();
  private readonly requests: Counter;
  private readonly duration: Histogram;
  private readonly inFlight: Gauge;
  private readonly readyGauge: Gauge;
  private listening = false;
  private draining = false;
  /** Taken out of service by `POST /admin/unready` on the metrics port, until `POST /admin/ready`. */
  private held = false;
  private rootRequests = 0;
  /** When each connection was accepted, for `maxConnectionAgeSeconds`. */
  private readonly connectedAt = new WeakMap<Socket, number>();
  private stopping?: Promise<ShutdownResult>;

  public constructor(config: AppConfig, options: AppOptions = {}) {
    this.config = config;
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.requests = this.registry.register(
      new Counter(METRIC_NAMES.requestsTotal, 'Requests answered, by status code and method.', ['code', 'method']),
    );
    this.duration = this.registry.register(new Histogram(METRIC_NAMES.requestDurationSeconds, 'Time to answer a request, in seconds.'));
    this.inFlight = this.registry.register(new Gauge(METRIC_NAMES.requestsInFlight, 'Requests being served.'));
    this.readyGauge = this.registry.register(new Gauge(METRIC_NAMES.ready, 'Whether the app reports ready (1) or not (0).'));
    this.http = createServer((req, res) => this.serve(req, res));
    this.http.on('connection', (socket: Socket) => this.connectedAt.set(socket, Date.now()));
    // Longer than the idle timeout of the proxies in front (ingress-nginx: 60 s), so they close idle connections
    // first and never send a request on one the app is closing.
    this.http.keepAliveTimeout = 65_000;
    this.metricsServer = createServer((req, res) => this.serveMetrics(req, res));
  }

  /** Whether `/ready` answers 200: listening, not shutting down, not `READY_NEVER`, not taken out of service. */
  public get ready(): boolean {
    return this.listening && !this.draining && !this.config.readyNever && !this.held;
  }

  /** Starts both servers; the app is ready once both listen. */
  public async listen(): Promise<ListeningAddresses> {
    const port = await listenOn(this.http, this.config.port, this.config.host);
    const metricsPort = await listenOn(this.metricsServer, this.config.metricsPort, this.config.host);
    this.listening = true;
    this.readyGauge.set(this.ready ? 1 : 0);
    const { color, version, pod, readyNever, errorRatio } = this.config;
    this.log(JSON.stringify({ time: new Date().toISOString(), msg: 'started', color, version, pod, port, metricsPort, readyNever, errorRatio }));
    return { port, metricsPort };
  }

  /**
   * The SIGTERM handler: stops being ready at once, keeps serving (every response with `Connection: close`) for
   * `drainSeconds`, then stops accepting connections, closes the idle ones and waits for the requests in flight.
   * After `shutdownSeconds` it cuts whatever is still open. Calling it again returns the same shutdown.
   */
  public shutdown(reason: string): Promise<ShutdownResult> {
    this.stopping ??= this.stop(reason);
    return this.stopping;
  }

  private async stop(reason: string): Promise<ShutdownResult> {
    const started = process.hrtime.bigint();
    this.draining = true;
    this.readyGauge.set(0);
    let deadline: NodeJS.Timeout | undefined;
    const forced = await Promise.race([
      (async () => {
        if (this.config.drainSeconds > 0) {
          await this.sleep(this.config.drainSeconds * 1000);
        }
        // Metrics last, so a scrape during the drain still sees the final counts.
        await closeGracefully(this.http);
        await closeGracefully(this.metricsServer);
        return false;
      })(),
      new Promise<boolean>((resolve) => {
        deadline = setTimeout(() => {
          for (const server of [this.http, this.metricsServer]) {
            if (server.listening) {
              server.close();
            }
            server.closeAllConnections();
          }
          resolve(true);
        }, this.config.shutdownSeconds * 1000);
      }),
    ]);
    clearTimeout(deadline);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.log(
      JSON.stringify({
        time: new Date().toISOString(),
        msg: 'stopped',
        reason,
        forced,
        seconds: Number(seconds.toFixed(3)),
        color: this.config.color,
        pod: this.config.pod,
      }),
    );
    return { forced, seconds };
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const url = req.url ?? '/';
    const [path, query] = url.includes('?') ? [url.slice(0, url.indexOf('?')), url.slice(url.indexOf('?') + 1)] : [url, ''];
    const counted = !PROBE_PATHS.has(path);
    res.setHeader('X-Cutover-Color', this.config.color);
    res.setHeader('X-Cutover-Version', this.config.version);
    if (counted) {
      this.inFlight.add(1);
      res.once('close', () => this.inFlight.add(-1));
      res.once('finish', () => {
        this.requests.inc({ code: String(res.statusCode), method: methodLabel(req.method) });
        this.duration.observe(Number(process.hrtime.bigint() - started) / 1e9);
      });
    }
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      this.send(res, 405, { error: `method ${method} not allowed` });
      return;
    }
    switch (path) {
      case '/ready':
        this.sendText(res, this.ready ? 200 : 503, this.readiness());
        return;
      case '/health':
        this.sendText(res, 200, 'ok');
        return;
      case '/':
        void this.serveRoot(res, new URLSearchParams(query));
        return;
      default:
        this.send(res, 404, { error: `no route for ${path}` });
    }
  }

  private readiness(): string {
    if (this.ready) {
      return 'ready';
    }
    if (this.draining) {
      return 'not ready: shutting down';
    }
    if (this.held) {
      return 'not ready: taken out of service (POST /admin/unready on the metrics port)';
    }
    return this.config.readyNever ? 'not ready: READY_NEVER is set' : 'not ready: starting';
  }

  private async serveRoot(res: ServerResponse, query: URLSearchParams): Promise<void> {
    const { color, version, pod, errorRatio } = this.config;
    const sleep = query.get('sleep');
    if (sleep !== null) {
      const seconds = /^[0-9]+(\.[0-9]+)?$/.test(sleep) ? Number(sleep) : NaN;
      if (!(seconds <= MAX_SLEEP_SECONDS)) {
        this.send(res, 400, { error: `sleep: must be a number of seconds from 0 to ${MAX_SLEEP_SECONDS}, got ${JSON.stringify(sleep)}` });
        return;
      }
      await this.sleep(seconds * 1000);
    }
    // Every n-th request fails when n * ratio crosses a whole number: exactly the ratio over any run of requests,
    // the same on every run (0.5: the 2nd, 4th, ...; 0.1: the 10th, 20th, ...).
    this.rootRequests += 1;
    const fails = Math.floor(this.rootRequests * errorRatio) > Math.floor((this.rootRequests - 1) * errorRatio);
    if (fails) {
      this.send(res, 500, { error: `injected failure (ERROR_RATIO=${errorRatio})`, color, version, pod });
      return;
    }
    this.send(res, 200, { color, version, pod });
  }

  /**
   * The metrics port: `GET /metrics`, and the operator's switch `POST /admin/unready` / `POST /admin/ready`, which
   * takes the pod out of service (its readiness fails, its liveness does not) and puts it back, like the maintenance
   * switch of a real service. It is on this port because only the cluster's own monitoring may reach it
   * (NetworkPolicySet); the end-to-end tests use it to make a deployed color stop being ready.
   */
  private serveMetrics(req: IncomingMessage, res: ServerResponse): void {
    const [path] = (req.url ?? '/').split('?', 1);
    if (path === '/admin/unready' || path === '/admin/ready') {
      if (req.method !== 'POST') {
        res.setHeader('Allow', 'POST');
        this.sendText(res, 405, `${path}: use POST`);
        return;
      }
      this.held = path === '/admin/unready';
      this.readyGauge.set(this.ready ? 1 : 0);
      this.log(
        JSON.stringify({
          time: new Date().toISOString(),
          msg: this.held ? 'taken out of service' : 'back in service',
          color: this.config.color,
          pod: this.config.pod,
        }),
      );
      this.sendText(res, 200, this.readiness());
      return;
    }
    if (path !== '/metrics') {
      this.sendText(res, 404, `no route for ${path}; metrics are at /metrics`);
      return;
    }
    this.respond(res, 200, EXPOSITION_CONTENT_TYPE, this.registry.render());
  }

  private send(res: ServerResponse, status: number, body: Readonly<Record<string, unknown>>): void {
    this.respond(res, status, 'application/json', `${JSON.stringify(body)}\n`);
  }

  private sendText(res: ServerResponse, status: number, text: string): void {
    this.respond(res, status, 'text/plain; charset=utf-8', `${text}\n`);
  }

  /** Whether the response's connection has lived longer than `maxConnectionAgeSeconds` (never, when that is 0). */
  private tooOld(res: ServerResponse): boolean {
    const max = this.config.maxConnectionAgeSeconds;
    const since = this.connectedAt.get(res.req.socket);
    return max > 0 && since !== undefined && Date.now() - since >= max * 1000;
  }

  private respond(res: ServerResponse, status: number, contentType: string, body: string): void {
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      // Decided when the answer is written, so requests that were in flight at SIGTERM close their connection too:
      // the client reconnects and finds a pod that is not shutting down, and the server is not kept open by it.
      ...(this.draining || this.tooOld(res) ? { Connection: 'close' } : {}),
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}

/** The `method` label: the standard methods as sent, anything else as `other` (a client must not create series at will). */
function methodLabel(method: string | undefined): string {
  return method !== undefined && ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(method) ? method : 'other';
}

function listenOn(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host !== undefined ? { host } : {}) }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting connections, closes the idle ones, and resolves once those in flight have ended. */
function closeGracefully(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
