import { describe, expect, it } from 'vitest';
import { Manifest, bytes, containerResources, millicores, namespacePeak, podResources, quantity } from '../../lib';

const Mi = 2 ** 20;
const Gi = 2 ** 30;

/** A container with requests and limits, `cpu` in millicores and memory in MiB. */
function box(name: string, cpuRequest: number, cpuLimit: number, memoryRequest: number, memoryLimit: number, restartPolicy?: string) {
  return {
    name,
    ...(restartPolicy !== undefined ? { restartPolicy } : {}),
    resources: { requests: { cpu: `${cpuRequest}m`, memory: `${memoryRequest}Mi` }, limits: { cpu: `${cpuLimit}m`, memory: `${memoryLimit}Mi` } },
  };
}

const LIMIT_RANGE: Manifest = {
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name: 'container-defaults' },
  spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '256Mi' }, default: { cpu: '500m', memory: '512Mi' } }] },
};

function deployment(name: string, extra: Record<string, unknown> = {}): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { template: { spec: { containers: [box('app', 100, 500, 256, 512)] } }, ...extra },
  };
}

function hpa(target: string, maxReplicas: number): Manifest {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: target },
    spec: { minReplicas: 3, maxReplicas, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target } },
  };
}

describe('quantities', () => {
  it('reads CPU as millicores and memory as bytes, in every unit the API server writes', () => {
    expect([millicores('250m'), millicores('1'), millicores('1.5'), millicores(2), millicores('0.0001')]).toEqual([250, 1000, 1500, 2000, 1]);
    expect([bytes('512Mi'), bytes('2Gi'), bytes('500M'), bytes('1k'), bytes(1024)]).toEqual([512 * Mi, 2 * Gi, 500e6, 1000, 1024]);
    expect(quantity('1Ti')).toBe(2 ** 40);
  });

  it('refuses what is not a quantity, saying what one looks like', () => {
    expect(() => quantity('two')).toThrow('not a Kubernetes quantity, got "two"; e.g. "250m", "1", "512Mi" or "2Gi"');
    expect(() => quantity('1 Gi')).toThrow('got "1 Gi"');
  });
});

describe('one pod, as the quota counts it', () => {
  const defaults = { defaultRequest: { cpu: 100, memory: 256 * Mi }, defaultLimit: { cpu: 500, memory: 512 * Mi } };

  it('a container without resources gets the LimitRange defaults; a limit without a request is the request', () => {
    expect(containerResources({ name: 'bare' }, defaults)).toEqual({
      cpuRequest: 100,
      cpuLimit: 500,
      memoryRequest: 256 * Mi,
      memoryLimit: 512 * Mi,
    });
    expect(containerResources({ name: 'limited', resources: { limits: { cpu: '200m', memory: '64Mi' } } }, defaults)).toEqual({
      cpuRequest: 200,
      cpuLimit: 200,
      memoryRequest: 64 * Mi,
      memoryLimit: 64 * Mi,
    });
  });

  it('sums the containers and native sidecars, or takes the largest init container (plus the sidecars before it) if that is more', () => {
    // containers 100m + sidecar 50m = 150m; the init container alone asks 300m of CPU, but less memory.
    const pod = podResources({
      containers: [box('app', 100, 500, 256, 512)],
      initContainers: [box('sidecar', 50, 100, 64, 128, 'Always'), box('migrate', 250, 1000, 32, 64)],
    });
    expect(pod).toEqual({ cpuRequest: 300, cpuLimit: 1100, memoryRequest: 320 * Mi, memoryLimit: 640 * Mi });
  });
});

describe('namespacePeak', () => {
  it('counts a Deployment at its HPA maximum plus the rollout surge (25% rounded up by default)', () => {
    const peak = namespacePeak([LIMIT_RANGE, deployment('web-blue'), hpa('web-blue', 10)]);
    expect(peak.workloads).toMatchObject([
      {
        source: 'Deployment/web-blue',
        pods: 13,
        perPod: { cpuRequest: 100, cpuLimit: 500, memoryRequest: 256 * Mi, memoryLimit: 512 * Mi },
        why: 'HPA maxReplicas 10 + maxSurge 3',
      },
    ]);
    expect(peak).toMatchObject({ pods: 13, total: { cpuRequest: 1300, cpuLimit: 6500, memoryRequest: 13 * 256 * Mi, memoryLimit: 13 * 512 * Mi } });
  });

  it('reads replicas without an HPA, a maxSurge given as a count or a percentage, none with Recreate, and skips a Deployment scaled to 0', () => {
    const peak = namespacePeak([
      deployment('fixed', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2 } } }),
      deployment('half', { replicas: 3, strategy: { rollingUpdate: { maxSurge: '50%' } } }),
      deployment('recreate', { replicas: 2, strategy: { type: 'Recreate' } }),
      deployment('retired', { replicas: 0 }),
    ]);
    expect(peak.workloads.map((w) => [w.source, w.pods])).toEqual([
      ['Deployment/fixed', 6],
      ['Deployment/half', 5],
      ['Deployment/recreate', 2],
    ]);
  });

  it('counts a Deployment scaled to 0 at the size its cutover.dev/peak-replicas annotation says it returns to', () => {
    const retired = {
      ...deployment('web-green', { replicas: 0 }),
      metadata: { name: 'web-green', annotations: { 'cutover.dev/peak-replicas': '10' } },
    } as Manifest;
    expect(namespacePeak([retired]).workloads).toMatchObject([
      { source: 'Deployment/web-green', pods: 13, why: 'cutover.dev/peak-replicas 10 + maxSurge 3' },
    ]);
  });

  it('counts every Job at its parallelism and a StatefulSet at its replicas', () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'gate' },
      spec: { template: { spec: { containers: [box('smoke', 50, 200, 32, 64)] } } },
    } as Manifest;
    const parallel = { ...job, metadata: { name: 'batch' }, spec: { ...(job as any).spec, parallelism: 3 } } as Manifest;
    const set = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: { replicas: 2, template: { spec: { containers: [box('db', 500, 1000, 1024, 2048)] } } },
    } as Manifest;
    expect(namespacePeak([job, parallel, set]).workloads.map((w) => [w.source, w.pods, w.perPod.cpuRequest])).toEqual([
      ['Job/gate', 1, 50],
      ['Job/batch', 3, 50],
      ['StatefulSet/db', 2, 500],
    ]);
  });

  it('counts a CloudNativePG Cluster: instances × (postgres + the Barman Cloud sidecar, LimitRange defaults when its ObjectStore sets none)', () => {
    const cluster = {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: 'web-db' },
      spec: {
        instances: 3,
        resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1000m', memory: '2Gi' } },
        plugins: [{ name: 'barman-cloud.cloudnative-pg.io', isWALArchiver: true, parameters: { barmanObjectName: 'web-db-backups' } }],
      },
    } as Manifest;
    const store = { apiVersion: 'barmancloud.cnpg.io/v1', kind: 'ObjectStore', metadata: { name: 'web-db-backups' }, spec: {} } as Manifest;
    expect(namespacePeak([LIMIT_RANGE, cluster, store]).workloads).toMatchObject([
      {
        source: 'Cluster/web-db',
        pods: 3,
        // 500m + 100m, 1000m + 500m, 1Gi + 256Mi, 2Gi + 512Mi
        perPod: { cpuRequest: 600, cpuLimit: 1500, memoryRequest: Gi + 256 * Mi, memoryLimit: 2 * Gi + 512 * Mi },
        why: 'instances 3, with the Barman Cloud sidecar',
      },
    ]);
    // The ObjectStore's own sidecar resources, when it sets them.
    const sized = {
      ...store,
      spec: { instanceSidecarConfiguration: { resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } } } },
    } as Manifest;
    expect(namespacePeak([LIMIT_RANGE, cluster, sized]).workloads[0].perPod).toEqual({
      cpuRequest: 550,
      cpuLimit: 1200,
      memoryRequest: Gi + 64 * Mi,
      memoryLimit: 2 * Gi + 128 * Mi,
    });
    // Without a WAL archiver, only postgres (its init container asks the same).
    const plain = { ...cluster, spec: { ...(cluster as any).spec, plugins: [] } } as Manifest;
    expect(namespacePeak([LIMIT_RANGE, plain]).workloads[0].perPod).toEqual({
      cpuRequest: 500,
      cpuLimit: 1000,
      memoryRequest: Gi,
      memoryLimit: 2 * Gi,
    });
  });

  it('counts a Pooler with its rollout surge; its init container gets LimitRange defaults, which weigh more than PgBouncer in memory', () => {
    const pooler = {
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Pooler',
      metadata: { name: 'web-db-pooler-rw' },
      spec: { instances: 2, template: { spec: { containers: [box('pgbouncer', 100, 500, 64, 256)] } } },
    } as Manifest;
    expect(namespacePeak([LIMIT_RANGE, pooler]).workloads).toMatchObject([
      {
        source: 'Pooler/web-db-pooler-rw',
        pods: 3,
        perPod: { cpuRequest: 100, cpuLimit: 500, memoryRequest: 256 * Mi, memoryLimit: 512 * Mi },
        why: 'instances 2 + maxSurge 1',
      },
    ]);
  });

  it('counts Redis: clusterSize × (server + exporter when enabled); sentinels default to 3', () => {
    const replication = {
      apiVersion: 'redis.redis.opstreelabs.in/v1beta2',
      kind: 'RedisReplication',
      metadata: { name: 'cache' },
      spec: {
        clusterSize: 3,
        kubernetesConfig: { resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '200m', memory: '512Mi' } } },
        redisExporter: { enabled: true, resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } } },
      },
    } as Manifest;
    const sentinel = {
      apiVersion: 'redis.redis.opstreelabs.in/v1beta2',
      kind: 'RedisSentinel',
      metadata: { name: 'cache' },
      spec: { kubernetesConfig: { resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } } } },
    } as Manifest;
    expect(namespacePeak([replication, sentinel]).workloads.map((w) => [w.source, w.pods, w.perPod])).toEqual([
      ['RedisReplication/cache', 3, { cpuRequest: 110, cpuLimit: 300, memoryRequest: 288 * Mi, memoryLimit: 576 * Mi }],
      ['RedisSentinel/cache', 3, { cpuRequest: 50, cpuLimit: 100, memoryRequest: 64 * Mi, memoryLimit: 128 * Mi }],
    ]);
  });

  it('ignores objects that run no pods and custom resources of other groups with the same kind', () => {
    const other = { apiVersion: 'example.com/v1', kind: 'Cluster', metadata: { name: 'x' }, spec: { instances: 9 } } as Manifest;
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} } as Manifest;
    expect(namespacePeak([other, service])).toEqual({
      pods: 0,
      total: { cpuRequest: 0, cpuLimit: 0, memoryRequest: 0, memoryLimit: 0 },
      workloads: [],
    });
  });
});
