import * as pulumi from '@pulumi/pulumi';
import { FakeCluster } from '../fake-cluster';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStackFile } from '../../stacks/stack-file';
import { Registration, recordRegistrations } from '../pulumi-mocks';

let registrations: Registration[] = [];

beforeAll(async () => {
  registrations = await recordRegistrations();
});

async function deploy(raw: Record<string, string>, stack: string) {
  registrations.length = 0;
  const { run } = await import('../../stacks/index');
  const { outputs, resources } = await run(raw, stack, { probe: new FakeCluster() });
  const urns = new Map<string, string>();
  for (const [key, resource] of resources) {
    urns.set(key, await new Promise<string>((resolve) => resource.urn.apply(resolve)));
  }
  return { outputs, urns, registered: [...registrations] };
}


/** The `-<templateId>` at the end of a template Service's name. */
const TEMPLATE_ID = /-[0-9a-f]{6}$/;
describe('Pulumi program under mocks', () => {
  it('registers every rendered object as its own typed resource with a stable name', async () => {
    const { registered } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    // A template Service's name ends in its pod template's id: stable for as long as the template is.
    expect(registered.map((r) => `${r.type}::${r.name}`.replace(TEMPLATE_ID, '-<template>')).sort()).toEqual([
      'kubernetes:apps/v1:Deployment::web-prod/web-blue',
      'kubernetes:apps/v1:Deployment::web-prod/web-green',
      'kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web-prod/web-blue',
      'kubernetes:autoscaling/v2:HorizontalPodAutoscaler::web-prod/web-green',
      'kubernetes:barmancloud.cnpg.io/v1:ObjectStore::web-prod/web-db-backups',
      'kubernetes:batch/v1:Job::web-prod/web-gate-blue',
      'kubernetes:core/v1:ConfigMap::web-prod/web-dashboard',
      'kubernetes:core/v1:ConfigMap::web-prod/web-settings',
      'kubernetes:core/v1:LimitRange::web-prod/container-defaults',
      'kubernetes:core/v1:Namespace::web-prod',
      'kubernetes:core/v1:ResourceQuota::web-prod/compute',
      'kubernetes:core/v1:Service::web-prod/web',
      'kubernetes:core/v1:Service::web-prod/web-blue',
      'kubernetes:core/v1:Service::web-prod/web-blue-<template>',
      'kubernetes:core/v1:Service::web-prod/web-green',
      'kubernetes:core/v1:Service::web-prod/web-green-<template>',
      'kubernetes:core/v1:Service::web-prod/web-preview',
      'kubernetes:core/v1:ServiceAccount::web-prod/web',
      'kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::web-prod/web',
      'kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::web-prod/web-https-redirect',
      'kubernetes:monitoring.coreos.com/v1:PodMonitor::web-prod/web-db',
      'kubernetes:monitoring.coreos.com/v1:PodMonitor::web-prod/web-db-pooler-rw',
      'kubernetes:monitoring.coreos.com/v1:PrometheusRule::web-prod/web-alerts',
      'kubernetes:monitoring.coreos.com/v1:PrometheusRule::web-prod/web-cache-alerts',
      'kubernetes:monitoring.coreos.com/v1:PrometheusRule::web-prod/web-db-alerts',
      'kubernetes:monitoring.coreos.com/v1:ServiceMonitor::web-prod/web',
      'kubernetes:monitoring.coreos.com/v1:ServiceMonitor::web-prod/web-cache',
      'kubernetes:monitoring.coreos.com/v1alpha1:AlertmanagerConfig::web-prod/web-alert-routing',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/allow-dns',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/default-deny',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/web',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/web-cache',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/web-cache-sentinel',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/web-db',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/web-db-pooler-rw',
      'kubernetes:networking.k8s.io/v1:NetworkPolicy::web-prod/web-gate',
      'kubernetes:policy/v1:PodDisruptionBudget::web-prod/web-blue',
      'kubernetes:policy/v1:PodDisruptionBudget::web-prod/web-db-pooler-rw',
      'kubernetes:policy/v1:PodDisruptionBudget::web-prod/web-green',
      'kubernetes:postgresql.cnpg.io/v1:Cluster::web-prod/web-db',
      'kubernetes:postgresql.cnpg.io/v1:Pooler::web-prod/web-db-pooler-rw',
      'kubernetes:postgresql.cnpg.io/v1:ScheduledBackup::web-prod/web-db-daily',
      'kubernetes:postgresql.cnpg.io/v1:ScheduledBackup::web-prod/web-db-weekly',
      'kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisReplication::web-prod/web-cache',
      'kubernetes:redis.redis.opstreelabs.in/v1beta2:RedisSentinel::web-prod/web-cache',
    ]);
  });

  it('makes the live Service and HTTPRoute wait for the active Deployment', async () => {
    for (const color of ['blue', 'green']) {
      const raw = { ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:activeColor': color };
      const { registered, urns } = await deploy(raw, 'prod');
      const active = urns.get(`apps/v1/Deployment/web-prod/web-${color}`) as string;
      const idle = urns.get(`apps/v1/Deployment/web-prod/web-${color === 'blue' ? 'green' : 'blue'}`) as string;
      const live = registered.find((r) => r.type === 'kubernetes:core/v1:Service' && r.name === 'web-prod/web');
      const route = registered.find((r) => r.type === 'kubernetes:gateway.networking.k8s.io/v1:HTTPRoute' && r.name === 'web-prod/web');
      expect(live?.dependencies).toContain(active);
      expect(live?.dependencies).not.toContain(idle);
      expect(route?.dependencies).toContain(active);
      expect(route?.dependencies).not.toContain(idle);
      expect(live?.inputs.spec.selector['cutover.dev/color']).toBe(color);
    }
  });

  it('makes every workload wait for the NetworkPolicies, so no pod runs before default deny', async () => {
    const { registered, urns } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    const defaultDeny = urns.get('networking.k8s.io/v1/NetworkPolicy/web-prod/default-deny') as string;
    expect(defaultDeny).toBeDefined();
    const workloads = registered.filter((r) => /:(Deployment|Job|Cluster|Pooler|RedisReplication|RedisSentinel)$/.test(r.type));
    expect(workloads).toHaveLength(7);
    for (const workload of workloads) {
      expect(workload.dependencies, workload.name).toContain(defaultDeny);
    }
  });

  it('makes every namespaced object wait for its Namespace', async () => {
    const { registered, urns } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    const namespace = urns.get('v1/Namespace//web-prod') as string;
    for (const registration of registered.filter((r) => r.type !== 'kubernetes:core/v1:Namespace')) {
      expect(registration.dependencies, registration.name).toContain(namespace);
    }
  });

  it('bounds every await with the configured timeout and skips it only on the app\'s ClusterIP Services', async () => {
    const raw = { ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:deployTimeoutSeconds': '90' };
    const { registered } = await deploy(raw, 'prod');
    for (const registration of registered) {
      expect(registration.customTimeouts, registration.name).toEqual({ create: '90s', update: '90s' });
    }
    const skipped = registered.filter((r) => r.inputs.metadata?.annotations?.['pulumi.com/skipAwait'] === 'true').map((r) => r.name);
    expect(skipped.map((name) => name.replace(TEMPLATE_ID, '-<template>')).sort()).toEqual([
      'web-prod/web',
      'web-prod/web-blue',
      'web-prod/web-blue-<template>',
      'web-prod/web-green',
      'web-prod/web-green-<template>',
      'web-prod/web-preview',
    ]);
    // Everything else keeps the provider's await: Deployments (rollout), Jobs (completion).
    expect(registered.filter((r) => r.type === 'kubernetes:core/v1:Service').map((r) => r.name).sort()).toEqual(skipped.sort());
  });

  it('takes ownership of every declared field, so pulumi up --refresh can undo a hand edit', async () => {
    const { registered } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    expect(registered.length).toBeGreaterThan(20);
    for (const registration of registered) {
      expect(registration.inputs.metadata?.annotations?.['pulumi.com/patchForce'], registration.name).toBe('true');
    }
  });

  it('exports which color is live, both images, the Services and the URL', async () => {
    const { outputs } = await deploy({ ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:activeColor': 'green' }, 'prod');
    const { gates, cutoverState, ...plain } = outputs;
    // Recorded for the next update once every routing object is done.
    expect(await new Promise((resolve) => cutoverState.apply(resolve))).toEqual({ activeColor: 'green', idle: null, contractMigration: null });
    // Under these mocks no Job reports a status: no gate has passed, so no output is read.
    expect(await new Promise((resolve) => gates.apply(resolve))).toEqual({ 'web-gate-green': 'not passed' });
    expect(plain).toEqual({
      activeColor: 'green',
      idleColor: 'blue',
      liveImage: 'registry.example.com/acme/web:1.5.0',
      idleImage: 'registry.example.com/acme/web:1.4.2',
      namespace: 'web-prod',
      liveService: 'web',
      previewService: 'web-preview',
      url: 'https://web.example.com/',
    });
  });

  it('registers nothing when the config is wrong, and says why without a stack trace', async () => {
    const raw = { ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:activeColor': 'purple' };
    await expect(deploy(raw, 'prod')).rejects.toThrow(pulumi.RunError);
    await expect(deploy(raw, 'prod')).rejects.toThrow('cutover:activeColor: must be blue or green, got "purple"');
    expect(registrations).toEqual([]);
  });

  it('registers nothing when a construct refuses its props', async () => {
    const raw = { ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:resources': '{"cpuRequest":"2","cpuLimit":"1"}' };
    await expect(deploy(raw, 'prod')).rejects.toThrow('stack "prod" has a config error (nothing was applied):\n  - cutover:resources.cpuRequest: exceeds resources.cpuLimit 1000m, got 2000m');
    expect(registrations).toEqual([]);
  });
});
