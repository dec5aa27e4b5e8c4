import { App, Chart } from 'cdk8s';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  BackupCredentials,
  BlueGreenApp,
  Color,
  CutoverGate,
  Manifest,
  MetricGate,
  MigrationJob,
  MonitoringStack,
  NetworkPolicySet,
  PostgresHA,
  RedisCluster,
  renderChart,
} from '../../lib';
import { runTool } from './tools';

// The proof of NetworkPolicySet: np-guard's netpol-analyzer (`netpolicy`) computes which connections the rendered
// policies allow between the prod composition's workloads and pods of other namespaces, and the result must be
// exactly the matrix in network-policy.expected.json, none of whose `denied` flows may appear in it.

const NAMESPACE = 'web-prod';

interface Expected {
  /** Every allowed connection with an end in the namespace, as `src => dst: conn` in netpolicy's names. */
  readonly allowed: readonly string[];
  /** Flows that must not be allowed: `src => dst: PROTOCOL port`, the destination a workload or an IP address. */
  readonly denied: readonly { readonly flow: string; readonly why: string }[];
}

const expected = JSON.parse(readFileSync(join(__dirname, 'network-policy.expected.json'), 'utf8')) as Expected;

/**
 * The app, PostgreSQL, Redis and the Jobs of a switch (expand migration, smoke-test gate, metric gate) as
 * Pulumi.prod.yaml composes them (stacks/platform.ts), and their policies.
 */
function renderProd(activeColor: Color, withPolicies = true): Manifest[] {
  const chart = new Chart(new App(), 'prod', { namespace: NAMESPACE, disableResourceNameHashes: true });
  const postgres = new PostgresHA(chart, 'postgres', {
    name: 'web-db',
    instances: 3,
    partOf: 'web',
    backup: { destinationPath: 's3://acme-backups/web-prod', credentials: BackupCredentials.fromSecret('web-db-backup-s3') },
    pooler: {},
  });
  const redis = new RedisCluster(chart, 'redis', {
    name: 'web-cache',
    mode: 'sentinel',
    redisSecret: { name: 'web-cache-auth', key: 'password' },
    partOf: 'web',
  });
  const app = new BlueGreenApp(chart, 'app', {
    name: 'web',
    activeColor,
    blue: { image: 'registry.example.com/acme/web:1.4.2' },
    green: { image: 'registry.example.com/acme/web:1.5.0' },
    backends: [postgres, redis],
    ingress: { host: 'web.example.com' },
    routing: { gateway: { name: 'public', namespace: 'gateway-system' } },
  });
  const monitoring = new MonitoringStack(chart, 'monitoring', { app });
  const expand = new MigrationJob(chart, 'migrate-expand', {
    app,
    phase: 'expand',
    image: 'registry.example.com/acme/web:1.5.0',
    command: ['bin/migrate', 'up'],
    backends: [postgres, redis],
  });
  const gate = new CutoverGate(chart, 'gate', { app });
  gate.after(expand);
  const metricGate = new MetricGate(chart, 'metric-gate', { app, monitoring, prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090' });
  metricGate.after(gate);
  if (withPolicies) {
    // The Gateway's proxies run in gateway-system, the namespace of prod's Gateway (network.gatewayNamespace's default).
    const policies = new NetworkPolicySet(chart, 'network', { gateway: { namespace: 'gateway-system' } });
    policies.allow(app).to(postgres);
    policies.allow(app).to(redis);
    policies.allowGateway(app);
    policies.allow(gate).to(app);
    policies.allow(expand).to(postgres);
    policies.allowPrometheusQuery(metricGate);
    policies.allowMonitoring(app, postgres, redis);
    policies.allowInternetEgress(app);
  }
  return renderChart(chart).map((rendered) => rendered.manifest);
}

type Labels = Record<string, string>;

function workload(kind: 'Deployment' | 'StatefulSet' | 'Job', namespace: string, name: string, labels: Labels): object {
  const template = {
    metadata: { labels },
    spec: { containers: [{ name: 'main', image: 'example.com/stand-in:1' }], ...(kind === 'Job' ? { restartPolicy: 'Never' } : {}) },
  };
  const apiVersion = kind === 'Job' ? 'batch/v1' : 'apps/v1';
  return { apiVersion, kind, metadata: { name, namespace }, spec: { ...(kind === 'Job' ? {} : { selector: { matchLabels: labels } }), template } };
}

function pod(namespace: string, name: string, labels: Labels): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name: 'main', image: 'example.com/stand-in:1' }] },
  };
}

function labelsOf(manifests: Manifest[], kind: string, name: string): Labels {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
  if (found === undefined) {
    throw new Error(`no ${kind}/${name} in the rendered chart`);
  }
  return found.metadata.labels as Labels;
}

/**
 * Stand-ins for the pods the operators create, with the labels they really set (see networkPeer in
 * lib/data/postgres-ha.ts and lib/data/redis-cluster.ts), and for the pods of the other namespaces involved.
 */
function standIns(chart: Manifest[]): object[] {
  const cnpg = (instance: string, role: 'primary' | 'replica'): Labels => ({
    'cnpg.io/cluster': 'web-db',
    'cnpg.io/instanceName': instance,
    'cnpg.io/podRole': 'instance',
    'cnpg.io/instanceRole': role,
    role,
    'app.kubernetes.io/name': 'postgresql',
    'app.kubernetes.io/instance': 'web-db',
    'app.kubernetes.io/component': 'database',
    'app.kubernetes.io/managed-by': 'cloudnative-pg',
  });
  const pooler = chart.find((manifest) => manifest.kind === 'Pooler' && manifest.metadata.name === 'web-db-pooler-rw') as
    { spec: { template: { metadata: { labels: Labels } } } } | undefined;
  if (pooler === undefined) {
    throw new Error('no Pooler/web-db-pooler-rw in the rendered chart');
  }
  return [
    // CloudNativePG creates instance Pods itself (no StatefulSet), and a Job per new instance (here joining as a replica).
    pod(NAMESPACE, 'web-db-1', cnpg('web-db-1', 'primary')),
    pod(NAMESPACE, 'web-db-2', cnpg('web-db-2', 'replica')),
    workload('Job', NAMESPACE, 'web-db-3-join', {
      'cnpg.io/cluster': 'web-db',
      'cnpg.io/instanceName': 'web-db-3',
      'cnpg.io/jobRole': 'join',
      'app.kubernetes.io/name': 'postgresql',
      'app.kubernetes.io/instance': 'web-db',
    }),
    // The Pooler's template labels plus the operator's own; recent releases also put the cluster label on poolers.
    workload('Deployment', NAMESPACE, 'web-db-pooler-rw', {
      ...pooler.spec.template.metadata.labels,
      'cnpg.io/poolerName': 'web-db-pooler-rw',
      'cnpg.io/podRole': 'pooler',
      'cnpg.io/cluster': 'web-db',
    }),
    // The redis-operator's StatefulSets, as their pods (netpolicy reports no connection of a workload with itself,
    // and replication and sentinel gossip are exactly that); it copies the custom resource's labels onto them.
    ...['web-cache-0', 'web-cache-1'].map((name, index) =>
      pod(NAMESPACE, name, {
        ...labelsOf(chart, 'RedisReplication', 'web-cache'),
        app: 'web-cache',
        redis_setup_type: 'replication',
        role: 'replication',
        'redis-role': index === 0 ? 'master' : 'slave',
        'statefulset.kubernetes.io/pod-name': name,
      }),
    ),
    ...['web-cache-sentinel-0', 'web-cache-sentinel-1'].map((name) =>
      pod(NAMESPACE, name, {
        ...labelsOf(chart, 'RedisSentinel', 'web-cache'),
        app: 'web-cache-sentinel',
        redis_setup_type: 'sentinel',
        role: 'sentinel',
        'statefulset.kubernetes.io/pod-name': name,
      }),
    ),
    // Started by hand (`kubectl run`): no relationship names it.
    pod(NAMESPACE, 'debug', { run: 'debug' }),
    workload('Deployment', 'gateway-system', 'gateway-proxy', { 'app.kubernetes.io/name': 'gateway-proxy' }),
    // The retired ingress controller, still running: prod routes through the Gateway, so it must not reach the app.
    workload('Deployment', 'ingress-nginx', 'ingress-nginx-controller', {
      'app.kubernetes.io/name': 'ingress-nginx',
      'app.kubernetes.io/instance': 'ingress-nginx',
      'app.kubernetes.io/component': 'controller',
    }),
    workload('Job', 'ingress-nginx', 'ingress-nginx-admission-create', {
      'app.kubernetes.io/name': 'ingress-nginx',
      'app.kubernetes.io/component': 'admission-webhook',
    }),
    workload('StatefulSet', 'monitoring', 'prometheus-k8s', { 'app.kubernetes.io/name': 'prometheus', prometheus: 'k8s' }),
    workload('Deployment', 'monitoring', 'grafana', { 'app.kubernetes.io/name': 'grafana' }),
    workload('Deployment', 'kube-system', 'coredns', { 'k8s-app': 'kube-dns' }),
    workload('Deployment', 'cnpg-system', 'cnpg-controller-manager', { 'app.kubernetes.io/name': 'cloudnative-pg' }),
    workload('Deployment', 'ot-operators', 'redis-operator', { name: 'redis-operator' }),
    // Labelled like the app, in another namespace: labels alone must not let it in.
    pod('stranger', 'intruder', { 'app.kubernetes.io/name': 'web', 'cutover.dev/color': 'blue' }),
  ];
}

interface Connection {
  readonly src: string;
  readonly dst: string;
  readonly conn: string;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Writes the chart and the stand-ins to a temporary directory and returns what netpolicy says is allowed. */
function analyze(chart: Manifest[]): Connection[] {
  const dir = mkdtempSync(join(tmpdir(), 'netpol-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'chart.yaml'), chart.map((manifest) => stringify(manifest)).join('---\n'));
  writeFileSync(
    join(dir, 'stand-ins.yaml'),
    standIns(chart)
      .map((manifest) => stringify(manifest))
      .join('---\n'),
  );
  const result = runTool('netpolicy', ['list', '--dirpath', dir, '--output', 'json', '--quiet']);
  if (result.status !== 0) {
    throw new Error(`netpolicy list failed with status ${result.status}: ${result.stderr}`);
  }
  return (JSON.parse(result.stdout) as Connection[]).map(({ src, dst, conn }) => ({ src: stableName(src), dst: stableName(dst), conn }));
}

/**
 * A workload name without the migration's spec hash (`web-migrate-expand-<hash>`): the matrix is about who may talk
 * to whom, and the hash changes with every change of the migration Job.
 */
function stableName(name: string): string {
  return name.replace(/-migrate-(expand|contract)-[0-9a-f]{8}\[Job\]$/, '-migrate-$1-<hash>[Job]');
}

/** The gates' Jobs are named after the color they check (their pods' policies are not): as if blue were live. */
function asIfBlueLive(line: string): string {
  return line.replace(/-(gate|metric-gate)-green\[Job\]/g, '-$1-blue[Job]');
}

/** Connections with an end in the namespace, as `src => dst: conn`, sorted. */
function matrix(connections: readonly Connection[]): string[] {
  return connections
    .filter(({ src, dst }) => src.startsWith(`${NAMESPACE}/`) || dst.startsWith(`${NAMESPACE}/`))
    .map(({ src, dst, conn }) => `${src} => ${dst}: ${conn}`)
    .sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Reading netpolicy's connection strings ("All Connections", "TCP 443,6443", "TCP 53,UDP 53", "TCP 1-1024")
// ---------------------------------------------------------------------------------------------------------------

function ipNumber(address: string): number {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) {
    throw new Error(`not an IPv4 address: "${address}"`);
  }
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/** Whether a netpolicy endpoint (a workload, or an IP range `a.b.c.d-e.f.g.h`) is `endpoint` (a workload or an IP). */
function endpointMatches(reported: string, endpoint: string): boolean {
  const range = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(reported);
  if (range === null || !/^\d+\.\d+\.\d+\.\d+$/.test(endpoint)) {
    return reported === endpoint;
  }
  const address = ipNumber(endpoint);
  return ipNumber(range[1]) <= address && address <= ipNumber(range[2]);
}

function connAllows(conn: string, protocol: string, port: number): boolean {
  if (conn === 'All Connections') {
    return true;
  }
  let current: string | undefined;
  return conn.split(',').some((token) => {
    const match = /^(?:(TCP|UDP|SCTP) )?(\d+)(?:-(\d+))?$/.exec(token.trim());
    if (match === null) {
      throw new Error(`unexpected netpolicy connection string "${conn}" (token "${token}")`);
    }
    current = match[1] ?? current;
    const low = Number(match[2]);
    const high = match[3] !== undefined ? Number(match[3]) : low;
    return current === protocol && low <= port && port <= high;
  });
}

/** Whether `src => dst: PROTOCOL port` is among the connections. */
function allows(connections: readonly Connection[], flow: string): boolean {
  const match = /^(\S+) => (\S+): (TCP|UDP|SCTP) (\d+)$/.exec(flow);
  if (match === null) {
    throw new Error(`not a flow "src => dst: PROTOCOL port": "${flow}"`);
  }
  const [, src, dst, protocol, port] = match;
  return connections.some((c) => endpointMatches(c.src, src) && endpointMatches(c.dst, dst) && connAllows(c.conn, protocol, Number(port)));
}

describe('NetworkPolicySet connectivity, computed by netpolicy from the rendered manifests', () => {
  const blue = analyze(renderProd('blue'));

  it('allows exactly the expected flows in and out of the namespace', () => {
    expect(matrix(blue)).toEqual([...expected.allowed].sort());
  });

  it.each(expected.denied.map(({ flow, why }) => [why, flow]))('denies %s (%s)', (_why, flow) => {
    expect(allows(blue, flow)).toBe(false);
  });

  it('allows the same flows with green live: a cutover changes no policy', () => {
    const green = matrix(analyze(renderProd('green')));
    expect(green.some((line) => line.includes('web-metric-gate-green[Job]'))).toBe(true);
    expect(green.map(asIfBlueLive).sort()).toEqual(matrix(blue));
  });

  it('sees the denied flows when the policies are left out, so the denials are the policies’ doing', () => {
    const open = analyze(renderProd('blue', false));
    const seen = expected.denied.filter(({ flow }) => allows(open, flow)).map(({ flow }) => flow);
    expect(seen).toEqual(expected.denied.map(({ flow }) => flow));
  });
});

describe('reading netpolicy output', () => {
  it('matches ports, port lists, protocols and ranges', () => {
    expect(connAllows('TCP 443,6443', 'TCP', 6443)).toBe(true);
    expect(connAllows('TCP 443,6443', 'TCP', 80)).toBe(false);
    expect(connAllows('TCP 53,UDP 53', 'UDP', 53)).toBe(true);
    expect(connAllows('UDP 53', 'TCP', 53)).toBe(false);
    expect(connAllows('TCP 1-1024', 'TCP', 80)).toBe(true);
    expect(connAllows('All Connections', 'UDP', 9999)).toBe(true);
    expect(() => connAllows('ICMP', 'TCP', 1)).toThrow('unexpected netpolicy connection string "ICMP"');
  });

  it('matches an address against a reported range', () => {
    expect(endpointMatches('10.245.0.0-255.255.255.255', '93.184.216.34')).toBe(true);
    expect(endpointMatches('10.244.0.0-10.244.255.255', '93.184.216.34')).toBe(false);
    expect(endpointMatches('web-prod/web-blue[Deployment]', 'web-prod/web-blue[Deployment]')).toBe(true);
  });
});
