import { App, Chart } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackupCredentials, Manifest, PostgresHA, RedisCluster, renderChart } from '../../lib';
import { CRD_FILES, CrdSchemaValidator, toJsonSchema } from '../crd-schema';

/** Every custom resource the data tier renders, with defaults and with every option on. */
function renderVariants(): Array<[string, Manifest]> {
  const variants: Array<[string, (chart: Chart) => void]> = [
    ['postgres defaults', (chart) => new PostgresHA(chart, 'db', { name: 'orders-db', backup: { destinationPath: 's3://acme-backups/orders-db' } })],
    [
      'postgres every option',
      (chart) =>
        new PostgresHA(chart, 'db', {
          name: 'orders-db-restored',
          instances: 5,
          imageName: 'registry.example.com/pg/timescale:16.4-ts2.17',
          database: 'orders',
          owner: 'orders_app',
          storageSize: '500Gi',
          storageClass: 'premium-ssd',
          resources: { cpuRequest: '2', cpuLimit: '4', memoryRequest: '8Gi', memoryLimit: '16Gi' },
          backup: {
            destinationPath: 's3://acme-backups/orders-db',
            endpointURL: 'https://minio.storage.svc:9000',
            credentials: BackupCredentials.fromSecret('minio-creds', { accessKeyId: 'user', secretAccessKey: 'pass', region: 'region' }),
            retentionPolicy: '12w',
            dailySchedule: '0 30 3 * * *',
            weeklySchedule: '0 0 4 * * 6',
          },
          recovery: { sourceClusterName: 'orders-db', targetTime: '2024-05-01T13:45:00Z' },
          pooler: { instances: 3, poolMode: 'session', maxClientConnections: 500, defaultPoolSize: 10 },
          envPrefix: 'ORDERS_DB',
          partOf: 'shop',
        }),
    ],
    [
      'postgres staging without backups',
      (chart) =>
        new PostgresHA(chart, 'db', { name: 'orders-db', instances: 1, production: false, backup: { enabled: false }, pooler: { instances: 1 } }),
    ],
    [
      'postgres IAM credentials',
      (chart) =>
        new PostgresHA(chart, 'db', {
          name: 'orders-db',
          backup: { destinationPath: 's3://acme-backups/orders-db', credentials: BackupCredentials.fromIamRole() },
        }),
    ],
    ['redis sentinel defaults', (chart) => new RedisCluster(chart, 'redis', { name: 'cache' })],
    [
      'redis sentinel every option',
      (chart) =>
        new RedisCluster(chart, 'redis', {
          name: 'cache',
          replicas: 4,
          sentinels: 5,
          image: 'registry.example.com/redis:7.2.5',
          sentinelImage: 'registry.example.com/redis-sentinel:7.2.5',
          exporterImage: 'registry.example.com/redis-exporter:1.62.0',
          resources: { cpuRequest: '250m', cpuLimit: '1', memoryRequest: '1Gi', memoryLimit: '2Gi' },
          storageSize: '20Gi',
          storageClass: 'standard',
          redisSecret: { name: 'cache-secrets', key: 'redis-password' },
          envPrefix: 'SESSIONS',
          partOf: 'shop',
        }),
    ],
    ['redis cluster mode', (chart) => new RedisCluster(chart, 'redis', { name: 'cache', mode: 'cluster', shards: 5 })],
    ['redis without monitoring', (chart) => new RedisCluster(chart, 'redis', { name: 'cache', monitoring: false })],
  ];
  return variants.flatMap(([variant, build]) => {
    const chart = new Chart(new App(), 'test', { namespace: 'shop' });
    build(chart);
    // Custom resources only (their API group has a dot); built-in kinds such as the pooler's PDB are not in a CRD.
    return renderChart(chart)
      .filter(({ manifest }) => manifest.apiVersion.split('/')[0].includes('.'))
      .map(({ manifest }): [string, Manifest] => [`${variant}: ${manifest.kind}/${manifest.metadata.name}`, manifest]);
  });
}

let validator: CrdSchemaValidator;

beforeAll(() => {
  validator = CrdSchemaValidator.fromDirectory();
});

describe('data tier custom resources against the operators CRD schemas', () => {
  const rendered = renderVariants();

  it('knows every pinned CRD', () => {
    expect(validator.resourceTypes).toHaveLength(CRD_FILES.length);
  });

  it('renders only resources a pinned CRD covers, of every kind the data tier emits', () => {
    const kinds = new Set(rendered.map(([, manifest]) => `${manifest.apiVersion}/${manifest.kind}`));
    expect([...kinds].sort()).toEqual([
      'barmancloud.cnpg.io/v1/ObjectStore',
      'monitoring.coreos.com/v1/PodMonitor',
      'monitoring.coreos.com/v1/PrometheusRule',
      'monitoring.coreos.com/v1/ServiceMonitor',
      'postgresql.cnpg.io/v1/Cluster',
      'postgresql.cnpg.io/v1/Pooler',
      'postgresql.cnpg.io/v1/ScheduledBackup',
      'redis.redis.opstreelabs.in/v1beta2/RedisCluster',
      'redis.redis.opstreelabs.in/v1beta2/RedisReplication',
      'redis.redis.opstreelabs.in/v1beta2/RedisSentinel',
    ]);
    expect(rendered.filter(([, manifest]) => !validator.covers(manifest)).map(([name]) => name)).toEqual([]);
  });

  it.each(rendered)('%s is valid', (_, manifest) => {
    expect(validator.validate(manifest)).toEqual([]);
  });
});

describe('the CRD validator rejects what the API server would', () => {
  const cluster = (): Record<string, any> =>
    JSON.parse(JSON.stringify(renderVariants().find(([name]) => name === 'postgres defaults: Cluster/orders-db')?.[1])) as Record<string, any>;

  it('rejects instances given as a string', () => {
    const manifest = cluster();
    manifest.spec.instances = '3';
    expect(validator.validate(manifest)).toEqual(['/spec/instances must be integer']);
  });

  it('rejects instances below the CRD minimum', () => {
    const manifest = cluster();
    manifest.spec.instances = 0;
    expect(validator.validate(manifest)).toEqual(['/spec/instances must be >= 1']);
  });

  it('rejects a field the schema does not declare, which the API server would silently prune', () => {
    const manifest = cluster();
    manifest.spec.backups = { enabled: true };
    expect(validator.validate(manifest)).toEqual(['/spec must NOT have additional properties (backups)']);
  });

  it('rejects a value outside an enum', () => {
    const manifest = cluster();
    manifest.spec.primaryUpdateMethod = 'recreate';
    expect(validator.validate(manifest)).toEqual(['/spec/primaryUpdateMethod must be equal to one of the allowed values']);
  });

  it('rejects a missing required field, a bad name and a spec of another kind', () => {
    const manifest = cluster();
    delete manifest.spec.instances;
    manifest.metadata.name = 'Orders_DB';
    expect(validator.validate(manifest)).toEqual([
      '/metadata/name must match pattern "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"',
      "/spec must have required property 'instances'",
    ]);
    expect(validator.validate({ ...cluster(), kind: 'Pooler' })).toContain("/spec must have required property 'pgbouncer'");
  });

  it('reports a resource type it has no CRD for', () => {
    expect(validator.validate({ apiVersion: 'example.com/v1', kind: 'Widget' })[0]).toMatch(/^no CRD schema for example\.com\/v1\/Widget; known: /);
  });

  it('checks CRD patterns, including Go case-insensitive ones', () => {
    const rule = (strategy: string): Record<string, unknown> => ({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'rules' },
      spec: { groups: [{ name: 'g', partial_response_strategy: strategy, rules: [{ alert: 'A', expr: 'up == 0', for: '5m' }] }] },
    });
    expect(validator.validate(rule('ABORT'))).toEqual([]);
    expect(validator.validate(rule('ignore'))).toEqual(['/spec/groups/0/partial_response_strategy must match pattern "^(?i)(abort|warn)?$"']);
  });
});

describe('toJsonSchema', () => {
  const convert = (schema: Record<string, unknown>): Record<string, any> =>
    toJsonSchema({ apiVersion: 'example.com/v1', kind: 'Widget', schema: { type: 'object', properties: { spec: schema } } }) as Record<string, any>;

  it('turns x-kubernetes-int-or-string into integer or string', () => {
    expect(convert({ 'x-kubernetes-int-or-string': true }).properties.spec).toEqual({ anyOf: [{ type: 'integer' }, { type: 'string' }] });
  });

  it('leaves objects with x-kubernetes-preserve-unknown-fields open and closes the others', () => {
    expect(convert({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true }).properties.spec).toEqual({ type: 'object' });
    expect(convert({ type: 'object', properties: { a: { type: 'string' } } }).properties.spec).toEqual({
      type: 'object',
      properties: { a: { type: 'string' } },
      additionalProperties: false,
    });
  });

  it('pins apiVersion and kind and requires metadata', () => {
    const schema = convert({ type: 'object' });
    expect(schema.properties.apiVersion).toEqual({ const: 'example.com/v1' });
    expect(schema.properties.kind).toEqual({ const: 'Widget' });
    expect(schema.required).toEqual(['apiVersion', 'kind', 'metadata']);
  });
});
