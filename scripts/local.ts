// Drives the real Pulumi CLI against the local control plane (scripts/cluster) and reads the cluster
// through its API, for the end-to-end suite and the demo.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { EngineEventStream, TimedEvent } from './timeline';

export const ROOT = resolve(__dirname, '..');

/** The environment in which pulumi, kubectl and the cluster binaries are the project's pinned ones. */
export function toolchainEnv(): Record<string, string> {
  // Let bash evaluate the exports (they expand $PATH and defaults), then read the resulting environment.
  const dump = execFileSync('bash', ['-c', `eval "$("${join(ROOT, 'scripts', 'toolchain')}" env)" && env -0`], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const entry of dump.split('\0')) {
    const separator = entry.indexOf('=');
    if (separator > 0) {
      env[entry.slice(0, separator)] = entry.slice(separator + 1);
    }
  }
  return env;
}

/** Starts the local cluster (idempotent) and returns its kubeconfig path. */
export function clusterUp(env: Record<string, string>): string {
  execFileSync(join(ROOT, 'scripts', 'cluster'), ['up'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  return execFileSync(join(ROOT, 'scripts', 'cluster'), ['kubeconfig'], { env, encoding: 'utf8' }).trim();
}

/**
 * Installs CustomResourceDefinitions (server-side apply, idempotent) and waits until the API server serves
 * them: the stacks render Prometheus Operator, CloudNativePG and redis-operator resources.
 */
export function installCrds(env: Record<string, string>, kubeconfig: string, files: readonly string[]): void {
  for (const file of files) {
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side', '-f', file], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, 'wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  waitForQuotaController(env, kubeconfig, files.flatMap(crdResources));
}

/** `<plural>.<group>` of every namespaced CustomResourceDefinition in a file (a namespace's quota counts only those). */
function crdResources(file: string): string[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((doc) => doc.toJSON() as { kind?: string; spec?: { group?: string; scope?: string; names?: { plural?: string } } } | null)
    .filter(
      (crd) =>
        crd?.kind === 'CustomResourceDefinition' &&
        crd.spec?.scope === 'Namespaced' &&
        crd.spec.group !== undefined &&
        crd.spec.names?.plural !== undefined,
    )
    .map((crd) => `${crd?.spec?.names?.plural}.${crd?.spec?.group}`);
}

/**
 * Waits until the controller-manager's quota controller watches the new custom resources. Within 30 s of CRDs
 * appearing it rescans the API, holds its workers while it starts watching them, and meanwhile no new
 * ResourceQuota gets a status, so the API server refuses every pod in a namespace with a quota (each stack's
 * namespace has one). The ReplicaSet controller then backs off exponentially, and a first `pulumi up` right after
 * the CRDs were installed can time out with no pod created. A quota made after that rescan, counting the custom
 * resources, gets its usage at once: make a fresh one every few seconds until one does.
 */
function waitForQuotaController(env: Record<string, string>, kubeconfig: string, resources: readonly string[]): void {
  const namespace = 'cutover-quota-check';
  const kubectl = (args: readonly string[], input?: string): string =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'inherit'] });
  const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait', '--timeout=120s']);
  kubectl(['create', 'namespace', namespace]);
  const hard: Record<string, string> = { pods: '1', ...Object.fromEntries(resources.map((resource) => [`count/${resource}`, '100'])) };
  const started = Date.now();
  let missing: string[] = Object.keys(hard);
  for (let attempt = 1; Date.now() - started < 300_000; attempt++) {
    const name = `probe-${attempt}`;
    kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace }, spec: { hard } }));
    for (let poll = 0; poll < 10; poll++) {
      sleep(500);
      const used =
        (JSON.parse(kubectl(['-n', namespace, 'get', 'resourcequota', name, '-o', 'json'])) as { status?: { used?: Record<string, string> } }).status
          ?.used ?? {};
      missing = Object.keys(hard).filter((key) => used[key] === undefined);
      if (missing.length === 0) {
        kubectl(['delete', 'namespace', namespace, '--wait=false']);
        process.stderr.write(
          `[cluster] the quota controller counts ${resources.length} custom resources (${((Date.now() - started) / 1000).toFixed(1)}s, ` +
            `${attempt} probe quota(s))\n`,
        );
        return;
      }
    }
    kubectl(['-n', namespace, 'delete', 'resourcequota', name, '--wait=false']);
  }
  throw new Error(
    `the quota controller did not count ${missing.join(', ')} within 300s of the CRDs being installed; see kwokctl logs kube-controller-manager`,
  );
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs a command to completion, capturing its output, with `input` on its stdin if given. Never throws on a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd = ROOT,
  input?: string,
): Promise<CommandResult> & { child: ChildProcess } {
  const started = Date.now();
  const child = spawn(command, args, { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CommandResult>((resolvePromise) => {
    child.on('close', (code) => resolvePromise({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
  return Object.assign(done, { child });
}

/**
 * A Pulumi stack of this project on a local file backend, with its config in a file of its own,
 * so the repository's stack files are never touched.
 */
export class LocalStack {
  public readonly env: Record<string, string>;
  public readonly configFile: string;

  public constructor(
    public readonly name: string,
    baseEnv: Record<string, string>,
    kubeconfig: string,
    stateDir = mkdtempSync(join(tmpdir(), 'cutover-state-')),
  ) {
    mkdirSync(stateDir, { recursive: true });
    this.configFile = join(stateDir, `Pulumi.${name}.yaml`);
    this.env = {
      ...baseEnv,
      KUBECONFIG: kubeconfig,
      PULUMI_BACKEND_URL: `file://${stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: baseEnv.PULUMI_CONFIG_PASSPHRASE ?? 'cutover-local',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      // The file backend rewrites the whole state at every step: compressed, a 50-app stack's is 0.3 MB instead of 13
      // (docs/benchmarks.md: many apps in one stack).
      PULUMI_DIY_BACKEND_ZSTD: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'true',
      NO_COLOR: '1',
    };
  }

  /** `pulumi <args>` for this stack; `--config-file` is added where the command takes it. */
  public pulumi(args: readonly string[]): ReturnType<typeof runCommand> {
    const takesConfigFile = ['up', 'preview', 'refresh', 'destroy', 'config'].includes(args[0]);
    const stackArgs = args[0] === 'stack' && args[1] === 'init' ? [] : ['--stack', this.name];
    return runCommand(
      'pulumi',
      [...args, ...stackArgs, ...(takesConfigFile ? ['--config-file', this.configFile] : []), '--non-interactive'],
      this.env,
    );
  }

  /** Creates the stack with `config` (raw `cutover:key` → YAML value) as its config file. */
  public async init(config: Record<string, unknown>): Promise<void> {
    const written = join(ROOT, `Pulumi.${this.name}.yaml`);
    if (existsSync(written)) {
      throw new Error(`${written} exists; the local stack "${this.name}" keeps its config elsewhere: move that file away first`);
    }
    const result = await this.pulumi(['stack', 'init', this.name]);
    if (result.code !== 0) {
      throw new Error(`pulumi stack init failed:\n${result.stderr}${result.stdout}`);
    }
    // `stack init` writes the passphrase salt into Pulumi.<stack>.yaml beside Pulumi.yaml: move it into this
    // stack's own config file so the repository is left as it was.
    const salt = existsSync(written) ? (parse(readFileSync(written, 'utf8')) as { encryptionsalt?: string }).encryptionsalt : undefined;
    rmSync(written, { force: true });
    const lines = Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
    writeFileSync(this.configFile, `${salt !== undefined ? `encryptionsalt: ${salt}\n` : ''}config:\n${lines.join('\n')}\n`);
  }

  /** `pulumi config set [--path] key value`. */
  public async set(key: string, value: string): Promise<void> {
    const result = await this.pulumi(['config', 'set', ...(key.includes('.') ? ['--path'] : []), key, value]);
    if (result.code !== 0) {
      throw new Error(`pulumi config set ${key} failed:\n${result.stderr}`);
    }
  }

  /** `pulumi up --yes --skip-preview`; resolves with the result whatever the exit code. */
  public up(extra: readonly string[] = []): ReturnType<typeof runCommand> {
    return this.pulumi(['up', '--yes', '--skip-preview', ...extra]);
  }

  /** `npm run rollback` for this stack, as a user runs it (scripts/rollback.ts). */
  public rollback(): ReturnType<typeof runCommand> {
    return runCommand('npm', ['run', '--silent', 'rollback', '--', '--stack', this.name, '--config-file', this.configFile], this.env);
  }

  /**
   * `pulumi up --yes --skip-preview --json`: resolves with the result and the engine events it streamed, each stamped
   * with its arrival (see scripts/timeline.ts).
   */
  public async upTimed(extra: readonly string[] = []): Promise<CommandResult & { events: TimedEvent[] }> {
    const command = this.up(['--json', ...extra]);
    const stream = new EngineEventStream(Date.now());
    command.child.stdout?.on('data', (chunk: Buffer) => stream.feed(chunk.toString()));
    const result = await command;
    return { ...result, events: stream.events };
  }

  /** The steps `pulumi preview --json` plans, as `op type name`, without the read of the stack's own outputs. */
  public async previewSteps(): Promise<Array<{ op: string; type: string; name: string; diffs: string[] }>> {
    const result = await this.pulumi(['preview', '--json']);
    if (result.code !== 0) {
      throw new Error(`pulumi preview failed:\n${result.stderr}${result.stdout}`);
    }
    const preview = JSON.parse(result.stdout) as { steps: Array<{ op: string; urn: string; diffs?: string[] }> };
    return (
      preview.steps
        .map((step) => ({ op: step.op, ...parseUrn(step.urn), diffs: step.diffs ?? [] }))
        // Every update reads the stack's own previous outputs (stacks/transition.ts): a read, never a change.
        .filter((step) => !(step.op === 'read' && step.type === 'pulumi:pulumi:StackReference'))
    );
  }
}

/** The second local cluster, beside the default one: a region of its own for the release e2e test and benchmark. */
export const SECOND_CLUSTER = 'cutover-eu';

/** Starts the second local cluster (simulated nodes only), with `crds` installed; returns its kubeconfig path. */
export function secondClusterUp(env: Record<string, string>, crds: readonly string[]): string {
  const secondEnv = { ...env, CUTOVER_CLUSTER_NAME: SECOND_CLUSTER, CUTOVER_REAL_NODE: '0' };
  const kubeconfig = clusterUp(secondEnv);
  installCrds(secondEnv, kubeconfig, crds);
  return kubeconfig;
}

export function secondClusterDown(env: Record<string, string>): void {
  execFileSync(join(ROOT, 'scripts', 'cluster'), ['down'], {
    env: { ...env, CUTOVER_CLUSTER_NAME: SECOND_CLUSTER },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/**
 * Stacks whose files are `Pulumi.<name>.yaml` beside Pulumi.yaml, where the Automation API (`npm run release`) reads
 * and edits them, on a local file backend of their own. Only names matching `Pulumi.e2e-*.yaml` (.gitignore);
 * `remove` takes the files away again.
 */
export class ProjectStacks {
  public readonly env: Record<string, string>;
  private readonly stateDir = mkdtempSync(join(tmpdir(), 'cutover-stacks-'));

  public constructor(
    baseEnv: Record<string, string>,
    public readonly names: readonly string[],
  ) {
    for (const name of names) {
      if (!name.startsWith('e2e-')) {
        throw new Error(`ProjectStacks: "${name}" would write Pulumi.${name}.yaml beside the shipped stacks; use a name starting with e2e-`);
      }
    }
    this.env = {
      ...baseEnv,
      PULUMI_BACKEND_URL: `file://${this.stateDir}`,
      PULUMI_CONFIG_PASSPHRASE: baseEnv.PULUMI_CONFIG_PASSPHRASE ?? 'cutover-local',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      // The file backend rewrites the whole state at every step: compressed, a 50-app stack's is 0.3 MB instead of 13
      // (docs/benchmarks.md: many apps in one stack).
      PULUMI_DIY_BACKEND_ZSTD: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'true',
      NO_COLOR: '1',
    };
  }

  /** The backend's directory (its lock files live under `.pulumi/locks`). */
  public get backendDir(): string {
    return this.stateDir;
  }

  public file(name: string): string {
    return join(ROOT, `Pulumi.${name}.yaml`);
  }

  /** `pulumi <args> --stack <name>`; resolves with the result whatever the exit code. */
  public pulumi(name: string, args: readonly string[]): ReturnType<typeof runCommand> {
    return runCommand('pulumi', [...args, '--stack', name, '--non-interactive'], this.env);
  }

  /** Creates stack `name` with `config` (raw `namespace:key` → YAML value) in its file, keeping the salt `stack init` wrote. */
  public async init(name: string, config: Record<string, unknown>): Promise<void> {
    rmSync(this.file(name), { force: true });
    const result = await runCommand('pulumi', ['stack', 'init', name, '--non-interactive'], this.env);
    if (result.code !== 0) {
      throw new Error(`pulumi stack init ${name} failed:\n${result.stderr}${result.stdout}`);
    }
    const salt = (parse(readFileSync(this.file(name), 'utf8')) as { encryptionsalt?: string }).encryptionsalt;
    writeFileSync(this.file(name), stringify({ ...(salt !== undefined ? { encryptionsalt: salt } : {}), config }));
  }

  /** Destroys every stack, removes it and its file, and the backend. */
  public async remove(): Promise<void> {
    for (const name of this.names) {
      await this.pulumi(name, ['destroy', '--yes']);
      await this.pulumi(name, ['stack', 'rm', '--yes', '--force']);
      rmSync(this.file(name), { force: true });
    }
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

/** Type and name of a resource from its URN (`urn:pulumi:<stack>::<project>::<parent$type>::<name>`). */
export function parseUrn(urn: string): { type: string; name: string } {
  const [, , qualifiedType, ...name] = urn.split('::');
  return { type: qualifiedType.split('$').pop() as string, name: name.join('::') };
}

/** Image repository of the stacks on the simulated nodes: kwok runs no containers, so nothing is ever pulled. */
export const LOCAL_IMAGE = 'registry.example.com/acme/web';

/** The example app (examples/app), built by scripts/images and imported into the real node's containerd. */
export const EXAMPLE_IMAGE = 'cutover.local/example-app';
/** The gate Jobs' image (sh, curl, awk), built the same way. */
export const GATE_IMAGE = 'cutover.local/gate:1.0.0';

/**
 * The real node's pool (scripts/cluster.d/node.sh): its label, its taint, and preferred anti-affinity, since one
 * node holds every replica. What a user with a one-node development cluster would write too.
 */
export const REAL_NODE_SCHEDULING = {
  nodeSelector: { 'cutover.dev/node-pool': 'real' },
  tolerations: [{ key: 'cutover.dev/real-node', operator: 'Exists', effect: 'NoSchedule' }],
  podAntiAffinity: 'preferred',
};

/**
 * A staging-like stack of the example app on the real node: real containers, real requests. The app closes a
 * keep-alive connection after a second (its MAX_CONNECTION_AGE_SECONDS setting): behind a ClusterIP an
 * established connection keeps its pod (conntrack), so clients re-balance onto the live color within a second
 * of a switch.
 */
export function realStackConfig(namespace: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return localStackConfig(namespace, {
    'cutover:blue': { image: `${EXAMPLE_IMAGE}:1.0.0` },
    'cutover:green': { image: `${EXAMPLE_IMAGE}:1.1.0` },
    'cutover:scheduling': REAL_NODE_SCHEDULING,
    'cutover:gate': { image: GATE_IMAGE, checks: [{ path: '/', expectStatus: 200 }] },
    'cutover:settings': { NODE_ENV: 'production', LOG_LEVEL: 'info', MAX_CONNECTION_AGE_SECONDS: '1' },
    ...overrides,
  });
}

/** A staging-like config for a stack on the local cluster (2 replicas per color fit its 3 nodes). */
export function localStackConfig(namespace: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'cutover:production': false,
    'cutover:activeColor': 'blue',
    'cutover:host': `web.${namespace}.example.com`,
    'cutover:namespace': namespace,
    'cutover:replicas': 2,
    'cutover:maxReplicas': 3,
    'cutover:blue': { image: `${LOCAL_IMAGE}:1.0.0` },
    'cutover:green': { image: `${LOCAL_IMAGE}:1.1.0` },
    // The local cluster runs no cert-manager, Ingress controller or Prometheus Operator, and has none of the
    // namespaces they run in: those checks are left out here; the others run as on any cluster (docs/preflight.md).
    'cutover:preflight': { skip: ['issuer', 'routing', 'namespaces', 'operators'] },
    // The default router: HTTPRoutes on a Gateway `public` in gateway-system, which preflight's routing check is left out for.
    'cutover:routing': { gateway: { name: 'public', namespace: 'gateway-system' } },
    ...overrides,
  };
}

/** A minimal client for the local API server, authenticated from the kubeconfig. */
export class KubeClient {
  private readonly server: URL;
  private readonly agent: Agent;
  private readonly token?: string;

  public constructor(kubeconfigPath: string) {
    const kubeconfig = parse(readFileSync(kubeconfigPath, 'utf8')) as {
      'current-context': string;
      contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
      clusters: Array<{ name: string; cluster: Record<string, string | boolean> }>;
      users: Array<{ name: string; user: Record<string, string> }>;
    };
    const context = kubeconfig.contexts.find((c) => c.name === kubeconfig['current-context'])?.context ?? kubeconfig.contexts[0].context;
    const cluster = kubeconfig.clusters.find((c) => c.name === context.cluster)?.cluster ?? {};
    const user = kubeconfig.users.find((u) => u.name === context.user)?.user ?? {};
    const base = resolve(kubeconfigPath, '..');
    const material = (data?: string, file?: string): Buffer | undefined =>
      data !== undefined ? Buffer.from(data, 'base64') : file !== undefined ? readFileSync(resolve(base, file)) : undefined;
    this.server = new URL(String(cluster.server));
    this.token = user.token;
    this.agent = new Agent({
      keepAlive: true,
      ca: material(cluster['certificate-authority-data'] as string | undefined, cluster['certificate-authority'] as string | undefined),
      cert: material(user['client-certificate-data'], user['client-certificate']),
      key: material(user['client-key-data'], user['client-key']),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    });
  }

  /** GET a path; resolves with the parsed body, or undefined on 404. */
  public get<T>(path: string): Promise<T | undefined> {
    return new Promise((resolvePromise, reject) => {
      const url = new URL(path, this.server);
      const req = request(
        url,
        {
          agent: this.agent,
          headers: { Accept: 'application/json', ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) },
          timeout: 5000,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => {
            if (res.statusCode === 404) {
              resolvePromise(undefined);
            } else if ((res.statusCode ?? 500) >= 400) {
              reject(new Error(`GET ${path}: ${res.statusCode} ${body}`));
            } else {
              resolvePromise(JSON.parse(body) as T);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Pods behind the ready endpoints of a Service, from its EndpointSlices. */
  public async readyEndpointPods(namespace: string, service: string): Promise<string[]> {
    return (await this.readyEndpointPodsByService(namespace, `?labelSelector=kubernetes.io%2Fservice-name%3D${service}`)).get(service) ?? [];
  }

  /**
   * Pods behind the ready endpoints of every Service of a namespace (one request for all of them), by Service name.
   * An endpoint counts as ready unless its `ready` condition is false (the API's rule for an unset condition).
   */
  public async readyEndpointPodsByService(namespace: string, query = ''): Promise<Map<string, string[]>> {
    const slices = await this.get<{
      items: Array<{
        metadata: { labels?: Record<string, string> };
        endpoints?: Array<{ conditions?: { ready?: boolean }; targetRef?: { name: string } }>;
      }>;
    }>(`/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices${query}`);
    const pods = new Map<string, string[]>();
    for (const slice of slices?.items ?? []) {
      const service = slice.metadata.labels?.['kubernetes.io/service-name'];
      if (service === undefined) {
        continue;
      }
      const ready = (slice.endpoints ?? [])
        .filter((endpoint) => endpoint.conditions?.ready !== false)
        .map((endpoint) => endpoint.targetRef?.name ?? '?');
      pods.set(service, [...(pods.get(service) ?? []), ...ready].sort());
    }
    return pods;
  }

  public close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}

/** The color of a pod, from its name (`<app>-<color>-<hash>-<hash>`). */
export function podColor(pod: string, app: string): string {
  return pod.slice(app.length + 1).split('-')[0];
}

/** `http://<ClusterIP>:<port>/` of a Service's `http` port: what a client in the cluster (or on the node) calls. */
export async function serviceUrl(kube: KubeClient, namespace: string, service: string): Promise<string> {
  const found = await kube.get<{ spec: { clusterIP: string; ports: Array<{ name?: string; port: number }> } }>(
    `/api/v1/namespaces/${namespace}/services/${service}`,
  );
  if (found === undefined) {
    throw new Error(`Service ${namespace}/${service} does not exist`);
  }
  const port = found.spec.ports.find((p) => p.name === 'http') ?? found.spec.ports[0];
  return `http://${found.spec.clusterIP}:${port.port}/`;
}
