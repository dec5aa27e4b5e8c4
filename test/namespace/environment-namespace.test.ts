import { ApiObject, App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { EnvironmentNamespace, NamespaceQuota, renderChart } from '../../lib';

function render(props: ConstructorParameters<typeof EnvironmentNamespace>[2]) {
  const chart = new Chart(new App(), 'test', { namespace: props.name });
  new EnvironmentNamespace(chart, 'ns', props);
  return renderChart(chart).map((r) => r.manifest as Record<string, any>);
}

describe('EnvironmentNamespace', () => {
  it('enforces, audits and warns on PSS restricted at a pinned version', () => {
    const [namespace] = render({ name: 'web-prod' });
    expect(namespace.kind).toBe('Namespace');
    expect(namespace.metadata.namespace).toBeUndefined();
    expect(namespace.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.30',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.30',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.30',
    });
  });

  it('sets a ResourceQuota and container defaults in a LimitRange', () => {
    const objects = render({ name: 'web-prod', quota: { pods: 30, cpuRequests: '3', cpuLimits: '15', memoryRequests: '8Gi', memoryLimits: '16Gi' } });
    const quota = objects.find((o) => o.kind === 'ResourceQuota');
    expect(quota?.spec.hard).toEqual({ pods: 30, 'requests.cpu': '3', 'limits.cpu': '15', 'requests.memory': '8Gi', 'limits.memory': '16Gi' });
    const limits = objects.find((o) => o.kind === 'LimitRange');
    expect(limits?.spec.limits[0]).toMatchObject({
      type: 'Container',
      defaultRequest: { cpu: '100m', memory: '256Mi' },
      default: { cpu: '500m', memory: '512Mi' },
    });
  });

  it('refuses a namespace name that is not a DNS label', () => {
    expect(() => render({ name: 'Web_Prod' })).toThrow(
      'namespace: must be a lowercase DNS label of at most 63 characters, got "Web_Prod"; e.g. "web-prod"',
    );
  });

  it('refuses a Pod Security version that is not a minor version', () => {
    expect(() => render({ name: 'web', podSecurityVersion: 'latest' })).toThrow(
      'podSecurityVersion: must be a Kubernetes minor version, got "latest"; e.g. "v1.30"',
    );
  });

  describe('fitQuota', () => {
    /** A namespace with one Deployment of `replicas` pods (100m/500m CPU, 256Mi/512Mi memory) and, optionally, an explicit quota. */
    function withWorkload(replicas: number, quota?: NamespaceQuota, sparePods?: number) {
      const chart = new Chart(new App(), 'test', { namespace: 'web' });
      const namespace = new EnvironmentNamespace(chart, 'ns', { name: 'web', quota, sparePods });
      new ApiObject(chart, 'app', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'app' },
        spec: {
          replicas,
          template: {
            spec: {
              containers: [{ name: 'app', resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } } }],
            },
          },
        },
      });
      return { chart, namespace, hard: () => renderChart(chart).find((r) => r.manifest.kind === 'ResourceQuota')?.manifest as Record<string, any> };
    }

    it("sizes the quota to the peak of the chart's workloads plus the spare pods at the LimitRange defaults", () => {
      const { namespace, hard } = withWorkload(4);
      const peak = namespace.fitQuota();
      // 4 replicas + 1 surge = 5 pods; 5 spare pods at 100m/500m, 256Mi/512Mi.
      expect(peak.pods).toBe(5);
      expect(hard().spec.hard).toEqual({
        pods: 10,
        'requests.cpu': '1000m',
        'limits.cpu': '5000m',
        'requests.memory': '2560Mi',
        'limits.memory': '5120Mi',
      });
      expect(renderChart(namespace.node.scope as Chart).filter((r) => r.manifest.kind === 'ResourceQuota')).toHaveLength(1);
    });

    it('counts no spare room with sparePods: 0, and refuses a negative or fractional count', () => {
      const { namespace, hard } = withWorkload(4, undefined, 0);
      namespace.fitQuota();
      expect(hard().spec.hard).toEqual({
        pods: 5,
        'requests.cpu': '500m',
        'limits.cpu': '2500m',
        'requests.memory': '1280Mi',
        'limits.memory': '2560Mi',
      });
      expect(() => withWorkload(1, undefined, -1)).toThrow('sparePods: must be a whole number of pods, 0 or more, got -1; e.g. 5');
      expect(() => withWorkload(1, undefined, 1.5)).toThrow('got 1.5');
    });

    it('checks an explicit quota instead, and leaves it as given when it holds the peak', () => {
      const quota = { pods: 10, cpuRequests: '1', cpuLimits: '5', memoryRequests: '2560Mi', memoryLimits: '5Gi' };
      const { namespace, hard } = withWorkload(4, quota);
      expect(namespace.fitQuota().pods).toBe(5);
      expect(hard().spec.hard).toEqual({ pods: 10, 'requests.cpu': '1', 'limits.cpu': '5', 'requests.memory': '2560Mi', 'limits.memory': '5Gi' });
    });

    it('refuses an explicit quota that cannot hold the peak, naming each field short and the figure it needs', () => {
      const { namespace } = withWorkload(8, { pods: 12, cpuRequests: '1', cpuLimits: '16', memoryRequests: '8Gi', memoryLimits: '16Gi' });
      // 8 + 2 surge = 10 pods, + 5 spare = 15 pods; CPU requests 15 × 100m = 1500m.
      expect(() => namespace.fitQuota()).toThrow(
        'quota: does not hold the namespace at its peak (10 pods: 10 of Deployment/app, plus 5 spare pods), got pods 12 < 15, requests.cpu 1000m < ' +
          '1500m; ' +
          "raise quota.pods to at least 15, quota.cpuRequests to at least 1500m, or lower maxReplicas or the pods' resources",
      );
    });
  });
});
