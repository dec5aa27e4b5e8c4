// A real Prometheus server (Debian's `prometheus` package) for the local cluster: it scrapes the real node's pods
// the way Prometheus Operator would from the stack's own ServiceMonitors (scrapeConfigs translates them), so the
// metric gate, the alert rules and the dashboards query series with the labels they would have in production.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

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
      readonly relabelings?: ReadonlyArray<{ readonly action?: string; readonly sourceLabels?: readonly string[]; readonly targetLabel?: string; readonly regex?: string; readonly replacement?: string }>;
    }>;
  };
}

/** A label name as Kubernetes service discovery spells it in meta labels (`cutover.dev/role` → `cutover_dev_role`). */
function metaName(label: string): string {
  return label.replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The scrape configs Prometheus Operator generates for a ServiceMonitor (one job per endpoint), reduced to what the
 * project's ServiceMonitors use: EndpointSlice discovery in the monitor's namespace, the selector as keep rules,
 * the named port, the `namespace`, `service`, `pod`, `container`, `endpoint` and `job` target labels, then the
 * endpoint's own relabelings. `interval` overrides the endpoint's (tests scrape faster than production).
 */
export function scrapeConfigs(monitor: ServiceMonitorLike, options: { kubeconfig: string; interval?: string }): Record<string, unknown>[] {
  const namespace = monitor.metadata.namespace;
  if (namespace === undefined) {
    throw new Error(`ServiceMonitor ${monitor.metadata.name}: has no namespace; render it in a namespaced chart`);
  }
  const selectorRules = [
    ...Object.entries(monitor.spec.selector.matchLabels ?? {}).map(([key, value]) => ({
      source_labels: [`__meta_kubernetes_service_label_${metaName(key)}`, `__meta_kubernetes_service_labelpresent_${metaName(key)}`],
      regex: `(${escapeRegex(value)});true`,
      action: 'keep',
    })),
    ...(monitor.spec.selector.matchExpressions ?? []).map((expression) => {
      if (expression.operator !== 'In') {
        throw new Error(`ServiceMonitor ${monitor.metadata.name}: selector operator ${expression.operator} is not translated; only In is used by the project`);
      }
      return {
        source_labels: [`__meta_kubernetes_service_label_${metaName(expression.key)}`, `__meta_kubernetes_service_labelpresent_${metaName(expression.key)}`],
        regex: `(${(expression.values ?? []).map(escapeRegex).join('|')});true`,
        action: 'keep',
      };
    }),
  ];
  return monitor.spec.endpoints.map((endpoint, index) => ({
    job_name: `serviceMonitor/${namespace}/${monitor.metadata.name}/${index}`,
    scrape_interval: options.interval ?? endpoint.interval ?? '30s',
    metrics_path: endpoint.path ?? '/metrics',
    kubernetes_sd_configs: [{ role: 'endpointslice', kubeconfig_file: options.kubeconfig, namespaces: { names: [namespace] } }],
    relabel_configs: [
      ...selectorRules,
      ...(endpoint.port !== undefined ? [{ source_labels: ['__meta_kubernetes_endpointslice_port_name'], regex: escapeRegex(endpoint.port), action: 'keep' }] : []),
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job' },
      { target_label: 'endpoint', replacement: endpoint.port ?? String(index) },
      ...(endpoint.relabelings ?? []).map((rule) => ({
        ...(rule.sourceLabels !== undefined ? { source_labels: [...rule.sourceLabels] } : {}),
        ...(rule.targetLabel !== undefined ? { target_label: rule.targetLabel } : {}),
        ...(rule.regex !== undefined ? { regex: rule.regex } : {}),
        ...(rule.replacement !== undefined ? { replacement: rule.replacement } : {}),
        action: rule.action ?? 'replace',
      })),
    ],
  }));
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
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts `prometheus` (from PATH) listening on `listen`, scraping what `monitors` select; resolves once it is ready.
 * Its data lives in a temporary directory that `stop()` removes.
 */
export async function startPrometheus(options: { kubeconfig: string; monitors: readonly ServiceMonitorLike[]; listen: string; interval?: string }): Promise<LocalPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-prometheus-'));
  const config = {
    global: { scrape_interval: options.interval ?? '30s', evaluation_interval: options.interval ?? '30s' },
    scrape_configs: options.monitors.flatMap((monitor) => scrapeConfigs(monitor, { kubeconfig: options.kubeconfig, interval: options.interval })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  const url = `http://${options.listen}`;
  let output = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${options.listen}`, '--web.enable-lifecycle'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
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
      rmSync(dir, { recursive: true, force: true });
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
