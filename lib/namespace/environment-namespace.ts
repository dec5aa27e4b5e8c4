import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { Manifest } from '../core/render';
import { isDnsLabel } from '../core/validation';
import { k8s } from 'cdk8s-plus-28';
import { NamespacePeak, PodResources, bytes, millicores, namespacePeak } from './namespace-peak';

/** Totals the namespace may hold. */
export interface NamespaceQuota {
  /** @default 50 */
  readonly pods?: number;
  /** Sum of CPU requests, e.g. `'4'` or `'2500m'`. @default '4' */
  readonly cpuRequests?: string;
  /** Sum of CPU limits. @default '16' */
  readonly cpuLimits?: string;
  /** Sum of memory requests. @default '8Gi' */
  readonly memoryRequests?: string;
  /** Sum of memory limits. @default '16Gi' */
  readonly memoryLimits?: string;
}

/** Props of {@link EnvironmentNamespace}. */
export interface EnvironmentNamespaceProps {
  /** The namespace name, a DNS label. */
  readonly name: string;

  /**
   * Pod Security Standards version the enforce, audit and warn labels are pinned to, so a cluster upgrade
   * never tightens or loosens admission on its own.
   * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/
   * @default 'v1.30'
   */
  readonly podSecurityVersion?: string;

  /**
   * A ResourceQuota for the namespace. {@link EnvironmentNamespace.fitQuota} checks that it holds the namespace's peak.
   * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
   * @default - the defaults of {@link NamespaceQuota}, until {@link EnvironmentNamespace.fitQuota} sizes it to the peak
   */
  readonly quota?: NamespaceQuota;

  /**
   * Pods of room beyond the peak for one-off work (a debugging pod, a Job run by hand), each counted at the
   * LimitRange's defaults, when {@link EnvironmentNamespace.fitQuota} sizes the quota.
   * @default 5
   */
  readonly sparePods?: number;

  /** Extra labels on the namespace. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The namespace of one environment: Pod Security admission `restricted` (enforce, audit and warn),
 * a ResourceQuota, and a LimitRange that gives containers without requests sane ones.
 */
export class EnvironmentNamespace extends Construct {
  public readonly name: string;
  public readonly podSecurityVersion: string;
  /** The rendered ResourceQuota `compute` (a new object once {@link fitQuota} has sized it). */
  public get quota(): ApiObject {
    return this.quotaObject;
  }
  /** The rendered LimitRange `container-defaults`. */
  public readonly limitRange: ApiObject;

  private quotaObject: ApiObject;
  private readonly explicitQuota?: NamespaceQuota;
  /** The quota as rendered before {@link fitQuota}: the explicit one with its defaults filled in. */
  private readonly hard: Required<NamespaceQuota>;
  private readonly sparePods: number;

  public constructor(scope: Construct, id: string, props: EnvironmentNamespaceProps) {
    super(scope, id);
    if (!isDnsLabel(props.name)) {
      throw new Error(`namespace: must be a lowercase DNS label of at most 63 characters, got "${props.name}"; e.g. "web-prod"`);
    }
    this.name = props.name;
    this.podSecurityVersion = props.podSecurityVersion ?? 'v1.30';
    if (!/^v1\.\d+$/.test(this.podSecurityVersion)) {
      throw new Error(`podSecurityVersion: must be a Kubernetes minor version, got "${this.podSecurityVersion}"; e.g. "v1.30"`);
    }
    const quota = props.quota ?? {};
    this.explicitQuota = props.quota;
    this.sparePods = props.sparePods ?? 5;
    if (!Number.isInteger(this.sparePods) || this.sparePods < 0) {
      throw new Error(`sparePods: must be a whole number of pods, 0 or more, got ${this.sparePods}; e.g. 5`);
    }

    const namespace = new k8s.KubeNamespace(this, 'namespace', {
      metadata: {
        name: this.name,
        labels: {
          ...props.labels,
          'app.kubernetes.io/managed-by': 'cutover',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': this.podSecurityVersion,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': this.podSecurityVersion,
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': this.podSecurityVersion,
        },
      },
    });

    // A Namespace is cluster-scoped; drop the namespace a namespaced chart stamps on every object.
    if (Chart.of(this).namespace !== undefined) {
      namespace.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }

    this.hard = withQuotaDefaults(quota);
    this.quotaObject = this.renderQuota(this.hard);

    this.limitRange = new k8s.KubeLimitRange(this, 'limits', {
      metadata: { name: 'container-defaults', namespace: this.name },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: {
              cpu: k8s.Quantity.fromString(CONTAINER_DEFAULTS.defaultRequest.cpu),
              memory: k8s.Quantity.fromString(CONTAINER_DEFAULTS.defaultRequest.memory),
            },
            default: {
              cpu: k8s.Quantity.fromString(CONTAINER_DEFAULTS.default.cpu),
              memory: k8s.Quantity.fromString(CONTAINER_DEFAULTS.default.memory),
            },
            max: { cpu: k8s.Quantity.fromString('4'), memory: k8s.Quantity.fromString('8Gi') },
          },
        ],
      },
    });
  }

  /**
   * Sizes the quota to the namespace's peak: every workload rendered in this chart at the most pods it can run at once
   * ({@link namespacePeak}: both colors at `maxReplicas` plus their rollout surge, every Job, the database, pooler and
   * cache pods with the sidecars their operators add), plus `sparePods` at the LimitRange's defaults. With an explicit
   * `quota` it checks instead that the quota holds that peak, and throws naming what does not fit.
   * Call it once every workload of the chart exists. Returns the peak (without the spare pods).
   */
  public fitQuota(): NamespacePeak {
    const own = new Set<ApiObject>([this.quotaObject]);
    const manifests = Chart.of(this)
      .node.findAll()
      .filter((node): node is ApiObject => ApiObject.isApiObject(node))
      .filter((object) => !own.has(object))
      .map((object) => object.toJson() as Manifest);
    const peak = namespacePeak(manifests);
    const spare: PodResources = {
      cpuRequest: this.sparePods * millicores(CONTAINER_DEFAULTS.defaultRequest.cpu),
      cpuLimit: this.sparePods * millicores(CONTAINER_DEFAULTS.default.cpu),
      memoryRequest: this.sparePods * bytes(CONTAINER_DEFAULTS.defaultRequest.memory),
      memoryLimit: this.sparePods * bytes(CONTAINER_DEFAULTS.default.memory),
    };
    const needed = {
      pods: peak.pods + this.sparePods,
      cpuRequest: peak.total.cpuRequest + spare.cpuRequest,
      cpuLimit: peak.total.cpuLimit + spare.cpuLimit,
      memoryRequest: peak.total.memoryRequest + spare.memoryRequest,
      memoryLimit: peak.total.memoryLimit + spare.memoryLimit,
    };
    if (this.explicitQuota !== undefined) {
      const hard = this.hard;
      const short = [
        ['pods', 'pods', needed.pods, hard.pods, String],
        ['cpuRequests', 'requests.cpu', needed.cpuRequest, millicores(hard.cpuRequests), (v: number) => `${v}m`],
        ['cpuLimits', 'limits.cpu', needed.cpuLimit, millicores(hard.cpuLimits), (v: number) => `${v}m`],
        ['memoryRequests', 'requests.memory', needed.memoryRequest, bytes(hard.memoryRequests), mebibytes],
        ['memoryLimits', 'limits.memory', needed.memoryLimit, bytes(hard.memoryLimits), mebibytes],
      ].filter(([, , need, have]) => (need as number) > (have as number)) as [string, string, number, number, (v: number) => string][];
      if (short.length > 0) {
        throw new Error(
          `quota: does not hold the namespace at its peak (${describePeak(peak)}, plus ${this.sparePods} spare pods), got ` +
            short.map(([, field, need, have, format]) => `${field} ${format(have)} < ${format(need)}`).join(', ') +
            `; raise ${short.map(([key, , need, , format]) => `quota.${key} to at least ${format(need)}`).join(', ')}, ` +
            "or lower maxReplicas or the pods' resources",
        );
      }
      return peak;
    }
    this.node.tryRemoveChild('quota');
    this.quotaObject = this.renderQuota({
      pods: needed.pods,
      cpuRequests: `${needed.cpuRequest}m`,
      cpuLimits: `${needed.cpuLimit}m`,
      memoryRequests: mebibytes(needed.memoryRequest),
      memoryLimits: mebibytes(needed.memoryLimit),
    });
    return peak;
  }

  private renderQuota(quota: Required<NamespaceQuota>): ApiObject {
    return new k8s.KubeResourceQuota(this, 'quota', {
      metadata: { name: 'compute', namespace: this.name },
      spec: {
        hard: {
          pods: k8s.Quantity.fromNumber(quota.pods),
          'requests.cpu': k8s.Quantity.fromString(quota.cpuRequests),
          'limits.cpu': k8s.Quantity.fromString(quota.cpuLimits),
          'requests.memory': k8s.Quantity.fromString(quota.memoryRequests),
          'limits.memory': k8s.Quantity.fromString(quota.memoryLimits),
        },
      },
    });
  }
}

/** The LimitRange's container defaults, kept here so {@link EnvironmentNamespace.fitQuota} sizes spare pods without re-reading it. */
const CONTAINER_DEFAULTS = {
  defaultRequest: { cpu: '100m', memory: '256Mi' },
  default: { cpu: '500m', memory: '512Mi' },
} as const;

function withQuotaDefaults(quota: NamespaceQuota): Required<NamespaceQuota> {
  return {
    pods: quota.pods ?? 50,
    cpuRequests: quota.cpuRequests ?? '4',
    cpuLimits: quota.cpuLimits ?? '16',
    memoryRequests: quota.memoryRequests ?? '8Gi',
    memoryLimits: quota.memoryLimits ?? '16Gi',
  };
}

/** Bytes as whole mebibytes, rounded up. */
function mebibytes(value: number): string {
  return `${Math.ceil(value / 2 ** 20)}Mi`;
}

/** `3 pods of Deployment/web-blue, ...` in short. */
function describePeak(peak: NamespacePeak): string {
  return `${peak.pods} pods: ${peak.workloads.map((w) => `${w.pods} of ${w.source}`).join(', ')}`;
}
