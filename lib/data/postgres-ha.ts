import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DataStoreOptions } from './data-store';
import { AppEnvVar, IAppBackend } from '../core/workload';
import { ImageRef } from '../core/image';
import { appLabels } from '../core/labels';
import {
  Problems,
  ResourceRequirements,
  requireDnsLabel,
  requireEnvPrefix,
  requireInteger,
  requireStorageQuantity,
  resolveResources,
} from '../core/validation';
import {
  AlertRule,
  CustomResourceMetadata,
  DEFAULT_RUNBOOK_URL,
  componentAlertLabels,
  podMonitor,
  prometheusRule,
  promSelector,
  requireExtraLabels,
  requireRunbookBaseUrl,
  withLabels,
  withRunbooks,
} from '../observability/prometheus-rule';
import { INetworkPeer, NetworkOperator, NetworkPeerSpec, NetworkPort } from '../network/network-policy-set';
import {
  ObjectStore,
  ObjectStoreSpec,
  ObjectStoreSpecConfigurationDataCompression,
  ObjectStoreSpecConfigurationS3Credentials,
  ObjectStoreSpecConfigurationWalCompression,
} from '../imports/barmancloud.cnpg.io';
import {
  Cluster,
  ClusterSpec,
  ClusterSpecPrimaryUpdateMethod,
  ClusterSpecPrimaryUpdateStrategy,
  ClusterSpecResources,
  ClusterSpecResourcesLimits,
  Pooler,
  PoolerSpec,
  PoolerSpecPgbouncerPoolMode,
  PoolerSpecType,
  ScheduledBackup,
  ScheduledBackupSpec,
  ScheduledBackupSpecBackupOwnerReference,
  ScheduledBackupSpecMethod,
  ScheduledBackupSpecTarget,
} from '../imports/postgresql.cnpg.io';

/** API version of the CloudNativePG resources (operator v1.30.0). */
export const CNPG_API_VERSION = Cluster.GVK.apiVersion;
/** API version of the Barman Cloud plugin's ObjectStore (plugin v0.14.0). */
export const BARMAN_CLOUD_API_VERSION = ObjectStore.GVK.apiVersion;
/** Name under which the Barman Cloud plugin registers with CloudNativePG. */
export const BARMAN_CLOUD_PLUGIN = 'barman-cloud.cloudnative-pg.io';
/** Port of the PostgreSQL Services and of PgBouncer. */
export const POSTGRES_PORT = 5432;

/**
 * The CloudNativePG operator, as its Helm chart and manifests install it: namespace `cnpg-system`, pods labelled
 * `app.kubernetes.io/name: cloudnative-pg`. It must reach every instance on 8000 (the instance manager's status
 * endpoint) and 5432 (CloudNativePG documentation, "Networking"; its sample `networkpolicy-example.yaml`).
 * @see https://cloudnative-pg.io/documentation/current/networking/
 */
export const CNPG_OPERATOR: NetworkOperator = {
  name: 'cloudnative-pg',
  defaultNamespace: 'cnpg-system',
  podLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' },
};
/** Port of the instance manager's status endpoint, which the operator and the other instances call. */
export const CNPG_STATUS_PORT = 8000;
/** Port of the instances' metrics exporter (container port `metrics`). */
export const CNPG_METRICS_PORT = 9187;
/** Port of the PgBouncer pods' metrics exporter (container port `metrics`). */
export const PGBOUNCER_METRICS_PORT = 9127;

// ---------------------------------------------------------------------------------------------------------------
// References the props take; the custom resources' own types are generated into lib/imports/.
// ---------------------------------------------------------------------------------------------------------------

/** A key of a Secret in the cluster's namespace. */
export interface SecretKeySelector {
  readonly name: string;
  readonly key: string;
}

/** S3 credentials of an ObjectStore: keys of a Secret, or the pod's cloud identity. */
export type S3Credentials = ObjectStoreSpecConfigurationS3Credentials;

// ---------------------------------------------------------------------------------------------------------------
// Props
// ---------------------------------------------------------------------------------------------------------------

/** CPU and memory of each PostgreSQL instance. */
export interface PostgresResources {
  /** @default '500m' */
  readonly cpuRequest?: string;
  /** @default '1000m' */
  readonly cpuLimit?: string;
  /** @default '1Gi' */
  readonly memoryRequest?: string;
  /** @default '2Gi' */
  readonly memoryLimit?: string;
}

/** Where the object store credentials come from. */
export class BackupCredentials {
  /**
   * Access keys read from a Secret by the Barman Cloud plugin; the values never pass through this program.
   * @param secretName the Secret, in the cluster's namespace
   * @param keys the keys of the Secret; `region` is optional
   */
  public static fromSecret(
    secretName: string,
    keys: { readonly accessKeyId?: string; readonly secretAccessKey?: string; readonly region?: string } = {},
  ): BackupCredentials {
    return new BackupCredentials({
      accessKeyId: { name: secretName, key: keys.accessKeyId ?? 'ACCESS_KEY_ID' },
      secretAccessKey: { name: secretName, key: keys.secretAccessKey ?? 'ACCESS_SECRET_KEY' },
      ...(keys.region !== undefined ? { region: { name: secretName, key: keys.region } } : {}),
    });
  }

  /**
   * The cloud identity of the pods' service account (e.g. EKS IRSA), without any static key.
   * @see https://cloudnative-pg.io/plugin-barman-cloud/docs/object_stores/
   */
  public static fromIamRole(): BackupCredentials {
    return new BackupCredentials({ inheritFromIamRole: true });
  }

  private constructor(
    /** The `s3Credentials` block of the ObjectStore. */
    public readonly s3: S3Credentials,
  ) {}
}

/** Continuous backup (WAL archiving) and scheduled base backups to an S3-compatible object store. */
export interface PostgresBackupOptions {
  /**
   * Whether backups run. Staging may turn them off; production should not.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Bucket path the WAL archive and base backups go to, e.g. `s3://acme-backups/orders-db`. Barman adds the
   * server name (the cluster name) below it. Required while backups are on or a recovery is requested.
   * @see https://cloudnative-pg.io/plugin-barman-cloud/docs/object_stores/
   */
  readonly destinationPath?: string;

  /**
   * Endpoint of an S3-compatible store (MinIO, R2, ...).
   * @default - the AWS S3 endpoint
   */
  readonly endpointURL?: string;

  /**
   * Credentials of the object store.
   * @default BackupCredentials.fromSecret(`${name}-backup-s3`) with keys ACCESS_KEY_ID and ACCESS_SECRET_KEY
   */
  readonly credentials?: BackupCredentials;

  /**
   * Recovery window the object store keeps (`<n>d`, `<n>w` or `<n>m`). One window per store: see
   * {@link PostgresHA} for why it covers both the daily and the weekly backups.
   * @see https://cloudnative-pg.io/plugin-barman-cloud/docs/retention/
   * @default '90d'
   */
  readonly retentionPolicy?: string;

  /**
   * When the daily base backup runs: a CloudNativePG cron expression of six fields, seconds first, evaluated
   * in the operator's time zone (UTC). The BackupTooOld alert expects a backup at least every 26 hours.
   * @see https://pkg.go.dev/github.com/robfig/cron#hdr-CRON_Expression_Format
   * @default '0 0 2 * * *' (02:00 UTC every day)
   */
  readonly dailySchedule?: string;

  /**
   * When the weekly base backup runs (six fields, seconds first).
   * @default '0 0 1 * * 0' (01:00 UTC every Sunday)
   */
  readonly weeklySchedule?: string;
}

/** Point-in-time recovery: bootstrap this (new) cluster from another cluster's backups. */
export interface PostgresRecoveryOptions {
  /** Name of the cluster whose backups are restored: its folder in `backup.destinationPath`. */
  readonly sourceClusterName: string;

  /**
   * The moment to recover to, as an RFC 3339 timestamp with a time zone, e.g. `2024-05-01T13:45:00Z`.
   * @see https://cloudnative-pg.io/documentation/current/recovery/#point-in-time-recovery-pitr
   */
  readonly targetTime: string;
}

/** How PgBouncer hands server connections to clients. */
export type PgBouncerPoolMode = 'session' | 'transaction';

/** A PgBouncer pool in front of the read-write Service. */
export interface PostgresPoolerOptions {
  /**
   * PgBouncer pods.
   * @default 2
   */
  readonly instances?: number;

  /**
   * `transaction` shares server connections between clients between transactions, which is what lets two
   * colors of an app run side by side without doubling PostgreSQL connections; apps that rely on session
   * state (session advisory locks, `LISTEN`, session `SET`) need `session`.
   * @see https://www.pgbouncer.org/config.html#pool_mode
   * @default 'transaction'
   */
  readonly poolMode?: PgBouncerPoolMode;

  /**
   * Client connections PgBouncer accepts (`max_client_conn`).
   * @default 1000
   */
  readonly maxClientConnections?: number;

  /**
   * Server connections per user and database (`default_pool_size`).
   * @default 20
   */
  readonly defaultPoolSize?: number;
}

/** Props of {@link PostgresHA}. */
export interface PostgresHAProps extends DataStoreOptions {
  /** Name of the CloudNativePG Cluster: prefixes every object and Service name. */
  readonly name: string;

  /**
   * PostgreSQL instances: one primary, the rest streaming replicas.
   * @see https://cloudnative-pg.io/documentation/current/replication/
   * @default 3
   */
  readonly instances?: number;

  /**
   * Enforces production minimums: 3 instances and 2 PgBouncer pods. Staging sets it to false.
   * @default true
   */
  readonly production?: boolean;

  /**
   * PostgreSQL image with TimescaleDB, built on the CloudNativePG images (UID 26), pinned by tag or digest.
   * @see https://cloudnative-pg.io/documentation/current/container_images/
   * @default 'ghcr.io/clevyr/cloudnativepg-timescale:16-ts2'
   */
  readonly imageName?: string;

  /**
   * Application database created at bootstrap (with the timescaledb extension).
   * @default 'app'
   */
  readonly database?: string;

  /**
   * Owner of the application database; its credentials are in the `<name>-app` Secret.
   * @default 'app'
   */
  readonly owner?: string;

  /**
   * Size of each instance's data volume.
   * @default '100Gi'
   */
  readonly storageSize?: string;

  /**
   * StorageClass of the data volumes.
   * @default 'fast-ssd'
   */
  readonly storageClass?: string;

  /** Requests and limits of each instance. */
  readonly resources?: PostgresResources;

  /**
   * Backups to an object store.
   * @default - on; `backup.destinationPath` must then be set
   */
  readonly backup?: PostgresBackupOptions;

  /**
   * Bootstraps the cluster by point-in-time recovery instead of an empty `initdb`. Only honoured when the
   * cluster is created: CloudNativePG ignores bootstrap changes on an existing cluster.
   * @default - a new empty database
   */
  readonly recovery?: PostgresRecoveryOptions;

  /**
   * A PgBouncer Pooler for the read-write Service; when set, `DATABASE_URL` points at it.
   * @see https://cloudnative-pg.io/documentation/current/connection_pooling/
   * @default - no pooler
   */
  readonly pooler?: PostgresPoolerOptions;

  /**
   * PodMonitors and PrometheusRules (needs the Prometheus Operator CRDs).
   * @default true
   */
  readonly monitoring?: boolean;

  /**
   * Prefix of the connection variables the app gets: `<prefix>_URL` (and, with a pooler, `<prefix>_USER`,
   * `<prefix>_PASSWORD`, `<prefix>_NAME`).
   * @default 'DATABASE'
   */
  readonly envPrefix?: string;
}

const DEFAULT_IMAGE = 'ghcr.io/clevyr/cloudnativepg-timescale:16-ts2';
/** Hours after which the newest base backup counts as too old: a daily schedule plus two hours of slack. */
const BACKUP_MAX_AGE_HOURS = 26;
const REPLICATION_LAG_SECONDS = 30;

/**
 * A highly available PostgreSQL (TimescaleDB) cluster run by CloudNativePG: one primary and streaming replicas
 * on different nodes, continuous backup to an object store, optional PgBouncer and Prometheus alerts. The data
 * tier is shared by both colors of an app, so nothing here is colored.
 *
 * Backup retention: the specs ask to keep daily backups 30 days and weekly backups 90 days, but Barman Cloud
 * enforces one recovery window per ObjectStore, and the pinned plugin (v0.14.0) writes every base backup to
 * the store named by the Cluster's plugin entry: a ScheduledBackup cannot pick another store (its
 * `barmanObjectName` parameter is ignored, plugin-barman-cloud#611). Two stores with 30d and 90d would leave
 * the weekly store empty while its backups were pruned after 30 days. So there is one store, `<name>-backups`,
 * holding the WAL archive and both schedules, with the longer window (`90d`): every point of the last 90 days
 * stays recoverable, which keeps the weekly promise and exceeds the daily one (daily backups are kept 90 days
 * too, at the price of their storage). The weekly ScheduledBackup stays separate so it can move to a store of
 * its own once the plugin honours per-backup stores.
 *
 * Connection: the app gets `DATABASE_URL` from the `<name>-app` Secret (key `uri`, host `<name>-rw`). With a
 * pooler, the URL is composed from the Secret's `username`, `password` and `dbname` keys with `$(VAR)`
 * expansion and points at the pooler; CloudNativePG generates alphanumeric passwords, so no escaping is needed.
 */
export class PostgresHA extends Construct implements IAppBackend, INetworkPeer {
  public readonly name: string;
  public readonly instances: number;
  public readonly production: boolean;
  public readonly database: string;
  public readonly owner: string;
  /** Service of the primary (reads and writes). */
  public readonly readWriteServiceName: string;
  /** Service of the replicas (reads only). */
  public readonly readOnlyServiceName: string;
  /** Secret CloudNativePG creates with the owner's credentials (`username`, `password`, `dbname`, `uri`, ...). */
  public readonly appSecretName: string;
  /** Service of the PgBouncer pool, when there is one. */
  public readonly poolerServiceName?: string;
  public readonly port = POSTGRES_PORT;
  public readonly connectionEnv: readonly AppEnvVar[];

  public readonly cluster: Cluster;
  /** The Barman Cloud ObjectStore, when backups are on or a recovery is requested. */
  public readonly objectStore?: ObjectStore;
  /** The daily and the weekly ScheduledBackup, when backups are on. */
  public readonly scheduledBackups: readonly ScheduledBackup[];
  public readonly pooler?: Pooler;
  /**
   * PodDisruptionBudget of the PgBouncer pods (CloudNativePG creates none for a Pooler), when it runs more
   * than one: a node drain takes them one at a time.
   */
  public readonly poolerDisruptionBudget?: k8s.KubePodDisruptionBudget;
  /** Port of the object store the instances write backups to (or recover from), when there is one. */
  private readonly objectStorePort?: number;

  public constructor(scope: Construct, id: string, props: PostgresHAProps) {
    super(scope, id);
    requireDnsLabel('name', props.name, 40, '"orders-db"');
    this.name = props.name;
    this.instances = props.instances ?? 3;
    this.production = props.production ?? true;
    this.database = props.database ?? 'app';
    this.owner = props.owner ?? 'app';
    const image = ImageRef.parse(props.imageName ?? DEFAULT_IMAGE, 'imageName');
    const storageSize = props.storageSize ?? '100Gi';
    const storageClass = props.storageClass ?? 'fast-ssd';
    const monitoring = props.monitoring ?? true;
    const envPrefix = props.envPrefix ?? 'DATABASE';

    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    problems.check(
      () => requireInteger('instances', this.instances, 1),
      () => {
        if (this.production && this.instances < 3) {
          throw new Error(
            `instances: production needs a primary and at least 2 replicas, got ${this.instances}; ` +
              `set instances to 3 or more, or set production to false outside production`,
          );
        }
      },
      () => requireIdentifier('database', this.database),
      () => requireIdentifier('owner', this.owner),
      () => requireStorageQuantity('storageSize', storageSize),
      () => requireDnsLabel('storageClass', storageClass, 63, '"fast-ssd"'),
      () => requireEnvPrefix('envPrefix', envPrefix),
    );
    const resolvedResources = problems.attempt(() =>
      resolveResources(props.resources ?? {}, { cpuRequest: '500m', cpuLimit: '1000m', memoryRequest: '1Gi', memoryLimit: '2Gi' }),
    );
    const resolvedBackup = problems.attempt(() => resolveBackup(props.name, props.backup ?? {}, props.recovery !== undefined));
    const recovery =
      props.recovery !== undefined ? problems.attempt(() => resolveRecovery(props.name, props.recovery as PostgresRecoveryOptions)) : undefined;
    const pooler =
      props.pooler !== undefined ? problems.attempt(() => resolvePooler(props.pooler as PostgresPoolerOptions, this.production)) : undefined;

    this.readWriteServiceName = `${this.name}-rw`;
    this.readOnlyServiceName = `${this.name}-ro`;
    this.appSecretName = `${this.name}-app`;
    const namespace = Chart.of(this).namespace;
    const labels = appLabels({ name: this.name, partOf: props.partOf ?? this.name, component: 'database' });
    const metadata = (name: string): CustomResourceMetadata => ({ name, labels });
    const monitoringLabels = props.monitoringLabels ?? {};
    const runbookBaseUrl = props.runbookBaseUrl ?? DEFAULT_RUNBOOK_URL;
    problems.check(
      () => requireExtraLabels('monitoringLabels', monitoringLabels, labels, '{ release: "kube-prometheus-stack" }'),
      () => requireRunbookBaseUrl('runbookBaseUrl', runbookBaseUrl),
    );
    problems.throwIfAny();
    // Defined once no check refused.
    const resources = resolvedResources as ResourceRequirements;
    const backup = resolvedBackup as NonNullable<typeof resolvedBackup>;
    const monitoringMetadata = (name: string): CustomResourceMetadata => ({ name, labels: { ...labels, ...monitoringLabels } });
    const objectStoreName = `${this.name}-backups`;

    if (backup.store !== undefined) {
      const spec: ObjectStoreSpec = {
        retentionPolicy: backup.retentionPolicy,
        configuration: {
          destinationPath: backup.store.destinationPath,
          ...(backup.store.endpointURL !== undefined ? { endpointUrl: backup.store.endpointURL } : {}),
          s3Credentials: backup.store.credentials.s3,
          wal: { compression: ObjectStoreSpecConfigurationWalCompression.GZIP },
          data: { compression: ObjectStoreSpecConfigurationDataCompression.GZIP },
        },
      };
      this.objectStore = new ObjectStore(this, 'object-store', { metadata: metadata(objectStoreName), spec });
      this.objectStorePort = backup.store.endpointURL !== undefined ? urlPort('backup.endpointURL', backup.store.endpointURL) : 443;
    }

    const clusterSpec: ClusterSpec = {
      instances: this.instances,
      imageName: image.toString(),
      imagePullPolicy: 'IfNotPresent',
      // Rolling updates restart the replicas first, then switch over to one instead of restarting the primary.
      primaryUpdateStrategy: ClusterSpecPrimaryUpdateStrategy.UNSUPERVISED,
      primaryUpdateMethod: ClusterSpecPrimaryUpdateMethod.SWITCHOVER,
      enablePdb: true,
      postgresql: {
        sharedPreloadLibraries: ['timescaledb'],
        parameters: { 'timescaledb.telemetry_level': 'off' },
      },
      bootstrap:
        recovery === undefined
          ? { initdb: { database: this.database, owner: this.owner, postInitApplicationSql: ['CREATE EXTENSION IF NOT EXISTS timescaledb'] } }
          : {
              recovery: {
                source: recovery.sourceClusterName,
                database: this.database,
                owner: this.owner,
                recoveryTarget: { targetTime: recovery.targetTime },
              },
            },
      ...(recovery !== undefined
        ? {
            externalClusters: [
              {
                name: recovery.sourceClusterName,
                plugin: { name: BARMAN_CLOUD_PLUGIN, parameters: { barmanObjectName: objectStoreName, serverName: recovery.sourceClusterName } },
              },
            ],
          }
        : {}),
      storage: { size: storageSize, storageClass },
      resources: quantities(resources),
      affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'required', topologyKey: 'kubernetes.io/hostname' },
      // CloudNativePG already runs instances PSS-restricted (non-root, no privilege escalation, all capabilities
      // dropped); the seccomp profile is the one setting it exposes, pinned here so a default change cannot relax it.
      seccompProfile: { type: 'RuntimeDefault' },
      ...(backup.enabled ? { plugins: [{ name: BARMAN_CLOUD_PLUGIN, isWalArchiver: true, parameters: { barmanObjectName: objectStoreName } }] } : {}),
    };
    this.cluster = new Cluster(this, 'cluster', { metadata: metadata(this.name), spec: clusterSpec });
    if (this.objectStore !== undefined) {
      this.cluster.node.addDependency(this.objectStore);
    }

    this.scheduledBackups = backup.enabled
      ? [
          this.createScheduledBackup('daily-backup', `${this.name}-daily`, backup.dailySchedule, true, labels),
          this.createScheduledBackup('weekly-backup', `${this.name}-weekly`, backup.weeklySchedule, false, labels),
        ]
      : [];

    if (pooler !== undefined) {
      this.poolerServiceName = `${this.name}-pooler-rw`;
      this.pooler = this.createPooler(this.poolerServiceName, pooler, labels);
      if (pooler.instances > 1) {
        this.poolerDisruptionBudget = new k8s.KubePodDisruptionBudget(this, 'pooler-disruption-budget', {
          metadata: { name: this.poolerServiceName, labels },
          spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: { 'cnpg.io/poolerName': this.poolerServiceName } } },
        });
      }
    }

    const host = (service: string): string => (namespace !== undefined ? `${service}.${namespace}` : service);
    this.connectionEnv =
      this.poolerServiceName === undefined
        ? [{ name: `${envPrefix}_URL`, secretKeyRef: { name: this.appSecretName, key: 'uri' } }]
        : [
            { name: `${envPrefix}_USER`, secretKeyRef: { name: this.appSecretName, key: 'username' } },
            { name: `${envPrefix}_PASSWORD`, secretKeyRef: { name: this.appSecretName, key: 'password' } },
            { name: `${envPrefix}_NAME`, secretKeyRef: { name: this.appSecretName, key: 'dbname' } },
            {
              name: `${envPrefix}_URL`,
              value:
                `postgresql://$(${envPrefix}_USER):$(${envPrefix}_PASSWORD)@` +
                `${host(this.poolerServiceName)}:${POSTGRES_PORT}/$(${envPrefix}_NAME)`,
            },
          ];

    if (monitoring) {
      podMonitor(this, 'pod-monitor', monitoringMetadata(this.name), {
        selector: { matchLabels: { 'cnpg.io/cluster': this.name, 'cnpg.io/podRole': 'instance' } },
        podMetricsEndpoints: [{ port: 'metrics' }],
        podTargetLabels: ['cnpg.io/cluster'],
      });
      if (this.poolerServiceName !== undefined) {
        podMonitor(this, 'pooler-pod-monitor', monitoringMetadata(this.poolerServiceName), {
          selector: { matchLabels: { 'cnpg.io/poolerName': this.poolerServiceName } },
          podMetricsEndpoints: [{ port: 'metrics' }],
        });
      }
      prometheusRule(this, 'alerts', monitoringMetadata(`${this.name}-alerts`), {
        groups: [
          {
            name: `${this.name}.postgres`,
            rules: withRunbooks(
              withLabels(postgresAlerts(this.name, namespace, this.instances, backup.enabled), componentAlertLabels(this.name, namespace)),
              runbookBaseUrl,
            ),
          },
        ],
      });
    }
  }

  /**
   * For NetworkPolicySet. Pods, as CloudNativePG labels them (pkg/utils/labels_annotations.go, pkg/specs): instances
   * and the Jobs that create them (initdb, join, recovery) carry `cnpg.io/cluster: <name>`; PgBouncer pods carry
   * `cnpg.io/poolerName: <pooler>` (pkg/specs/pgbouncer/deployments.go), which tells the two apart. Instances and
   * Jobs call the API server (the instance manager reports each pod's state there), replicate from each other on
   * 5432 and check each other on 8000; the Barman Cloud plugin's sidecar in each instance writes to the object
   * store. PgBouncer's instance manager calls the API server too. With a pooler, clients reach PostgreSQL only
   * through it, as `DATABASE_URL` does.
   */
  public get networkPeer(): NetworkPeerSpec {
    const cluster = {
      name: this.name,
      selector: {
        matchLabels: { 'cnpg.io/cluster': this.name },
        matchExpressions: [{ key: 'cnpg.io/poolerName', operator: 'DoesNotExist' as const }],
      },
      clientPorts: this.poolerServiceName === undefined ? [NetworkPort.tcp(POSTGRES_PORT)] : [],
      metricsPorts: [NetworkPort.tcp(CNPG_METRICS_PORT)],
      apiServer: true,
      externalPorts: this.objectStorePort !== undefined ? [NetworkPort.tcp(this.objectStorePort)] : [],
    };
    const pooler =
      this.poolerServiceName !== undefined
        ? {
            name: this.poolerServiceName,
            selector: { matchLabels: { 'cnpg.io/poolerName': this.poolerServiceName } },
            clientPorts: [NetworkPort.tcp(POSTGRES_PORT)],
            metricsPorts: [NetworkPort.tcp(PGBOUNCER_METRICS_PORT)],
            apiServer: true,
          }
        : undefined;
    return {
      workloads: pooler !== undefined ? [cluster, pooler] : [cluster],
      internalFlows: [
        { from: cluster.name, to: cluster.name, ports: [NetworkPort.tcp(POSTGRES_PORT), NetworkPort.tcp(CNPG_STATUS_PORT)] },
        ...(pooler !== undefined ? [{ from: pooler.name, to: cluster.name, ports: [NetworkPort.tcp(POSTGRES_PORT)] }] : []),
      ],
      operatorFlows: [{ operator: CNPG_OPERATOR, to: cluster.name, ports: [NetworkPort.tcp(POSTGRES_PORT), NetworkPort.tcp(CNPG_STATUS_PORT)] }],
    };
  }

  private createScheduledBackup(id: string, name: string, schedule: string, immediate: boolean, labels: Record<string, string>): ScheduledBackup {
    const spec: ScheduledBackupSpec = {
      cluster: { name: this.name },
      schedule,
      method: ScheduledBackupSpecMethod.PLUGIN,
      pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
      // Backup objects belong to their schedule, so deleting the schedule cleans up their records.
      backupOwnerReference: ScheduledBackupSpecBackupOwnerReference.SELF,
      // The first base backup is taken at once: point-in-time recovery needs one before the first night.
      immediate,
      target: ScheduledBackupSpecTarget.PREFER_HYPHEN_STANDBY,
    };
    const scheduled = new ScheduledBackup(this, id, { metadata: { name, labels }, spec });
    scheduled.node.addDependency(this.cluster);
    return scheduled;
  }

  private createPooler(name: string, options: ResolvedPooler, labels: Record<string, string>): Pooler {
    const spec: PoolerSpec = {
      cluster: { name: this.name },
      instances: options.instances,
      type: PoolerSpecType.RW,
      pgbouncer: {
        poolMode: POOL_MODES[options.poolMode],
        parameters: { max_client_conn: String(options.maxClientConnections), default_pool_size: String(options.defaultPoolSize) },
      },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: { labelSelector: { matchLabels: { 'cnpg.io/poolerName': name } }, topologyKey: 'kubernetes.io/hostname' },
                },
              ],
            },
          },
          containers: [
            {
              name: 'pgbouncer',
              resources: quantities({ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } }),
              securityContext: {
                allowPrivilegeEscalation: false,
                privileged: false,
                runAsNonRoot: true,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
        },
      },
    };
    const pooler = new Pooler(this, 'pooler', { metadata: { name, labels }, spec });
    pooler.node.addDependency(this.cluster);
    return pooler;
  }
}

/** The generated enum of each pool mode. */
const POOL_MODES: Readonly<Record<PgBouncerPoolMode, PoolerSpecPgbouncerPoolMode>> = {
  session: PoolerSpecPgbouncerPoolMode.SESSION,
  transaction: PoolerSpecPgbouncerPoolMode.TRANSACTION,
};

/** `resources` as the generated types take them: each quantity in the CRD's int-or-string wrapper. */
function quantities(resources: ResourceRequirements): ClusterSpecResources {
  const wrap = (values: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, ClusterSpecResourcesLimits.fromString(value)]));
  return { requests: wrap(resources.requests), limits: wrap(resources.limits) };
}

/** The alerting rules of one cluster, on CloudNativePG's default metrics, the plugin's and the kubelet's. */
function postgresAlerts(name: string, namespace: string | undefined, instances: number, backups: boolean): AlertRule[] {
  const sel = promSelector({ namespace, cnpg_io_cluster: name });
  const volumes = promSelector({ namespace, persistentvolumeclaim: `=~${name}-[0-9]+` });
  const rules: AlertRule[] = [
    {
      alert: 'PostgresInstanceDown',
      expr: `(count(cnpg_collector_up${sel} == 1) or vector(0)) < ${instances}`,
      for: '2m',
      labels: { severity: instances > 1 ? 'warning' : 'critical' },
      annotations: {
        summary: `PostgreSQL cluster ${name} has fewer than ${instances} instances up.`,
        description: 'An instance is not running or not answering its metrics exporter; check `kubectl cnpg status` and the pods.',
      },
    },
    {
      alert: 'PostgresReplicationLag',
      expr: `max by (pod) (cnpg_pg_replication_lag${sel}) > ${REPLICATION_LAG_SECONDS}`,
      for: '2m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Replica {{ $labels.pod }} of ${name} lags more than ${REPLICATION_LAG_SECONDS} s behind the primary.`,
        description: 'A failover to this replica would lose the lagging transactions; check its I/O and the network.',
      },
    },
    {
      alert: 'PostgresDiskAlmostFull',
      expr: `kubelet_volume_stats_available_bytes${volumes} / kubelet_volume_stats_capacity_bytes${volumes} < 0.15`,
      for: '5m',
      labels: { severity: 'critical' },
      annotations: {
        summary: `Volume {{ $labels.persistentvolumeclaim }} of ${name} has less than 15% free space.`,
        description: 'PostgreSQL stops when its disk is full; raise storageSize (volumes grow in place) or remove data.',
      },
    },
    {
      alert: 'PostgresDiskFillingUp',
      expr: `predict_linear(kubelet_volume_stats_available_bytes${volumes}[6h], 24 * 3600) < 0`,
      for: '30m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Volume {{ $labels.persistentvolumeclaim }} of ${name} fills up within 24 hours at the current rate.`,
        description: 'Raise storageSize before it is full, or find what writes (WAL piling up when archiving fails is a usual cause).',
      },
    },
    {
      alert: 'PostgresConnectionsNearLimit',
      expr:
        `sum by (pod) (cnpg_backends_total${sel}) / ` +
        `max by (pod) (cnpg_pg_settings_setting${promSelector({ namespace, cnpg_io_cluster: name, name: 'max_connections' })}) > 0.8`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Instance {{ $labels.pod }} of ${name} uses more than 80% of max_connections.`,
        description: 'New connections will be refused at 100%; put PgBouncer in front (pooler) or raise max_connections.',
      },
    },
  ];
  if (instances > 1) {
    rules.push({
      alert: 'PostgresHADegraded',
      expr: `max(cnpg_pg_replication_streaming_replicas${sel}) < ${instances - 1}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Primary of ${name} streams to fewer than ${instances - 1} replicas.`,
        description: 'A failover has fewer candidates than planned; check the replicas and their replication slots.',
      },
    });
  }
  if (backups) {
    const plugin = 'barman_cloud_cloudnative_pg_io';
    rules.push(
      {
        alert: 'PostgresBackupFailed',
        expr: `max(${plugin}_last_failed_backup_timestamp${sel}) > max(${plugin}_last_available_backup_timestamp${sel})`,
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: `The latest base backup of ${name} failed.`,
          description:
            'Check the Backup objects (`kubectl get backups`) and the plugin sidecar logs; credentials and bucket policy are the usual causes.',
        },
      },
      {
        alert: 'PostgresBackupTooOld',
        expr: `time() - max(${plugin}_last_available_backup_timestamp${sel}) > ${BACKUP_MAX_AGE_HOURS} * 3600`,
        for: '30m',
        labels: { severity: 'critical' },
        annotations: {
          summary: `The newest base backup of ${name} is older than ${BACKUP_MAX_AGE_HOURS} hours.`,
          description: 'The daily ScheduledBackup did not complete; check it, then take one with `kubectl cnpg backup`.',
        },
      },
      {
        alert: 'PostgresWALArchivingFailing',
        expr: `max by (pod) (cnpg_pg_stat_archiver_last_failed_time${sel} - cnpg_pg_stat_archiver_last_archived_time${sel}) > 0`,
        for: '5m',
        labels: { severity: 'critical' },
        annotations: {
          summary: `WAL archiving of ${name} is failing on {{ $labels.pod }}.`,
          description: 'Point-in-time recovery stops at the last archived segment and WAL piles up on disk; check the object store.',
        },
      },
    );
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------

interface ResolvedBackup {
  readonly enabled: boolean;
  readonly retentionPolicy: string;
  readonly dailySchedule: string;
  readonly weeklySchedule: string;
  /** Where the ObjectStore points; absent when neither backups nor a recovery need one. */
  readonly store?: { readonly destinationPath: string; readonly endpointURL?: string; readonly credentials: BackupCredentials };
}

function resolveBackup(name: string, options: PostgresBackupOptions, recovering: boolean): ResolvedBackup {
  const enabled = options.enabled ?? true;
  const retentionPolicy = options.retentionPolicy ?? '90d';
  const dailySchedule = options.dailySchedule ?? '0 0 2 * * *';
  const weeklySchedule = options.weeklySchedule ?? '0 0 1 * * 0';
  if (!/^[1-9][0-9]*[dwm]$/.test(retentionPolicy)) {
    throw new Error(
      `backup.retentionPolicy: is not a retention window, got "${retentionPolicy}"; use a positive number of days, weeks or months, e.g. "90d"`,
    );
  }
  requireSixFieldCron('backup.dailySchedule', dailySchedule, '"0 0 2 * * *" is 02:00:00 every day');
  requireSixFieldCron('backup.weeklySchedule', weeklySchedule, '"0 0 1 * * 0" is 01:00:00 every Sunday');
  if (!enabled && !recovering) {
    return { enabled, retentionPolicy, dailySchedule, weeklySchedule };
  }
  const destinationPath = options.destinationPath;
  if (destinationPath === undefined) {
    throw new Error(
      enabled
        ? 'backup.destinationPath: is required while backups are on, got none; ' +
            'set it to a bucket path, e.g. "s3://acme-backups/orders-db", or set backup.enabled to false'
        : 'backup.destinationPath: is required to recover from the object store, got none; ' +
            'set it to the bucket path the source cluster archived to, e.g. "s3://acme-backups/orders-db"',
    );
  }
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/.test(destinationPath)) {
    throw new Error(
      `backup.destinationPath: is not an S3 bucket path, got "${destinationPath}"; use s3://<bucket>/<path>, e.g. "s3://acme-backups/orders-db"`,
    );
  }
  if (options.endpointURL !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(options.endpointURL)) {
    throw new Error(`backup.endpointURL: is not an http(s) URL, got "${options.endpointURL}"; e.g. "https://minio.storage.svc:9000"`);
  }
  return {
    enabled,
    retentionPolicy,
    dailySchedule,
    weeklySchedule,
    store: {
      destinationPath,
      ...(options.endpointURL !== undefined ? { endpointURL: options.endpointURL } : {}),
      credentials: options.credentials ?? BackupCredentials.fromSecret(`${name}-backup-s3`),
    },
  };
}

function resolveRecovery(name: string, options: PostgresRecoveryOptions): PostgresRecoveryOptions {
  requireDnsLabel('recovery.sourceClusterName', options.sourceClusterName, 63, '"orders-db"');
  if (options.sourceClusterName === name) {
    throw new Error(
      `recovery.sourceClusterName: must differ from name, got "${name}" for both; ` +
        `a recovered cluster is a new cluster that archives under its own name, e.g. name "${name}-restored"`,
    );
  }
  if (!isRfc3339(options.targetTime)) {
    throw new Error(`recovery.targetTime: is not an RFC 3339 timestamp with a time zone, got "${options.targetTime}"; e.g. "2024-05-01T13:45:00Z"`);
  }
  return options;
}

interface ResolvedPooler {
  readonly instances: number;
  readonly poolMode: PgBouncerPoolMode;
  readonly maxClientConnections: number;
  readonly defaultPoolSize: number;
}

function resolvePooler(options: PostgresPoolerOptions, production: boolean): ResolvedPooler {
  const resolved: ResolvedPooler = {
    instances: options.instances ?? 2,
    poolMode: options.poolMode ?? 'transaction',
    maxClientConnections: options.maxClientConnections ?? 1000,
    defaultPoolSize: options.defaultPoolSize ?? 20,
  };
  requireInteger('pooler.instances', resolved.instances, 1);
  if (production && resolved.instances < 2) {
    throw new Error(
      `pooler.instances: production needs at least 2 PgBouncer pods so one can restart without an outage, got ${resolved.instances}; ` +
        `set pooler.instances to 2 or more, or set production to false outside production`,
    );
  }
  requireInteger('pooler.maxClientConnections', resolved.maxClientConnections, 1);
  requireInteger('pooler.defaultPoolSize', resolved.defaultPoolSize, 1);
  return resolved;
}

function requireIdentifier(key: string, value: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
    throw new Error(`${key}: must be a lowercase PostgreSQL identifier (letters, digits, underscores), got "${value}"; e.g. "app"`);
  }
}

/** Throws unless `value` is a CloudNativePG schedule: six cron fields, seconds first. */
function requireSixFieldCron(key: string, value: string, example: string): void {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 6 || !fields.every((field) => /^[0-9A-Za-z*?/,-]+$/.test(field))) {
    throw new Error(`${key}: must be a cron expression of six fields (seconds first), got "${value}" (${fields.length} fields); e.g. ${example}`);
  }
}

/** The TCP port of an http(s) URL: its explicit port, else 443 for https and 80 for http. */
function urlPort(key: string, url: string): number {
  const match = /^(https?):\/\/(?:\[[0-9A-Fa-f:.]+\]|[^\s/:]+)(?::(\d+))?(?:\/|$)/.exec(url);
  const port = match === null ? NaN : match[2] !== undefined ? Number(match[2]) : match[1] === 'http' ? 80 : 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${key}: has no valid port, got "${url}"; use a port from 1 to 65535 or none, e.g. "https://minio.example.com:9000"`);
  }
  return port;
}

/** True for an RFC 3339 date-time with a time zone (`Z` or an offset) whose fields are in range. */
function isRfc3339(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/.exec(value);
  if (match === null) {
    return false;
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = match[9] === undefined || (Number(match[9]) <= 23 && Number(match[10]) <= 59);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 60 && offsetOk;
}
