// A real Prometheus server (Debian's `prometheus` package) for the local cluster: it scrapes the real node's pods
// the way Prometheus Operator would from the stack's own ServiceMonitors (targetGroups translates them), so the
// metric gate, the alert rules and the dashboards query series with the labels they would have in production.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeClient } from './local';

/** The parts of a `monitoring.coreos.com/v1` ServiceMonitor that the translation reads. */
export interface ServiceMonitorLike {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly selector: {
      readonly matchLabels?: Readonly<Record<string, string>>;
      readonly matchExpressions?: ReadonlyArray<{ readonly key: string; readonly operator: string; readonly values?: readonly string[] }>;
    };
    readonly endpoints: ReadonlyArray<{
      readonly port?: string;
      readonly path?: string;
      readonly interval?: string;
      readonly relabelings?: ReadonlyArray<{
        readonly action?: string;
        readonly sourceLabels?: readonly string[];
        readonly targetLabel?: string;
        readonly regex?: string;
        readonly replacement?: string;
      }>;
    }>;
  };
}

/** A label name as Kubernetes service discovery spells it in meta labels (`cutover.dev/role` → `cutover_dev_role`). */
function metaName(label: string): string {
  return label.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** What the API server holds for one namespace: the objects a ServiceMonitor's targets are found from. */
export interface DiscoveredObjects {
  readonly services: ReadonlyArray<{ metadata: { name: string; namespace?: string; labels?: Readonly<Record<string, string>> } }>;
  readonly endpointSlices: ReadonlyArray<{
    metadata: { labels?: Readonly<Record<string, string>> };
    ports?: ReadonlyArray<{ name?: string; port?: number }>;
    endpoints?: ReadonlyArray<{ addresses: readonly string[]; targetRef?: { kind?: string; name: string } }>;
  }>;
  readonly pods: ReadonlyArray<{
    metadata: { name: string; labels?: Readonly<Record<string, string>> };
    spec?: { containers?: ReadonlyArray<{ name: string; ports?: ReadonlyArray<{ name?: string }> }> };
  }>;
}

/** A file-based service discovery entry: targets and the labels they get. */
export interface TargetGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

function selects(monitor: ServiceMonitorLike, labels: Readonly<Record<string, string>>): boolean {
  const { matchLabels = {}, matchExpressions = [] } = monitor.spec.selector;
  return (
    Object.entries(matchLabels).every(([key, value]) => labels[key] === value) &&
    matchExpressions.every((expression) => {
      if (expression.operator !== 'In') {
        throw new Error(
          `ServiceMonitor ${monitor.metadata.name}: selector operator ${expression.operator} is not translated; only In is used by the project`,
        );
      }
      return labels[expression.key] !== undefined && (expression.values ?? []).includes(labels[expression.key]);
    })
  );
}

/**
 * The targets Prometheus Operator's configuration would give Prometheus for endpoint `index` of a ServiceMonitor,
 * from the namespace's Services, EndpointSlices and pods: the Services its selector selects, their endpoints' pods
 * on the named port, labelled `namespace`, `service`, `pod`, `container`, `job` and `endpoint`, then relabelled by
 * the endpoint's own rules (`replace` from the pod's and the Service's meta labels). Pure, so it is unit-tested.
 * This stands in for Prometheus' Kubernetes service discovery, which Debian's build of Prometheus leaves out.
 */
export function targetGroups(monitor: ServiceMonitorLike, index: number, objects: DiscoveredObjects): TargetGroup[] {
  const namespace = monitor.metadata.namespace;
  if (namespace === undefined) {
    throw new Error(`ServiceMonitor ${monitor.metadata.name}: has no namespace; render it in a namespaced chart`);
  }
  const endpoint = monitor.spec.endpoints[index];
  const pods = new Map(objects.pods.map((pod) => [pod.metadata.name, pod]));
  const groups: TargetGroup[] = [];
  for (const service of objects.services.filter((s) => selects(monitor, s.metadata.labels ?? {}))) {
    const slices = objects.endpointSlices.filter((slice) => slice.metadata.labels?.['kubernetes.io/service-name'] === service.metadata.name);
    for (const slice of slices) {
      const port = (slice.ports ?? []).find((p) => p.name === endpoint.port);
      if (port?.port === undefined) continue;
      for (const address of slice.endpoints ?? []) {
        const pod = address.targetRef?.kind === 'Pod' ? pods.get(address.targetRef.name) : undefined;
        if (pod === undefined) continue;
        const container = (pod.spec?.containers ?? []).find((c) => (c.ports ?? []).some((p) => p.name === endpoint.port))?.name;
        const meta: Record<string, string> = {
          __meta_kubernetes_namespace: namespace,
          __meta_kubernetes_service_name: service.metadata.name,
          __meta_kubernetes_pod_name: pod.metadata.name,
          ...Object.fromEntries(Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => [`__meta_kubernetes_pod_label_${metaName(k)}`, v])),
          ...Object.fromEntries(Object.entries(service.metadata.labels ?? {}).map(([k, v]) => [`__meta_kubernetes_service_label_${metaName(k)}`, v])),
        };
        const labels: Record<string, string> = {
          namespace,
          service: service.metadata.name,
          pod: pod.metadata.name,
          ...(container !== undefined ? { container } : {}),
          job: service.metadata.name,
          endpoint: endpoint.port ?? String(index),
        };
        for (const rule of endpoint.relabelings ?? []) {
          if ((rule.action ?? 'replace') !== 'replace' || rule.targetLabel === undefined) {
            throw new Error(
              `ServiceMonitor ${monitor.metadata.name}: relabeling action ${rule.action} is not translated; only replace is used by the project`,
            );
          }
          const source = (rule.sourceLabels ?? []).map((label) => meta[label] ?? '').join(';');
          const match = new RegExp(`^(?:${rule.regex ?? '(.*)'})$`).exec(source);
          if (match !== null) {
            const value = (rule.replacement ?? '$1').replace(/\$(\d+)/g, (_, n: string) => match[Number(n)] ?? '');
            if (value === '') delete labels[rule.targetLabel];
            else labels[rule.targetLabel] = value;
          }
        }
        for (const ip of address.addresses) groups.push({ targets: [`${ip}:${port.port}`], labels: { ...labels } });
      }
    }
  }
  return groups;
}

/** The scrape job for endpoint `index` of a ServiceMonitor, its targets read from `targetsFile` (see targetGroups). */
export function scrapeConfig(
  monitor: ServiceMonitorLike,
  index: number,
  options: { targetsFile: string; interval?: string },
): Record<string, unknown> {
  const endpoint = monitor.spec.endpoints[index];
  return {
    job_name: `serviceMonitor/${monitor.metadata.namespace}/${monitor.metadata.name}/${index}`,
    scrape_interval: options.interval ?? endpoint.interval ?? '30s',
    metrics_path: endpoint.path ?? '/metrics',
    file_sd_configs: [{ files: [options.targetsFile], refresh_interval: '1s' }],
  };
}

/** A running Prometheus server. */
export interface LocalPrometheus {
  /** Its HTTP API's base URL, e.g. `http://10.88.0.1:19090`. */
  readonly url: string;
  /** The value of an instant query's first series; undefined when it has none. */
  query(expr: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Reads what {@link targetGroups} needs for `namespace` from the API server. */
async function discover(kube: KubeClient, namespace: string): Promise<DiscoveredObjects> {
  const items = async <T>(path: string): Promise<T[]> => (await kube.get<{ items: T[] }>(path))?.items ?? [];
  const [services, endpointSlices, pods] = await Promise.all([
    items<DiscoveredObjects['services'][number]>(`/api/v1/namespaces/${namespace}/services`),
    items<DiscoveredObjects['endpointSlices'][number]>(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`),
    items<DiscoveredObjects['pods'][number]>(`/api/v1/namespaces/${namespace}/pods`),
  ]);
  return { services, endpointSlices, pods };
}

/**
 * Starts `prometheus` (from PATH) listening on `listen`, scraping what `monitors` select, and keeps its targets in
 * step with the cluster (every second, through `kube`); resolves once it is ready. Its data lives in a temporary
 * directory that `stop()` removes.
 */
export async function startPrometheus(options: {
  kube: KubeClient;
  monitors: readonly ServiceMonitorLike[];
  listen: string;
  interval?: string;
}): Promise<LocalPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-prometheus-'));
  const jobs = options.monitors.flatMap((monitor) =>
    monitor.spec.endpoints.map((_, index) => ({ monitor, index, file: join(dir, `targets-${monitor.metadata.name}-${index}.json`) })),
  );
  const sync = async (): Promise<void> => {
    for (const job of jobs) {
      const groups = targetGroups(job.monitor, job.index, await discover(options.kube, job.monitor.metadata.namespace ?? 'default'));
      writeFileSync(`${job.file}.tmp`, JSON.stringify(groups));
      renameSync(`${job.file}.tmp`, job.file);
    }
  };
  await sync();
  const config = {
    global: { scrape_interval: options.interval ?? '30s', evaluation_interval: options.interval ?? '30s' },
    scrape_configs: jobs.map((job) => scrapeConfig(job.monitor, job.index, { targetsFile: job.file, interval: options.interval })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const url = `http://${options.listen}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${options.listen}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let syncing = true;
  const syncLoop = (async () => {
    while (syncing) {
      await new Promise((r) => setTimeout(r, 1000));
      if (syncing) await sync().catch((error: Error) => (output += `\ntarget sync failed: ${error.message}`));
    }
  })();
  const stop = async (): Promise<void> => {
    syncing = false;
    await syncLoop;
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with code ${child.exitCode}:\n${output}`);
    }
    const ready = await getJson(`${url}/-/ready`).catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready on ${url} within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    stop,
    async query(expr: string): Promise<number | undefined> {
      const answer = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const result = (answer.body as { data?: { result?: Array<{ value: [number, string] }> } }).data?.result ?? [];
      return result.length === 0 ? undefined : Number(result[0].value[1]);
    },
  };
}
