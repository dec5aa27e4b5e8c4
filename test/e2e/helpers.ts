import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import { clusterUp, installCrds, toolchainEnv } from '../../scripts/local';
import { LoadClient, LoadClientProps, TrafficSample, summarize } from '../../scripts/traffic';
import { ALL_CRD_PATHS } from '../crd-schema';

/**
 * The local control plane, up, with every pinned and vendored CRD installed (the stacks render Prometheus Operator,
 * CloudNativePG, redis-operator and, with `routing.gateway`, Gateway API resources): the toolchain environment and the kubeconfig path.
 */
export function readyCluster(): { env: Record<string, string>; kubeconfig: string } {
  const env = toolchainEnv();
  const kubeconfig = clusterUp(env);
  installCrds(env, kubeconfig, ALL_CRD_PATHS);
  return { env, kubeconfig };
}

/** Deletes `namespace` if a run that died half-way (or a cluster restarted from its etcd data) left it behind. */
export function deleteNamespace(env: Record<string, string>, kubeconfig: string, namespace: string): void {
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', namespace, '--ignore-not-found', '--wait', '--timeout=120s'], {
    env,
    stdio: 'inherit',
  });
}

/** Polls `check` every 250 ms until it holds; fails after `seconds`, naming what it waited for. */
export async function waitFor(what: string, check: () => Promise<boolean>, seconds = 60): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}

/**
 * Expects a command to have exited 0, showing its output otherwise, followed by what `diagnose` reports (e.g.
 * {@link namespaceDiagnostics}): a failed `pulumi up` says what timed out, the cluster says why.
 */
export function expectSucceeded(result: { code: number | null; stdout: string; stderr: string }, diagnose?: () => string): void {
  if (result.code !== 0 && diagnose !== undefined) {
    expect(result.code, `${result.stdout}\n${result.stderr}\n--- cluster state ---\n${diagnose()}`).toBe(0);
  }
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

/** Workloads, pods, quota and recent events of `namespace`, for the message of a failed step. */
export function namespaceDiagnostics(env: Record<string, string>, kubeconfig: string, namespace: string): string {
  const run = (args: string[]): string => {
    try {
      return execFileSync('kubectl', ['--kubeconfig', kubeconfig, '--namespace', namespace, ...args], { env, encoding: 'utf8', timeout: 30_000 });
    } catch (error) {
      return `kubectl ${args.join(' ')} failed: ${(error as Error).message}`;
    }
  };
  return [run(['get', 'deployments,replicasets,pods,jobs,resourcequotas', '-o', 'wide']), run(['get', 'events', '--sort-by=.lastTimestamp'])].join(
    '\n',
  );
}

/** What a load client saw while a command ran: its samples, and when the command started and returned. */
export interface LoadRun<T> {
  readonly result: T;
  readonly samples: readonly TrafficSample[];
  readonly commandStartedAt: number;
  readonly commandEndedAt: number;
  /** With `settleOn`: when the last {@link SETTLED_RUN} responses had all come from that color (undefined if never). */
  readonly settledAt?: number;
}

/** Consecutive responses from one color, without a failure, that count as traffic having moved to it: 1 s at 50/s. */
export const SETTLED_RUN = 50;

/**
 * Runs `action` while a {@link LoadClient} sends requests to `target` (a URL, or a URL with the address to connect
 * to and the CA of an https: server; new connections and keep-alive, 50 per second),
 * from `leadMs` before it starts until `tailMs` after it returns: every response of the whole update is recorded.
 * With `settleOn`, it keeps sending after the command returned until {@link SETTLED_RUN} responses in a row came
 * from that color (the proxies have followed the new selector and keep-alive connections to the old color have
 * closed; at most `settleMaxMs`), and then for `tailMs` more: the test checks that traffic stayed there.
 */
export async function underLoad<T>(
  target: string | Pick<LoadClientProps, 'url' | 'connectTo' | 'ca'>,
  action: () => Promise<T>,
  options: { leadMs?: number; tailMs?: number; settleOn?: 'blue' | 'green'; settleMaxMs?: number } = {},
): Promise<LoadRun<T>> {
  const where = typeof target === 'string' ? { url: target } : target;
  const client = new LoadClient({ ...where, ratePerSecond: 50, keepAliveShare: 0.5, timeoutMs: 2000, maxDurationMs: 14 * 60_000 });
  client.start();
  await new Promise((r) => setTimeout(r, options.leadMs ?? 1000));
  const commandStartedAt = Date.now();
  let result: T;
  try {
    result = await action();
  } catch (error) {
    await client.stop();
    throw error;
  }
  const commandEndedAt = Date.now();
  let settledAt: number | undefined;
  const color = options.settleOn;
  if (color !== undefined) {
    const deadline = commandEndedAt + (options.settleMaxMs ?? 60_000);
    while (settledAt === undefined && Date.now() < deadline) {
      const last = client.completed().slice(-SETTLED_RUN);
      if (last.length === SETTLED_RUN && last.every((s) => s.error === undefined && s.color === color) && last[0].sentAt >= commandStartedAt) {
        settledAt = Date.now();
      } else {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  await new Promise((r) => setTimeout(r, options.tailMs ?? 2000));
  return { result, samples: await client.stop(), commandStartedAt, commandEndedAt, ...(settledAt !== undefined ? { settledAt } : {}) };
}

/**
 * Expects traffic to have moved to `color` and stayed: the run settled on it ({@link underLoad} `settleOn`), and every
 * request sent from then on was answered by it. The command returns once the API server holds the new routing; the
 * proxies follow within their sync period, and keep-alive connections finish on the old color.
 */
export function expectMovedTo(run: LoadRun<unknown>, color: 'blue' | 'green'): void {
  expect(run.settledAt, `traffic did not settle on ${color}: ${JSON.stringify(summarize(run.samples, { from: run.commandEndedAt }))}`).toBeDefined();
  const since = run.samples.filter((s) => s.sentAt >= (run.settledAt as number));
  expect(since.length).toBeGreaterThan(0);
  expect(summarize(since).byColor).toEqual({ blue: 0, green: 0, none: 0, [color]: since.length });
}

/** One line per failed request kind and a few examples, for the message of a failed assertion. */
export function describeFailures(samples: readonly TrafficSample[]): string {
  const failed = samples.filter((s) => s.error !== undefined);
  return `${failed.length} of ${samples.length} failed: ${JSON.stringify(summarize(samples).failures)}; e.g. ${failed
    .slice(0, 5)
    .map((s) => `${new Date(s.sentAt).toISOString()} ${s.connection} ${s.error?.kind}: ${s.error?.message}`)
    .join(' | ')}`;
}
