import { describe, expect, it } from 'vitest';
import { problemOf } from '../../stacks/platform';
import { platformProblems } from '../helpers';
import { readStackFile } from '../../stacks/stack-file';
import { CrdSchemaValidator } from '../crd-schema';
import { synthesize } from '../../stacks/synthesize';

const ROOT = `${__dirname}/../..`;

function render(stack: string, overrides: Record<string, string> = {}) {
  return synthesize({ ...readStackFile(ROOT, stack), ...overrides }, stack).objects.map((r) => r.manifest as Record<string, any>);
}

describe('environment composition', () => {
  for (const stack of ['prod', 'staging']) {
    it(`${stack}: every custom resource validates against the operator's pinned CRD`, () => {
      const validator = CrdSchemaValidator.fromDirectory();
      const custom = render(stack).filter((m) => validator.covers(m));
      expect(custom.length).toBeGreaterThanOrEqual(8);
      for (const manifest of custom) {
        expect(validator.validate(manifest), `${manifest.kind}/${manifest.metadata.name}`).toEqual([]);
      }
    });
  }

  it("prod wires DATABASE_URL and REDIS_URL into both colors from the operators' Secrets", () => {
    const manifests = render('prod');
    for (const color of ['blue', 'green']) {
      const env = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === `web-${color}`)?.spec.template.spec.containers[0].env as Array<
        Record<string, any>
      >;
      const byName = Object.fromEntries(env.map((e) => [e.name, e]));
      expect(byName.DATABASE_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: 'web-db-app', key: 'password' } });
      expect(byName.DATABASE_URL.value).toBe('postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@web-db-pooler-rw.web-prod:5432/$(DATABASE_NAME)');
      expect(byName.REDIS_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: 'web-cache-auth', key: 'password' } });
      expect(byName.REDIS_URL.value).toBe('redis://:$(REDIS_PASSWORD)@web-cache-master.web-prod:6379/0');
    }
  });

  it('the data tier is never colored: a cutover leaves every data object unchanged', () => {
    const blue = render('prod');
    const green = render('prod', { 'cutover:activeColor': 'green' });
    const key = (m: Record<string, any>) => `${m.kind}/${m.metadata.name}`;
    // The gate is per target color: the cutover replaces blue's gate with green's, so it runs on every switch.
    const gate = (color: string) => [`Job/web-gate-${color}`];
    expect(green.map(key).sort()).toEqual([...blue.map(key).filter((k) => !gate('blue').includes(k)), ...gate('green')].sort());
    const changed = blue
      .filter((m) => !gate('blue').includes(key(m)) && JSON.stringify(m) !== JSON.stringify(green.find((g) => key(g) === key(m))))
      .map(key);
    expect(changed.sort()).toEqual(['Service/web', 'Service/web-preview']);
  });

  it('reports the problem of every construct that refuses its part of the config at once, each under its key', () => {
    const raw = {
      ...readStackFile(ROOT, 'prod'),
      'cutover:postgres': JSON.stringify({ instances: 1 }),
      'cutover:redis': JSON.stringify({ replicas: 1 }),
      'cutover:resources': JSON.stringify({ cpuRequest: '2', cpuLimit: '1' }),
    };
    expect(platformProblems(raw, 'prod')).toEqual([
      expect.stringMatching(/^postgres\.instances: production needs a primary and at least 2 replicas, got 1; /),
      // A second problem of the same construct, in the same run.
      expect.stringMatching(/^postgres\.backup\.destinationPath: is required while backups are on, got none; /),
      expect.stringMatching(/^redis\.replicas: /),
      'resources.cpuRequest: exceeds resources.cpuLimit 1000m, got 2000m; lower the request or raise the limit',
    ]);
  });

  it('names the config key when the data tier refuses a value', () => {
    expect(() => render('prod', { 'cutover:postgres': JSON.stringify({ instances: 1, backup: { destinationPath: 's3://b/p' } }) })).toThrow(
      /\n {2}- cutover:postgres\.instances: /,
    );
  });

  it('has no data tier when the stack configures none', () => {
    const kinds = render('prod', { 'cutover:postgres': undefined as never, 'cutover:redis': undefined as never }).map((m) => m.kind);
    expect(kinds).not.toContain('Cluster');
  });
});

describe('network policies in the composition', () => {
  const policies = (manifests: Record<string, any>[]) => manifests.filter((m) => m.kind === 'NetworkPolicy');

  it('renders default deny, DNS and one policy per pod group for app, database, pooler, cache and sentinels', () => {
    expect(policies(render('prod')).map((p) => p.metadata.name)).toEqual([
      'default-deny',
      'allow-dns',
      'web',
      'web-db',
      'web-db-pooler-rw',
      'web-cache',
      'web-cache-sentinel',
      'web-gate',
    ]);
  });

  it('does not change on a cutover', () => {
    expect(policies(render('prod', { 'cutover:activeColor': 'green' }))).toEqual(policies(render('prod')));
  });

  it('lets the app out to HTTPS only while internetEgress is on, and takes the cluster ranges from config', () => {
    const egressTo443 = (manifests: Record<string, any>[]) =>
      (policies(manifests).find((p) => p.metadata.name === 'web')?.spec.egress ?? []).filter(
        (rule: any) => rule.ports?.some((port: any) => port.port === 443) && rule.to?.some((peer: any) => peer.ipBlock),
      );
    expect(egressTo443(render('prod'))).toHaveLength(1);
    expect(egressTo443(render('prod', { 'cutover:network': '{"internetEgress":false}' }))).toHaveLength(0);
    const custom = render('prod', { 'cutover:network': '{"podCidrs":["10.42.0.0/16"],"serviceCidrs":["10.43.0.0/16"]}' });
    const [rule] = egressTo443(custom);
    expect(rule.to[0].ipBlock).toEqual({ cidr: '0.0.0.0/0', except: ['10.42.0.0/16', '10.43.0.0/16'] });
  });

  it("admits the Gateway's proxies with the gateway router, the ingress controller with the Ingress router, and both while migrating", () => {
    const from = (manifests: Record<string, any>[]) =>
      (policies(manifests).find((p) => p.metadata.name === 'web')?.spec.ingress ?? [])
        .flatMap((rule: any) => rule.from ?? [])
        .map((peer: any) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])
        .filter((namespace: string | undefined) => namespace !== undefined && namespace !== 'monitoring');
    expect(from(render('prod'))).toEqual(['gateway-system']);
    expect(from(render('prod', { 'cutover:routing': '{"router":"ingress"}' }))).toEqual(['ingress-nginx']);
    expect(from(render('prod', { 'cutover:routing': '{"gateway":{"name":"public","namespace":"gateway-system"},"keepIngress":true}' }))).toEqual([
      'gateway-system',
      'ingress-nginx',
    ]);
    expect(from(render('prod', { 'cutover:network': '{"gatewayNamespace":"envoy-gateway-system"}' }))).toEqual(['envoy-gateway-system']);
  });

  it('names the config key when a network value is wrong', () => {
    expect(() => render('prod', { 'cutover:network': '{"podCidrs":["10.0.0.0/33"]}' })).toThrow(
      'cutover:network.podCidrs[0]: prefix length must be 0 to 32, got "10.0.0.0/33"',
    );
  });
});

describe('routing in the composition', () => {
  const routingKinds = (manifests: Record<string, any>[]) =>
    manifests.filter((m) => ['Gateway', 'HTTPRoute', 'Ingress'].includes(m.kind)).map((m) => `${m.kind}/${m.metadata.name}`);
  const OWNED = { 'cutover:routing': '{"gateway":{"create":{"className":"eg"}}}', 'cutover:network': '{"gatewayNamespace":"envoy-gateway-system"}' };
  const API = JSON.stringify({
    api: { host: 'api.example.com', blue: { image: 'registry.example.com/acme/api:2.0.0' }, green: { image: 'registry.example.com/acme/api:2.1.0' } },
  });

  it('routes prod through HTTPRoutes on the platform Gateway, and renders no Gateway of its own', () => {
    expect(routingKinds(render('prod'))).toEqual(['HTTPRoute/web', 'HTTPRoute/web-https-redirect']);
  });

  it(
    'renders the Gateway a stack owns: an HTTP listener and an HTTPS listener per app, TLS from cert-manager, ' +
      'routes attached to their own listener',
    () => {
      const manifests = render('prod', { ...OWNED, 'cutover:services': API });
      expect(routingKinds(manifests)).toEqual([
        'Gateway/web',
        'HTTPRoute/web',
        'HTTPRoute/web-https-redirect',
        'HTTPRoute/api',
        'HTTPRoute/api-https-redirect',
      ]);
      const gateway = manifests.find((m) => m.kind === 'Gateway') as Record<string, any>;
      expect(gateway.metadata).toMatchObject({
        name: 'web',
        namespace: 'web-prod',
        annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt-prod' },
      });
      const sameNamespace = { namespaces: { from: 'Same' }, kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }] };
      expect(gateway.spec).toEqual({
        gatewayClassName: 'eg',
        listeners: [
          { name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: sameNamespace },
          {
            name: 'https-web',
            protocol: 'HTTPS',
            port: 443,
            hostname: 'web.example.com',
            tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'web-tls' }] },
            allowedRoutes: sameNamespace,
          },
          {
            name: 'https-api',
            protocol: 'HTTPS',
            port: 443,
            hostname: 'api.example.com',
            tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'api-tls' }] },
            allowedRoutes: sameNamespace,
          },
        ],
      });
      const parent = (name: string) =>
        (manifests.find((m) => m.kind === 'HTTPRoute' && m.metadata.name === name) as Record<string, any>).spec.parentRefs;
      expect(parent('api')).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web', sectionName: 'https-api' }]);
      expect(parent('web-https-redirect')).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'web', sectionName: 'http' }]);
      // The Gateway is no routing object: a cutover leaves it alone.
      const green = render('prod', { ...OWNED, 'cutover:services': API, 'cutover:activeColor': 'green' }).find((m) => m.kind === 'Gateway');
      expect(green).toEqual(gateway);
    },
  );

  it('reports a bad Gateway once, under the routing key the user wrote, however many apps route through it', () => {
    const raw = (routing: unknown) => ({
      ...readStackFile(ROOT, 'prod'),
      'cutover:routing': JSON.stringify(routing),
      'cutover:network': '{"gatewayNamespace":"eg"}',
      'cutover:services': API,
    });
    expect(platformProblems(raw({ gateway: { name: 'Edge_GW', create: { className: 'Envoy Gateway' } } }), 'prod')).toEqual([
      'routing.gateway.name: must be a lowercase DNS label (the name of a Gateway), got "Edge_GW"; e.g. "public"',
      'routing.gateway.create.className: must be a lowercase DNS subdomain (a GatewayClass), got "Envoy Gateway"; see `kubectl get gatewayclass`, ' +
        'e.g. "eg"',
    ]);
    expect(platformProblems(raw({ gateway: { name: 'Edge_GW', namespace: 'gateway-system' } }), 'prod')).toEqual([
      'routing.gateway.name: must be a lowercase DNS label (the name of a Gateway), got "Edge_GW"; e.g. "public"',
    ]);
  });

  it('routes through an Ingress by name, and through both while migrating', () => {
    expect(routingKinds(render('prod', { 'cutover:routing': '{"router":"ingress"}' }))).toEqual(['Ingress/web']);
    expect(
      routingKinds(render('prod', { 'cutover:routing': '{"gateway":{"name":"public","namespace":"gateway-system"},"keepIngress":true}' })),
    ).toEqual(['HTTPRoute/web', 'HTTPRoute/web-https-redirect', 'Ingress/web']);
  });
});

describe('rendered alert and recording rules', () => {
  // promtool accepts `undefined{...}` as a metric name: a rule that can never fire would pass every tool.
  for (const [stack, overrides] of [
    ['prod', {}],
    ['staging', {}],
    [
      'staging',
      { 'cutover:monitoring': JSON.stringify({ databasePool: { inUse: 'db_client_connections_usage', max: 'db_client_connections_max' } }) },
    ],
  ] as const) {
    it(`${stack}${Object.keys(overrides).length > 0 ? ' with a database pool' : ''}: no expression contains undefined, NaN or null`, () => {
      const rules = render(stack, overrides)
        .filter((m) => m.kind === 'PrometheusRule')
        .flatMap((m) => (m.spec.groups as Array<{ rules: Array<{ expr: string }> }>).flatMap((g) => g.rules));
      expect(rules.length).toBeGreaterThan(10);
      for (const rule of rules) {
        expect(String(rule.expr), String(rule.expr)).not.toMatch(/\b(undefined|NaN|null)\b/);
      }
    });
  }
});

describe('construct problems under the config key the user wrote', () => {
  it('reports a prop several constructs get from one key under that key', () => {
    expect(problemOf('postgres', 'monitoringLabels: "x" is set by the construct itself, got {}; choose another key')).toEqual({
      key: 'monitoring.labels',
      message: 'monitoring.labels: "x" is set by the construct itself, got {}; choose another key',
    });
    expect(problemOf('monitoring', 'sidecarLabels: the Grafana sidecar finds dashboards by label, got {}; set the label it watches').key).toBe(
      'monitoring.dashboardLabels',
    );
    expect(problemOf('redis', 'redisSecret: must name a Secret and one of its keys, got {}; fix it').key).toBe('redis.secretName');
  });

  it('keeps a prop that is its config key', () => {
    expect(problemOf('postgres', 'storageSize: bad, got "x"; fix')).toEqual({
      key: 'postgres.storageSize',
      message: 'postgres.storageSize: bad, got "x"; fix',
    });
  });
});
