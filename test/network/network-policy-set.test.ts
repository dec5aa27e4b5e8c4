import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  BlueGreenApp,
  BlueGreenAppProps,
  Color,
  INetworkPeer,
  Manifest,
  NetworkPeerSpec,
  NetworkPolicySet,
  NetworkPolicySetProps,
  NetworkPort,
  PostgresHA,
  PostgresHAProps,
  RedisCluster,
  RedisClusterProps,
  renderChart,
} from '../../lib';
import { BASE_PROPS, find, names } from '../helpers';

const DB: PostgresHAProps = { name: 'web-db', backup: { destinationPath: 's3://acme-backups/web' } };
const CACHE: RedisClusterProps = { name: 'web-cache' };

interface Fixture {
  readonly chart: Chart;
  readonly app: BlueGreenApp;
  readonly postgres: PostgresHA;
  readonly redis: RedisCluster;
  readonly policies: NetworkPolicySet;
  readonly render: () => Manifest[];
}

/** An app, PostgreSQL and Redis in namespace `shop`, and a NetworkPolicySet; the test states the relationships. */
function fixture(
  options: {
    props?: NetworkPolicySetProps;
    app?: Partial<BlueGreenAppProps>;
    postgres?: Partial<PostgresHAProps>;
    redis?: Partial<RedisClusterProps>;
  } = {},
): Fixture {
  const chart = new Chart(new App(), 'test', { namespace: 'shop' });
  const postgres = new PostgresHA(chart, 'postgres', { ...DB, ...options.postgres });
  const redis = new RedisCluster(chart, 'redis', { ...CACHE, ...options.redis });
  const app = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...options.app });
  const policies = new NetworkPolicySet(chart, 'network', options.props);
  return { chart, app, postgres, redis, policies, render: () => renderChart(chart).map((rendered) => rendered.manifest) };
}

type Rule = { from?: unknown[]; to?: unknown[]; ports: { port: number; protocol: string }[] };

function spec(manifests: Manifest[], name: string): { podSelector: unknown; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] } {
  return find(manifests, 'NetworkPolicy', name).spec;
}

function policyNames(manifests: Manifest[]): string[] {
  return names(manifests.filter((manifest) => manifest.kind === 'NetworkPolicy'));
}

const tcp = (port: number) => ({ port, protocol: 'TCP' });
const APP_PODS = {
  matchLabels: { 'app.kubernetes.io/name': 'web' },
  matchExpressions: [{ key: 'cutover.dev/color', operator: 'In', values: ['blue', 'green'] }],
};
const DB_PODS = { matchLabels: { 'cnpg.io/cluster': 'web-db' }, matchExpressions: [{ key: 'cnpg.io/poolerName', operator: 'DoesNotExist' }] };
const POOLER_PODS = { matchLabels: { 'cnpg.io/poolerName': 'web-db-pooler-rw' } };
const REDIS_PODS = { matchLabels: { app: 'web-cache', redis_setup_type: 'replication' } };
const SENTINEL_PODS = { matchLabels: { app: 'web-cache-sentinel', redis_setup_type: 'sentinel' } };
const OUTSIDE = { ipBlock: { cidr: '0.0.0.0/0', except: ['10.244.0.0/16', '10.96.0.0/12'] } };
const inNamespace = (namespace: string, podLabels: Record<string, string>) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
  podSelector: Object.keys(podLabels).length > 0 ? { matchLabels: podLabels } : {},
});

describe('NetworkPolicySet baseline', () => {
  it('always renders a default deny for ingress and egress of every pod, and DNS for every pod', () => {
    const manifests = fixture().render();
    expect(policyNames(manifests)).toEqual(['NetworkPolicy/allow-dns', 'NetworkPolicy/default-deny']);
    expect(find(manifests, 'NetworkPolicy', 'default-deny').metadata.namespace).toBe('shop');
    expect(spec(manifests, 'default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(spec(manifests, 'allow-dns')).toEqual({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [inNamespace('kube-system', { 'k8s-app': 'kube-dns' })], ports: [{ port: 53, protocol: 'UDP' }, tcp(53)] }],
    });
  });

  it('takes the DNS pods from props', () => {
    const manifests = fixture({ props: { dns: { namespace: 'dns', podLabels: { app: 'coredns' } } } }).render();
    expect(spec(manifests, 'allow-dns').egress?.[0].to).toEqual([inNamespace('dns', { app: 'coredns' })]);
  });

  it('pins one policy per workload, named after it', () => {
    const { policies, app, postgres, redis, render } = fixture({ postgres: { pooler: {} } });
    policies.allow(app).to(postgres);
    policies.allow(app).to(redis);
    expect(policyNames(render())).toEqual([
      'NetworkPolicy/allow-dns',
      'NetworkPolicy/default-deny',
      'NetworkPolicy/web',
      'NetworkPolicy/web-cache',
      'NetworkPolicy/web-cache-sentinel',
      'NetworkPolicy/web-db',
      'NetworkPolicy/web-db-pooler-rw',
    ]);
  });

  it('lists both policy types on every workload policy, so each alone still allows only its flows', () => {
    const { policies, postgres, render } = fixture();
    policies.add(postgres);
    expect(spec(render(), 'web-db').policyTypes).toEqual(['Ingress', 'Egress']);
  });
});

describe('NetworkPolicySet relationships', () => {
  it('allow(app).to(postgres): the app reaches the instances on 5432, and nothing else of them', () => {
    const { policies, app, postgres, render } = fixture();
    policies.allow(app).to(postgres);
    const manifests = render();
    expect(spec(manifests, 'web')).toEqual({
      podSelector: APP_PODS,
      policyTypes: ['Ingress', 'Egress'],
      egress: [{ to: [{ podSelector: DB_PODS }], ports: [tcp(5432)] }],
    });
    expect(spec(manifests, 'web-db').ingress).toContainEqual({ from: [{ podSelector: APP_PODS }], ports: [tcp(5432)] });
  });

  it('gives PostgreSQL the flows CloudNativePG needs: operator, replication, API server, object store', () => {
    const { policies, postgres, render } = fixture();
    policies.add(postgres);
    expect(spec(render(), 'web-db')).toEqual({
      podSelector: DB_PODS,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: DB_PODS }], ports: [tcp(5432), tcp(8000)] },
        { from: [inNamespace('cnpg-system', { 'app.kubernetes.io/name': 'cloudnative-pg' })], ports: [tcp(5432), tcp(8000)] },
      ],
      egress: [
        { to: [OUTSIDE], ports: [tcp(443), tcp(6443)] },
        { to: [{ podSelector: DB_PODS }], ports: [tcp(5432), tcp(8000)] },
      ],
    });
  });

  it('sends backups to the object store endpoint port, and nowhere outside when there is no store', () => {
    const minio = fixture({ postgres: { backup: { destinationPath: 's3://acme-backups/web', endpointURL: 'https://minio.example.com:9000' } } });
    minio.policies.add(minio.postgres);
    expect(spec(minio.render(), 'web-db').egress?.[0]).toEqual({ to: [OUTSIDE], ports: [tcp(443), tcp(6443), tcp(9000)] });

    const none = fixture({ postgres: { backup: { enabled: false } } });
    none.policies.add(none.postgres);
    expect(spec(none.render(), 'web-db').egress?.[0]).toEqual({ to: [OUTSIDE], ports: [tcp(443), tcp(6443)] });
  });

  it('with a pooler, the app reaches PostgreSQL only through PgBouncer, which reaches the instances', () => {
    const { policies, app, postgres, render } = fixture({ postgres: { pooler: {} } });
    policies.allow(app).to(postgres);
    const manifests = render();
    expect(spec(manifests, 'web').egress).toEqual([{ to: [{ podSelector: POOLER_PODS }], ports: [tcp(5432)] }]);
    expect(spec(manifests, 'web-db-pooler-rw')).toEqual({
      podSelector: POOLER_PODS,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: APP_PODS }], ports: [tcp(5432)] }],
      egress: [
        { to: [OUTSIDE], ports: [tcp(443), tcp(6443)] },
        { to: [{ podSelector: DB_PODS }], ports: [tcp(5432)] },
      ],
    });
    const dbIngress = spec(manifests, 'web-db').ingress ?? [];
    expect(dbIngress).toContainEqual({ from: [{ podSelector: POOLER_PODS }], ports: [tcp(5432)] });
    expect(dbIngress.flatMap((rule) => rule.from)).not.toContainEqual({ podSelector: APP_PODS });
  });

  it('allow(app).to(redis) in sentinel mode: Redis on 6379 and the sentinels on 26379', () => {
    const { policies, app, redis, render } = fixture();
    const touched = policies.allow(app).to(redis);
    const manifests = render();
    expect(touched.map((object) => object.name)).toEqual(['web', 'web-cache', 'web-cache-sentinel']);
    expect(spec(manifests, 'web').egress).toEqual([
      { to: [{ podSelector: REDIS_PODS }], ports: [tcp(6379)] },
      { to: [{ podSelector: SENTINEL_PODS }], ports: [tcp(26379)] },
    ]);
    expect(spec(manifests, 'web-cache')).toEqual({
      podSelector: REDIS_PODS,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: REDIS_PODS }], ports: [tcp(6379)] },
        { from: [{ podSelector: SENTINEL_PODS }], ports: [tcp(6379)] },
        { from: [inNamespace('ot-operators', { name: 'redis-operator' })], ports: [tcp(6379)] },
        { from: [{ podSelector: APP_PODS }], ports: [tcp(6379)] },
      ],
      egress: [{ to: [{ podSelector: REDIS_PODS }], ports: [tcp(6379)] }],
    });
    expect(spec(manifests, 'web-cache-sentinel')).toEqual({
      podSelector: SENTINEL_PODS,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: SENTINEL_PODS }], ports: [tcp(26379)] },
        { from: [{ podSelector: APP_PODS }], ports: [tcp(26379)] },
      ],
      egress: [
        { to: [{ podSelector: REDIS_PODS }], ports: [tcp(6379)] },
        { to: [{ podSelector: SENTINEL_PODS }], ports: [tcp(26379)] },
      ],
    });
  });

  it('restricts a connection to some of the target ports', () => {
    const { policies, app, redis, render } = fixture();
    policies.allow(app).to(redis, { ports: [NetworkPort.tcp(6379)] });
    const manifests = render();
    expect(spec(manifests, 'web').egress).toEqual([{ to: [{ podSelector: REDIS_PODS }], ports: [tcp(6379)] }]);
    expect(spec(manifests, 'web-cache-sentinel').ingress).toEqual([{ from: [{ podSelector: SENTINEL_PODS }], ports: [tcp(26379)] }]);
  });

  it('allow(app).to(redis) in cluster mode: every node on 6379, nodes to each other on 6379 and the bus port', () => {
    const { policies, app, redis, render } = fixture({ redis: { mode: 'cluster' } });
    policies.allow(app).to(redis);
    const nodes = {
      matchLabels: { redis_setup_type: 'cluster' },
      matchExpressions: [{ key: 'app', operator: 'In', values: ['web-cache-leader', 'web-cache-follower'] }],
    };
    const manifests = render();
    expect(policyNames(manifests)).not.toContain('NetworkPolicy/web-cache-sentinel');
    expect(spec(manifests, 'web-cache')).toEqual({
      podSelector: nodes,
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        { from: [{ podSelector: nodes }], ports: [tcp(6379), tcp(16379)] },
        { from: [inNamespace('ot-operators', { name: 'redis-operator' })], ports: [tcp(6379)] },
        { from: [{ podSelector: APP_PODS }], ports: [tcp(6379)] },
      ],
      egress: [{ to: [{ podSelector: nodes }], ports: [tcp(6379), tcp(16379)] }],
    });
  });

  it('lets the ingress controller reach the app’s HTTP port only', () => {
    const { policies, app, render } = fixture({ app: { port: 3000 } });
    policies.allowIngressController(app);
    expect(spec(render(), 'web').ingress).toEqual([
      {
        from: [inNamespace('ingress-nginx', { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' })],
        ports: [tcp(3000)],
      },
    ]);
  });

  it("lets the Gateway's proxies reach the app's HTTP port only: every pod of their namespace, or those with their labels", () => {
    const open = fixture({ app: { port: 3000 }, props: { gateway: { namespace: 'gateway-system' } } });
    open.policies.allowGateway(open.app);
    expect(spec(open.render(), 'web').ingress).toEqual([{ from: [inNamespace('gateway-system', {})], ports: [tcp(3000)] }]);
    const labelled = fixture({ props: { gateway: { namespace: 'web-test', podLabels: { 'app.kubernetes.io/name': 'envoy' } } } });
    labelled.policies.allowGateway(labelled.app);
    expect(spec(labelled.render(), 'web').ingress).toEqual([
      { from: [inNamespace('web-test', { 'app.kubernetes.io/name': 'envoy' })], ports: [tcp(8080)] },
    ]);
  });

  it('refuses to admit a Gateway it was not told about, and a Gateway namespace that is no namespace name', () => {
    const { policies, app } = fixture();
    expect(() => policies.allowGateway(app)).toThrow("gateway: the Gateway's data plane is not set, got none;");
    expect(() => fixture({ props: { gateway: { namespace: 'Gateway_System' } } })).toThrow(
      'gateway.namespace: is not a namespace name (a lowercase DNS label), got "Gateway_System"',
    );
  });

  it('lets Prometheus scrape every metrics port: app 9090, instances 9187, PgBouncer 9127, Redis exporter 9121', () => {
    const { policies, app, postgres, redis, render } = fixture({ postgres: { pooler: {} } });
    policies.allowMonitoring(app, postgres, redis);
    const manifests = render();
    const prometheus = inNamespace('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
    const scraped = (name: string) =>
      (spec(manifests, name).ingress ?? []).filter((rule) => JSON.stringify(rule.from) === JSON.stringify([prometheus]));
    expect(scraped('web')).toEqual([{ from: [prometheus], ports: [tcp(9090)] }]);
    expect(scraped('web-db')).toEqual([{ from: [prometheus], ports: [tcp(9187)] }]);
    expect(scraped('web-db-pooler-rw')).toEqual([{ from: [prometheus], ports: [tcp(9127)] }]);
    expect(scraped('web-cache')).toEqual([{ from: [prometheus], ports: [tcp(9121)] }]);
    expect(scraped('web-cache-sentinel')).toEqual([]);
  });

  it('takes the ingress controller, Prometheus and operator namespaces from props', () => {
    const { policies, app, postgres, render } = fixture({
      props: {
        ingressController: { namespace: 'edge' },
        monitoring: { namespace: 'observability', podLabels: {} },
        operatorNamespaces: { 'cloudnative-pg': 'databases' },
      },
    });
    policies.allowIngressController(app);
    policies.allowMonitoring(app, postgres);
    const manifests = render();
    expect(spec(manifests, 'web').ingress).toEqual([
      { from: [inNamespace('edge', { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' })], ports: [tcp(8080)] },
      { from: [inNamespace('observability', {})], ports: [tcp(9090)] },
    ]);
    expect(spec(manifests, 'web-db').ingress).toContainEqual({
      from: [inNamespace('databases', { 'app.kubernetes.io/name': 'cloudnative-pg' })],
      ports: [tcp(5432), tcp(8000)],
    });
  });

  it('allows HTTPS outside the cluster, never into the pod or service ranges', () => {
    const { policies, app, render } = fixture();
    policies.allowInternetEgress(app);
    expect(spec(render(), 'web').egress).toEqual([{ to: [OUTSIDE], ports: [tcp(443)] }]);
  });

  it('takes egress ports and destinations, excluding only the cluster ranges inside each', () => {
    const { policies, app, render } = fixture({ props: { podCidrs: ['10.0.0.0/8'], serviceCidrs: ['10.96.0.0/12'] } });
    policies.allowInternetEgress(app, { ports: [NetworkPort.tcp(8443), NetworkPort.udp(123)], cidrs: ['203.0.113.0/24', '0.0.0.0/0'] });
    expect(spec(render(), 'web').egress).toEqual([
      {
        to: [{ ipBlock: { cidr: '203.0.113.0/24' } }, { ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
        ports: [{ port: 123, protocol: 'UDP' }, tcp(8443)],
      },
    ]);
  });

  it('sends the API server egress to the given endpoints and ports', () => {
    const { policies, postgres, render } = fixture({ props: { apiServer: { cidrs: ['192.168.10.5/32'], ports: [NetworkPort.tcp(6443)] } } });
    policies.add(postgres);
    expect(spec(render(), 'web-db').egress?.[0]).toEqual({ to: [{ ipBlock: { cidr: '192.168.10.5/32' } }], ports: [tcp(6443)] });
  });

  it('merges repeated relationships into the same rules', () => {
    const once = fixture();
    once.policies.allow(once.app).to(once.postgres);
    const twice = fixture();
    twice.policies.allow(twice.app).to(twice.postgres);
    twice.policies.allow(twice.app).to(twice.postgres);
    twice.policies.add(twice.postgres);
    expect(twice.render()).toEqual(once.render());
  });
});

describe('NetworkPolicySet and the live color', () => {
  function rendered(activeColor: Color): Manifest[] {
    const { policies, app, postgres, redis, render } = fixture({ app: { activeColor }, postgres: { pooler: {} } });
    policies.allow(app).to(postgres);
    policies.allow(app).to(redis);
    policies.allowIngressController(app);
    policies.allowMonitoring(app, postgres, redis);
    policies.allowInternetEgress(app);
    return render().filter((manifest) => manifest.kind === 'NetworkPolicy');
  }

  it('selects both colors alike, whichever is live', () => {
    expect(spec(rendered('blue'), 'web').podSelector).toEqual(APP_PODS);
  });

  it('renders identical policies with blue and with green live', () => {
    expect(rendered('green')).toEqual(rendered('blue'));
  });
});

class CustomPeer extends Construct implements INetworkPeer {
  public constructor(
    scope: Construct,
    id: string,
    public readonly networkPeer: NetworkPeerSpec,
  ) {
    super(scope, id);
  }
}

describe('NetworkPolicySet validation', () => {
  it.each([
    ['a port of 0', () => NetworkPort.tcp(0), 'port: must be a whole number from 1 to 65535, got 0; e.g. NetworkPort.tcp(443)'],
    ['a port above 65535', () => NetworkPort.tcp(70000), 'port: must be a whole number from 1 to 65535, got 70000; e.g. NetworkPort.tcp(443)'],
    ['a fractional port', () => NetworkPort.udp(53.5), 'port: must be a whole number from 1 to 65535, got 53.5; e.g. NetworkPort.udp(53)'],
  ])('refuses %s', (_what, build, message) => {
    expect(build).toThrow(message);
  });

  it.each<[string, NetworkPolicySetProps, string]>([
    ['a CIDR without a mask', { podCidrs: ['10.244.0.0'] }, 'podCidrs[0]: CIDR mask is missing, got "10.244.0.0"; did you mean "10.244.0.0/32"?'],
    [
      'a CIDR with host bits',
      { serviceCidrs: ['10.96.0.1/12'] },
      'serviceCidrs[0]: has host bits set, got "10.96.0.1/12"; use the network address "10.96.0.0/12"',
    ],
    [
      'an octet above 255',
      { podCidrs: ['10.300.0.0/16'] },
      'podCidrs[0]: is not an IPv4 CIDR, got "10.300.0.0/16"; use address/prefix, e.g. "203.0.113.0/24"',
    ],
    ['a prefix above 32', { podCidrs: ['10.0.0.0/33'] }, 'podCidrs[0]: prefix length must be 0 to 32, got "10.0.0.0/33"; e.g. "10.0.0.0/32"'],
    [
      'an IPv6 CIDR',
      { externalCidrs: ['2001:db8::/32'] },
      'externalCidrs[0]: only IPv4 CIDRs are supported, got "2001:db8::/32"; use an IPv4 range such as "203.0.113.0/24"',
    ],
    ['no pod range', { podCidrs: [] }, 'podCidrs: must not be empty, got []; e.g. ["10.244.0.0/16"]'],
    [
      'external destinations inside the pod range',
      { externalCidrs: ['10.244.8.0/24'] },
      'externalCidrs[0]: lies inside the cluster range 10.244.0.0/16 (podCidrs), got "10.244.8.0/24"; it is inside the cluster, not outside it: ' +
        'relate pods with allow(...).to(...), or correct podCidrs',
    ],
    [
      'the kubernetes Service address as the API server',
      { apiServer: { cidrs: ['10.96.0.1/32'] } },
      'apiServer.cidrs[0]: lies inside the cluster range 10.96.0.0/12 (serviceCidrs), got "10.96.0.1/32"; policies see the API server endpoints, ' +
        'not the kubernetes Service: use the addresses of `kubectl get endpointslices -l kubernetes.io/service-name=kubernetes`',
    ],
    ['no API server port', { apiServer: { ports: [] } }, 'apiServer.ports: must not be empty, got []; e.g. [NetworkPort.tcp(6443)]'],
    [
      'a namespace that is not a DNS label',
      { monitoring: { namespace: 'Monitoring' } },
      'monitoring.namespace: is not a namespace name (a lowercase DNS label), got "Monitoring"; e.g. "monitoring"',
    ],
    [
      'an invalid pod label',
      { ingressController: { namespace: 'ingress-nginx', podLabels: { 'app kubernetes': 'x' } } },
      'ingressController.podLabels: is not a valid label, got {"app kubernetes":"x"}; e.g. { "app.kubernetes.io/name": "prometheus" }',
    ],
    [
      'an operator namespace that is not a DNS label',
      { operatorNamespaces: { 'cloudnative-pg': 'CNPG' } },
      'operatorNamespaces.cloudnative-pg: is not a namespace name (a lowercase DNS label), got "CNPG"; e.g. "monitoring"',
    ],
  ])('refuses %s', (_what, props, message) => {
    expect(() => fixture({ props })).toThrow(message);
  });

  it('reports every bad CIDR at once', () => {
    expect(() => fixture({ props: { podCidrs: ['10.244.0.0'], serviceCidrs: ['10.0.0.0/33'] } })).toThrow(
      expect.objectContaining({
        problems: [
          'podCidrs[0]: CIDR mask is missing, got "10.244.0.0"; did you mean "10.244.0.0/32"?',
          'serviceCidrs[0]: prefix length must be 0 to 32, got "10.0.0.0/33"; e.g. "10.0.0.0/32"',
        ],
      }),
    );
  });

  it('refuses internet egress into the cluster, or without ports', () => {
    const { policies, app } = fixture();
    expect(() => policies.allowInternetEgress(app, { cidrs: ['10.96.0.0/16'] })).toThrow(
      'allowInternetEgress cidrs[0]: lies inside the cluster range 10.96.0.0/12 (serviceCidrs), got "10.96.0.0/16"; it is inside the cluster, not ' +
        'outside it: relate pods with allow(...).to(...), or correct serviceCidrs',
    );
    expect(() => policies.allowInternetEgress(app, { ports: [] })).toThrow(
      'allowInternetEgress ports: must not be empty, got []; e.g. [NetworkPort.tcp(443)]',
    );
  });

  it('refuses a port the target does not serve', () => {
    const { policies, app, postgres } = fixture();
    expect(() => policies.allow(app).to(postgres, { ports: [NetworkPort.tcp(5433)] })).toThrow(
      'ports: test/postgres serves no client on 5433/TCP, got 5433/TCP; use some of 5432/TCP or leave ports out',
    );
  });

  it('refuses to scrape a peer without metrics, or nothing at all', () => {
    const { policies, redis, postgres } = fixture({ redis: { monitoring: false } });
    policies.add(redis);
    expect(() => policies.allowMonitoring(postgres, redis)).toThrow(
      'allowMonitoring: test/redis exposes no metrics port, got none; turn its monitoring on or leave it out',
    );
    expect(() => policies.allowMonitoring()).toThrow(
      'allowMonitoring: needs at least one peer, got none; e.g. policies.allowMonitoring(app, postgres)',
    );
  });

  it('refuses a peer of another namespace', () => {
    const { policies, app } = fixture();
    const other = new Chart(new App(), 'other', { namespace: 'billing' });
    const foreign = new PostgresHA(other, 'postgres', DB);
    expect(() => policies.allow(app).to(foreign)).toThrow(
      'other/postgres: is in namespace billing, got it in a NetworkPolicySet of namespace shop; a set selects only pods of its own namespace, so ' +
        'give each namespace its own NetworkPolicySet',
    );
  });

  it('refuses two peers whose workloads share a name, and reserved names', () => {
    const { chart, policies, app } = fixture();
    const clash = new PostgresHA(chart, 'clash', { ...DB, name: 'web' });
    policies.add(app);
    expect(() => policies.add(clash)).toThrow(
      'test/clash: workload name is already used by test/app, got "web"; each workload\'s policy is named after it, so give the constructs ' +
        'different names',
    );
    const reserved = new BlueGreenApp(chart, 'reserved', { ...BASE_PROPS, name: 'allow-dns', ingress: undefined, routing: undefined });
    expect(() => policies.add(reserved)).toThrow(
      'test/reserved: workload name is reserved for a policy of the set, got "allow-dns"; rename the construct',
    );
  });

  it('refuses a target that serves no client, and flows naming unknown workloads', () => {
    const { chart, policies, app } = fixture();
    const selector = { matchLabels: { app: 'batch' } };
    const worker = new CustomPeer(chart, 'worker', { workloads: [{ name: 'batch', selector }] });
    expect(() => policies.allow(app).to(worker)).toThrow('test/worker: serves no client port, got none; it cannot be the target of a connection');
    const broken = new CustomPeer(chart, 'broken', {
      workloads: [{ name: 'queue', selector }],
      internalFlows: [{ from: 'queue', to: 'qeue', ports: [NetworkPort.tcp(5672)] }],
    });
    expect(() => policies.add(broken)).toThrow('test/broken: internalFlows.to names no workload of the peer, got "qeue"; use one of queue');
  });

  it('refuses, when rendering, an operator namespace no peer uses', () => {
    const { policies, postgres, render } = fixture({ props: { operatorNamespaces: { cloudnativepg: 'cnpg-system' } } });
    policies.add(postgres);
    expect(render).toThrow(
      'operatorNamespaces.cloudnativepg: no peer of this set has an operator of that name, got "cloudnativepg"; use one of "cloudnative-pg"',
    );
  });

  it('refuses an object store URL whose port is out of range', () => {
    expect(() =>
      fixture({ postgres: { backup: { destinationPath: 's3://acme-backups/web', endpointURL: 'https://minio.example.com:99999' } } }),
    ).toThrow(
      'backup.endpointURL: has no valid port, got "https://minio.example.com:99999"; use a port from 1 to 65535 or none, e.g. ' +
        '"https://minio.example.com:9000"',
    );
  });
});
