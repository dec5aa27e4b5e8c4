import { Chart, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { isDnsLabel } from './validation';
import { KubeLimitRange, KubeNamespace, KubeResourceQuota, Quantity } from 'cdk8s-plus-28/lib/imports/k8s';

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
   * A ResourceQuota for the namespace.
   * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
   * @default - the defaults of {@link NamespaceQuota}
   */
  readonly quota?: NamespaceQuota;

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

    const namespace = new KubeNamespace(this, 'namespace', {
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

    new KubeResourceQuota(this, 'quota', {
      metadata: { name: 'compute', namespace: this.name },
      spec: {
        hard: {
          pods: Quantity.fromNumber(quota.pods ?? 50),
          'requests.cpu': Quantity.fromString(quota.cpuRequests ?? '4'),
          'limits.cpu': Quantity.fromString(quota.cpuLimits ?? '16'),
          'requests.memory': Quantity.fromString(quota.memoryRequests ?? '8Gi'),
          'limits.memory': Quantity.fromString(quota.memoryLimits ?? '16Gi'),
        },
      },
    });

    new KubeLimitRange(this, 'limits', {
      metadata: { name: 'container-defaults', namespace: this.name },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: { cpu: Quantity.fromString('100m'), memory: Quantity.fromString('256Mi') },
            default: { cpu: Quantity.fromString('500m'), memory: Quantity.fromString('512Mi') },
            max: { cpu: Quantity.fromString('4'), memory: Quantity.fromString('8Gi') },
          },
        ],
      },
    });
  }
}
