import { hostname } from 'node:os';

/** Everything the example app does differently from one deployment to the next, all read from its environment. */
export interface AppConfig {
  /**
   * Address both servers listen on (env `HOST`).
   * @default - every interface (what a pod needs: the kubelet probes the pod IP)
   */
  readonly host?: string;
  /** Port of the app's HTTP server (env `PORT`); `0` picks a free one. @default 8080 */
  readonly port: number;
  /** Port of the metrics server (env `METRICS_PORT`); `0` picks a free one. @default 9090 */
  readonly metricsPort: number;
  /** The color this pod belongs to (env `CUTOVER_COLOR`, set by BlueGreenApp). @default 'none' */
  readonly color: string;
  /** The release (env `APP_VERSION`, baked into the image). @default '0.0.0-dev' */
  readonly version: string;
  /** The pod's name (env `HOSTNAME`, set by the kubelet). @default - the machine's host name */
  readonly pod: string;
  /** Never report ready (env `READY_NEVER=true`): a release that fails its rollout. @default false */
  readonly readyNever: boolean;
  /** Share of the requests to `/` that answer 500 (env `ERROR_RATIO`, 0 to 1): a release that fails its users. @default 0 */
  readonly errorRatio: number;
  /**
   * Seconds after SIGTERM during which new requests are still served, before the servers stop accepting
   * connections (env `DRAIN_SECONDS`). In Kubernetes the preStop sleep has drained already; this covers clients
   * that still hold the old address. @default 1
   */
  readonly drainSeconds: number;
  /** Seconds after SIGTERM after which the process exits even with requests in flight (env `SHUTDOWN_SECONDS`). @default 5 */
  readonly shutdownSeconds: number;
  /**
   * Seconds a keep-alive connection may live: the first response after that carries `Connection: close` (env
   * `MAX_CONNECTION_AGE_SECONDS`; 0 keeps connections for as long as the client likes). Behind a Kubernetes Service an
   * established connection keeps its pod whatever the Service selects now, so without a limit a busy keep-alive
   * client stays on the old color after a switch; like gRPC's MAX_CONNECTION_AGE, the limit makes clients re-balance.
   * @default 0
   */
  readonly maxConnectionAgeSeconds: number;
}

/** Longest `?sleep=` a request to `/` may ask for, in seconds. */
export const MAX_SLEEP_SECONDS = 10;

/**
 * Reads the app's configuration from environment variables; unset and empty variables take their defaults.
 * @throws listing every invalid variable, each as `NAME: problem, got value; fix`
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, defaultPod: string = hostname()): AppConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const port = (name: string, fallback: number): number => {
    const text = read(name);
    if (text === undefined) {
      return fallback;
    }
    const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
    if (!(value >= 0 && value <= 65535)) {
      problems.push(`${name}: must be a TCP port from 0 to 65535, got "${text}"; e.g. ${fallback}`);
    }
    return value;
  };
  const seconds = (name: string, fallback: number): number => {
    const text = read(name);
    if (text === undefined) {
      return fallback;
    }
    const value = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
    if (!(value >= 0 && value <= 3600)) {
      problems.push(`${name}: must be a number of seconds from 0 to 3600, got "${text}"; e.g. ${fallback}`);
    }
    return value;
  };
  // Values that end up in response headers: a control character there would fail every request instead of the start.
  const headerValue = (name: string, fallback: string): string => {
    const value = read(name) ?? fallback;
    if (!/^[\x21-\x7e]{1,128}$/.test(value)) {
      problems.push(`${name}: must be 1 to 128 printable ASCII characters without spaces, got ${JSON.stringify(value)}; e.g. "${fallback}"`);
    }
    return value;
  };

  const host = read('HOST');
  const listenPort = port('PORT', 8080);
  const metricsPort = port('METRICS_PORT', 9090);
  if (listenPort !== 0 && listenPort === metricsPort) {
    problems.push(`METRICS_PORT: must differ from PORT, got ${metricsPort} for both; serve metrics on a port of their own, e.g. 9090`);
  }
  const readyNeverText = read('READY_NEVER') ?? 'false';
  if (readyNeverText !== 'true' && readyNeverText !== 'false') {
    problems.push(`READY_NEVER: must be "true" or "false", got "${readyNeverText}"; set it to "true" for a release that never becomes ready`);
  }
  const errorRatioText = read('ERROR_RATIO') ?? '0';
  const errorRatio = /^[0-9]+(\.[0-9]+)?$/.test(errorRatioText) ? Number(errorRatioText) : NaN;
  if (!(errorRatio >= 0 && errorRatio <= 1)) {
    problems.push(`ERROR_RATIO: must be a share from 0 to 1, got "${errorRatioText}"; e.g. 0.5 for every second request to / answering 500`);
  }
  const drainSeconds = seconds('DRAIN_SECONDS', 1);
  const shutdownSeconds = seconds('SHUTDOWN_SECONDS', 5);
  if (drainSeconds >= shutdownSeconds) {
    problems.push(
      `DRAIN_SECONDS: must be below SHUTDOWN_SECONDS (${shutdownSeconds}), got ${drainSeconds}; the drain happens within the shutdown deadline`,
    );
  }
  const maxConnectionAgeSeconds = seconds('MAX_CONNECTION_AGE_SECONDS', 0);
  const config: AppConfig = {
    ...(host !== undefined ? { host } : {}),
    port: listenPort,
    metricsPort,
    color: headerValue('CUTOVER_COLOR', 'none'),
    version: headerValue('APP_VERSION', '0.0.0-dev'),
    pod: read('HOSTNAME') ?? defaultPod,
    readyNever: readyNeverText === 'true',
    errorRatio,
    drainSeconds,
    shutdownSeconds,
    maxConnectionAgeSeconds,
  };
  if (problems.length > 0) {
    throw new Error(`invalid environment:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
  }
  return config;
}
