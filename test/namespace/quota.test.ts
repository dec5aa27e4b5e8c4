// The quota of each shipped stack holds everything the stack puts in its namespace at its peak. The expected
// figures are worked out by hand from the stack files (Pulumi.<stack>.yaml and their defaults), so a change in
// what a stack runs, or in how the peak is counted, shows here as a figure to re-derive.
import { describe, expect, it } from 'vitest';
import { namespacePeak } from '../../lib';
import { readStackFile } from '../../stacks/stack-file';
import { synthesize } from '../../stacks/synthesize';

const ROOT = `${__dirname}/../..`;

function rendered(stack: string, overrides: Record<string, string> = {}) {
  const { platform, objects } = synthesize({ ...readStackFile(ROOT, stack), ...overrides }, stack);
  const manifests = objects.map((r) => r.manifest);
  const quota = manifests.find((m) => m.kind === 'ResourceQuota') as unknown as { spec: { hard: Record<string, string | number> } };
  return { platform, manifests, hard: quota.spec.hard };
}

describe('the namespace quota of the shipped stacks', () => {
  it('staging holds its app, database, cache and gate at their peak, plus 5 spare pods', () => {
    const { manifests, hard } = rendered('staging');
    // Pods: web-blue and web-green at HPA max 4 + 1 surge (10), 1 PostgreSQL instance, 2 Redis, 3 sentinels, 1 gate = 17.
    // CPU requests: 10 × 50m + 1 × (500m postgres + 100m Barman sidecar at the LimitRange default) + 2 × (100m + 10m
    // exporter) + 3 × 50m + 50m = 1520m. Spare: 5 × the LimitRange default (100m, 500m, 256Mi, 512Mi).
    expect(namespacePeak(manifests).pods).toBe(17);
    expect(hard).toEqual({ pods: 22, 'requests.cpu': '2020m', 'limits.cpu': '7600m', 'requests.memory': '4640Mi', 'limits.memory': '9280Mi' });
  });

  it('prod holds both colors at maxReplicas 10 with surge, 3 PostgreSQL instances, the pooler with surge, Redis and sentinels', () => {
    const { manifests, hard } = rendered('prod');
    // Pods: 2 × (10 + 3) + 3 PostgreSQL + (2 + 1) PgBouncer + 3 Redis + 3 sentinels + 1 gate = 39.
    // CPU requests: 26 × 100m + 3 × 600m + 3 × 100m + 3 × 110m + 3 × 50m + 50m = 5230m.
    // Memory requests: 26 × 256Mi + 3 × 1280Mi + 3 × 256Mi (PgBouncer's init container at the LimitRange default)
    // + 3 × 288Mi + 3 × 64Mi + 32Mi = 12352Mi.
    expect(namespacePeak(manifests).pods).toBe(39);
    expect(hard).toEqual({ pods: 44, 'requests.cpu': '5730m', 'limits.cpu': '22900m', 'requests.memory': '13632Mi', 'limits.memory': '27264Mi' });
  });

  it('grows with what the config adds: more replicas, an expand migration', () => {
    const base = rendered('prod').hard;
    // 12 + 3 surge instead of 10 + 3, per color.
    expect(rendered('prod', { 'cutover:maxReplicas': '12' }).hard.pods).toBe((base.pods as number) + 2 * 2);
    const expand = rendered('prod', {
      'cutover:migrations': JSON.stringify({ expand: { image: 'registry.example.com/acme/web-migrate:1.0.0', command: ['migrate', 'up'] } }),
    });
    expect(expand.hard.pods).toBe((base.pods as number) + 1);
  });

  it('keeps room for a retired color: idleReplicas 0 leaves the quota as it was, so scaling it back up never waits on it', () => {
    const retired = rendered('prod', { 'cutover:idleReplicas': '0' });
    expect(retired.manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'web-green')?.metadata).toMatchObject({
      annotations: { 'cutover.dev/peak-replicas': '10' },
    });
    expect(retired.hard).toEqual(rendered('prod').hard);
  });

  it('no pod of either stack asks more than the LimitRange lets one container have (4 CPUs, 8Gi)', () => {
    for (const stack of ['staging', 'prod']) {
      const { manifests } = rendered(stack);
      const peak = namespacePeak(manifests);
      for (const workload of peak.workloads) {
        expect(workload.perPod.cpuRequest, workload.source).toBeLessThanOrEqual(4000);
        expect(workload.perPod.memoryRequest, workload.source).toBeLessThanOrEqual(8 * 2 ** 30);
      }
    }
  });
});
