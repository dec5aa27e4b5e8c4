import { ApiObject } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../helpers';
import { renderChart } from '../../lib';
import { waitsFor } from '../../lib/gates/gate-job';
import { parseStackConfig } from '../../stacks/config';
import { synthesize } from '../../stacks/synthesize';
import { readStackFile } from '../../stacks/stack-file';

// Several apps in one stack (`services`): one `activeColor` switches them all, each is gated, and every app's traffic
// objects wait for every gate, so a failing gate leaves every live Service where it was.

const ROOT = `${__dirname}/../..`;
const API = {
  host: 'api.example.com',
  blue: { image: 'registry.example.com/acme/api:2.0.0' },
  green: { image: 'registry.example.com/acme/api:2.1.0' },
  port: 8081,
};

function raw(overrides: Record<string, unknown> = {}): Record<string, string> {
  const base = readStackFile(ROOT, 'prod');
  const extra = Object.fromEntries(
    Object.entries(overrides).map(([key, value]) => [`cutover:${key}`, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
  return { ...base, 'cutover:services': JSON.stringify({ api: API }), ...extra };
}

function problems(overrides: Record<string, unknown>): string[] {
  return configProblems(raw(overrides), 'prod');
}

describe('services config', () => {
  it("adds an app that inherits the main app's values unless it sets its own", () => {
    const config = parseStackConfig(raw(), 'prod');
    expect(config.apps.map((app) => app.name)).toEqual(['web', 'api']);
    expect(config.apps[1]).toMatchObject({
      host: 'api.example.com',
      port: 8081,
      metricsPort: config.metricsPort,
      replicas: config.replicas,
      maxReplicas: config.maxReplicas,
      readinessPath: '/ready',
      tlsSecretName: 'api-tls',
      backends: true,
      settings: config.settings,
    });
    expect(config.apps[0]).toMatchObject({ name: 'web', host: 'web.example.com', blue: config.blue, green: config.green });
  });

  it('reads values `pulumi config set --path` stores as numbers and booleans as the strings the objects hold', () => {
    // `pulumi config set --path services.api.settings.WORKERS 4` stores 4, a number: a ConfigMap's data are strings.
    const entry = { ...API, settings: { WORKERS: 4, DEBUG: false }, green: { ...API.green, replicas: '4', env: { RETRIES: 2 } } };
    const { config, objects } = synthesize(raw({ services: { api: entry } }), 'prod');
    expect(config.apps[1]).toMatchObject({ settings: { WORKERS: '4', DEBUG: 'false' }, green: { replicas: 4, env: { RETRIES: '2' } } });
    const settings = objects.find(({ manifest }) => manifest.kind === 'ConfigMap' && manifest.metadata.name === 'api-settings');
    expect(settings?.manifest.data).toEqual({ WORKERS: '4', DEBUG: 'false' });
  });

  it("refuses a service without a host, with the main app's host, or with another service's", () => {
    expect(problems({ services: { api: { ...API, host: undefined } } })).toEqual([
      expect.stringMatching(/^services\.api\.host: is required, got nothing; /),
    ]);
    expect(problems({ services: { api: { ...API, host: 'web.example.com' } } })).toEqual([
      expect.stringMatching(/^services\.api\.host: is already the host of the main app \(web\)/),
    ]);
    expect(problems({ services: { api: API, admin: { ...API } } })).toEqual([
      expect.stringMatching(/^services\.api\.host: is already the host of services\.admin/),
    ]);
  });

  it("refuses names that collide with another app's objects", () => {
    expect(problems({ services: { web: API } })).toEqual([expect.stringMatching(/^services\.web: has the name of the main app/)]);
    expect(problems({ services: { 'web-gate': API } })).toEqual([expect.stringMatching(/^services\.web-gate: starts with the main app's name/)]);
    expect(problems({ services: { api: API, 'api-v2': { ...API, host: 'v2.example.com' } } })).toEqual([
      expect.stringMatching(/^services\.api-v2: starts with the name of services\.api/),
    ]);
    expect(problems({ services: { Api: API } })).toEqual([expect.stringMatching(/^services\.Api: needs a name that is a lowercase DNS label/)]);
  });

  it("checks each service's colors like the main app's, naming the service", () => {
    expect(problems({ services: { api: { ...API, blue: { image: 'registry.example.com/acme/api:latest' } } } })).toEqual([
      expect.stringMatching(/^services\.api\.blue\.image: production does not run `:latest`/),
    ]);
    expect(problems({ services: { api: { ...API, blue: {} } } })).toEqual([
      expect.stringMatching(/^services\.api\.blue\.image: the live color has no image/),
    ]);
    expect(problems({ services: { api: { ...API, replicas: 2 } } })).toEqual([
      expect.stringMatching(/^services\.api\.replicas: production runs at least 3 replicas/),
    ]);
    expect(problems({ services: { api: { ...API, colour: 'blue' } } })).toEqual([
      expect.stringMatching(/^services\.api\.colour: is not a services\.api field/),
    ]);
    expect(problems({ trafficWeight: '5', services: { api: { ...API, green: undefined } } })).toEqual([
      expect.stringMatching(/^trafficWeight: sends 5% of api's requests to green, which is not deployed/),
    ]);
    expect(problems({ services: { api: { ...API, port: 9090 } } })).toEqual([
      expect.stringMatching(/^services\.api\.metricsPort: must differ from port/),
    ]);
    // The API server's rules, as for the main app (found by the server-side dry run of generated configs).
    expect(problems({ services: { api: { ...API, host: '10.0.0.1' } } })).toEqual([
      'services.api.host: is an IP address; Ingress and HTTPRoute hosts must be DNS names, got "10.0.0.1"; use the DNS name clients call, such as ' +
        '`api.example.com`, pointed at the load balancer',
    ]);
    expect(problems({ services: { api: { ...API, settings: { 'bad key': 'v' } } } })).toEqual([
      'services.api.settings.bad key: is not a ConfigMap key (letters, digits, "-", "_" and "." only), got "bad key"; name it like an environment ' +
        'variable, e.g. `LOG_LEVEL`',
    ]);
  });
});

describe('several apps, one switch', () => {
  const platform = (overrides: Record<string, unknown> = {}) => synthesize(raw(overrides), 'prod').platform;

  it('renders each app with its own gate, monitoring and policies, and a quota for all of them', () => {
    const built = platform();
    const names = renderChart(built.chart).map((r) => `${r.manifest.kind}/${r.manifest.metadata.name}`);
    for (const name of [
      'Deployment/api-blue',
      'Deployment/api-green',
      'Service/api',
      'Service/api-preview',
      'HTTPRoute/api',
      'HTTPRoute/api-https-redirect',
      'Job/api-gate-blue',
      'Service/api-blue',
      'ServiceMonitor/api',
      'NetworkPolicy/api',
      'NetworkPolicy/api-gate',
    ]) {
      expect(names).toContain(name);
    }
    expect(new Set(names).size).toBe(names.length);
    const quota = renderChart(built.chart).find((r) => r.manifest.kind === 'ResourceQuota')?.manifest as unknown as {
      spec: { hard: Record<string, number> };
    };
    // Two apps × two colors × (10 + 3 surge), a gate Job each, 3 PostgreSQL + 3 PgBouncer + 3 Redis + 3 sentinel
    // pods, and 5 spare: 52 + 2 + 12 + 5.
    expect(quota.spec.hard.pods).toBe(71);
    const api = built.apps[1];
    const env = (
      renderChart(built.chart).find((r) => r.manifest.kind === 'Deployment' && r.manifest.metadata.name === 'api-blue')?.manifest as any
    ).spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
    expect(env).toContain('DATABASE_URL');
    expect(api.name).toBe('api');
  });

  it("runs a service's smoke test and metric gate in its own gate image, the main app's in the stack's", () => {
    const metrics = { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090' };
    const built = synthesize(
      raw({
        gate: { image: 'registry.example.com/acme/gate:1.0.0', metrics },
        services: { api: { ...API, gate: { image: 'registry.example.com/acme/api-gate:2.0.0' } } },
      }),
      'prod',
    ).platform;
    const images = Object.fromEntries(
      renderChart(built.chart)
        .map((r) => r.manifest as Record<string, any>)
        .filter((m) => m.kind === 'Job')
        .map((m) => [m.metadata.name, m.spec.template.spec.containers[0].image]),
    );
    expect(images).toMatchObject({
      'web-gate-blue': 'registry.example.com/acme/gate:1.0.0',
      'web-metric-gate-blue': 'registry.example.com/acme/gate:1.0.0',
      'api-gate-blue': 'registry.example.com/acme/api-gate:2.0.0',
      'api-metric-gate-blue': 'registry.example.com/acme/api-gate:2.0.0',
    });
  });

  it("makes every app's routing objects wait for every app's gate", () => {
    const built = platform();
    expect(built.gates.map((gate) => gate.name)).toEqual(['web-gate-blue', 'api-gate-blue']);
    for (const app of built.apps) {
      for (const routing of app.routingObjects) {
        for (const gate of built.gates) {
          expect(waitsFor(routing, gate.job), `${ApiObject.of(routing).name} waits for ${gate.name}`).toBe(true);
        }
      }
    }
  });

  it('a cutover changes only the routing objects and the gates of every app', () => {
    const key = (m: { kind: string; metadata: { name?: string } }) => `${m.kind}/${m.metadata.name}`;
    const blue = renderChart(platform().chart).map((r) => r.manifest);
    const green = renderChart(platform({ activeColor: 'green' }).chart).map((r) => r.manifest);
    const isGate = (k: string) => /-gate-(blue|green)$/.test(k);
    const changed = blue.filter((m) => !isGate(key(m)) && JSON.stringify(m) !== JSON.stringify(green.find((g) => key(g) === key(m)))).map(key);
    expect(changed.sort()).toEqual(['Service/api', 'Service/api-preview', 'Service/web', 'Service/web-preview']);
  });

  it('gives a service without backends no database URL and no path to the data tier', () => {
    const built = platform({ services: { api: { ...API, backends: false } } });
    const manifests = renderChart(built.chart).map((r) => r.manifest as any);
    const env = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'api-blue').spec.template.spec.containers[0].env ?? [];
    expect(env.map((e: { name: string }) => e.name)).not.toContain('DATABASE_URL');
    const apiPolicy = manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'api');
    expect(JSON.stringify(apiPolicy.spec.egress ?? [])).not.toContain('5432');
    const webPolicy = manifests.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === 'web');
    expect(JSON.stringify(webPolicy.spec.egress)).toContain('5432');
  });

  it('adds a metric gate per app after its smoke test, guarding every app, with egress to Prometheus', () => {
    const built = platform({ gate: { metrics: { prometheusUrl: 'http://prometheus-operated.monitoring.svc:9090', minRequests: 10 } } });
    expect(built.metricGates.map((gate) => ApiObject.of(gate.node.findChild('job') as never).name)).toEqual([
      'web-metric-gate-blue',
      'api-metric-gate-blue',
    ]);
    built.metricGates.forEach((metricGate, index) => {
      const job = metricGate.node.findChild('job');
      expect(waitsFor(job, built.gates[index].job)).toBe(true);
      for (const app of built.apps) {
        for (const routing of app.routingObjects) {
          expect(waitsFor(routing, job)).toBe(true);
        }
      }
    });
    const policy = renderChart(built.chart).find((r) => r.manifest.kind === 'NetworkPolicy' && r.manifest.metadata.name === 'api-metric-gate')
      ?.manifest as any;
    expect(JSON.stringify(policy.spec.egress)).toContain('9090');
  });

  it('refuses a metric gate without a Prometheus URL, naming the key', () => {
    expect(problems({ gate: { metrics: { maxErrorRatio: 0.01 } } })).toEqual([expect.stringMatching(/^gate\.metrics\.prometheusUrl: is required/)]);
    expect(() => platform({ gate: { metrics: { prometheusUrl: 'ftp://prometheus' } } })).toThrow(/\n {2}- cutover:gate\.metrics\.prometheusUrl: /);
  });
});
