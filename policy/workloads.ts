/**
 * Everything in a stack that makes pods, seen the same way whether the pods come from a pod template
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod) or from an operator's custom resource.
 *
 * The data tier's pods are created by operators from custom resources, so their pod specs never pass through
 * the program. For the kinds this project renders, {@link workloadsOf} models the pods the operator will
 * create from the fields the custom resource sets, and the operator's documented defaults for what it leaves
 * out, so that every rule applies to them too:
 *
 * - CloudNativePG `Cluster`: pods labelled `cnpg.io/cluster: <name>`. Modelled: container `postgres` from
 *   `imageName`, `resources`, `securityContext`, the pod from `podSecurityContext`; when either is left out, the
 *   operator's restricted defaults (non-root `postgresUID`, `seccompProfile` or RuntimeDefault, no privilege
 *   escalation, all capabilities dropped). PodDisruptionBudget: the operator's, while `enablePDB` is not false.
 * - CloudNativePG `Pooler`: pods labelled `spec.template.metadata.labels` + `cnpg.io/poolerName: <name>`. Modelled:
 *   `spec.template.spec` (a template without containers gets the operator's `pgbouncer` container with the same
 *   restricted defaults and no resources). PodDisruptionBudget: none from the operator, the stack must have one.
 * - redis-operator `RedisReplication`: pods labelled `app: <name>`, `redis_setup_type: replication`. Modelled:
 *   container `redis` from `kubernetesConfig.image`/`resources`, `securityContext`; `redis-exporter` when
 *   `redisExporter.enabled`; the pod from `podSecurityContext`. PodDisruptionBudget: the operator's, while
 *   `pdb.enabled`.
 * - redis-operator `RedisSentinel`: pods labelled `app: <name>-sentinel`, `redis_setup_type: sentinel`. Modelled:
 *   container `sentinel` as above. PodDisruptionBudget: the operator's, while `pdb.enabled`.
 * - redis-operator `RedisCluster`: pods labelled `app: <name>-leader` / `<name>-follower`, `redis_setup_type:
 *   cluster`. Modelled per role: container `redis` with the role's `securityContext`, exporter as above.
 *   PodDisruptionBudget: the operator's, while `redisLeader.pdb.enabled` / `redisFollower.pdb.enabled`.
 *
 * The redis-operator applies no security context of its own: what the custom resource leaves out is absent
 * from the pods, and the rules report it. An image the custom resource leaves out is the operator's pinned
 * default and is not checked. Jobs the operators start (CloudNativePG's bootstrap) carry the cluster's label
 * and are not modelled separately.
 * @see https://cloudnative-pg.io/documentation/1.30/labels_annotations/
 * @see https://cloudnative-pg.io/documentation/1.30/security/
 */
import {
  Container,
  ObjectMeta,
  PodSpec,
  PodTemplateSpec,
  PolicyObject,
  ResourceRequirements,
  describeObject,
  kindOf,
  metadataOf,
  namespaceOf,
  specOf,
} from './kubernetes';

/** Who protects a workload's pods from voluntary disruptions. */
export type DisruptionBudgetOwner =
  /** A PodDisruptionBudget object in the stack must select the pods. */
  | { readonly by: 'stack' }
  /** The operator creates the budget while `field` is on. */
  | { readonly by: 'operator'; readonly field: string; readonly enabled: boolean };

/** One set of identical pods: a workload's pod template, or what an operator makes from a custom resource. */
export interface Workload {
  /** The object the pods come from. */
  readonly object: PolicyObject;
  /** The object's kind, e.g. `Deployment` or `Cluster`. */
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** How messages name the pods: `Deployment web-prod/web-blue spec.template`. */
  readonly where: string;
  /** The labels the pods carry, for PodDisruptionBudget and NetworkPolicy selectors. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The pod spec, or the model of the pods an operator will create. */
  readonly podSpec: PodSpec;
  /**
   * Pods the object asks for, or undefined when the count is not a replica count (DaemonSet, Job, CronJob).
   * A HorizontalPodAutoscaler that targets the object overrides it (see disruption-budgets.ts).
   */
  readonly replicas?: number;
  /** The field `replicas` comes from, for messages, e.g. `spec.instances`. */
  readonly replicasField?: string;
  readonly disruptionBudget: DisruptionBudgetOwner;
  /**
   * Whether every container must name its image: true for pod templates (the API server requires it), false
   * for operator models, where a missing image means the operator's pinned default.
   */
  readonly imageRequired: boolean;
}

/** The `spec` fields this module reads of a CloudNativePG `Cluster` (postgresql.cnpg.io/v1). */
interface CnpgClusterSpec {
  readonly instances: number;
  readonly imageName: string;
  readonly resources: ResourceRequirements;
  readonly enablePDB: boolean;
  readonly postgresUID: number;
  readonly seccompProfile: { readonly type?: string };
  readonly podSecurityContext: PodSpec['securityContext'];
  readonly securityContext: Container['securityContext'];
}

/** The `spec` fields this module reads of a CloudNativePG `Pooler` (postgresql.cnpg.io/v1). */
interface CnpgPoolerSpec {
  readonly instances: number;
  readonly template: PodTemplateSpec;
}

/** `spec.kubernetesConfig` of the redis-operator resources (redis.redis.opstreelabs.in/v1beta2). */
interface RedisKubernetesConfig {
  readonly image: string;
  readonly resources: ResourceRequirements;
}

/** `spec.redisExporter` of the redis-operator resources. */
interface RedisExporter {
  readonly enabled: boolean;
  readonly image: string;
  readonly resources: ResourceRequirements;
  readonly securityContext: Container['securityContext'];
}

/** The `spec` fields this module reads of a `RedisReplication` or `RedisSentinel`. */
interface RedisSpec {
  readonly clusterSize: number;
  readonly kubernetesConfig: RedisKubernetesConfig;
  readonly redisExporter: RedisExporter;
  readonly podSecurityContext: PodSpec['securityContext'];
  readonly securityContext: Container['securityContext'];
  readonly pdb: { readonly enabled?: boolean };
}

/** `spec.redisLeader` / `spec.redisFollower` of a `RedisCluster`. */
interface RedisClusterRole {
  readonly replicas: number;
  readonly securityContext: Container['securityContext'];
  readonly pdb: { readonly enabled?: boolean };
}

/** The `spec` fields this module reads of a `RedisCluster`. */
interface RedisClusterSpec extends RedisSpec {
  readonly redisLeader: RedisClusterRole;
  readonly redisFollower: RedisClusterRole;
}

const CNPG = 'postgresql.cnpg.io/v1';
const REDIS = 'redis.redis.opstreelabs.in/v1beta2';

/** CloudNativePG's container security context when a Cluster or Pooler sets none (restricted-compliant). */
function cnpgContainerDefaults(seccompType: string): NonNullable<Container['securityContext']> {
  return {
    privileged: false,
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: seccompType },
  };
}

/** Where the pod template is, by `apiVersion/kind`, for the built-in kinds that have one. */
const TEMPLATE_PATHS: Readonly<Record<string, { readonly path: string; readonly replicas: boolean }>> = {
  'apps/v1/Deployment': { path: 'spec.template', replicas: true },
  'apps/v1/StatefulSet': { path: 'spec.template', replicas: true },
  'apps/v1/ReplicaSet': { path: 'spec.template', replicas: true },
  'v1/ReplicationController': { path: 'spec.template', replicas: true },
  'apps/v1/DaemonSet': { path: 'spec.template', replicas: false },
  'batch/v1/Job': { path: 'spec.template', replicas: false },
  'batch/v1/CronJob': { path: 'spec.jobTemplate.spec.template', replicas: false },
};

/** The pods `object` makes, one entry per set of identical pods; empty for objects that make none. */
export function workloadsOf(object: PolicyObject): Workload[] {
  const kind = kindOf(object.type);
  if (kind === undefined) {
    return [];
  }
  const key = `${kind.apiVersion}/${kind.kind}`;
  const template = TEMPLATE_PATHS[key];
  if (template !== undefined) {
    const found = at(object.props, template.path) as PodTemplateSpec | undefined;
    const replicas = template.replicas ? (specOf<{ replicas: number }>(object).replicas ?? 1) : undefined;
    return [
      workload(object, template.path, found?.metadata?.labels ?? {}, found?.spec ?? {}, {
        replicas,
        replicasField: template.replicas ? 'spec.replicas' : undefined,
        disruptionBudget: { by: 'stack' },
        imageRequired: true,
      }),
    ];
  }
  if (key === 'v1/Pod') {
    return [
      workload(object, 'spec', metadataOf(object).labels ?? {}, specOf<PodSpec>(object), {
        replicas: 1,
        disruptionBudget: { by: 'stack' },
        imageRequired: true,
      }),
    ];
  }
  const name = metadataOf(object).name ?? '';
  switch (key) {
    case `${CNPG}/Cluster`:
      return [cnpgCluster(object, name)];
    case `${CNPG}/Pooler`:
      return [cnpgPooler(object, name)];
    case `${REDIS}/RedisReplication`:
      return [redis(object, 'spec', { app: name, redis_setup_type: 'replication' }, 'redis', specOf<RedisSpec>(object))];
    case `${REDIS}/RedisSentinel`:
      return [redis(object, 'spec', { app: `${name}-sentinel`, redis_setup_type: 'sentinel' }, 'sentinel', specOf<RedisSpec>(object))];
    case `${REDIS}/RedisCluster`: {
      const spec = specOf<RedisClusterSpec>(object);
      return (['leader', 'follower'] as const).map((role) => {
        const field = role === 'leader' ? 'redisLeader' : 'redisFollower';
        const settings: Partial<RedisClusterRole> = spec[field] ?? {};
        return redis(
          object,
          `spec.${field}`,
          { app: `${name}-${role}`, redis_setup_type: 'cluster' },
          'redis',
          { ...spec, clusterSize: settings.replicas ?? spec.clusterSize, securityContext: settings.securityContext, pdb: settings.pdb ?? {} },
          { replicas: settings.replicas !== undefined ? `spec.${field}.replicas` : 'spec.clusterSize', pdb: `spec.${field}.pdb.enabled` },
        );
      });
    }
    default:
      return [];
  }
}

/** The workloads of every object, in order. */
export function allWorkloads(objects: readonly PolicyObject[]): Workload[] {
  return objects.flatMap(workloadsOf);
}

/** Every container of a pod spec with where it is, e.g. `containers "app"`. */
export function containersOf(spec: PodSpec): { readonly where: string; readonly container: Container }[] {
  const list = (field: 'initContainers' | 'containers' | 'ephemeralContainers') =>
    (spec[field] ?? []).map((container) => ({ where: `${field} "${container.name ?? '?'}"`, container }));
  return [...list('initContainers'), ...list('containers'), ...list('ephemeralContainers')];
}

function workload(
  object: PolicyObject,
  path: string,
  podLabels: Readonly<Record<string, string>>,
  podSpec: PodSpec,
  rest: Pick<Workload, 'replicas' | 'replicasField' | 'disruptionBudget' | 'imageRequired'>,
): Workload {
  const kind = kindOf(object.type)?.kind ?? object.type;
  const metadata: ObjectMeta = metadataOf(object);
  return {
    object,
    kind,
    namespace: namespaceOf(object),
    name: metadata.name ?? '',
    where: `${describeObject(object)} ${path}`,
    podLabels,
    podSpec,
    ...rest,
  };
}

function cnpgCluster(object: PolicyObject, name: string): Workload {
  const spec = specOf<CnpgClusterSpec>(object);
  const seccomp = spec.seccompProfile?.type ?? 'RuntimeDefault';
  const uid = spec.postgresUID ?? 26;
  const podSpec: PodSpec = {
    securityContext: spec.podSecurityContext ?? { runAsNonRoot: true, runAsUser: uid, seccompProfile: { type: seccomp } },
    containers: [
      {
        name: 'postgres',
        image: spec.imageName,
        resources: spec.resources,
        securityContext: spec.securityContext ?? { ...cnpgContainerDefaults(seccomp), runAsUser: uid },
      },
    ],
  };
  return workload(object, 'spec', { 'cnpg.io/cluster': name }, podSpec, {
    replicas: spec.instances ?? 1,
    replicasField: 'spec.instances',
    disruptionBudget: { by: 'operator', field: 'spec.enablePDB', enabled: spec.enablePDB !== false },
    imageRequired: false,
  });
}

function cnpgPooler(object: PolicyObject, name: string): Workload {
  const spec = specOf<CnpgPoolerSpec>(object);
  const template = spec.template ?? {};
  const given = template.spec ?? {};
  const podSpec: PodSpec =
    given.containers !== undefined && given.containers.length > 0
      ? given
      : { ...given, containers: [{ name: 'pgbouncer', securityContext: cnpgContainerDefaults('RuntimeDefault') }] };
  return workload(object, 'spec.template', { ...(template.metadata?.labels ?? {}), 'cnpg.io/poolerName': name }, podSpec, {
    replicas: spec.instances ?? 1,
    replicasField: 'spec.instances',
    disruptionBudget: { by: 'stack' },
    imageRequired: false,
  });
}

function redis(
  object: PolicyObject,
  path: string,
  podLabels: Record<string, string>,
  containerName: string,
  spec: Partial<RedisSpec>,
  fields: { readonly replicas: string; readonly pdb: string } = { replicas: 'spec.clusterSize', pdb: 'spec.pdb.enabled' },
): Workload {
  const exporter = spec.redisExporter;
  const containers: Container[] = [
    { name: containerName, image: spec.kubernetesConfig?.image, resources: spec.kubernetesConfig?.resources, securityContext: spec.securityContext },
    ...(exporter?.enabled === true
      ? [{ name: 'redis-exporter', image: exporter.image, resources: exporter.resources, securityContext: exporter.securityContext }]
      : []),
  ];
  return workload(
    object,
    path,
    podLabels,
    { securityContext: spec.podSecurityContext, containers },
    {
      replicas: spec.clusterSize ?? 1,
      replicasField: fields.replicas,
      disruptionBudget: { by: 'operator', field: fields.pdb, enabled: spec.pdb?.enabled === true },
      imageRequired: false,
    },
  );
}

/** The value at a dotted path, e.g. `spec.template`. */
function at(value: unknown, path: string): unknown {
  let node = value;
  for (const segment of path.split('.')) {
    if (typeof node !== 'object' || node === null) {
      return undefined;
    }
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
