import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { DataStoreOptions } from './data-store';
import { AppEnvVar, IAppBackend } from '../core/workload';
import { ImageRef } from '../core/image';
import { appLabels } from '../core/labels';
import { SecretKeySelector } from './postgres-ha';
import {
  Problems,
  isDataKey,
  isDnsSubdomain,
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
  prometheusRule,
  promSelector,
  requireExtraLabels,
  requireRunbookBaseUrl,
  serviceMonitor,
  withLabels,
  withRunbooks,
} from '../observability/prometheus-rule';
import { ServiceMonitorSpecSelector } from '../imports/monitoring.coreos.com';
import {
  RedisCluster as RedisClusterResource,
  RedisClusterSpec,
  RedisClusterSpecRedisFollower,
  RedisClusterSpecRedisLeader,
  RedisReplication,
  RedisReplicationSpec,
  RedisReplicationSpecAffinity,
  RedisReplicationSpecKubernetesConfigResources,
  RedisReplicationSpecKubernetesConfigResourcesLimits,
  RedisReplicationSpecPodSecurityContext,
  RedisReplicationSpecRedisExporter,
  RedisReplicationSpecSecurityContext,
  RedisReplicationSpecStorage,
  RedisReplicationSpecStorageVolumeClaimTemplateSpecResourcesRequests,
  RedisSentinel,
  RedisSentinelSpec,
} from '../imports/redis.redis.opstreelabs.in';
import { INetworkPeer, NetworkOperator, NetworkPeerSpec, NetworkPort } from '../network/network-policy-set';

/** The most sentinels a RedisCluster runs: a majority of 3 or 5 already survives a lost one, and clients list every sentinel. */
const MAX_SENTINELS = 9;
/** API version of the OT-CONTAINER-KIT redis-operator resources (operator v0.26.0). */
export const REDIS_API_VERSION = RedisReplication.GVK.apiVersion;
/** Port of the Redis Services. */
export const REDIS_PORT = 6379;
/** Port of the sentinel Services. */
export const SENTINEL_PORT = 26379;
/** Port of the redis_exporter sidecar (the operator's default). */
export const REDIS_EXPORTER_PORT = 9121;
/** Cluster mode: the Redis Cluster bus, the client port plus 10000, on which nodes gossip and fail over. */
export const REDIS_CLUSTER_BUS_PORT = REDIS_PORT + 10000;

/**
 * The OT-CONTAINER-KIT redis-operator, as its Helm chart installs it: namespace `ot-operators` (its installation
 * guide), pods labelled `name: redis-operator` (the chart's selector labels). It connects to each Redis pod's IP
 * on 6379 to set up replication and find the master (pkg/k8sutils/redis.go); sentinels get the master's address
 * from their environment, so the operator never calls them.
 * @see https://ot-container-kit.github.io/redis-operator/guide/installation.html
 */
export const REDIS_OPERATOR: NetworkOperator = { name: 'redis-operator', defaultNamespace: 'ot-operators', podLabels: { name: 'redis-operator' } };

// ---------------------------------------------------------------------------------------------------------------
// Props
// ---------------------------------------------------------------------------------------------------------------

/**
 * How Redis is made highly available: `sentinel` (one master, replicas and sentinels that fail over) or
 * `cluster` (Redis Cluster: keys sharded over leaders, each with a follower).
 */
export type RedisMode = 'sentinel' | 'cluster';

/** CPU and memory of each Redis container. */
export interface RedisResources {
  /** @default '100m' */
  readonly cpuRequest?: string;
  /** @default '200m' */
  readonly cpuLimit?: string;
  /** @default '256Mi' */
  readonly memoryRequest?: string;
  /** @default '512Mi' */
  readonly memoryLimit?: string;
}

/** Props of {@link RedisCluster}. */
export interface RedisClusterProps extends DataStoreOptions {
  /** Name of the Redis custom resources: prefixes every object and Service name. */
  readonly name: string;

  /**
   * `sentinel` for one dataset with automatic failover, `cluster` to shard the dataset.
   * @see https://redis-operator.opstree.dev/docs/overview/
   * @default 'sentinel'
   */
  readonly mode?: RedisMode;

  /**
   * Sentinel mode: Redis pods of the RedisReplication, one master and the rest replicas.
   * @default 3
   */
  readonly replicas?: number;

  /**
   * Sentinel mode: sentinel pods; a failover needs a majority of them (the quorum), so at least 3.
   * Sentinels are small: 50m/100m CPU, 64Mi/128Mi memory.
   * @see https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/
   * @default 3
   */
  readonly sentinels?: number;

  /**
   * Cluster mode: leaders (shards) of the RedisCluster, each with one follower.
   * @see https://redis.io/docs/latest/operate/oss_and_stack/management/scaling/
   * @default 3
   */
  readonly shards?: number;

  /**
   * Redis image (the operator's, which runs as UID 1000), pinned by tag or digest.
   * @default 'quay.io/opstree/redis:v7.0.15'
   */
  readonly image?: string;

  /**
   * Sentinel image, pinned by tag or digest.
   * @default 'quay.io/opstree/redis-sentinel:v7.0.15'
   */
  readonly sentinelImage?: string;

  /**
   * redis_exporter image, pinned by tag or digest.
   * @default 'quay.io/opstree/redis-exporter:v1.44.0'
   */
  readonly exporterImage?: string;

  /** Requests and limits of each Redis container. */
  readonly resources?: RedisResources;

  /**
   * Size of each Redis pod's data volume.
   * @default '8Gi'
   */
  readonly storageSize?: string;

  /**
   * StorageClass of the data volumes.
   * @default 'fast-ssd'
   */
  readonly storageClass?: string;

  /**
   * The Secret key holding the Redis password. It must already exist; only its name and key are referenced,
   * and since the password goes into `REDIS_URL` it must be URL-safe (e.g. hex or alphanumeric).
   * @default { name: `${name}-auth`, key: 'password' }
   */
  readonly redisSecret?: SecretKeySelector;

  /**
   * The redis_exporter sidecar, a ServiceMonitor and PrometheusRules (needs the Prometheus Operator CRDs).
   * @default true
   */
  readonly monitoring?: boolean;

  /**
   * Prefix of the connection variables the app gets (`<prefix>_PASSWORD`, `<prefix>_URL`, ...).
   * @default 'REDIS'
   */
  readonly envPrefix?: string;
}

const DEFAULT_IMAGE = 'quay.io/opstree/redis:v7.0.15';
const DEFAULT_SENTINEL_IMAGE = 'quay.io/opstree/redis-sentinel:v7.0.15';
const DEFAULT_EXPORTER_IMAGE = 'quay.io/opstree/redis-exporter:v1.44.0';
/** UID and GID of the operator's Redis images. */
const REDIS_UID = 1000;
/** `maxmemory` as a share of the memory limit: the rest is left for forks (snapshots) and replication buffers. */
const MAX_MEMORY_PERCENT_OF_LIMIT = 80;
const MASTER_GROUP_NAME = 'mymaster';

/**
 * Redis run by the OT-CONTAINER-KIT redis-operator, shared by both colors of an app.
 *
 * Sentinel mode (the default) renders a `RedisReplication` (a StatefulSet of one master and replicas) and a
 * `RedisSentinel` of the same name watching it: the operator then serves `<name>-master` (which follows the
 * master after a failover) and `<name>-sentinel`. The app gets `REDIS_PASSWORD` from the Secret, `REDIS_URL`
 * on the master Service, and `REDIS_SENTINELS` (every sentinel pod, through the headless Service) plus
 * `REDIS_SENTINEL_MASTER` for sentinel-aware clients, which learn of a failover at once instead of waiting for
 * the master Service to follow. Sentinels authenticate to Redis with the same Secret.
 *
 * Cluster mode renders a `RedisCluster` whose leaders each get one follower; `REDIS_URL` points at
 * `<name>-leader`, a seed from which cluster-aware clients discover every node.
 */
export class RedisCluster extends Construct implements IAppBackend, INetworkPeer {
  public readonly name: string;
  public readonly mode: RedisMode;
  /** Service clients connect to: `<name>-master` (sentinel mode) or `<name>-leader` (cluster mode). */
  public readonly serviceName: string;
  /** Sentinel mode: the sentinel Service. */
  public readonly sentinelServiceName?: string;
  /** Sentinel mode: `host:port` of every sentinel pod. */
  public readonly sentinelAddresses: readonly string[];
  /** Sentinel mode: the name the sentinels know the master by. */
  public readonly masterGroupName?: string;
  /** The Secret key holding the password. */
  public readonly authSecret: SecretKeySelector;
  public readonly port = REDIS_PORT;
  public readonly connectionEnv: readonly AppEnvVar[];
  /** The RedisReplication (sentinel mode) or RedisCluster (cluster mode) custom resource. */
  public readonly redis: RedisReplication | RedisClusterResource;
  /** Sentinel mode: the RedisSentinel custom resource. */
  public readonly sentinel?: RedisSentinel;
  /** Whether the pods run the redis_exporter sidecar. */
  private readonly exporter: boolean;

  public constructor(scope: Construct, id: string, props: RedisClusterProps) {
    super(scope, id);
    requireDnsLabel('name', props.name, 40, '"cache"');
    this.name = props.name;
    this.mode = props.mode ?? 'sentinel';
    const image = ImageRef.parse(props.image ?? DEFAULT_IMAGE, 'image').toString();
    const exporterImage = ImageRef.parse(props.exporterImage ?? DEFAULT_EXPORTER_IMAGE, 'exporterImage').toString();
    const storageSize = props.storageSize ?? '8Gi';
    const storageClass = props.storageClass ?? 'fast-ssd';
    const monitoring = props.monitoring ?? true;
    this.exporter = monitoring;
    const envPrefix = props.envPrefix ?? 'REDIS';
    this.authSecret = props.redisSecret ?? { name: `${this.name}-auth`, key: 'password' };
    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    problems.check(
      () => requireStorageQuantity('storageSize', storageSize),
      () => requireDnsLabel('storageClass', storageClass, 63, '"fast-ssd"'),
      () => requireEnvPrefix('envPrefix', envPrefix),
      () => requireSecretKey('redisSecret', this.authSecret),
    );
    const resolved = problems.attempt(() =>
      resolveResources(props.resources ?? {}, { cpuRequest: '100m', cpuLimit: '200m', memoryRequest: '256Mi', memoryLimit: '512Mi' }),
    );

    const namespace = Chart.of(this).namespace;
    const host = (name: string): string => (namespace !== undefined ? `${name}.${namespace}` : name);
    const labels = appLabels({ name: this.name, partOf: props.partOf ?? this.name, component: 'cache' });
    const metadata: CustomResourceMetadata = { name: this.name, labels };
    const monitoringLabels = props.monitoringLabels ?? {};
    const runbookBaseUrl = props.runbookBaseUrl ?? DEFAULT_RUNBOOK_URL;
    problems.check(
      () => requireExtraLabels('monitoringLabels', monitoringLabels, labels, '{ release: "kube-prometheus-stack" }'),
      () => requireRunbookBaseUrl('runbookBaseUrl', runbookBaseUrl),
    );
    problems.throwIfAny();
    const resources = resolved as NonNullable<typeof resolved>;
    const monitoringMetadata: CustomResourceMetadata = { name: this.name, labels: { ...labels, ...monitoringLabels } };
    // Untyped: the same fields fit the kubernetesConfig of both RedisReplication and RedisCluster.
    const kubernetesConfig = { image, imagePullPolicy: 'IfNotPresent', resources: quantities(resources), redisSecret: this.authSecret };
    const redisExporter: RedisReplicationSpecRedisExporter | undefined = monitoring
      ? {
          enabled: true,
          image: exporterImage,
          imagePullPolicy: 'IfNotPresent',
          resources: quantities({ requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } }),
          securityContext: { ...CONTAINER_SECURITY_CONTEXT, readOnlyRootFilesystem: true },
        }
      : undefined;
    const storage: RedisReplicationSpecStorage = {
      volumeClaimTemplate: {
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: storageClass,
          resources: { requests: { storage: RedisReplicationSpecStorageVolumeClaimTemplateSpecResourcesRequests.fromString(storageSize) } },
        },
      },
    };
    const password: AppEnvVar = { name: `${envPrefix}_PASSWORD`, secretKeyRef: { name: this.authSecret.name, key: this.authSecret.key } };

    if (this.mode === 'sentinel') {
      if (props.shards !== undefined) {
        throw new Error(`shards: only applies in cluster mode, got ${props.shards} with mode "sentinel"; remove shards or set mode to "cluster"`);
      }
      const replicas = props.replicas ?? 3;
      const sentinels = props.sentinels ?? 3;
      requireInteger('replicas', replicas, 1);
      if (replicas < 2) {
        throw new Error(
          `replicas: automatic failover needs a master and at least 1 replica, got ${replicas}; set replicas to 3 (1 master + 2 replicas) or more`,
        );
      }
      requireInteger('sentinels', sentinels, 1);
      if (sentinels < 3) {
        throw new Error(
          `sentinels: a failover needs a majority of sentinels, and fewer than 3 cannot lose one and still agree, ` +
            `got ${sentinels}; set sentinels to 3 or more`,
        );
      }
      if (sentinels > MAX_SENTINELS) {
        // Every client gets the list of sentinel addresses; more sentinels only slow their agreement.
        throw new Error(
          `sentinels: a failover needs a majority, which 3 or 5 sentinels give; more than ${MAX_SENTINELS} only slow the vote, ` +
            `got ${sentinels}; set sentinels to 3 or 5`,
        );
      }
      const sentinelImage = ImageRef.parse(props.sentinelImage ?? DEFAULT_SENTINEL_IMAGE, 'sentinelImage').toString();
      this.serviceName = `${this.name}-master`;
      this.sentinelServiceName = `${this.name}-sentinel`;
      this.masterGroupName = MASTER_GROUP_NAME;
      this.sentinelAddresses = Array.from(
        { length: sentinels },
        (_, index) => `${this.name}-sentinel-${index}.${host(`${this.name}-sentinel-headless`)}:${SENTINEL_PORT}`,
      );

      const replicationSpec: RedisReplicationSpec = {
        clusterSize: replicas,
        kubernetesConfig,
        ...(redisExporter !== undefined ? { redisExporter } : {}),
        redisConfig: { maxMemoryPercentOfLimit: MAX_MEMORY_PERCENT_OF_LIMIT },
        storage,
        podSecurityContext: POD_SECURITY_CONTEXT,
        securityContext: CONTAINER_SECURITY_CONTEXT,
        affinity: antiAffinity({ app: this.name, redis_setup_type: 'replication' }),
        pdb: { enabled: true, maxUnavailable: 1 },
      };
      this.redis = new RedisReplication(this, 'replication', { metadata, spec: replicationSpec });

      const sentinelSpec: RedisSentinelSpec = {
        clusterSize: sentinels,
        kubernetesConfig: {
          image: sentinelImage,
          imagePullPolicy: 'IfNotPresent',
          resources: quantities({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } }),
        },
        redisSentinelConfig: {
          redisReplicationName: this.name,
          masterGroupName: MASTER_GROUP_NAME,
          quorum: String(Math.floor(sentinels / 2) + 1),
          redisReplicationPassword: { secretKeyRef: this.authSecret },
        },
        podSecurityContext: POD_SECURITY_CONTEXT,
        securityContext: CONTAINER_SECURITY_CONTEXT,
        affinity: antiAffinity({ app: `${this.name}-sentinel`, redis_setup_type: 'sentinel' }),
        pdb: { enabled: true, maxUnavailable: 1 },
      };
      this.sentinel = new RedisSentinel(this, 'sentinel', { metadata, spec: sentinelSpec });
      this.sentinel.node.addDependency(this.redis);

      this.connectionEnv = [
        password,
        { name: `${envPrefix}_URL`, value: `redis://:$(${envPrefix}_PASSWORD)@${host(this.serviceName)}:${REDIS_PORT}/0` },
        { name: `${envPrefix}_SENTINELS`, value: this.sentinelAddresses.join(',') },
        { name: `${envPrefix}_SENTINEL_MASTER`, value: MASTER_GROUP_NAME },
      ];
      if (monitoring) {
        this.createMonitoring(
          monitoringMetadata,
          { matchLabels: { app: this.name, redis_setup_type: 'replication' } },
          withRunbooks(withLabels(replicationAlerts(this.name, namespace, replicas), componentAlertLabels(this.name, namespace)), runbookBaseUrl),
        );
      }
    } else {
      if (props.replicas !== undefined || props.sentinels !== undefined) {
        const [key, value] = props.replicas !== undefined ? ['replicas', props.replicas] : ['sentinels', props.sentinels];
        throw new Error(`${key}: only applies in sentinel mode, got ${value} with mode "cluster"; remove ${key} or set mode to "sentinel"`);
      }
      const shards = props.shards ?? 3;
      requireInteger('shards', shards, 1);
      if (shards < 3) {
        throw new Error(`shards: Redis Cluster needs at least 3 leaders to fail one over by majority, got ${shards}; set shards to 3 or more`);
      }
      this.serviceName = `${this.name}-leader`;
      this.sentinelAddresses = [];
      const role = (name: string): RedisClusterSpecRedisLeader & RedisClusterSpecRedisFollower => ({
        replicas: shards,
        securityContext: CONTAINER_SECURITY_CONTEXT,
        affinity: antiAffinity({ app: `${this.name}-${name}`, redis_setup_type: 'cluster' }),
        pdb: { enabled: true, maxUnavailable: 1 },
      });
      const clusterSpec: RedisClusterSpec = {
        clusterSize: shards,
        clusterVersion: 'v7',
        persistenceEnabled: true,
        kubernetesConfig,
        ...(redisExporter !== undefined ? { redisExporter } : {}),
        redisConfig: { maxMemoryPercentOfLimit: MAX_MEMORY_PERCENT_OF_LIMIT },
        redisLeader: role('leader'),
        redisFollower: role('follower'),
        storage,
        podSecurityContext: POD_SECURITY_CONTEXT,
      };
      this.redis = new RedisClusterResource(this, 'cluster', { metadata, spec: clusterSpec });
      this.connectionEnv = [
        password,
        { name: `${envPrefix}_URL`, value: `redis://:$(${envPrefix}_PASSWORD)@${host(this.serviceName)}:${REDIS_PORT}` },
      ];
      if (monitoring) {
        this.createMonitoring(
          monitoringMetadata,
          {
            matchLabels: { redis_setup_type: 'cluster' },
            matchExpressions: [{ key: 'app', operator: 'In', values: [`${this.name}-leader`, `${this.name}-follower`] }],
          },
          withRunbooks(withLabels(clusterAlerts(this.name, namespace, shards), componentAlertLabels(this.name, namespace)), runbookBaseUrl),
        );
      }
    }
  }

  /**
   * For NetworkPolicySet. Pods, as the operator labels them (pkg/k8sutils/labels.go, getRedisLabels): `app: <name>`
   * and `redis_setup_type: replication` on the RedisReplication's pods, `app: <name>-sentinel` and
   * `redis_setup_type: sentinel` on the sentinels, `app: <name>-leader|<name>-follower` and
   * `redis_setup_type: cluster` in cluster mode (the custom resource's own labels are copied to all of them, so
   * `app.kubernetes.io/name` cannot tell them apart). Replicas sync from the master on 6379; sentinels watch and
   * reconfigure Redis on 6379 and talk to each other on 26379; cluster nodes also gossip on the bus port, 16379.
   * Clients reach Redis on 6379 and, in sentinel mode, the sentinels on 26379 to find the master.
   */
  public get networkPeer(): NetworkPeerSpec {
    const metricsPorts = this.exporter ? [NetworkPort.tcp(REDIS_EXPORTER_PORT)] : [];
    const redis = NetworkPort.tcp(REDIS_PORT);
    if (this.mode === 'cluster') {
      return {
        workloads: [
          {
            name: this.name,
            selector: {
              matchLabels: { redis_setup_type: 'cluster' },
              matchExpressions: [{ key: 'app', operator: 'In', values: [`${this.name}-leader`, `${this.name}-follower`] }],
            },
            clientPorts: [redis],
            metricsPorts,
          },
        ],
        internalFlows: [{ from: this.name, to: this.name, ports: [redis, NetworkPort.tcp(REDIS_CLUSTER_BUS_PORT)] }],
        operatorFlows: [{ operator: REDIS_OPERATOR, to: this.name, ports: [redis] }],
      };
    }
    const sentinels = `${this.name}-sentinel`;
    return {
      workloads: [
        { name: this.name, selector: { matchLabels: { app: this.name, redis_setup_type: 'replication' } }, clientPorts: [redis], metricsPorts },
        {
          name: sentinels,
          selector: { matchLabels: { app: sentinels, redis_setup_type: 'sentinel' } },
          clientPorts: [NetworkPort.tcp(SENTINEL_PORT)],
        },
      ],
      internalFlows: [
        { from: this.name, to: this.name, ports: [redis] },
        { from: sentinels, to: this.name, ports: [redis] },
        { from: sentinels, to: sentinels, ports: [NetworkPort.tcp(SENTINEL_PORT)] },
      ],
      operatorFlows: [{ operator: REDIS_OPERATOR, to: this.name, ports: [redis] }],
    };
  }

  private createMonitoring(metadata: CustomResourceMetadata, selector: ServiceMonitorSpecSelector, rules: AlertRule[]): void {
    // Only the operator's main client Service of each role carries the exporter port, so each pod is scraped once.
    serviceMonitor(this, 'service-monitor', metadata, { selector, endpoints: [{ port: 'redis-exporter' }] }).node.addDependency(this.redis);
    prometheusRule(this, 'alerts', { ...metadata, name: `${this.name}-alerts` }, { groups: [{ name: `${this.name}.redis`, rules }] });
  }
}

const POD_SECURITY_CONTEXT: RedisReplicationSpecPodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: REDIS_UID,
  runAsGroup: REDIS_UID,
  fsGroup: REDIS_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

// The operator's entrypoints write the generated redis.conf into the image, so the root filesystem stays writable.
const CONTAINER_SECURITY_CONTEXT: RedisReplicationSpecSecurityContext = {
  allowPrivilegeEscalation: false,
  privileged: false,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** No two pods of one role on the same node: losing a node loses at most one copy. */
function antiAffinity(matchLabels: Record<string, string>): RedisReplicationSpecAffinity {
  return {
    podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels }, topologyKey: 'kubernetes.io/hostname' }] },
  };
}

/** `resources` as the generated types take them: each quantity in the CRD's int-or-string wrapper. */
function quantities(resources: ResourceRequirements): RedisReplicationSpecKubernetesConfigResources {
  const wrap = (values: Readonly<Record<string, string>>) =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, RedisReplicationSpecKubernetesConfigResourcesLimits.fromString(value)]));
  return { requests: wrap(resources.requests), limits: wrap(resources.limits) };
}

function requireSecretKey(key: string, secret: SecretKeySelector): void {
  if (!isDnsSubdomain(secret.name) || !isDataKey(secret.key)) {
    throw new Error(`${key}: must name a Secret and one of its keys, got ${JSON.stringify(secret)}; e.g. { name: "cache-auth", key: "password" }`);
  }
}

type Matchers = Readonly<Record<string, string | undefined>>;

function commonAlerts(name: string, matchers: Matchers, expected: number, masters: number): AlertRule[] {
  const sel = promSelector(matchers);
  return [
    {
      alert: 'RedisInstanceDown',
      expr: `(count(redis_up${sel} == 1) or vector(0)) < ${expected}`,
      for: '2m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Redis ${name} has fewer than ${expected} instances up.`,
        description: 'A Redis pod is not running or its exporter cannot reach it; check the pods and `kubectl describe` the custom resource.',
      },
    },
    {
      alert: 'RedisNoMaster',
      expr: `(count(redis_instance_info${promSelector({ ...matchers, role: 'master' })}) or vector(0)) < ${masters}`,
      for: '1m',
      labels: { severity: 'critical' },
      annotations: {
        summary:
          masters === 1 ? `Redis ${name} has no master: writes fail.` : `Redis ${name} has fewer than ${masters} masters: a shard takes no writes.`,
        description: 'A failover did not complete; check the sentinels or the cluster state (`redis-cli cluster info`) and the operator logs.',
      },
    },
    {
      alert: 'RedisMemoryHigh',
      expr: `redis_memory_used_bytes${sel} / redis_memory_max_bytes${sel} > 0.9 and redis_memory_max_bytes${sel} > 0`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Redis {{ $labels.pod }} of ${name} uses more than 90% of its maxmemory.`,
        description: 'At 100% writes fail (or keys are evicted, depending on maxmemory-policy); raise the memory limit or expire keys.',
      },
    },
    {
      alert: 'RedisReplicationBroken',
      expr: `redis_master_link_up${sel} == 0`,
      for: '2m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Replica {{ $labels.pod }} of ${name} lost its link to the master.`,
        description: 'The replica serves stale data and cannot take over; check the network and the master.',
      },
    },
  ];
}

function replicationAlerts(name: string, namespace: string | undefined, replicas: number): AlertRule[] {
  const matchers = { namespace, service: name };
  const sel = promSelector(matchers);
  return [
    ...commonAlerts(name, matchers, replicas, 1),
    {
      alert: 'RedisReplicasMissing',
      expr: `(max(redis_connected_slaves${sel}) or vector(0)) < ${replicas - 1}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `The master of ${name} has fewer than ${replicas - 1} connected replicas.`,
        description: 'A failover has fewer candidates than planned and data is less redundant; check the replica pods.',
      },
    },
  ];
}

function clusterAlerts(name: string, namespace: string | undefined, shards: number): AlertRule[] {
  const matchers = { namespace, service: `=~${name}-(leader|follower)` };
  return [
    ...commonAlerts(name, matchers, shards * 2, shards),
    {
      alert: 'RedisReplicasMissing',
      expr: `(count(redis_instance_info${promSelector({ ...matchers, role: 'slave' })}) or vector(0)) < ${shards}`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: `Redis ${name} has fewer than ${shards} followers: a shard has no copy.`,
        description: 'A shard whose leader fails without a follower loses its keys; check the follower pods.',
      },
    },
  ];
}
