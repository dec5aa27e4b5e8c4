import { readFileSync } from 'node:fs';
import { FakeCluster } from '../fake-cluster';
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';
import { Registration, recordRegistrations } from '../pulumi-mocks';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Manifest } from '../../lib';
import { effectiveReplicas } from '../../policy/disruption-budgets';
import { floatingImageViolations, unpinnedDigestViolations } from '../../policy/images';
import { PolicyObject, describeObject } from '../../policy/kubernetes';
import { networkPolicyViolations } from '../../policy/network-policies';
import {
  POLICIES,
  disruptionBudgets,
  imagesPinnedByDigest,
  networkPolicies,
  noFloatingImages,
  noLiteralSecretData,
  noSkipAwaitInTrafficPath,
  podSecurityRestricted,
  requestsAndLimits,
} from '../../policy/policies';
import { looksSecret } from '../../policy/secrets';
import { selects } from '../../policy/selectors';
import { SKIP_AWAIT, trafficPath } from '../../policy/traffic-path';
import { workloadsOf } from '../../policy/workloads';
import { readStackFile } from '../../stacks/stack-file';
import { find, renderApp } from '../helpers';
import { synthesize } from '../../stacks/synthesize';

const ROOT = `${__dirname}/../..`;

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: objects as the policies see them, and calling a policy the way the engine does.
// ---------------------------------------------------------------------------------------------------------------

type Props = Record<string, any>;

/** A manifest as a policy sees it: the type token the bridge registers it with, and its properties. */
function objectOf(manifest: Manifest | Props): PolicyObject & { props: Props } {
  const apiVersion = manifest.apiVersion as string;
  const type = `kubernetes:${apiVersion === 'v1' ? 'core/v1' : apiVersion}:${manifest.kind as string}`;
  const { name, namespace } = manifest.metadata as { name: string; namespace?: string };
  return {
    type,
    props: structuredClone(manifest),
    urn: `urn:pulumi:test::cutover::${type}::${namespace !== undefined ? `${namespace}/` : ''}${name}`,
  };
}

/** The rendered BlueGreenApp (namespace web-test), with the preview Service annotated as the bridge does. */
function appObjects(overrides: Parameters<typeof renderApp>[0] = {}): (PolicyObject & { props: Props })[] {
  return renderApp(overrides).manifests.map((manifest) => {
    const object = objectOf(manifest);
    // As the bridge marks them (stacks/index.ts): every Service of the app.
    if (object.props.kind === 'Service') {
      object.props.metadata.annotations = { ...object.props.metadata.annotations, [SKIP_AWAIT]: 'true' };
    }
    return object;
  });
}

function byName(objects: readonly (PolicyObject & { props: Props })[], kind: string, name: string): PolicyObject & { props: Props } {
  const found = objects.find((object) => object.props.kind === kind && object.props.metadata.name === name);
  if (found === undefined) {
    throw new Error(`no ${kind} ${name}`);
  }
  return found;
}

/** The compliant Deployment BlueGreenApp renders. */
function deployment(): PolicyObject & { props: Props } {
  return objectOf(find(renderApp().manifests, 'Deployment', 'web-blue'));
}

/** The objects a stack renders (no Pulumi), e.g. for the data tier's custom resources. */
function stackObjects(stack: string, overrides: Record<string, string> = {}): (PolicyObject & { props: Props })[] {
  return synthesize({ ...readStackFile(ROOT, stack), ...overrides }, stack).objects.map((r) => objectOf(r.manifest));
}

const OPTIONS = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** Runs a resource policy on one object the way the engine's Analyze call does; returns what it reported. */
function check(policy: ResourceValidationPolicy, object: PolicyObject): string[] {
  const reported: string[] = [];
  const report: ReportViolation = (message) => reported.push(message);
  const args: ResourceValidationArgs = {
    type: object.type,
    props: object.props as Props,
    urn: object.urn ?? '',
    name: object.urn?.split('::').pop() ?? '',
    opts: OPTIONS,
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string) => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
  const validations =
    policy.validateResource === undefined ? [] : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
  for (const validate of validations) {
    void validate(args, report);
  }
  return reported;
}

/** Runs a stack policy over objects the way the engine's AnalyzeStack call does; returns `message @ urn`. */
function checkStack(policy: StackValidationPolicy, objects: readonly PolicyObject[]): { message: string; urn?: string }[] {
  const reported: { message: string; urn?: string }[] = [];
  const resources: PolicyResource[] = objects.map((object) => ({
    type: object.type,
    props: object.props,
    urn: object.urn ?? '',
    name: object.urn?.split('::').pop() ?? '',
    opts: OPTIONS,
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  const args: StackValidationArgs = {
    resources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string) => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
  void policy.validateStack(args, (message, urn) => reported.push({ message, urn }));
  return reported;
}

// ---------------------------------------------------------------------------------------------------------------
// The pack
// ---------------------------------------------------------------------------------------------------------------

describe('the policy pack', () => {
  it('has eight uniquely named policies, all mandatory except digest pinning', () => {
    const names = POLICIES.map((policy) => policy.name);
    expect(new Set(names).size).toBe(8);
    expect(
      POLICIES.filter((policy) => policy.enforcementLevel !== 'mandatory').map((policy) => `${policy.name}: ${policy.enforcementLevel}`),
    ).toEqual(['images-pinned-by-digest: advisory']);
  });

  it('is a Node.js pack with the version @pulumi/policy reads from its package.json', () => {
    expect((parse(readFileSync(`${ROOT}/policy/PulumiPolicy.yaml`, 'utf8')) as { runtime: string }).runtime).toBe('nodejs');
    expect((JSON.parse(readFileSync(`${ROOT}/policy/package.json`, 'utf8')) as { version: string }).version).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Resource policies: a compliant object, and one broken copy per rule
// ---------------------------------------------------------------------------------------------------------------

describe('pod-security-restricted', () => {
  it('passes the rendered Deployment', () => {
    expect(check(podSecurityRestricted, deployment())).toEqual([]);
  });

  it('reports a container that allows privilege escalation, naming the object, control and fix', () => {
    const object = deployment();
    object.props.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    expect(check(podSecurityRestricted, object)).toEqual([
      'Deployment web-test/web-blue spec.template: breaks Pod Security "restricted" (Privilege Escalation), got containers "app": ' +
        'allowPrivilegeEscalation must be false; ' +
        'set securityContext.allowPrivilegeEscalation: false on every container',
    ]);
  });

  const BREAKS: [string, (pod: Props) => void, string][] = [
    [
      'runAsNonRoot unset',
      (pod) => (delete pod.securityContext.runAsNonRoot, delete pod.containers[0].securityContext.runAsNonRoot),
      'Running as Non-root',
    ],
    ['seccomp Unconfined', (pod) => (pod.securityContext.seccompProfile = { type: 'Unconfined' }), 'Seccomp'],
    ['capabilities not dropped', (pod) => (pod.containers[0].securityContext.capabilities = {}), 'Capabilities'],
    ['a privileged container', (pod) => (pod.containers[0].securityContext.privileged = true), 'Privileged Containers'],
    ['hostNetwork', (pod) => (pod.hostNetwork = true), 'Host Namespaces'],
    ['a hostPath volume', (pod) => pod.volumes.push({ name: 'host', hostPath: { path: '/' } }), 'HostPath Volumes'],
    [
      'an init container without a security context',
      (pod) => (pod.initContainers = [{ name: 'migrate', image: 'registry.example.com/acme/migrate:1.0.0' }]),
      'Privilege Escalation',
    ],
  ];
  for (const [what, breakIt, control] of BREAKS) {
    it(`reports ${what} (${control})`, () => {
      const object = deployment();
      breakIt(object.props.spec.template.spec);
      expect(check(podSecurityRestricted, object).join('\n')).toContain(`(${control})`);
    });
  }

  it('checks the pod template of every workload kind', () => {
    const pod = structuredClone(deployment().props.spec.template);
    pod.spec.containers[0].securityContext.privileged = true;
    const objects = [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's', namespace: 'n' }, spec: { template: pod } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd', namespace: 'n' }, spec: { template: pod } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'n' }, spec: { template: pod } },
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'c', namespace: 'n' },
        spec: { schedule: '@daily', jobTemplate: { spec: { template: pod } } },
      },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: pod.spec },
    ];
    expect(objects.map((manifest) => check(podSecurityRestricted, objectOf(manifest)).length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('passes the data tier as both stacks render it, operator defaults included', () => {
    for (const object of [
      ...stackObjects('prod'),
      ...stackObjects('staging'),
      ...stackObjects('prod', { 'cutover:redis': JSON.stringify({ mode: 'cluster' }) }),
    ]) {
      expect(check(podSecurityRestricted, object), object.urn).toEqual([]);
    }
  });

  it('reports a CloudNativePG Cluster running postgres as root', () => {
    const cluster = byName(stackObjects('prod'), 'Cluster', 'web-db');
    cluster.props.spec.postgresUID = 0;
    expect(check(podSecurityRestricted, cluster).join('\n')).toContain(
      'Cluster web-prod/web-db spec: breaks Pod Security "restricted" (Running as Non-root user)',
    );
  });

  it('reports a Cluster whose container security context override allows privilege escalation', () => {
    const cluster = byName(stackObjects('prod'), 'Cluster', 'web-db');
    cluster.props.spec.securityContext = { runAsNonRoot: true, capabilities: { drop: ['ALL'] } };
    expect(check(podSecurityRestricted, cluster).join('\n')).toContain('(Privilege Escalation), got containers "postgres"');
  });

  it('reports a Pooler template container that allows privilege escalation', () => {
    const pooler = byName(stackObjects('prod'), 'Pooler', 'web-db-pooler-rw');
    pooler.props.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    expect(check(podSecurityRestricted, pooler).join('\n')).toContain(
      'Pooler web-prod/web-db-pooler-rw spec.template: breaks Pod Security "restricted" (Privilege Escalation)',
    );
  });

  it('reports Redis pods without the security contexts the operator does not add itself', () => {
    const replication = byName(stackObjects('prod'), 'RedisReplication', 'web-cache');
    delete replication.props.spec.securityContext;
    delete replication.props.spec.podSecurityContext;
    const controls = check(podSecurityRestricted, replication).map((message) => /\(([^)]+)\)/.exec(message)?.[1]);
    expect(new Set(controls)).toEqual(new Set(['Privilege Escalation', 'Running as Non-root', 'Seccomp', 'Capabilities']));
  });
});

describe('resource-requests-and-limits', () => {
  it('passes the rendered Deployment and the data tier of both stacks', () => {
    expect(check(requestsAndLimits, deployment())).toEqual([]);
    for (const object of [...stackObjects('prod'), ...stackObjects('staging')]) {
      expect(check(requestsAndLimits, object), object.urn).toEqual([]);
    }
  });

  it('reports a container without a memory limit', () => {
    const object = deployment();
    delete object.props.spec.template.spec.containers[0].resources.limits.memory;
    expect(check(requestsAndLimits, object)).toEqual([
      'Deployment web-test/web-blue spec.template containers "app": must state CPU and memory requests and limits, got no limits.memory; set ' +
        'resources.requests and resources.limits for cpu and memory',
    ]);
  });

  it('reports an init container without resources', () => {
    const object = deployment();
    object.props.spec.template.spec.initContainers = [{ name: 'migrate', image: 'registry.example.com/acme/migrate:1.0.0' }];
    expect(check(requestsAndLimits, object)).toEqual([
      'Deployment web-test/web-blue spec.template initContainers "migrate": must state CPU and memory requests and limits, got no requests.cpu, ' +
        'requests.memory, limits.cpu, limits.memory; set resources.requests and resources.limits for cpu and memory',
    ]);
  });

  it('reports a Cluster without resources and a Pooler that leaves pgbouncer to the operator', () => {
    const objects = stackObjects('prod');
    const cluster = byName(objects, 'Cluster', 'web-db');
    delete cluster.props.spec.resources;
    const pooler = byName(objects, 'Pooler', 'web-db-pooler-rw');
    delete pooler.props.spec.template.spec.containers;
    expect(check(requestsAndLimits, cluster)).toHaveLength(1);
    expect(check(requestsAndLimits, pooler)).toEqual([
      'Pooler web-prod/web-db-pooler-rw spec.template containers "pgbouncer": must state CPU and memory requests and limits, got no requests.cpu, ' +
        'requests.memory, limits.cpu, limits.memory; set resources.requests and resources.limits for cpu and memory',
    ]);
  });

  it('reports a Redis exporter without limits', () => {
    const replication = byName(stackObjects('prod'), 'RedisReplication', 'web-cache');
    delete replication.props.spec.redisExporter.resources.limits;
    expect(check(requestsAndLimits, replication)).toEqual([
      'RedisReplication web-prod/web-cache spec containers "redis-exporter": must state CPU and memory requests and limits, got no limits.cpu, ' +
        'limits.memory; set resources.requests and resources.limits for cpu and memory',
    ]);
  });
});

describe('no-floating-images', () => {
  it('passes tagged and digest-pinned images', () => {
    expect(check(noFloatingImages, deployment())).toEqual([]);
    const object = deployment();
    object.props.spec.template.spec.containers[0].image = `registry.example.com/acme/web:latest@sha256:${'a'.repeat(64)}`;
    expect(check(noFloatingImages, object)).toEqual([]);
  });

  it('reports :latest', () => {
    const object = deployment();
    object.props.spec.template.spec.containers[0].image = 'registry.example.com/acme/web:latest';
    expect(check(noFloatingImages, object)).toEqual([
      'Deployment web-test/web-blue spec.template containers "app" image: floats on :latest, got "registry.example.com/acme/web:latest"; ' +
        'pin a release tag or a digest, e.g. "registry.example.com/acme/web:1.4.2" or "registry.example.com/acme/web@sha256:<digest>"',
    ]);
  });

  it('reports an untagged image with the ImageRef message', () => {
    const object = deployment();
    object.props.spec.template.spec.containers[0].image = 'registry.example.com/acme/web';
    expect(check(noFloatingImages, object)).toEqual([
      'Deployment web-test/web-blue spec.template containers "app" image: has no tag or digest, got "registry.example.com/acme/web"; ' +
        'pin the build, e.g. "registry.example.com/acme/web:1.4.2" or "registry.example.com/acme/web@sha256:<digest>"',
    ]);
  });

  it('reports a pod template container without an image, but not an operator default image', () => {
    const object = deployment();
    delete object.props.spec.template.spec.containers[0].image;
    expect(check(noFloatingImages, object)).toHaveLength(1);
    const cluster = byName(stackObjects('prod'), 'Cluster', 'web-db');
    delete cluster.props.spec.imageName;
    expect(check(noFloatingImages, cluster)).toEqual([]);
  });

  it('reports the data tier on :latest', () => {
    const objects = stackObjects('prod');
    const sentinel = byName(objects, 'RedisSentinel', 'web-cache');
    sentinel.props.spec.kubernetesConfig.image = 'quay.io/opstree/redis-sentinel:latest';
    const cluster = byName(objects, 'Cluster', 'web-db');
    cluster.props.spec.imageName = 'ghcr.io/clevyr/cloudnativepg-timescale';
    expect(check(noFloatingImages, sentinel).join('\n')).toContain(
      'RedisSentinel web-prod/web-cache spec containers "sentinel" image: floats on :latest',
    );
    expect(check(noFloatingImages, cluster).join('\n')).toContain('Cluster web-prod/web-db spec containers "postgres" image: has no tag or digest');
  });
});

describe('images-pinned-by-digest (advisory)', () => {
  it('passes a digest-pinned image', () => {
    const object = deployment();
    object.props.spec.template.spec.containers[0].image = `registry.example.com/acme/web:1.4.2@sha256:${'b'.repeat(64)}`;
    expect(check(imagesPinnedByDigest, object)).toEqual([]);
  });

  it('reports an image pinned by tag only', () => {
    expect(check(imagesPinnedByDigest, deployment())).toEqual([
      'Deployment web-test/web-blue spec.template containers "app" image: is pinned by tag only, got "registry.example.com/acme/web:1.0.0"; ' +
        'append the digest of the build, e.g. "registry.example.com/acme/web:1.0.0@sha256:<digest>", so the tag cannot be moved under a running ' +
        'workload',
    ]);
  });

  it('leaves :latest to no-floating-images', () => {
    const object = deployment();
    object.props.spec.template.spec.containers[0].image = 'registry.example.com/acme/web:latest';
    expect(unpinnedDigestViolations(object)).toEqual([]);
    expect(floatingImageViolations(object)).toHaveLength(1);
  });
});

describe('no-literal-secret-data', () => {
  it('passes Secret references and variables that only compose references', () => {
    const object = byName(stackObjects('prod'), 'Deployment', 'web-blue');
    const env = object.props.spec.template.spec.containers[0].env as Props[];
    expect(env.find((variable) => variable.name === 'DATABASE_PASSWORD')?.valueFrom).toBeDefined();
    env.push({ name: 'CACHE_PASSWORD', value: '$(REDIS_PASSWORD)' }, { name: 'PASSWORD_MIN_LENGTH', value: '12' });
    expect(check(noLiteralSecretData, object)).toEqual([]);
    for (const other of stackObjects('prod')) {
      expect(check(noLiteralSecretData, other), other.urn).toEqual([]);
    }
  });

  it('reports a Secret with data, naming the keys and never the values', () => {
    const secret = objectOf({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web-secrets', namespace: 'web-test' },
      stringData: { API_TOKEN: 's3cr3t-value' },
    });
    const reported = check(noLiteralSecretData, secret);
    expect(reported).toEqual([
      'Secret web-test/web-secrets: carries secret values in the program, its state and every preview, got stringData.API_TOKEN; ' +
        'create the Secret outside the stack (or with an external secrets operator) and reference it by name (secretNames, secretKeyRef)',
    ]);
    expect(reported.join()).not.toContain('s3cr3t');
  });

  it('reports a secret-named environment variable with a literal value', () => {
    const object = deployment();
    object.props.spec.template.spec.containers[0].env.push({ name: 'STRIPE_API_KEY', value: 'sk_live_123' });
    expect(check(noLiteralSecretData, object)).toEqual([
      'Deployment web-test/web-blue spec.template containers "app" env STRIPE_API_KEY: is named like a secret but has a literal value, got 11 ' +
        'characters; read it from a Secret with valueFrom.secretKeyRef',
    ]);
  });

  it('reports a secret-named ConfigMap key (settings are loaded as environment)', () => {
    const settings = byName(appObjects({ settings: { NODE_ENV: 'production', SESSION_SECRET: 'abc' } }), 'ConfigMap', 'web-settings');
    expect(check(noLiteralSecretData, settings)).toEqual([
      'ConfigMap web-test/web-settings data.SESSION_SECRET: is named like a secret but is a literal ConfigMap value, got key SESSION_SECRET; move ' +
        'it into a Secret and load it with envFrom.secretRef or valueFrom.secretKeyRef',
    ]);
  });

  it('judges names by their last word', () => {
    expect(['DATABASE_PASSWORD', 'API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'apiKey', 'GITHUB_CREDENTIALS'].filter(looksSecret)).toEqual([
      'DATABASE_PASSWORD',
      'API_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'apiKey',
      'GITHUB_CREDENTIALS',
    ]);
    expect(['PASSWORD_MIN_LENGTH', 'TOKEN_TTL_SECONDS', 'DATABASE_URL', 'KEYCLOAK_URL'].filter(looksSecret)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Stack policies
// ---------------------------------------------------------------------------------------------------------------

describe('selects', () => {
  const labels = { app: 'web', color: 'blue' };
  it('matches matchLabels and every matchExpressions operator', () => {
    expect(selects({}, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'color', operator: 'In', values: ['blue', 'green'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'color', operator: 'NotIn', values: ['green'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels)).toBe(true);
  });

  it('refuses what does not match, and an absent selector', () => {
    expect(selects(undefined, labels)).toBe(false);
    expect(selects({ matchLabels: { app: 'web', color: 'green' } }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'color', operator: 'In', values: ['green'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'color', operator: 'NotIn', values: ['blue'] }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selects({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels)).toBe(false);
    expect(selects({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] }, labels)).toBe(false);
  });
});

describe('disruption-budget-for-replicated-workloads', () => {
  it('passes the rendered app: each color has an HPA (minReplicas 3) and a PodDisruptionBudget', () => {
    const objects = appObjects();
    expect(effectiveReplicas(workloadsOf(byName(objects, 'Deployment', 'web-blue'))[0], objects)).toEqual({
      replicas: 3,
      from: 'minReplicas of HorizontalPodAutoscaler web-test/web-blue',
    });
    expect(checkStack(disruptionBudgets, objects)).toEqual([]);
  });

  it("reports a color whose PodDisruptionBudget is gone, counting the HPA's minReplicas", () => {
    const objects = appObjects().filter((object) => !(object.props.kind === 'PodDisruptionBudget' && object.props.metadata.name === 'web-blue'));
    expect(checkStack(disruptionBudgets, objects)).toEqual([
      {
        urn: 'urn:pulumi:test::cutover::kubernetes:apps/v1:Deployment::web-test/web-blue',
        message:
          'Deployment web-test/web-blue spec.template: runs 3 pods (minReplicas of HorizontalPodAutoscaler web-test/web-blue) but no ' +
          'PodDisruptionBudget in namespace web-test selects them, ' +
          'got pod labels {app.kubernetes.io/component=server,app.kubernetes.io/instance=web-blue,app.kubernetes.io/managed-by=cutover,' +
          'app.kubernetes.io/name=web,app.kubernetes.io/part-of=web,app.kubernetes.io/version=1.0.0,cutover.dev/color=blue,' +
          `cutover.dev/template=${renderApp().app.colors.blue?.templateId}}; ` +
          'add a PodDisruptionBudget whose selector matches these labels, e.g. with maxUnavailable: 1',
      },
    ]);
  });

  it('does not ask a color scaled to 0 for a budget', () => {
    const objects = appObjects({ green: { image: 'registry.example.com/acme/web:1.1.0', replicas: 0 } });
    expect(objects.some((object) => object.props.kind === 'PodDisruptionBudget' && object.props.metadata.name === 'web-green')).toBe(false);
    expect(checkStack(disruptionBudgets, objects)).toEqual([]);
  });

  it('uses the Deployment replicas without an HPA: 3 need a budget, 1 does not', () => {
    const three = deployment();
    three.props.spec.replicas = 3;
    expect(checkStack(disruptionBudgets, [three]).map((v) => v.message)).toEqual([
      expect.stringContaining('runs 3 pods (spec.replicas) but no PodDisruptionBudget'),
    ]);
    const one = deployment();
    one.props.spec.replicas = 1;
    expect(checkStack(disruptionBudgets, [one])).toEqual([]);
  });

  it('takes an HPA with minReplicas 1 at its word', () => {
    const objects = appObjects().filter((object) => object.props.kind !== 'PodDisruptionBudget');
    for (const hpa of objects.filter((object) => object.props.kind === 'HorizontalPodAutoscaler')) {
      hpa.props.spec.minReplicas = 1;
    }
    expect(checkStack(disruptionBudgets, objects)).toEqual([]);
  });

  it('reports a budget that selects other pods, and one that lets every pod go', () => {
    const other = appObjects();
    byName(other, 'PodDisruptionBudget', 'web-blue').props.spec.selector = { matchLabels: { 'app.kubernetes.io/name': 'api' } };
    expect(checkStack(disruptionBudgets, other).map((v) => v.urn)).toEqual([
      'urn:pulumi:test::cutover::kubernetes:apps/v1:Deployment::web-test/web-blue',
    ]);
    const loose = appObjects();
    byName(loose, 'PodDisruptionBudget', 'web-green').props.spec.maxUnavailable = '100%';
    expect(checkStack(disruptionBudgets, loose).map((v) => v.message)).toEqual([
      'Deployment web-test/web-green spec.template: runs 3 pods (minReplicas of HorizontalPodAutoscaler web-test/web-green) but ' +
        'PodDisruptionBudget web-test/web-green lets all of them be evicted at once, got maxUnavailable 100%; allow fewer than 3 pods down (e.g. ' +
        'maxUnavailable: 1)',
    ]);
  });

  it("reports the data tier's operator budgets turned off", () => {
    const objects = stackObjects('prod');
    byName(objects, 'Cluster', 'web-db').props.spec.enablePDB = false;
    byName(objects, 'RedisSentinel', 'web-cache').props.spec.pdb.enabled = false;
    const messages = checkStack(disruptionBudgets, objects).map((v) => v.message);
    expect(messages).toContain(
      "Cluster web-prod/web-db spec: runs 3 pods (spec.instances) with the operator's PodDisruptionBudget turned off, got spec.enablePDB not true; " +
        'set spec.enablePDB to true',
    );
    expect(messages).toContain(
      "RedisSentinel web-prod/web-cache spec: runs 3 pods (spec.clusterSize) with the operator's PodDisruptionBudget turned off, got " +
        'spec.pdb.enabled not true; set spec.pdb.enabled to true',
    );
  });

  it('asks a replicated Pooler for a budget of the stack, which a budget on its pooler label satisfies', () => {
    // The prod stack without the budget PostgresHA renders for its pooler: each case adds the one it is about.
    const objects = stackObjects('prod').filter(
      (object) => !(object.props.kind === 'PodDisruptionBudget' && object.props.metadata?.name === 'web-db-pooler-rw'),
    );
    expect(objects.length).toBeLessThan(stackObjects('prod').length);
    expect(checkStack(disruptionBudgets, objects).map((v) => v.message)).toEqual([
      expect.stringMatching(/^Pooler web-prod\/web-db-pooler-rw spec.template: runs 2 pods \(spec.instances\) but no PodDisruptionBudget/),
    ]);
    const budget = objectOf({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-db-pooler-rw', namespace: 'web-prod' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { 'cnpg.io/poolerName': 'web-db-pooler-rw' } } },
    });
    expect(checkStack(disruptionBudgets, [...objects, budget])).toEqual([]);
  });
});

describe('pods-selected-by-network-policy', () => {
  const policy = (name: string, namespace: string, podSelector: Props) =>
    objectOf({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec: { podSelector, policyTypes: ['Ingress'] },
    });
  /** The prod stack's workloads without the stack's own NetworkPolicies: each case adds the ones it is about. */
  const unprotected = () => stackObjects('prod').filter((object) => object.props.kind !== 'NetworkPolicy');

  it('reports every set of pods when no NetworkPolicy selects them', () => {
    const reported = checkStack(networkPolicies, unprotected());
    expect(reported.map((v) => v.message.split(':')[0]).sort()).toEqual([
      'Cluster web-prod/web-db spec',
      'Deployment web-prod/web-blue spec.template',
      'Deployment web-prod/web-green spec.template',
      'Job web-prod/web-gate-blue spec.template',
      'Pooler web-prod/web-db-pooler-rw spec.template',
      'RedisReplication web-prod/web-cache spec',
      'RedisSentinel web-prod/web-cache spec',
    ]);
    expect(reported.find((v) => v.urn?.endsWith('Cluster::web-prod/web-db'))?.message).toBe(
      'Cluster web-prod/web-db spec: no NetworkPolicy in namespace web-prod selects its pods, got pod labels {cnpg.io/cluster=web-db}; ' +
        'add a NetworkPolicy whose podSelector matches them (a default-deny with an empty podSelector selects every pod of the namespace)',
    );
  });

  it('passes when a default-deny (empty podSelector) covers the namespace', () => {
    expect(checkStack(networkPolicies, [...unprotected(), policy('default-deny', 'web-prod', {})])).toEqual([]);
  });

  it('reports only the pods no policy selects, by labels and by expressions', () => {
    const objects = [
      ...unprotected(),
      policy('web', 'web-prod', { matchLabels: { 'app.kubernetes.io/name': 'web', 'cutover.dev/color': 'blue' } }),
      policy('db', 'web-prod', { matchExpressions: [{ key: 'cnpg.io/cluster', operator: 'Exists' }] }),
      policy('pooler', 'web-prod', { matchLabels: { 'cnpg.io/poolerName': 'web-db-pooler-rw' } }),
      policy('cache', 'web-prod', { matchExpressions: [{ key: 'app', operator: 'In', values: ['web-cache', 'web-cache-sentinel'] }] }),
      policy('gate', 'web-prod', { matchLabels: { 'app.kubernetes.io/component': 'cutover-gate' } }),
    ];
    expect(networkPolicyViolations(objects).map((v) => v.message.split(':')[0])).toEqual(['Deployment web-prod/web-green spec.template']);
  });

  it('does not count a NetworkPolicy of another namespace', () => {
    expect(checkStack(networkPolicies, [deployment(), policy('default-deny', 'elsewhere', {})])).toHaveLength(1);
  });
});

describe('no-skip-await-in-traffic-path', () => {
  const INGRESS = { routing: { router: 'ingress' as const } };
  it('puts the HTTPRoutes, the live Service they route to and both Deployments in the traffic path, not the preview Service', () => {
    expect(
      trafficPath(appObjects())
        .map(({ object }) => describeObject(object))
        .sort(),
    ).toEqual([
      'Deployment web-test/web-blue',
      'Deployment web-test/web-green',
      'HTTPRoute web-test/web',
      'HTTPRoute web-test/web-https-redirect',
      'Service web-test/web',
    ]);
  });

  it('puts the Ingress, the Service it routes to and both Deployments in the traffic path, not the preview Service', () => {
    expect(
      trafficPath(appObjects(INGRESS))
        .map(({ object }) => describeObject(object))
        .sort(),
    ).toEqual(['Deployment web-test/web-blue', 'Deployment web-test/web-green', 'Ingress web-test/web', 'Service web-test/web']);
  });

  it('with Gateway API routing, puts the HTTPRoute and the color Services it routes to in the traffic path', () => {
    const objects = appObjects({ routing: { gateway: { name: 'public', namespace: 'gateways' } }, trafficWeight: 25 });
    expect(
      trafficPath(objects)
        .map(({ object }) => describeObject(object))
        .sort(),
    ).toEqual([
      'Deployment web-test/web-blue',
      'Deployment web-test/web-green',
      'HTTPRoute web-test/web',
      'HTTPRoute web-test/web-https-redirect',
      'Service web-test/web-blue',
      'Service web-test/web-green',
    ]);
  });

  it('passes the ClusterIP Services marked skipAwait, as the bridge marks them: their await proves no readiness', () => {
    const objects = appObjects();
    for (const name of ['web', 'web-preview', 'web-blue', 'web-green']) {
      expect(byName(objects, 'Service', name).props.metadata.annotations[SKIP_AWAIT], name).toBe('true');
    }
    expect(checkStack(noSkipAwaitInTrafficPath, objects)).toEqual([]);
  });

  it('passes a routed NodePort Service marked skipAwait: it is awaited like a ClusterIP one', () => {
    const objects = appObjects();
    byName(objects, 'Service', 'web').props.spec.type = 'NodePort';
    expect(checkStack(noSkipAwaitInTrafficPath, objects)).toEqual([]);
  });

  it('reports a routed LoadBalancer Service marked skipAwait: its await is for the address', () => {
    const objects = appObjects();
    byName(objects, 'Service', 'web').props.spec.type = 'LoadBalancer';
    expect(checkStack(noSkipAwaitInTrafficPath, objects)).toEqual([
      {
        urn: 'urn:pulumi:test::cutover::kubernetes:core/v1:Service::web-test/web',
        message:
          "Service web-test/web: is in the traffic path (an Ingress or HTTPRoute routes to it) but skips the provider's readiness await, got " +
          'pulumi.com/skipAwait=true; ' +
          'remove the annotation; only ClusterIP and NodePort Services may skip it (their await proves no readiness; the gate checks ready ' +
          'endpoints)',
      },
    ]);
  });

  it('reports a Deployment and the Ingress marked skipAwait', () => {
    const objects = appObjects(INGRESS);
    byName(objects, 'Deployment', 'web-green').props.metadata.annotations = { [SKIP_AWAIT]: 'true' };
    byName(objects, 'Ingress', 'web').props.metadata.annotations[SKIP_AWAIT] = 'TRUE';
    expect(checkStack(noSkipAwaitInTrafficPath, objects).map((v) => v.message.split(':')[0])).toEqual([
      'Deployment web-test/web-green',
      'Ingress web-test/web',
    ]);
  });

  it('counts a Service named as the Ingress default backend', () => {
    const objects = appObjects(INGRESS);
    const ingress = byName(objects, 'Ingress', 'web');
    ingress.props.spec.defaultBackend = { service: { name: 'web-preview', port: { number: 80 } } };
    byName(objects, 'Service', 'web-preview').props.spec.type = 'LoadBalancer';
    expect(checkStack(noSkipAwaitInTrafficPath, objects).map((v) => v.message.split(':')[0])).toEqual(['Service web-test/web-preview']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The shipped stacks, as the program registers them
// ---------------------------------------------------------------------------------------------------------------

let registrations: Registration[] = [];

beforeAll(async () => {
  registrations = await recordRegistrations();
});

async function registeredBy(stack: string, overrides: Record<string, string> = {}): Promise<PolicyObject[]> {
  registrations.length = 0;
  const { run } = await import('../../stacks/index');
  const { resources } = await run({ ...readStackFile(ROOT, stack), ...overrides }, stack, { probe: new FakeCluster() });
  await Promise.all([...resources.values()].map((resource) => new Promise((resolve) => resource.urn.apply(resolve))));
  // Each resource exactly as the program registers it: type token, URN name and inputs.
  return registrations.map((r) => ({ type: r.type, props: r.inputs as Props, urn: `urn:pulumi:test::cutover::${r.type}::${r.name}` }));
}

/** Every violation of the pack over a stack's objects, as `<policy>: <subject>` with the level. */
function analyze(objects: readonly PolicyObject[]): { mandatory: string[]; advisory: string[] } {
  const found: { level: string; entry: string }[] = [];
  // Every message starts with the object it is about: `<Kind> <namespace>/<name>`.
  const subject = (message: string) => message.split(' ').slice(0, 2).join(' ').replace(/:$/, '');
  for (const policy of POLICIES) {
    const messages =
      'validateStack' in policy ? checkStack(policy, objects).map((v) => v.message) : objects.flatMap((object) => check(policy, object));
    for (const message of messages) {
      found.push({ level: policy.enforcementLevel ?? 'mandatory', entry: `${policy.name}: ${subject(message)}` });
    }
  }
  const of = (level: string) => [...new Set(found.filter((f) => f.level === level).map((f) => f.entry))].sort();
  return { mandatory: of('mandatory'), advisory: of('advisory') };
}

describe('the shipped stacks under the pack', () => {
  for (const stack of ['prod', 'staging']) {
    it(`${stack}: no mandatory violation, digest pinning advised for every image`, async () => {
      const objects = await registeredBy(stack);
      expect(
        objects.some(
          (object) => object.type === 'kubernetes:core/v1:Service' && (object.props as Props).metadata.annotations?.[SKIP_AWAIT] === 'true',
        ),
      ).toBe(true);
      const { mandatory, advisory } = analyze(objects);
      expect(mandatory).toEqual([]);
      expect(advisory).toEqual(
        [
          `images-pinned-by-digest: Cluster web-${stack}/web-db`,
          `images-pinned-by-digest: Deployment web-${stack}/web-blue`,
          `images-pinned-by-digest: Deployment web-${stack}/web-green`,
          `images-pinned-by-digest: Job web-${stack}/web-gate-blue`,
          `images-pinned-by-digest: RedisReplication web-${stack}/web-cache`,
          `images-pinned-by-digest: RedisSentinel web-${stack}/web-cache`,
        ].sort(),
      );
    });
  }

  it('staging (production: false) accepts green on :latest; the pack does not', async () => {
    const objects = await registeredBy('staging', { 'cutover:green': JSON.stringify({ image: 'registry.example.com/acme/web:latest' }) });
    expect(analyze(objects).mandatory).toEqual(['no-floating-images: Deployment web-staging/web-green']);
  });
});
