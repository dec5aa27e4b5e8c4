import type { AccessQuery, ClusterProbe, FoundDeployment, ServedResource } from '../stacks/preflight';

/** The plural resource name the API server gives a kind. */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  return lower.endsWith('s') ? `${lower}es` : lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
}

function served(apiVersion: string, kinds: readonly string[], namespaced = true): ServedResource[] {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return kinds.map((kind) => ({ group, version, kind, name: pluralOf(kind), namespaced }));
}

/** Every kind the stacks render or refer to, served as on a cluster with every operator, cert-manager and Gateway API. */
export const EVERY_KIND: readonly ServedResource[] = [
  ...served('v1', ['ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'ResourceQuota', 'LimitRange']),
  ...served('v1', ['Namespace'], false),
  ...served('apps/v1', ['Deployment']),
  ...served('batch/v1', ['Job']),
  ...served('autoscaling/v2', ['HorizontalPodAutoscaler']),
  ...served('policy/v1', ['PodDisruptionBudget']),
  ...served('networking.k8s.io/v1', ['NetworkPolicy', 'Ingress']),
  ...served('networking.k8s.io/v1', ['IngressClass'], false),
  ...served('rbac.authorization.k8s.io/v1', ['Role', 'RoleBinding']),
  ...served('storage.k8s.io/v1', ['StorageClass'], false),
  ...served('cert-manager.io/v1', ['Certificate']),
  ...served('cert-manager.io/v1', ['ClusterIssuer'], false),
  ...served('gateway.networking.k8s.io/v1', ['HTTPRoute', 'Gateway']),
  ...served('gateway.networking.k8s.io/v1', ['GatewayClass'], false),
  ...served('monitoring.coreos.com/v1', ['ServiceMonitor', 'PodMonitor', 'PrometheusRule']),
  ...served('monitoring.coreos.com/v1alpha1', ['AlertmanagerConfig']),
  ...served('postgresql.cnpg.io/v1', ['Cluster', 'Pooler', 'ScheduledBackup', 'Backup']),
  ...served('barmancloud.cnpg.io/v1', ['ObjectStore']),
  ...served('redis.redis.opstreelabs.in/v1beta2', ['RedisReplication', 'RedisSentinel', 'RedisCluster']),
];

/** What a {@link FakeCluster} holds; everything absent from `missing` / `denied` is there / allowed. */
export interface FakeClusterSpec {
  readonly version?: { readonly major: number; readonly minor: number; readonly gitVersion: string };
  readonly served?: readonly ServedResource[];
  /** Objects that do not exist, as `<plural>/<namespace>/<name>` (namespace empty when cluster-scoped). */
  readonly missing?: readonly string[];
  /** Selectors that match no running Deployment (or a stopped one, when `stopped`). */
  readonly noOperator?: readonly string[];
  readonly stopped?: boolean;
  /** Denied questions, as `<verb> <resource> <namespace>`. */
  readonly denied?: readonly string[];
  /** Calls that fail, with this message. */
  readonly failing?: Partial<Record<keyof ClusterProbe, string>>;
}

/** A {@link ClusterProbe} over a described cluster; it records what it was asked. */
export class FakeCluster implements ClusterProbe {
  public readonly asked: string[] = [];

  public constructor(private readonly spec: FakeClusterSpec = {}) {}

  /** Rejects as the described cluster fails `call`: awaited first, so a failing call answers nothing. */
  private fail(call: keyof ClusterProbe): Promise<void> {
    const message = this.spec.failing?.[call];
    return message === undefined ? Promise.resolve() : Promise.reject(new Error(message));
  }

  public async version() {
    await this.fail('version');
    return this.spec.version ?? { major: 1, minor: 36, gitVersion: 'v1.36.1' };
  }

  public async resources() {
    await this.fail('resources');
    return this.spec.served ?? EVERY_KIND;
  }

  public async existing(resource: string, namespace: string | undefined, names: readonly string[]) {
    await this.fail('existing');
    this.asked.push(`existing ${resource} ${namespace ?? ''} ${names.join(',')}`);
    return new Set(names.filter((name) => !(this.spec.missing ?? []).includes(`${resource}/${namespace ?? ''}/${name}`)));
  }

  public async deployments(selector: string): Promise<FoundDeployment[]> {
    await this.fail('deployments');
    if ((this.spec.noOperator ?? []).includes(selector)) {
      return this.spec.stopped === true ? [{ namespace: 'operators', name: selector.split('=')[1], availableReplicas: 0 }] : [];
    }
    return [{ namespace: 'operators', name: selector.split('=')[1], availableReplicas: 1 }];
  }

  public async allowed(queries: readonly AccessQuery[]) {
    await this.fail('allowed');
    this.asked.push(`allowed ${queries.length}`);
    return queries.map((query) => !(this.spec.denied ?? []).includes(`${query.verb} ${query.resource} ${query.namespace ?? ''}`));
  }
}
