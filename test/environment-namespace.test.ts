import { App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { EnvironmentNamespace, renderChart } from '../lib';

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
    expect(limits?.spec.limits[0]).toMatchObject({ type: 'Container', defaultRequest: { cpu: '100m', memory: '256Mi' }, default: { cpu: '500m', memory: '512Mi' } });
  });

  it('refuses a namespace name that is not a DNS label', () => {
    expect(() => render({ name: 'Web_Prod' })).toThrow('namespace: must be a lowercase DNS label of at most 63 characters, got "Web_Prod"; e.g. "web-prod"');
  });

  it('refuses a Pod Security version that is not a minor version', () => {
    expect(() => render({ name: 'web', podSecurityVersion: 'latest' })).toThrow('podSecurityVersion: must be a Kubernetes minor version, got "latest"; e.g. "v1.30"');
  });
});
