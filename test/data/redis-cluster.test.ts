import { App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BlueGreenApp, Manifest, RedisCluster, RedisClusterProps, renderChart, restrictedViolations } from '../../lib';
import { BASE_PROPS, find, names } from '../helpers';

/** Renders one RedisCluster in a chart of namespace `shop` (or of no namespace, for `null`). */
function renderRedis(overrides: Partial<RedisClusterProps> = {}, namespace: string | null = 'shop'): { redis: RedisCluster; manifests: Manifest[] } {
  const chart = new Chart(new App(), 'test', namespace !== null ? { namespace } : {});
  const redis = new RedisCluster(chart, 'redis', { name: 'cache', ...overrides });
  return { redis, manifests: renderChart(chart).map((r) => r.manifest) };
}

type Rule = { alert: string; expr: string; for: string; labels: { severity: string } };

function alerts(manifests: Manifest[]): Rule[] {
  return find(manifests, 'PrometheusRule', 'cache-alerts').spec.groups[0].rules;
}

/** The pod a StatefulSet of the operator would run, from the security settings of a custom resource. */
function podOf(podSecurityContext: unknown, containers: Record<string, unknown>): Parameters<typeof restrictedViolations>[0] {
  return {
    securityContext: podSecurityContext as never,
    containers: Object.entries(containers).map(([name, securityContext]) => ({ name, securityContext: securityContext as never })),
  };
}

describe('RedisCluster sentinel mode (default)', () => {
  it('pins every object name to the Redis name', () => {
    expect(names(renderRedis().manifests)).toEqual([
      'PrometheusRule/cache-alerts',
      'RedisReplication/cache',
      'RedisSentinel/cache',
      'ServiceMonitor/cache',
    ]);
  });

  it('uses the redis-operator v1beta2 API', () => {
    const { manifests } = renderRedis();
    expect(find(manifests, 'RedisReplication', 'cache').apiVersion).toBe('redis.redis.opstreelabs.in/v1beta2');
    expect(find(manifests, 'RedisSentinel', 'cache').apiVersion).toBe('redis.redis.opstreelabs.in/v1beta2');
  });

  it('runs 1 master and 2 replicas with auth from the Secret, 100m/200m CPU and 256Mi/512Mi memory', () => {
    const spec = find(renderRedis().manifests, 'RedisReplication', 'cache').spec;
    expect(spec.clusterSize).toBe(3);
    expect(spec.kubernetesConfig).toEqual({
      image: 'quay.io/opstree/redis:v7.0.15',
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '200m', memory: '512Mi' } },
      redisSecret: { name: 'cache-auth', key: 'password' },
    });
    expect(spec.redisConfig).toEqual({ maxMemoryPercentOfLimit: 80 });
    expect(spec.pdb).toEqual({ enabled: true, maxUnavailable: 1 });
  });

  it('stores 8Gi per pod on fast-ssd', () => {
    expect(find(renderRedis().manifests, 'RedisReplication', 'cache').spec.storage).toEqual({
      volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '8Gi' } } } },
    });
  });

  it('runs 3 sentinels with a quorum of 2 that authenticate to the replication', () => {
    const spec = find(renderRedis().manifests, 'RedisSentinel', 'cache').spec;
    expect(spec.clusterSize).toBe(3);
    expect(spec.redisSentinelConfig).toEqual({
      redisReplicationName: 'cache',
      masterGroupName: 'mymaster',
      quorum: '2',
      redisReplicationPassword: { secretKeyRef: { name: 'cache-auth', key: 'password' } },
    });
    expect(spec.kubernetesConfig.image).toBe('quay.io/opstree/redis-sentinel:v7.0.15');
    expect(spec.pdb).toEqual({ enabled: true, maxUnavailable: 1 });
  });

  it('refuses more than 9 sentinels: every client lists them all, and 3 or 5 already survive a lost one', () => {
    expect(() => renderRedis({ sentinels: 10 })).toThrow(
      'sentinels: a failover needs a majority, which 3 or 5 sentinels give; more than 9 only slow the vote, got 10; set sentinels to 3 or 5',
    );
    expect(() => renderRedis({ replicas: 2147483648 })).toThrow(
      'replicas: must be a whole number from 1 to 2147483647, got 2147483648; set replicas to 2147483647 or less',
    );
    expect(find(renderRedis({ sentinels: 9 }).manifests, 'RedisSentinel', 'cache').spec.clusterSize).toBe(9);
  });

  it('requires Redis pods and sentinels on different nodes', () => {
    const { manifests } = renderRedis();
    expect(find(manifests, 'RedisReplication', 'cache').spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: { app: 'cache', redis_setup_type: 'replication' } }, topologyKey: 'kubernetes.io/hostname' },
    ]);
    expect(find(manifests, 'RedisSentinel', 'cache').spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: { matchLabels: { app: 'cache-sentinel', redis_setup_type: 'sentinel' } }, topologyKey: 'kubernetes.io/hostname' },
    ]);
  });

  it('runs Redis, exporter and sentinel pods PSS-restricted', () => {
    const { manifests } = renderRedis();
    const replication = find(manifests, 'RedisReplication', 'cache').spec;
    const sentinel = find(manifests, 'RedisSentinel', 'cache').spec;
    expect(
      restrictedViolations(
        podOf(replication.podSecurityContext, { redis: replication.securityContext, exporter: replication.redisExporter.securityContext }),
      ),
    ).toEqual([]);
    expect(restrictedViolations(podOf(sentinel.podSecurityContext, { sentinel: sentinel.securityContext }))).toEqual([]);
    expect(replication.podSecurityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('enables the exporter and scrapes it with a ServiceMonitor', () => {
    const { manifests } = renderRedis();
    expect(find(manifests, 'RedisReplication', 'cache').spec.redisExporter).toMatchObject({
      enabled: true,
      image: 'quay.io/opstree/redis-exporter:v1.44.0',
    });
    expect(find(manifests, 'ServiceMonitor', 'cache').spec).toEqual({
      selector: { matchLabels: { app: 'cache', redis_setup_type: 'replication' } },
      endpoints: [{ port: 'redis-exporter' }],
    });
  });

  it('exposes the master and sentinel Services, every sentinel address and the auth Secret', () => {
    const { redis } = renderRedis();
    expect(redis.mode).toBe('sentinel');
    expect(redis.serviceName).toBe('cache-master');
    expect(redis.sentinelServiceName).toBe('cache-sentinel');
    expect(redis.masterGroupName).toBe('mymaster');
    expect(redis.port).toBe(6379);
    expect(redis.authSecret).toEqual({ name: 'cache-auth', key: 'password' });
    expect(redis.sentinelAddresses).toEqual([
      'cache-sentinel-0.cache-sentinel-headless.shop:26379',
      'cache-sentinel-1.cache-sentinel-headless.shop:26379',
      'cache-sentinel-2.cache-sentinel-headless.shop:26379',
    ]);
  });

  it('wires the password from the Secret, a URL on the master and the sentinels', () => {
    expect(renderRedis().redis.connectionEnv).toEqual([
      { name: 'REDIS_PASSWORD', secretKeyRef: { name: 'cache-auth', key: 'password' } },
      { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@cache-master.shop:6379/0' },
      {
        name: 'REDIS_SENTINELS',
        value:
          'cache-sentinel-0.cache-sentinel-headless.shop:26379,' +
          'cache-sentinel-1.cache-sentinel-headless.shop:26379,' +
          'cache-sentinel-2.cache-sentinel-headless.shop:26379',
      },
      { name: 'REDIS_SENTINEL_MASTER', value: 'mymaster' },
    ]);
  });

  it('uses short names without a chart namespace, and a custom prefix', () => {
    const env = renderRedis({ envPrefix: 'SESSIONS', sentinels: 3 }, null).redis.connectionEnv;
    expect(env.map((v) => v.name)).toEqual(['SESSIONS_PASSWORD', 'SESSIONS_URL', 'SESSIONS_SENTINELS', 'SESSIONS_SENTINEL_MASTER']);
    expect(env[1].value).toBe('redis://:$(SESSIONS_PASSWORD)@cache-master:6379/0');
    expect(env[2].value?.split(',')[0]).toBe('cache-sentinel-0.cache-sentinel-headless:26379');
  });

  it('creates the sentinels after the replication they watch', () => {
    const { redis } = renderRedis();
    expect(redis.sentinel?.node.dependencies).toContain(redis.redis);
  });

  it.each([
    ['sentinel', {}],
    ['cluster', { mode: 'cluster' as const }],
  ])('%s mode labels every alert with its namespace and the cache as service, which its aggregations drop', (_, props) => {
    const rules = alerts(renderRedis(props).manifests);
    expect(rules.map((r) => r.labels)).toEqual(rules.map((r) => ({ severity: r.labels.severity, namespace: 'shop', service: 'cache' })));
  });

  it('alerts on instances down, no master, memory, broken replication and missing replicas', () => {
    const rules = alerts(renderRedis().manifests);
    const sel = '{namespace="shop",service="cache"}';
    expect(rules.map((r) => `${r.alert} ${r.labels.severity} ${r.for}`)).toEqual([
      'RedisInstanceDown warning 2m',
      'RedisNoMaster critical 1m',
      'RedisMemoryHigh warning 5m',
      'RedisReplicationBroken warning 2m',
      'RedisReplicasMissing warning 5m',
    ]);
    expect(Object.fromEntries(rules.map((r) => [r.alert, r.expr]))).toEqual({
      RedisInstanceDown: `(count(redis_up${sel} == 1) or vector(0)) < 3`,
      RedisNoMaster: '(count(redis_instance_info{namespace="shop",service="cache",role="master"}) or vector(0)) < 1',
      RedisMemoryHigh: `redis_memory_used_bytes${sel} / redis_memory_max_bytes${sel} > 0.9 and redis_memory_max_bytes${sel} > 0`,
      RedisReplicationBroken: `redis_master_link_up${sel} == 0`,
      RedisReplicasMissing: `(max(redis_connected_slaves${sel}) or vector(0)) < 2`,
    });
  });

  it('gives both colors of an app the connection variables', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'shop' });
    const redis = new RedisCluster(chart, 'redis', { name: 'cache' });
    new BlueGreenApp(chart, 'app', { ...BASE_PROPS, backends: [redis] });
    const manifests = renderChart(chart).map((r) => r.manifest);
    for (const color of ['blue', 'green']) {
      const env = find(manifests, 'Deployment', `web-${color}`).spec.template.spec.containers[0].env;
      expect(env[0]).toEqual({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'cache-auth', key: 'password' } } });
      expect(env[1]).toEqual({ name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@cache-master.shop:6379/0' });
    }
  });
});

describe('RedisCluster cluster mode', () => {
  it('renders one RedisCluster of 3 leaders, each with a follower', () => {
    const { manifests } = renderRedis({ mode: 'cluster' });
    expect(names(manifests)).toEqual(['PrometheusRule/cache-alerts', 'RedisCluster/cache', 'ServiceMonitor/cache']);
    const spec = find(manifests, 'RedisCluster', 'cache').spec;
    expect(spec.clusterSize).toBe(3);
    expect(spec.clusterVersion).toBe('v7');
    expect(spec.persistenceEnabled).toBe(true);
    expect(spec.redisLeader.replicas).toBe(3);
    expect(spec.redisFollower.replicas).toBe(3);
    expect(spec.kubernetesConfig.redisSecret).toEqual({ name: 'cache-auth', key: 'password' });
    expect(spec.storage.volumeClaimTemplate.spec.resources.requests.storage).toBe('8Gi');
  });

  it('spreads leaders and followers over nodes and keeps their pods PSS-restricted', () => {
    const spec = find(renderRedis({ mode: 'cluster' }).manifests, 'RedisCluster', 'cache').spec;
    expect(spec.redisLeader.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels).toEqual({
      app: 'cache-leader',
      redis_setup_type: 'cluster',
    });
    expect(spec.redisFollower.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels).toEqual({
      app: 'cache-follower',
      redis_setup_type: 'cluster',
    });
    for (const role of [spec.redisLeader, spec.redisFollower]) {
      expect(
        restrictedViolations(podOf(spec.podSecurityContext, { redis: role.securityContext, exporter: spec.redisExporter.securityContext })),
      ).toEqual([]);
    }
  });

  it('takes the number of shards', () => {
    const spec = find(renderRedis({ mode: 'cluster', shards: 5 }).manifests, 'RedisCluster', 'cache').spec;
    expect([spec.clusterSize, spec.redisLeader.replicas, spec.redisFollower.replicas]).toEqual([5, 5, 5]);
  });

  it('connects through the leader Service, without sentinels', () => {
    const { redis } = renderRedis({ mode: 'cluster' });
    expect(redis.serviceName).toBe('cache-leader');
    expect(redis.sentinelServiceName).toBeUndefined();
    expect(redis.sentinelAddresses).toEqual([]);
    expect(redis.connectionEnv).toEqual([
      { name: 'REDIS_PASSWORD', secretKeyRef: { name: 'cache-auth', key: 'password' } },
      { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@cache-leader.shop:6379' },
    ]);
  });

  it('scrapes leaders and followers and alerts per shard', () => {
    const { manifests } = renderRedis({ mode: 'cluster' });
    expect(find(manifests, 'ServiceMonitor', 'cache').spec.selector).toEqual({
      matchLabels: { redis_setup_type: 'cluster' },
      matchExpressions: [{ key: 'app', operator: 'In', values: ['cache-leader', 'cache-follower'] }],
    });
    const expr = Object.fromEntries(alerts(manifests).map((r) => [r.alert, r.expr]));
    expect(expr.RedisInstanceDown).toBe('(count(redis_up{namespace="shop",service=~"cache-(leader|follower)"} == 1) or vector(0)) < 6');
    expect(expr.RedisNoMaster).toBe(
      '(count(redis_instance_info{namespace="shop",service=~"cache-(leader|follower)",role="master"}) or vector(0)) < 3',
    );
    expect(expr.RedisReplicasMissing).toBe(
      '(count(redis_instance_info{namespace="shop",service=~"cache-(leader|follower)",role="slave"}) or vector(0)) < 3',
    );
  });
});

describe('RedisCluster options', () => {
  it('takes replicas, sentinels, images, resources, storage and the Secret', () => {
    const { manifests } = renderRedis({
      replicas: 4,
      sentinels: 5,
      image: 'registry.example.com/redis:7.2.5',
      sentinelImage: 'registry.example.com/redis-sentinel:7.2.5',
      exporterImage: 'registry.example.com/redis-exporter:1.62.0',
      resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '2Gi' },
      storageSize: '20Gi',
      storageClass: 'standard',
      redisSecret: { name: 'cache-secrets', key: 'redis-password' },
      partOf: 'shop',
    });
    const replication = find(manifests, 'RedisReplication', 'cache');
    const sentinel = find(manifests, 'RedisSentinel', 'cache').spec;
    expect(replication.spec.clusterSize).toBe(4);
    expect(replication.spec.kubernetesConfig).toEqual({
      image: 'registry.example.com/redis:7.2.5',
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1000m', memory: '2Gi' } },
      redisSecret: { name: 'cache-secrets', key: 'redis-password' },
    });
    expect(replication.spec.redisExporter.image).toBe('registry.example.com/redis-exporter:1.62.0');
    expect(replication.spec.storage.volumeClaimTemplate.spec).toMatchObject({
      storageClassName: 'standard',
      resources: { requests: { storage: '20Gi' } },
    });
    expect(replication.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'shop' });
    expect(sentinel.clusterSize).toBe(5);
    expect(sentinel.redisSentinelConfig.quorum).toBe('3');
    expect(sentinel.kubernetesConfig.image).toBe('registry.example.com/redis-sentinel:7.2.5');
  });

  it('renders neither exporter, ServiceMonitor nor rules when monitoring is off', () => {
    const { manifests } = renderRedis({ monitoring: false });
    expect(names(manifests)).toEqual(['RedisReplication/cache', 'RedisSentinel/cache']);
    expect(find(manifests, 'RedisReplication', 'cache').spec.redisExporter).toBeUndefined();
  });

  it('labels the ServiceMonitor and the rules, and only them, for the Prometheus that selects them', () => {
    for (const mode of ['sentinel', 'cluster'] as const) {
      const { manifests } = renderRedis({ mode, monitoringLabels: { release: 'kube-prometheus-stack' } });
      const labelled = manifests
        .filter((m) => (m.metadata.labels as Record<string, string>).release === 'kube-prometheus-stack')
        .map((m) => `${m.kind}/${m.metadata.name}`);
      expect(labelled.sort()).toEqual(['PrometheusRule/cache-alerts', 'ServiceMonitor/cache']);
    }
  });

  it('links every alert to its section of the runbook', () => {
    for (const mode of ['sentinel', 'cluster'] as const) {
      const rules = alerts(
        renderRedis({ mode, runbookBaseUrl: 'https://git.example.com/acme/cutover/blob/main/docs/runbook.md' }).manifests,
      ) as Array<Rule & { annotations: Record<string, string> }>;
      expect(rules.map((r) => r.annotations.runbook_url)).toEqual(
        rules.map((r) => `https://git.example.com/acme/cutover/blob/main/docs/runbook.md#${r.alert.toLowerCase()}`),
      );
    }
  });

  it('rejects a monitoring label value that is not a label value', () => {
    expect(() => renderRedis({ monitoringLabels: { release: 'kube prometheus' } })).toThrow(
      'monitoringLabels: the value of "release" is not a label value, got "kube prometheus"; use at most 63 letters, digits, "-", "_" or ".", e.g. ' +
        '{ release: "kube-prometheus-stack" }',
    );
  });
});

describe('RedisCluster validation', () => {
  const cases: Array<[string, Partial<RedisClusterProps>, string]> = [
    [
      'a bad name',
      { name: 'Cache' },
      'name: must be a lowercase DNS label of at most 40 characters starting with a letter, got "Cache"; e.g. "cache"',
    ],
    ['no replicas', { replicas: 0 }, 'replicas: must be a whole number of at least 1, got 0; set replicas to 1 or more'],
    [
      'a master without replicas',
      { replicas: 1 },
      'replicas: automatic failover needs a master and at least 1 replica, got 1; set replicas to 3 (1 master + 2 replicas) or more',
    ],
    [
      'fewer than 3 sentinels',
      { sentinels: 2 },
      'sentinels: a failover needs a majority of sentinels, and fewer than 3 cannot lose one and still agree, got 2; set sentinels to 3 or more',
    ],
    [
      'fewer than 3 shards',
      { mode: 'cluster', shards: 2 },
      'shards: Redis Cluster needs at least 3 leaders to fail one over by majority, got 2; set shards to 3 or more',
    ],
    [
      'shards in sentinel mode',
      { shards: 3 },
      'shards: only applies in cluster mode, got 3 with mode "sentinel"; remove shards or set mode to "cluster"',
    ],
    [
      'sentinels in cluster mode',
      { mode: 'cluster', sentinels: 3 },
      'sentinels: only applies in sentinel mode, got 3 with mode "cluster"; remove sentinels or set mode to "sentinel"',
    ],
    [
      'replicas in cluster mode',
      { mode: 'cluster', replicas: 3 },
      'replicas: only applies in sentinel mode, got 3 with mode "cluster"; remove replicas or set mode to "sentinel"',
    ],
    [
      'a storage size that is not a quantity',
      { storageSize: '8 GB' },
      'storageSize: is not a storage quantity, got "8 GB"; use a whole number of Mi, Gi or Ti, e.g. "100Gi"',
    ],
    [
      'a memory request above its limit',
      { resources: { memoryRequest: '1Gi' } },
      'resources.memoryRequest: exceeds resources.memoryLimit 512Mi, got 1024Mi; lower the request or raise the limit',
    ],
    [
      'a Secret reference without a key',
      { redisSecret: { name: 'cache-auth', key: '' } },
      'redisSecret: must name a Secret and one of its keys, got {"name":"cache-auth","key":""}; e.g. { name: "cache-auth", key: "password" }',
    ],
    [
      'an untagged exporter image',
      { exporterImage: 'oliver006/redis_exporter' },
      'exporterImage: has no tag or digest, got "oliver006/redis_exporter"; pin the build, e.g. "oliver006/redis_exporter:1.4.2" or ' +
        '"oliver006/redis_exporter@sha256:<digest>"',
    ],
  ];
  for (const [what, overrides, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => renderRedis(overrides)).toThrow(message);
    });
  }

  it('renders nothing when validation fails', () => {
    const chart = new Chart(new App(), 'test');
    expect(() => new RedisCluster(chart, 'redis', { name: 'cache', sentinels: 1 })).toThrow(
      'sentinels: a failover needs a majority of sentinels, and fewer than 3 cannot lose one and still agree, got 1; set sentinels to 3 or more',
    );
    expect(renderChart(chart)).toEqual([]);
  });
});
