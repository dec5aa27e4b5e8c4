import { App, ApiObject, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BackupCredentials, BlueGreenApp, Manifest, PostgresHA, PostgresHAProps, renderChart, restrictedViolations } from '../../lib';
import { BASE_PROPS, find, names } from '../helpers';

const BASE: PostgresHAProps = { name: 'orders-db', backup: { destinationPath: 's3://acme-backups/orders-db' } };

/** Renders one PostgresHA in a chart of namespace `shop` (or of no namespace, for `null`). */
function renderPostgres(overrides: Partial<PostgresHAProps> = {}, namespace: string | null = 'shop'): { db: PostgresHA; manifests: Manifest[] } {
  const chart = new Chart(new App(), 'test', namespace !== null ? { namespace } : {});
  const db = new PostgresHA(chart, 'db', { ...BASE, ...overrides });
  return { db, manifests: renderChart(chart).map((r) => r.manifest) };
}

type Rule = { alert: string; expr: string; for: string; labels: { severity: string } };

function alerts(manifests: Manifest[]): Rule[] {
  return find(manifests, 'PrometheusRule', 'orders-db-alerts').spec.groups[0].rules;
}

describe('PostgresHA names and defaults', () => {
  it('pins every object name to the cluster name', () => {
    expect(names(renderPostgres().manifests)).toEqual([
      'Cluster/orders-db',
      'ObjectStore/orders-db-backups',
      'PodMonitor/orders-db',
      'PrometheusRule/orders-db-alerts',
      'ScheduledBackup/orders-db-daily',
      'ScheduledBackup/orders-db-weekly',
    ]);
  });

  it('uses the CloudNativePG and Barman Cloud API versions', () => {
    const { manifests } = renderPostgres();
    expect(find(manifests, 'Cluster', 'orders-db').apiVersion).toBe('postgresql.cnpg.io/v1');
    expect(find(manifests, 'ScheduledBackup', 'orders-db-daily').apiVersion).toBe('postgresql.cnpg.io/v1');
    expect(find(manifests, 'ObjectStore', 'orders-db-backups').apiVersion).toBe('barmancloud.cnpg.io/v1');
    expect(find(manifests, 'PodMonitor', 'orders-db').apiVersion).toBe('monitoring.coreos.com/v1');
  });

  it('exposes the Service, Secret and port names CloudNativePG creates', () => {
    const { db } = renderPostgres();
    expect(db.readWriteServiceName).toBe('orders-db-rw');
    expect(db.readOnlyServiceName).toBe('orders-db-ro');
    expect(db.appSecretName).toBe('orders-db-app');
    expect(db.poolerServiceName).toBeUndefined();
    expect(db.port).toBe(5432);
    expect(db.instances).toBe(3);
    expect(db.production).toBe(true);
  });

  it('runs 3 instances of a pinned TimescaleDB image, with the extension preloaded and created at bootstrap', () => {
    const spec = find(renderPostgres().manifests, 'Cluster', 'orders-db').spec;
    expect(spec.instances).toBe(3);
    expect(spec.imageName).toBe('ghcr.io/clevyr/cloudnativepg-timescale:16-ts2');
    expect(spec.postgresql.shared_preload_libraries).toEqual(['timescaledb']);
    expect(spec.bootstrap).toEqual({
      initdb: { database: 'app', owner: 'app', postInitApplicationSQL: ['CREATE EXTENSION IF NOT EXISTS timescaledb'] },
    });
    expect(spec.externalClusters).toBeUndefined();
  });

  it('sets requests and limits to 500m/1000m CPU and 1Gi/2Gi memory', () => {
    expect(find(renderPostgres().manifests, 'Cluster', 'orders-db').spec.resources).toEqual({
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { cpu: '1000m', memory: '2Gi' },
    });
  });

  it('stores 100Gi per instance on fast-ssd', () => {
    expect(find(renderPostgres().manifests, 'Cluster', 'orders-db').spec.storage).toEqual({ size: '100Gi', storageClass: 'fast-ssd' });
  });

  it('requires instances on different nodes', () => {
    expect(find(renderPostgres().manifests, 'Cluster', 'orders-db').spec.affinity).toEqual({
      enablePodAntiAffinity: true,
      podAntiAffinityType: 'required',
      topologyKey: 'kubernetes.io/hostname',
    });
  });

  it('keeps instance pods PSS-restricted: RuntimeDefault seccomp and no security context overrides', () => {
    const spec = find(renderPostgres().manifests, 'Cluster', 'orders-db').spec;
    expect(spec.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    expect(spec.podSecurityContext).toBeUndefined();
    expect(spec.securityContext).toBeUndefined();
    expect(spec.enablePDB).toBe(true);
  });

  it('updates by switching over to a replica rather than restarting the primary', () => {
    const spec = find(renderPostgres().manifests, 'Cluster', 'orders-db').spec;
    expect(spec.primaryUpdateStrategy).toBe('unsupervised');
    expect(spec.primaryUpdateMethod).toBe('switchover');
  });

  it('labels every object with the recommended labels, uncolored', () => {
    for (const manifest of renderPostgres({ partOf: 'shop' }).manifests) {
      expect(manifest.metadata.labels).toEqual({
        'app.kubernetes.io/name': 'orders-db',
        'app.kubernetes.io/instance': 'orders-db',
        'app.kubernetes.io/component': 'database',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/managed-by': 'cutover',
      });
    }
  });
});

describe('PostgresHA backups', () => {
  it('archives WAL through the Barman Cloud plugin to the ObjectStore', () => {
    expect(find(renderPostgres().manifests, 'Cluster', 'orders-db').spec.plugins).toEqual([
      { name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'orders-db-backups' } },
    ]);
  });

  it('keeps a 90-day window in one object store, with credentials from a Secret', () => {
    expect(find(renderPostgres().manifests, 'ObjectStore', 'orders-db-backups').spec).toEqual({
      retentionPolicy: '90d',
      configuration: {
        destinationPath: 's3://acme-backups/orders-db',
        s3Credentials: {
          accessKeyId: { name: 'orders-db-backup-s3', key: 'ACCESS_KEY_ID' },
          secretAccessKey: { name: 'orders-db-backup-s3', key: 'ACCESS_SECRET_KEY' },
        },
        wal: { compression: 'gzip' },
        data: { compression: 'gzip' },
      },
    });
  });

  it('backs up daily at 02:00 UTC (at once on creation) and weekly on Sunday at 01:00 UTC with the plugin', () => {
    const { manifests } = renderPostgres();
    const common = {
      cluster: { name: 'orders-db' },
      method: 'plugin',
      pluginConfiguration: { name: 'barman-cloud.cloudnative-pg.io' },
      backupOwnerReference: 'self',
      target: 'prefer-standby',
    };
    expect(find(manifests, 'ScheduledBackup', 'orders-db-daily').spec).toEqual({ ...common, schedule: '0 0 2 * * *', immediate: true });
    expect(find(manifests, 'ScheduledBackup', 'orders-db-weekly').spec).toEqual({ ...common, schedule: '0 0 1 * * 0', immediate: false });
  });

  it('takes schedules, retention, an endpoint and credentials', () => {
    const { manifests } = renderPostgres({
      backup: {
        destinationPath: 's3://acme-backups/orders-db',
        endpointURL: 'https://minio.storage.svc:9000',
        credentials: BackupCredentials.fromSecret('minio-creds', { accessKeyId: 'user', secretAccessKey: 'pass', region: 'region' }),
        retentionPolicy: '12w',
        dailySchedule: '0 30 3 * * *',
        weeklySchedule: '0 0 4 * * 6',
      },
    });
    const store = find(manifests, 'ObjectStore', 'orders-db-backups').spec;
    expect(store.retentionPolicy).toBe('12w');
    expect(store.configuration.endpointURL).toBe('https://minio.storage.svc:9000');
    expect(store.configuration.s3Credentials).toEqual({
      accessKeyId: { name: 'minio-creds', key: 'user' },
      secretAccessKey: { name: 'minio-creds', key: 'pass' },
      region: { name: 'minio-creds', key: 'region' },
    });
    expect(find(manifests, 'ScheduledBackup', 'orders-db-daily').spec.schedule).toBe('0 30 3 * * *');
    expect(find(manifests, 'ScheduledBackup', 'orders-db-weekly').spec.schedule).toBe('0 0 4 * * 6');
  });

  it('can use the pod identity instead of static keys', () => {
    const { manifests } = renderPostgres({
      backup: { destinationPath: 's3://acme-backups/orders-db', credentials: BackupCredentials.fromIamRole() },
    });
    expect(find(manifests, 'ObjectStore', 'orders-db-backups').spec.configuration.s3Credentials).toEqual({ inheritFromIAMRole: true });
  });

  it('renders no store, plugin, schedule or backup alert when backups are off', () => {
    const { db, manifests } = renderPostgres({ backup: { enabled: false } });
    expect(names(manifests)).toEqual(['Cluster/orders-db', 'PodMonitor/orders-db', 'PrometheusRule/orders-db-alerts']);
    expect(find(manifests, 'Cluster', 'orders-db').spec.plugins).toBeUndefined();
    expect(db.scheduledBackups).toEqual([]);
    expect(db.objectStore).toBeUndefined();
    expect(alerts(manifests).map((r) => r.alert)).not.toContain('PostgresBackupFailed');
  });

  it('creates the object store before the cluster and the schedules after it', () => {
    const { db } = renderPostgres();
    expect(db.cluster.node.dependencies).toContain(db.objectStore as ApiObject);
    for (const scheduled of db.scheduledBackups) {
      expect(scheduled.node.dependencies).toContain(db.cluster);
    }
  });
});

describe('PostgresHA point-in-time recovery', () => {
  const recovery = { sourceClusterName: 'orders-db-old', targetTime: '2024-05-01T13:45:00Z' };

  it('bootstraps a new cluster from the source cluster backups at the target time', () => {
    const spec = find(renderPostgres({ recovery }).manifests, 'Cluster', 'orders-db').spec;
    expect(spec.bootstrap).toEqual({
      recovery: { source: 'orders-db-old', database: 'app', owner: 'app', recoveryTarget: { targetTime: '2024-05-01T13:45:00Z' } },
    });
    expect(spec.externalClusters).toEqual([
      {
        name: 'orders-db-old',
        plugin: { name: 'barman-cloud.cloudnative-pg.io', parameters: { barmanObjectName: 'orders-db-backups', serverName: 'orders-db-old' } },
      },
    ]);
  });

  it('keeps the object store for the recovery when backups are off', () => {
    const { manifests } = renderPostgres({ recovery, backup: { enabled: false, destinationPath: 's3://acme-backups/orders-db' } });
    expect(names(manifests)).toContain('ObjectStore/orders-db-backups');
    expect(names(manifests)).not.toContain('ScheduledBackup/orders-db-daily');
    expect(find(manifests, 'Cluster', 'orders-db').spec.plugins).toBeUndefined();
  });

  it('accepts a target time with an offset and fractional seconds', () => {
    const spec = find(
      renderPostgres({ recovery: { ...recovery, targetTime: '2024-02-29T23:59:59.123+02:00' } }).manifests,
      'Cluster',
      'orders-db',
    ).spec;
    expect(spec.bootstrap.recovery.recoveryTarget.targetTime).toBe('2024-02-29T23:59:59.123+02:00');
  });
});

describe('PostgresHA connection', () => {
  it('wires DATABASE_URL from the app Secret without a pooler', () => {
    expect(renderPostgres().db.connectionEnv).toEqual([{ name: 'DATABASE_URL', secretKeyRef: { name: 'orders-db-app', key: 'uri' } }]);
  });

  it('points DATABASE_URL at the pooler, composed from the Secret keys', () => {
    const { db } = renderPostgres({ pooler: {} });
    expect(db.poolerServiceName).toBe('orders-db-pooler-rw');
    expect(db.connectionEnv).toEqual([
      { name: 'DATABASE_USER', secretKeyRef: { name: 'orders-db-app', key: 'username' } },
      { name: 'DATABASE_PASSWORD', secretKeyRef: { name: 'orders-db-app', key: 'password' } },
      { name: 'DATABASE_NAME', secretKeyRef: { name: 'orders-db-app', key: 'dbname' } },
      { name: 'DATABASE_URL', value: 'postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@orders-db-pooler-rw.shop:5432/$(DATABASE_NAME)' },
    ]);
  });

  it('uses the short Service name when the chart has no namespace, and a custom prefix', () => {
    const { db } = renderPostgres({ pooler: {}, envPrefix: 'ORDERS_DB' }, null);
    expect(db.connectionEnv.map((v) => v.name)).toEqual(['ORDERS_DB_USER', 'ORDERS_DB_PASSWORD', 'ORDERS_DB_NAME', 'ORDERS_DB_URL']);
    expect(db.connectionEnv[3].value).toBe('postgresql://$(ORDERS_DB_USER):$(ORDERS_DB_PASSWORD)@orders-db-pooler-rw:5432/$(ORDERS_DB_NAME)');
  });

  it('gives both colors of an app the connection variables', () => {
    const chart = new Chart(new App(), 'test', { namespace: 'shop' });
    const db = new PostgresHA(chart, 'db', { ...BASE, pooler: {} });
    new BlueGreenApp(chart, 'app', { ...BASE_PROPS, backends: [db] });
    const manifests = renderChart(chart).map((r) => r.manifest);
    for (const color of ['blue', 'green']) {
      const env = find(manifests, 'Deployment', `web-${color}`).spec.template.spec.containers[0].env;
      expect(env[1]).toEqual({ name: 'DATABASE_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-db-app', key: 'password' } } });
      expect(env[3].name).toBe('DATABASE_URL');
    }
  });
});

describe('PostgresHA pooler', () => {
  it('gives a pooler of several PgBouncer pods a PodDisruptionBudget (CloudNativePG makes none), and one pod none', () => {
    const { manifests } = renderPostgres({ pooler: { instances: 2 } });
    expect(find(manifests, 'PodDisruptionBudget', 'orders-db-pooler-rw').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'cnpg.io/poolerName': 'orders-db-pooler-rw' } },
    });
    const single = renderPostgres({ production: false, pooler: { instances: 1 } });
    expect(single.manifests.filter((m) => m.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  it('runs 2 PgBouncer pods in transaction mode in front of the read-write Service', () => {
    const spec = find(renderPostgres({ pooler: {} }).manifests, 'Pooler', 'orders-db-pooler-rw').spec;
    expect(spec.cluster).toEqual({ name: 'orders-db' });
    expect(spec.instances).toBe(2);
    expect(spec.type).toBe('rw');
    expect(spec.pgbouncer).toEqual({ poolMode: 'transaction', parameters: { max_client_conn: '1000', default_pool_size: '20' } });
  });

  it('takes pool mode, size and instances', () => {
    const spec = find(
      renderPostgres({ pooler: { instances: 3, poolMode: 'session', maxClientConnections: 500, defaultPoolSize: 10 } }).manifests,
      'Pooler',
      'orders-db-pooler-rw',
    ).spec;
    expect(spec.instances).toBe(3);
    expect(spec.pgbouncer).toEqual({ poolMode: 'session', parameters: { max_client_conn: '500', default_pool_size: '10' } });
  });

  it('runs PgBouncer pods PSS-restricted, spread over nodes', () => {
    const template = find(renderPostgres({ pooler: {} }).manifests, 'Pooler', 'orders-db-pooler-rw').spec.template;
    expect(restrictedViolations(template.spec)).toEqual([]);
    expect(template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm).toEqual({
      labelSelector: { matchLabels: { 'cnpg.io/poolerName': 'orders-db-pooler-rw' } },
      topologyKey: 'kubernetes.io/hostname',
    });
  });

  it('scrapes the pooler with a PodMonitor of its own', () => {
    expect(find(renderPostgres({ pooler: {} }).manifests, 'PodMonitor', 'orders-db-pooler-rw').spec).toEqual({
      selector: { matchLabels: { 'cnpg.io/poolerName': 'orders-db-pooler-rw' } },
      podMetricsEndpoints: [{ port: 'metrics' }],
    });
  });
});

describe('PostgresHA monitoring', () => {
  it('scrapes the instances metrics port and labels series with the cluster', () => {
    expect(find(renderPostgres().manifests, 'PodMonitor', 'orders-db').spec).toEqual({
      selector: { matchLabels: { 'cnpg.io/cluster': 'orders-db', 'cnpg.io/podRole': 'instance' } },
      podMetricsEndpoints: [{ port: 'metrics' }],
      podTargetLabels: ['cnpg.io/cluster'],
    });
  });

  it('alerts on instances down, lag, disk, connections, HA, backups and WAL archiving', () => {
    const rules = alerts(renderPostgres().manifests);
    expect(rules.map((r) => `${r.alert} ${r.labels.severity} ${r.for}`)).toEqual([
      'PostgresInstanceDown warning 2m',
      'PostgresReplicationLag warning 2m',
      'PostgresDiskAlmostFull critical 5m',
      'PostgresDiskFillingUp warning 30m',
      'PostgresConnectionsNearLimit warning 5m',
      'PostgresHADegraded warning 5m',
      'PostgresBackupFailed critical 5m',
      'PostgresBackupTooOld critical 30m',
      'PostgresWALArchivingFailing critical 5m',
    ]);
  });

  it('writes the alert expressions on CloudNativePG, plugin and kubelet metrics of this cluster', () => {
    const expr = Object.fromEntries(alerts(renderPostgres().manifests).map((r) => [r.alert, r.expr]));
    const sel = '{namespace="shop",cnpg_io_cluster="orders-db"}';
    const pvc = '{namespace="shop",persistentvolumeclaim=~"orders-db-[0-9]+"}';
    expect(expr.PostgresInstanceDown).toBe(`(count(cnpg_collector_up${sel} == 1) or vector(0)) < 3`);
    expect(expr.PostgresReplicationLag).toBe(`max by (pod) (cnpg_pg_replication_lag${sel}) > 30`);
    expect(expr.PostgresHADegraded).toBe(`max(cnpg_pg_replication_streaming_replicas${sel}) < 2`);
    expect(expr.PostgresDiskAlmostFull).toBe(`kubelet_volume_stats_available_bytes${pvc} / kubelet_volume_stats_capacity_bytes${pvc} < 0.15`);
    expect(expr.PostgresDiskFillingUp).toBe(`predict_linear(kubelet_volume_stats_available_bytes${pvc}[6h], 24 * 3600) < 0`);
    expect(expr.PostgresConnectionsNearLimit).toBe(
      `sum by (pod) (cnpg_backends_total${sel}) / max by (pod) ` +
        `(cnpg_pg_settings_setting{namespace="shop",cnpg_io_cluster="orders-db",name="max_connections"}) > 0.8`,
    );
    expect(expr.PostgresBackupFailed).toBe(
      `max(barman_cloud_cloudnative_pg_io_last_failed_backup_timestamp${sel}) > ` +
        `max(barman_cloud_cloudnative_pg_io_last_available_backup_timestamp${sel})`,
    );
    expect(expr.PostgresBackupTooOld).toBe(`time() - max(barman_cloud_cloudnative_pg_io_last_available_backup_timestamp${sel}) > 26 * 3600`);
    expect(expr.PostgresWALArchivingFailing).toBe(
      `max by (pod) (cnpg_pg_stat_archiver_last_failed_time${sel} - cnpg_pg_stat_archiver_last_archived_time${sel}) > 0`,
    );
  });

  it('drops the HA alert and pages on the only instance of a single-instance cluster', () => {
    const rules = alerts(renderPostgres({ instances: 1, production: false }).manifests);
    expect(rules.map((r) => r.alert)).not.toContain('PostgresHADegraded');
    expect(rules.find((r) => r.alert === 'PostgresInstanceDown')?.labels.severity).toBe('critical');
  });

  it('labels every alert with its namespace and the cluster as service, which its aggregations drop, so alert routing sees it', () => {
    const rules = alerts(renderPostgres().manifests);
    expect(rules.map((r) => r.labels)).toEqual(rules.map((r) => ({ severity: r.labels.severity, namespace: 'shop', service: 'orders-db' })));
  });

  it('renders no monitoring objects when monitoring is off', () => {
    expect(names(renderPostgres({ monitoring: false, pooler: {} }).manifests)).toEqual([
      'Cluster/orders-db',
      'ObjectStore/orders-db-backups',
      'PodDisruptionBudget/orders-db-pooler-rw',
      'Pooler/orders-db-pooler-rw',
      'ScheduledBackup/orders-db-daily',
      'ScheduledBackup/orders-db-weekly',
    ]);
  });

  it('labels the monitoring objects, and only them, for the Prometheus that selects them', () => {
    const { manifests } = renderPostgres({ pooler: {}, monitoringLabels: { release: 'kube-prometheus-stack' } });
    const monitoring = ['PodMonitor/orders-db', 'PodMonitor/orders-db-pooler-rw', 'PrometheusRule/orders-db-alerts'];
    for (const manifest of manifests) {
      const labelled = (manifest.metadata.labels as Record<string, string>).release === 'kube-prometheus-stack';
      expect(labelled, `${manifest.kind}/${manifest.metadata.name}`).toBe(monitoring.includes(`${manifest.kind}/${manifest.metadata.name}`));
    }
    expect(find(manifests, 'PodMonitor', 'orders-db').metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'orders-db' });
  });

  it('links every alert to its section of the runbook', () => {
    const rules = alerts(renderPostgres().manifests) as Array<Rule & { annotations: Record<string, string> }>;
    expect(rules.map((r) => r.annotations.runbook_url)).toEqual(rules.map((r) => `docs/runbook.md#${r.alert.toLowerCase()}`));
    const custom = alerts(renderPostgres({ runbookBaseUrl: 'https://git.example.com/acme/cutover/blob/main/docs/runbook.md' }).manifests) as Array<
      Rule & { annotations: Record<string, string> }
    >;
    expect(custom[0].annotations.runbook_url).toBe('https://git.example.com/acme/cutover/blob/main/docs/runbook.md#postgresinstancedown');
  });

  it('rejects monitoring labels that are not labels or replace its own', () => {
    expect(() => renderPostgres({ monitoringLabels: { 'release!': 'x' } })).toThrow(
      'monitoringLabels: "release!" is not a label key, got {"release!":"x"}; use e.g. { release: "kube-prometheus-stack" }',
    );
    expect(() => renderPostgres({ monitoringLabels: { 'app.kubernetes.io/name': 'other' } })).toThrow(
      'monitoringLabels: "app.kubernetes.io/name" is set by the construct itself, got {"app.kubernetes.io/name":"other"}; choose another key, e.g. ' +
        '{ release: "kube-prometheus-stack" }',
    );
  });

  it('rejects a runbook URL that already has an anchor', () => {
    expect(() => renderPostgres({ runbookBaseUrl: 'docs/runbook.md#postgres' })).toThrow(
      'runbookBaseUrl: must be a URL or repository path without "#" or spaces, got "docs/runbook.md#postgres"; e.g. "docs/runbook.md" or ' +
        '"https://git.example.com/acme/cutover/blob/main/docs/runbook.md"',
    );
  });
});

describe('PostgresHA options', () => {
  it('takes instances, image, database, owner, storage and resources', () => {
    const { db, manifests } = renderPostgres({
      instances: 5,
      imageName: 'registry.example.com/pg/timescale:16.4-ts2.17',
      database: 'orders',
      owner: 'orders_app',
      storageSize: '500Gi',
      storageClass: 'premium-ssd',
      resources: { cpuRequest: '2', cpuLimit: '4', memoryRequest: '8Gi', memoryLimit: '16Gi' },
    });
    const spec = find(manifests, 'Cluster', 'orders-db').spec;
    expect(spec.instances).toBe(5);
    expect(spec.imageName).toBe('registry.example.com/pg/timescale:16.4-ts2.17');
    expect(spec.bootstrap.initdb).toMatchObject({ database: 'orders', owner: 'orders_app' });
    expect(spec.storage).toEqual({ size: '500Gi', storageClass: 'premium-ssd' });
    expect(spec.resources).toEqual({ requests: { cpu: '2000m', memory: '8Gi' }, limits: { cpu: '4000m', memory: '16Gi' } });
    expect(db.database).toBe('orders');
    expect(db.owner).toBe('orders_app');
  });

  it('allows fewer than 3 instances outside production', () => {
    expect(find(renderPostgres({ instances: 1, production: false }).manifests, 'Cluster', 'orders-db').spec.instances).toBe(1);
  });
});

describe('PostgresHA validation', () => {
  const cases: Array<[string, Partial<PostgresHAProps>, string]> = [
    [
      'a bad name',
      { name: 'Orders_DB' },
      'name: must be a lowercase DNS label of at most 40 characters starting with a letter, got "Orders_DB"; e.g. "orders-db"',
    ],
    ['no instances', { instances: 0, production: false }, 'instances: must be a whole number of at least 1, got 0; set instances to 1 or more'],
    [
      'fewer than 3 instances in production',
      { instances: 2 },
      'instances: production needs a primary and at least 2 replicas, got 2; set instances to 3 or more, or set production to false outside ' +
        'production',
    ],
    [
      'an untagged image',
      { imageName: 'ghcr.io/acme/timescale' },
      'imageName: has no tag or digest, got "ghcr.io/acme/timescale"; pin the build, e.g. "ghcr.io/acme/timescale:1.4.2" or ' +
        '"ghcr.io/acme/timescale@sha256:<digest>"',
    ],
    [
      'a storage size that is not a quantity',
      { storageSize: '100GB' },
      'storageSize: is not a storage quantity, got "100GB"; use a whole number of Mi, Gi or Ti, e.g. "100Gi"',
    ],
    [
      'a bad storage class',
      { storageClass: 'Fast SSD' },
      'storageClass: must be a lowercase DNS label of at most 63 characters starting with a letter, got "Fast SSD"; e.g. "fast-ssd"',
    ],
    [
      'a bad database name',
      { database: 'my-db' },
      'database: must be a lowercase PostgreSQL identifier (letters, digits, underscores), got "my-db"; e.g. "app"',
    ],
    [
      'a malformed memory quantity',
      { resources: { memoryLimit: '2GB' } },
      'resources.memoryLimit: is not a memory quantity in Mi or Gi, got "2GB"; use e.g. "256Mi" or "1Gi"',
    ],
    [
      'a CPU request above its limit',
      { resources: { cpuRequest: '2' } },
      'resources.cpuRequest: exceeds resources.cpuLimit 1000m, got 2000m; lower the request or raise the limit',
    ],
    [
      'backups on without a destination',
      { backup: {} },
      'backup.destinationPath: is required while backups are on, got none; set it to a bucket path, e.g. "s3://acme-backups/orders-db", or set ' +
        'backup.enabled to false',
    ],
    [
      'no backup options at all',
      { backup: undefined },
      'backup.destinationPath: is required while backups are on, got none; set it to a bucket path, e.g. "s3://acme-backups/orders-db", or set ' +
        'backup.enabled to false',
    ],
    [
      'a destination that is not an S3 path',
      { backup: { destinationPath: 'acme-backups/orders-db' } },
      'backup.destinationPath: is not an S3 bucket path, got "acme-backups/orders-db"; use s3://<bucket>/<path>, e.g. "s3://acme-backups/orders-db"',
    ],
    [
      'an endpoint that is not a URL',
      { backup: { destinationPath: 's3://acme-backups/orders-db', endpointURL: 'minio:9000' } },
      'backup.endpointURL: is not an http(s) URL, got "minio:9000"; e.g. "https://minio.storage.svc:9000"',
    ],
    [
      'a retention without unit',
      { backup: { destinationPath: 's3://acme-backups/orders-db', retentionPolicy: '90' } },
      'backup.retentionPolicy: is not a retention window, got "90"; use a positive number of days, weeks or months, e.g. "90d"',
    ],
    [
      'a five-field cron schedule',
      { backup: { destinationPath: 's3://acme-backups/orders-db', dailySchedule: '0 2 * * *' } },
      'backup.dailySchedule: must be a cron expression of six fields (seconds first), got "0 2 * * *" (5 fields); e.g. "0 0 2 * * *" is 02:00:00 ' +
        'every day',
    ],
    [
      'a malformed weekly schedule',
      { backup: { destinationPath: 's3://acme-backups/orders-db', weeklySchedule: '0 0 1 * * Sun!' } },
      'backup.weeklySchedule: must be a cron expression of six fields (seconds first), got "0 0 1 * * Sun!" (6 fields); e.g. "0 0 1 * * 0" is ' +
        '01:00:00 every Sunday',
    ],
    [
      'a recovery without a destination',
      { backup: { enabled: false }, recovery: { sourceClusterName: 'orders-db-old', targetTime: '2024-05-01T13:45:00Z' } },
      'backup.destinationPath: is required to recover from the object store, got none; set it to the bucket path the source cluster archived to, ' +
        'e.g. "s3://acme-backups/orders-db"',
    ],
    [
      'a target time without a time zone',
      { recovery: { sourceClusterName: 'orders-db-old', targetTime: '2024-05-01 13:45:00' } },
      'recovery.targetTime: is not an RFC 3339 timestamp with a time zone, got "2024-05-01 13:45:00"; e.g. "2024-05-01T13:45:00Z"',
    ],
    [
      'a target time that does not exist',
      { recovery: { sourceClusterName: 'orders-db-old', targetTime: '2023-02-29T10:00:00Z' } },
      'recovery.targetTime: is not an RFC 3339 timestamp with a time zone, got "2023-02-29T10:00:00Z"; e.g. "2024-05-01T13:45:00Z"',
    ],
    [
      'recovering onto the source cluster name',
      { recovery: { sourceClusterName: 'orders-db', targetTime: '2024-05-01T13:45:00Z' } },
      'recovery.sourceClusterName: must differ from name, got "orders-db" for both; a recovered cluster is a new cluster that archives under its ' +
        'own name, e.g. name "orders-db-restored"',
    ],
    [
      'a pooler without pods',
      { pooler: { instances: 0 } },
      'pooler.instances: must be a whole number of at least 1, got 0; set pooler.instances to 1 or more',
    ],
    [
      'a single PgBouncer in production',
      { pooler: { instances: 1 } },
      'pooler.instances: production needs at least 2 PgBouncer pods so one can restart without an outage, got 1; set pooler.instances to 2 or ' +
        'more, or set production to false outside production',
    ],
    [
      'a bad env prefix',
      { envPrefix: 'database' },
      'envPrefix: must be upper-case letters, digits and underscores starting with a letter, got "database"; e.g. "DATABASE"',
    ],
  ];
  for (const [what, overrides, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => renderPostgres(overrides)).toThrow(message);
    });
  }

  it('renders nothing when validation fails', () => {
    const chart = new Chart(new App(), 'test');
    expect(() => new PostgresHA(chart, 'db', { name: 'orders-db' })).toThrow(
      'backup.destinationPath: is required while backups are on, got none; ' +
        'set it to a bucket path, e.g. "s3://acme-backups/orders-db", or set backup.enabled to false',
    );
    expect(renderChart(chart)).toEqual([]);
  });
});
