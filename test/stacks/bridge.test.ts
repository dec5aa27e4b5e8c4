import * as pulumi from '@pulumi/pulumi';
import { FakeCluster } from '../fake-cluster';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStackFile } from '../../stacks/stack-file';
import { Registration, recordRegistrations } from '../pulumi-mocks';
import { ApiObject, App, Chart } from 'cdk8s';
import { Manifest } from '../../lib';
import { RegistrationPlan, ResourcePlan, registrationPlan, resourceOptions } from '../../stacks/bridge';

let registrations: Registration[] = [];

beforeAll(async () => {
  registrations = await recordRegistrations();
});

async function deploy(raw: Record<string, string>, stack: string) {
  registrations.length = 0;
  const { run } = await import('../../stacks/index');
  const { outputs, plan, resources } = await run(raw, stack, { probe: new FakeCluster() });
  // Let every registration reach the mocks.
  await Promise.all([...resources.values()].map((resource) => new Promise((resolve) => resource.urn.apply(resolve))));
  return { outputs, plan, registered: [...registrations] };
}

const planned = (plan: RegistrationPlan, key: string): ResourcePlan => {
  const found = plan.resources.find((entry) => entry.key === key);
  if (found === undefined) {
    throw new Error(`no planned resource ${key}`);
  }
  return found;
};

/** The `-<templateId>` at the end of a template Service's name. */
const TEMPLATE_ID = /-[0-9a-f]{6}$/;
describe('Pulumi program under mocks', () => {
  it('registers every rendered object as its own typed resource with a stable name', async () => {
    const { registered } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    // A template Service's name ends in its pod template's id: stable for as long as the template is.
    const objects = registered.filter((r) => r.type.startsWith('kubernetes:'));
    expect(objects.map((r) => `${r.type}::${r.name}`.replace(TEMPLATE_ID, '-<template>')).sort()).toEqual([
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
      const { registered, plan } = await deploy(raw, 'prod');
      const active = `apps/v1/Deployment/web-prod/web-${color}`;
      const idle = `apps/v1/Deployment/web-prod/web-${color === 'blue' ? 'green' : 'blue'}`;
      const live = planned(plan, 'v1/Service/web-prod/web');
      const route = planned(plan, 'gateway.networking.k8s.io/v1/HTTPRoute/web-prod/web');
      expect(live.dependsOn).toContain(active);
      expect(live.dependsOn).not.toContain(idle);
      expect(route.dependsOn).toContain(active);
      expect(route.dependsOn).not.toContain(idle);
      const registeredLive = registered.find((r) => r.type === 'kubernetes:core/v1:Service' && r.name === 'web-prod/web');
      expect(registeredLive?.inputs.spec.selector['cutover.dev/color']).toBe(color);
    }
  });

  it('makes every workload wait for the NetworkPolicies, so no pod runs before default deny', async () => {
    const { plan } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    const defaultDeny = planned(plan, 'networking.k8s.io/v1/NetworkPolicy/web-prod/default-deny').key;
    const workloads = plan.resources.filter((r) => /:(Deployment|Job|Cluster|Pooler|RedisReplication|RedisSentinel)$/.test(r.type));
    expect(workloads).toHaveLength(7);
    for (const workload of workloads) {
      expect(workload.dependsOn, workload.name).toContain(defaultDeny);
    }
  });

  it('makes every namespaced object wait for its Namespace', async () => {
    const { plan } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    const namespace = planned(plan, 'v1/Namespace//web-prod').key;
    const namespaced = plan.resources.filter((r) => r.type !== 'kubernetes:core/v1:Namespace');
    expect(namespaced).toHaveLength(44);
    for (const entry of namespaced) {
      expect(entry.dependsOn[0], entry.name).toBe(namespace);
    }
  });

  it("bounds every await with the configured timeout and skips it only on the app's ClusterIP Services", async () => {
    const raw = { ...readStackFile(`${__dirname}/../..`, 'prod'), 'cutover:deployTimeoutSeconds': '90' };
    const { registered, plan } = await deploy(raw, 'prod');
    const registry = new Map<string, pulumi.Resource>(
      [...plan.components, ...plan.resources].map((entry) => [entry.key, new pulumi.ComponentResource('test:index:Stand-in', entry.key)]),
    );
    for (const entry of plan.resources) {
      // The stack's deployTimeoutSeconds (90) reaches every planned resource, and the options pass it to Pulumi.
      expect(entry.customTimeouts, entry.name).toEqual({ create: '90s', update: '90s' });
      expect(resourceOptions(entry, registry, {}).customTimeouts, entry.name).toEqual({ create: '90s', update: '90s' });
    }
    expect(plan.resources.map((entry) => entry.type)).toContain('kubernetes:apps/v1:Deployment');
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
    expect(
      registered
        .filter((r) => r.type === 'kubernetes:core/v1:Service')
        .map((r) => r.name)
        .sort(),
    ).toEqual(skipped.sort());
  });

  it('takes ownership of every declared field, so pulumi up --refresh can undo a hand edit', async () => {
    const { registered } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    const objects = registered.filter((r) => r.type.startsWith('kubernetes:'));
    expect(objects).toHaveLength(45);
    for (const registration of objects) {
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
    await expect(deploy(raw, 'prod')).rejects.toThrow(
      'stack "prod" has a config error (nothing was applied):\n  - cutover:resources.cpuRequest: exceeds resources.cpuLimit 1000m, got 2000m',
    );
    expect(registrations).toEqual([]);
  });

  it('groups the objects under a component per top-level construct, all under the Platform, for a readable preview', async () => {
    const { plan, registered } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    expect(plan.components.map((c) => `${c.type}::${c.name} < ${c.parent ?? 'stack'}`)).toEqual([
      'cutover:index:Platform::web-prod < stack',
      'cutover:index:EnvironmentNamespace::namespace < cutover:index:Platform::web-prod',
      'cutover:index:PostgresHA::postgres < cutover:index:Platform::web-prod',
      'cutover:index:NetworkPolicySet::network < cutover:index:Platform::web-prod',
      'cutover:index:RedisCluster::redis < cutover:index:Platform::web-prod',
      'cutover:index:BlueGreenApp::app < cutover:index:Platform::web-prod',
      'cutover:index:CutoverGate::gate < cutover:index:Platform::web-prod',
      'cutover:index:MonitoringStack::monitoring < cutover:index:Platform::web-prod',
      'cutover:index:AlertRouting::alert-routing < cutover:index:Platform::web-prod',
    ]);
    const parentOf = (key: string): string => planned(plan, key).parent;
    expect(parentOf('apps/v1/Deployment/web-prod/web-blue')).toBe('cutover:index:BlueGreenApp::app');
    expect(parentOf('v1/Service/web-prod/web')).toBe('cutover:index:BlueGreenApp::app');
    expect(parentOf('batch/v1/Job/web-prod/web-gate-blue')).toBe('cutover:index:CutoverGate::gate');
    expect(parentOf('postgresql.cnpg.io/v1/Cluster/web-prod/web-db')).toBe('cutover:index:PostgresHA::postgres');
    expect(parentOf('v1/Namespace//web-prod')).toBe('cutover:index:EnvironmentNamespace::namespace');
    // The components are registered too, each once.
    expect(registered.filter((r) => r.type.startsWith('cutover:')).map((r) => `${r.type}::${r.name}`)).toEqual(plan.components.map((c) => c.key));
  });

  it('gives every object the URN of the flat layout as an alias, so a deployed stack updates in place', async () => {
    const { plan } = await deploy(readStackFile(`${__dirname}/../..`, 'prod'), 'prod');
    const registry = new Map<string, pulumi.Resource>(
      [...plan.components, ...plan.resources].map((entry) => [entry.key, new pulumi.ComponentResource('test:index:Stand-in', entry.key)]),
    );
    for (const entry of plan.resources) {
      const options = resourceOptions(entry, registry, {});
      expect(options.aliases, entry.name).toEqual([{ parent: pulumi.rootStackResource }]);
      expect(options.parent, entry.name).toBe(registry.get(entry.parent));
    }
  });

  it('refuses an object that must wait for one rendered after it', () => {
    const app = new App();
    const chart = new Chart(app, 'test');
    const first = new ApiObject(chart, 'first', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first', namespace: 'ns' } });
    const second = new ApiObject(chart, 'second', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'second', namespace: 'ns' } });
    first.node.addDependency(second);
    const objects = [
      { object: first, manifest: first.toJson() as Manifest },
      { object: second, manifest: second.toJson() as Manifest },
    ];
    expect(() => registrationPlan(objects, { platform: 'ns' })).toThrow(
      'bridge: v1/ConfigMap/ns/first must wait for ConfigMap "second", which is not rendered before it',
    );
    expect(registrationPlan([...objects].reverse(), { platform: 'ns' }).resources.map((r) => [r.key, r.parent, r.dependsOn])).toEqual([
      ['v1/ConfigMap/ns/second', 'cutover:index:Platform::ns', []],
      ['v1/ConfigMap/ns/first', 'cutover:index:Platform::ns', ['v1/ConfigMap/ns/second']],
    ]);
  });

  it("leaves the provider's own timeouts unless the plan is given some", () => {
    const chart = new Chart(new App(), 'test');
    const map = new ApiObject(chart, 'map', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'map', namespace: 'ns' } });
    const objects = [{ object: map, manifest: map.toJson() as Manifest }];
    const [untimed] = registrationPlan(objects, { platform: 'ns' }).resources;
    expect(untimed.customTimeouts).toBeUndefined();
    const [timed] = registrationPlan(objects, { platform: 'ns', timeoutSeconds: 45 }).resources;
    expect(timed.customTimeouts).toEqual({ create: '45s', update: '45s' });
  });
});
