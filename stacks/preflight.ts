// Preflight: what the cluster must hold before `pulumi up` changes anything, derived from the stack's config and the
// objects it renders (pure), asked of the cluster through a ClusterProbe (stacks/cluster-probe.ts), judged (pure).
import type { Manifest } from '../lib';
import type { StackConfig } from './config';

/** The checks, in the order they are reported; each can be skipped with `preflight.skip`. */
export const PREFLIGHT_CHECKS = ['version', 'apis', 'access', 'namespaces', 'secrets', 'storageClasses', 'operators', 'issuer', 'routing'] as const;
export type PreflightCheck = (typeof PREFLIGHT_CHECKS)[number];

/** The `preflight` config object. */
export interface PreflightConfig {
  /** Check the cluster before registering any resource (`pulumi preview` and `pulumi up`). @default true */
  readonly enabled: boolean;
  /** Checks not made, for clusters where the deployer cannot read what they need. @default [] */
  readonly skip: readonly PreflightCheck[];
}

/** The oldest Kubernetes that runs the rendered pods: their `preStop` hook uses the `sleep` action (1.30). */
export const MIN_KUBERNETES = { major: 1, minor: 30 } as const;

/** The verbs the Kubernetes provider uses on every kind the stack manages (read, server-side apply, delete). */
export const MANAGED_VERBS = ['get', 'create', 'patch', 'delete'] as const;

/** An object the stack refers to and does not create. */
export interface NeededObject {
  readonly check: PreflightCheck;
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  /** Which config key or rendered object names it. */
  readonly why: string;
  readonly fix: string;
}

/** An operator that must be running to serve custom resources the stack renders. */
export interface NeededOperator {
  readonly name: string;
  /** API groups of the rendered custom resources it serves. */
  readonly groups: readonly string[];
  /** Label selectors that find its Deployment; any match with an available replica counts. */
  readonly selectors: readonly string[];
  readonly fix: string;
}

/** A kind the stack renders, where it lives. */
export interface ManagedKind {
  readonly apiVersion: string;
  readonly kind: string;
  /** Absent for a cluster-scoped kind. */
  readonly namespace?: string;
}

/** Everything preflight asks of the cluster for one stack. */
export interface Requirements {
  readonly checks: readonly PreflightCheck[];
  readonly kinds: readonly ManagedKind[];
  /** API groups the stack installs itself (`operators.install`): their kinds may not be served yet. */
  readonly installedGroups: readonly string[];
  readonly objects: readonly NeededObject[];
  readonly operators: readonly NeededOperator[];
}

/**
 * The operators the product knows, by the API group they serve, and how to find their Deployment: the labels their
 * published manifests and charts set (docs/preflight.md).
 */
export const KNOWN_OPERATORS: readonly NeededOperator[] = [
  {
    name: 'CloudNativePG',
    groups: ['postgresql.cnpg.io'],
    selectors: ['app.kubernetes.io/name=cloudnative-pg'],
    fix: 'install CloudNativePG (or set `operators.install` to true on one stack of the cluster)',
  },
  {
    name: 'Barman Cloud plugin',
    groups: ['barmancloud.cnpg.io'],
    selectors: ['app=barman-cloud', 'app.kubernetes.io/name=plugin-barman-cloud'],
    fix: "install the Barman Cloud plugin in CloudNativePG's namespace (or set `operators.install` to true on one stack of the cluster)",
  },
  {
    name: 'redis-operator',
    groups: ['redis.redis.opstreelabs.in'],
    selectors: ['app.kubernetes.io/name=redis-operator'],
    fix: 'install the OT-CONTAINER-KIT redis-operator (or set `operators.install` to true on one stack of the cluster)',
  },
  {
    name: 'Prometheus Operator',
    groups: ['monitoring.coreos.com'],
    selectors: ['app.kubernetes.io/name=prometheus-operator', 'app=kube-prometheus-stack-operator'],
    fix: 'install the Prometheus Operator (e.g. kube-prometheus-stack)',
  },
];

/** The API groups `operators.install` installs, with the operators that serve them. */
const INSTALLED_BY_OPERATORS = ['postgresql.cnpg.io', 'barmancloud.cnpg.io', 'redis.redis.opstreelabs.in'];

function group(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every object nested in `value` (itself included), depth first. */
function* walk(value: unknown): Generator<Json> {
  if (Array.isArray(value)) {
    for (const item of value) {
      yield* walk(item);
    }
  } else if (isObject(value)) {
    yield value;
    for (const child of Object.values(value)) {
      yield* walk(child);
    }
  }
}

/** Adds `object` unless the same one is already needed; the first reason given wins. */
function need(list: NeededObject[], object: NeededObject): void {
  if (!list.some((each) => each.kind === object.kind && each.name === object.name && each.namespace === object.namespace)) {
    list.push(object);
  }
}

/**
 * What the stack needs of the cluster: every kind it renders (served, and allowed to the deployer), the objects its
 * config and objects name but it does not create, and the operators that serve its custom resources. Pure.
 */
export function preflightRequirements(config: StackConfig, rendered: readonly Manifest[]): Requirements {
  const skip = new Set(config.preflight.skip);
  const checks = PREFLIGHT_CHECKS.filter((check) => !skip.has(check));
  const namespace = config.namespace;
  const creates = (kind: string, name: string, ns?: string): boolean =>
    rendered.some((manifest) => manifest.kind === kind && manifest.metadata.name === name && (manifest.metadata.namespace ?? undefined) === ns);
  const installedGroups = config.operators.install ? INSTALLED_BY_OPERATORS : [];

  const kinds: ManagedKind[] = [];
  for (const manifest of rendered) {
    const ns = manifest.metadata.namespace;
    if (!kinds.some((each) => each.apiVersion === manifest.apiVersion && each.kind === manifest.kind && each.namespace === ns)) {
      kinds.push({ apiVersion: manifest.apiVersion, kind: manifest.kind, ...(ns !== undefined ? { namespace: ns } : {}) });
    }
  }

  const objects: NeededObject[] = [];
  const secret = (name: string, why: string): void =>
    need(objects, {
      check: 'secrets',
      apiVersion: 'v1',
      kind: 'Secret',
      name,
      namespace,
      why,
      fix:
        `create it: \`kubectl -n ${namespace} create secret generic ${name} --from-literal=<key>=<value>\`` +
        (creates('Namespace', namespace)
          ? ` (if the namespace does not exist yet, create it first: \`kubectl create namespace ${namespace}\`; the stack adopts it)`
          : ''),
    });
  for (const app of config.apps) {
    const key = app.name === config.app ? 'secretNames' : `services.${app.name}.secretNames`;
    app.secretNames.forEach((name) => secret(name, `named by ${key}`));
  }
  if (config.redis?.secretName !== undefined) {
    secret(config.redis.secretName, 'named by redis.secretName');
  }
  if (config.alerting?.pager !== undefined) {
    secret(config.alerting.pager.secret.name, 'named by monitoring.alerting.pager.secret (the PagerDuty routing key)');
  }
  if (config.alerting?.chat !== undefined) {
    secret(config.alerting.chat.secret.name, 'named by monitoring.alerting.chat.secret (the Slack webhook URL)');
  }
  for (const manifest of rendered) {
    if (manifest.kind === 'ObjectStore') {
      for (const node of walk(manifest.spec)) {
        for (const credential of [
          'accessKeyId',
          'secretAccessKey',
          'region',
          'sessionToken',
          'connectionString',
          'storageAccount',
          'storageKey',
          'storageSasToken',
          'applicationCredentials',
        ]) {
          const ref = node[credential];
          if (isObject(ref) && typeof ref.name === 'string') {
            secret(ref.name, 'named by postgres.backup.secretName (the backup credentials)');
          }
        }
      }
    }
    for (const node of walk(manifest)) {
      const pullSecrets = node.imagePullSecrets;
      if (Array.isArray(pullSecrets)) {
        pullSecrets
          .filter(isObject)
          .forEach((ref) => typeof ref.name === 'string' && secret(ref.name, `the image pull Secret of ${manifest.kind} ${manifest.metadata.name}`));
      }
      for (const field of ['storageClass', 'storageClassName']) {
        const name = node[field];
        if (typeof name === 'string' && name !== '') {
          need(objects, {
            check: 'storageClasses',
            apiVersion: 'storage.k8s.io/v1',
            kind: 'StorageClass',
            name,
            why: `the storage of ${manifest.kind} ${manifest.metadata.name}`,
            fix:
              `create the StorageClass "${name}", or set \`postgres.storageClass\` / \`redis.storageClass\` to one the cluster has (\`kubectl ` +
              `get storageclass\`)`,
          });
        }
      }
    }
    const annotations = (manifest.metadata.annotations ?? {}) as Record<string, string>;
    const issuer = annotations['cert-manager.io/cluster-issuer'];
    if (issuer !== undefined) {
      need(objects, {
        check: 'issuer',
        apiVersion: 'cert-manager.io/v1',
        kind: 'ClusterIssuer',
        name: issuer,
        why: `named by clusterIssuer (the TLS certificate of ${manifest.kind} ${manifest.metadata.name})`,
        fix: `create the cert-manager ClusterIssuer "${issuer}", or set \`clusterIssuer\` to one the cluster has (\`kubectl get clusterissuers\`)`,
      });
    }
    const spec = isObject(manifest.spec) ? manifest.spec : {};
    if (manifest.kind === 'Ingress' && typeof spec.ingressClassName === 'string') {
      need(objects, {
        check: 'routing',
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        name: spec.ingressClassName,
        why: `named by ingressClassName (Ingress ${manifest.metadata.name})`,
        fix:
          `install the Ingress controller of class "${spec.ingressClassName}", or set \`ingressClassName\` to one the cluster has (\`kubectl ` +
          `get ingressclass\`)`,
      });
    }
    if (manifest.kind === 'HTTPRoute' && Array.isArray(spec.parentRefs)) {
      for (const ref of spec.parentRefs.filter(isObject)) {
        const name = ref.name as string;
        const ns = (ref.namespace as string | undefined) ?? manifest.metadata.namespace;
        if ((ref.kind ?? 'Gateway') === 'Gateway' && !creates('Gateway', name, ns)) {
          need(objects, {
            check: 'routing',
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'Gateway',
            name,
            namespace: ns,
            why: `named by routing.gateway (HTTPRoute ${manifest.metadata.name})`,
            fix:
              `create the Gateway ${ns}/${name}, or set \`routing.gateway.name\` / \`routing.gateway.namespace\` to one the cluster has ` +
              `(\`kubectl get gateways -A\`)`,
          });
        }
      }
    }
    if (manifest.kind === 'Gateway' && typeof spec.gatewayClassName === 'string') {
      need(objects, {
        check: 'routing',
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        name: spec.gatewayClassName,
        why: `the class of Gateway ${manifest.metadata.name}`,
        fix: `install the Gateway API implementation of class "${spec.gatewayClassName}" (\`kubectl get gatewayclass\`)`,
      });
    }
    if (manifest.kind === 'NetworkPolicy') {
      for (const node of walk(spec)) {
        const selector = node.namespaceSelector;
        const name = isObject(selector) && isObject(selector.matchLabels) ? selector.matchLabels['kubernetes.io/metadata.name'] : undefined;
        if (typeof name === 'string' && !creates('Namespace', name)) {
          need(objects, {
            check: 'namespaces',
            apiVersion: 'v1',
            kind: 'Namespace',
            name,
            why: `a peer of NetworkPolicy ${manifest.metadata.name}`,
            fix:
              'install what runs there, or point the `network` key that names it (`ingressNamespace`, `gatewayNamespace`, ' +
              '`monitoringNamespace`, `cnpgNamespace`, `redisOperatorNamespace`) at the namespace it runs in',
          });
        }
      }
    }
  }

  const renderedGroups = new Set(rendered.map((manifest) => group(manifest.apiVersion)));
  const operators = KNOWN_OPERATORS.filter(
    (operator) => operator.groups.some((each) => renderedGroups.has(each)) && !operator.groups.every((each) => installedGroups.includes(each)),
  );
  const wanted = (check: PreflightCheck): boolean => checks.includes(check);
  return {
    checks,
    kinds: wanted('apis') || wanted('access') ? kinds : [],
    installedGroups,
    objects: objects.filter((object) => wanted(object.check)),
    operators: wanted('operators') ? operators : [],
  };
}

/** A kind the API server serves (from discovery). */
export interface ServedResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name, e.g. `deployments`. */
  readonly name: string;
  readonly namespaced: boolean;
}

/** An answer from the cluster, or why it could not be had (forbidden, unreachable, ...). */
export type Answer<T> = { readonly ok: T } | { readonly error: string };

/** A question to the authorizer: may the deployer do `verb` on `resource` (plural) of `group` in `namespace`? */
export interface AccessQuery {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace?: string;
}

/** A Deployment found by an operator's selector. */
export interface FoundDeployment {
  readonly namespace: string;
  readonly name: string;
  readonly availableReplicas: number;
}

/** What preflight asks of a cluster. The kubectl one is in stacks/cluster-probe.ts; tests give their own. */
export interface ClusterProbe {
  /** The API server's version. */
  version(): Promise<{ readonly major: number; readonly minor: number; readonly gitVersion: string }>;
  /** Every kind the API server serves. */
  resources(): Promise<readonly ServedResource[]>;
  /** Which of `names` exist as `resource` (plural, e.g. `secrets` or `storageclasses.storage.k8s.io`); metadata only. */
  existing(resource: string, namespace: string | undefined, names: readonly string[]): Promise<ReadonlySet<string>>;
  /** The Deployments, in any namespace, that `selector` matches. */
  deployments(selector: string): Promise<readonly FoundDeployment[]>;
  /** The authorizer's answer to each query, in order (SelfSubjectAccessReview). */
  allowed(queries: readonly AccessQuery[]): Promise<readonly boolean[]>;
}

/** The outcome of one preflight item. */
export interface PreflightResult {
  readonly check: PreflightCheck;
  /** What was checked, e.g. `Secret web-prod/web-secrets`. */
  readonly subject: string;
  /** `unknown`: the cluster could not be asked (the reason is in `detail`). */
  readonly status: 'ok' | 'missing' | 'unknown';
  readonly detail: string;
  /** Empty when ok. */
  readonly fix: string;
}

async function answer<T>(question: () => Promise<T>): Promise<Answer<T>> {
  try {
    return { ok: await question() };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0] };
  }
}

function subjectOf(object: Pick<NeededObject, 'kind' | 'name' | 'namespace'>): string {
  return `${object.kind} ${object.namespace !== undefined ? `${object.namespace}/` : ''}${object.name}`;
}

const UNKNOWN_FIX = (check: PreflightCheck): string =>
  `give the deployer read access, or skip this check: \`pulumi config set --path 'preflight.skip[0]' ${check}\``;

/**
 * Asks the cluster everything `requirements` needs, at once where the questions do not depend on each other, and
 * judges the answers. Reads metadata only: a Secret's data is never fetched.
 */
export async function runPreflight(requirements: Requirements, probe: ClusterProbe): Promise<PreflightResult[]> {
  const wanted = (check: PreflightCheck): boolean => requirements.checks.includes(check);
  const [version, served] = await Promise.all([wanted('version') ? answer(() => probe.version()) : undefined, answer(() => probe.resources())]);
  const results: PreflightResult[] = [];
  if (version !== undefined) {
    if ('error' in version) {
      results.push({
        check: 'version',
        subject: 'Kubernetes version',
        status: 'unknown',
        detail: version.error,
        fix: "check that the cluster is reachable with the stack's kubeconfig and context",
      });
    } else {
      const { major, minor, gitVersion } = version.ok;
      const old = major < MIN_KUBERNETES.major || (major === MIN_KUBERNETES.major && minor < MIN_KUBERNETES.minor);
      results.push({
        check: 'version',
        subject: 'Kubernetes version',
        status: old ? 'missing' : 'ok',
        detail: old
          ? `${gitVersion} is older than ${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor}, the oldest that runs the rendered pods (their preStop ` +
            `hook sleeps)`
          : gitVersion,
        fix: old ? `upgrade the cluster to Kubernetes ${MIN_KUBERNETES.major}.${MIN_KUBERNETES.minor} or later` : '',
      });
    }
  }
  const resources = 'ok' in served ? served.ok : [];
  const lookup = (apiVersion: string, kind: string): ServedResource | undefined =>
    resources.find((each) => `${each.group === '' ? '' : `${each.group}/`}${each.version}` === apiVersion && each.kind === kind);
  const discoveryFailed = 'error' in served ? served.error : undefined;
  if (discoveryFailed !== undefined) {
    // Without the API server's discovery nothing else can be judged: one problem, not one per object.
    results.push({
      check: 'apis',
      subject: 'the cluster',
      status: 'unknown',
      detail: `could not be asked: ${discoveryFailed}`,
      fix:
        "check that kubectl is on the PATH and reaches the cluster with the stack's `kubernetes:kubeconfig` / `kubernetes:context` (or " +
        'KUBECONFIG), or set `preflight` to false',
    });
    return results;
  }

  // Kinds the API server does not serve: a missing CRD, or an API the cluster's version dropped or does not have yet.
  const kindSubject = (kind: Pick<ManagedKind, 'apiVersion' | 'kind'>): string => `${kind.kind} (${kind.apiVersion})`;
  if (wanted('apis')) {
    const seen = new Set<string>();
    for (const kind of requirements.kinds) {
      const subject = kindSubject(kind);
      if (seen.has(subject) || requirements.installedGroups.includes(group(kind.apiVersion))) {
        continue;
      }
      seen.add(subject);
      const found = lookup(kind.apiVersion, kind.kind) !== undefined;
      const operator = KNOWN_OPERATORS.find((each) => each.groups.includes(group(kind.apiVersion)));
      results.push({
        check: 'apis',
        subject,
        status: found ? 'ok' : 'missing',
        detail: found ? 'served' : 'the API server does not serve it',
        fix: found
          ? ''
          : operator !== undefined
            ? `install its CRD: ${operator.fix}`
            : `install its CRD, or use a Kubernetes version that serves ${kind.apiVersion}`,
      });
    }
  }

  // One question per kind and namespace, whatever the number of names.
  const lookups = new Map<string, Promise<Answer<ReadonlySet<string>>>>();
  const existing = (resource: ServedResource, namespace: string | undefined): Promise<Answer<ReadonlySet<string>>> => {
    const plural = resource.group === '' ? resource.name : `${resource.name}.${resource.group}`;
    const key = `${plural}/${namespace ?? ''}`;
    if (!lookups.has(key)) {
      const names = requirements.objects
        .filter((each) => lookup(each.apiVersion, each.kind) === resource && each.namespace === namespace)
        .map((each) => each.name);
      lookups.set(
        key,
        answer(() => probe.existing(plural, namespace, names)),
      );
    }
    return lookups.get(key) as Promise<Answer<ReadonlySet<string>>>;
  };
  const objectQueries = requirements.objects.map(async (object): Promise<PreflightResult> => {
    const base = { check: object.check, subject: subjectOf(object) };
    const resource = lookup(object.apiVersion, object.kind);
    if (resource === undefined) {
      return { ...base, status: 'missing', detail: `the cluster has no ${object.kind} kind (${object.apiVersion}); ${object.why}`, fix: object.fix };
    }
    const found = await existing(resource, object.namespace);
    if ('error' in found) {
      return { ...base, status: 'unknown', detail: found.error, fix: UNKNOWN_FIX(object.check) };
    }
    return found.ok.has(object.name)
      ? { ...base, status: 'ok', detail: object.why, fix: '' }
      : { ...base, status: 'missing', detail: `not found; ${object.why}`, fix: object.fix };
  });

  const operatorQueries = requirements.operators.map(async (operator): Promise<PreflightResult> => {
    const base = { check: 'operators' as const, subject: operator.name };
    const found = await answer(async () => (await Promise.all(operator.selectors.map((selector) => probe.deployments(selector)))).flat());
    if ('error' in found) {
      return { ...base, status: 'unknown', detail: found.error, fix: UNKNOWN_FIX('operators') };
    }
    const running = found.ok.find((deployment) => deployment.availableReplicas > 0);
    const serves = `serves ${operator.groups.join(', ')}`;
    if (running !== undefined) {
      return { ...base, status: 'ok', detail: `${running.namespace}/${running.name} running; ${serves}`, fix: '' };
    }
    const stopped = found.ok[0];
    const detail =
      stopped !== undefined
        ? `${stopped.namespace}/${stopped.name} has no available replica`
        : `no Deployment matches ${operator.selectors.join(' or ')}`;
    return { ...base, status: 'missing', detail: `${detail}; it ${serves}, which the stack renders`, fix: operator.fix };
  });

  const accessQuery = async (): Promise<PreflightResult[]> => {
    if (!wanted('access')) {
      return [];
    }
    const queries: Array<{ query: AccessQuery; kind: ManagedKind }> = [];
    for (const kind of requirements.kinds) {
      const resource = lookup(kind.apiVersion, kind.kind);
      if (resource !== undefined) {
        MANAGED_VERBS.forEach((verb) =>
          queries.push({
            kind,
            query: { verb, group: resource.group, resource: resource.name, ...(kind.namespace !== undefined ? { namespace: kind.namespace } : {}) },
          }),
        );
      }
    }
    const allowed = await answer(() => probe.allowed(queries.map((each) => each.query)));
    const results: PreflightResult[] = [];
    for (const kind of requirements.kinds.filter((each) => lookup(each.apiVersion, each.kind) !== undefined)) {
      const subject = `${kindSubject(kind)}${kind.namespace !== undefined ? ` in ${kind.namespace}` : ', cluster-wide'}`;
      if ('error' in allowed) {
        results.push({ check: 'access', subject, status: 'unknown', detail: allowed.error, fix: UNKNOWN_FIX('access') });
        continue;
      }
      const denied = queries.flatMap((each, index) => (each.kind === kind && !allowed.ok[index] ? [each.query.verb] : []));
      const resource = lookup(kind.apiVersion, kind.kind) as ServedResource;
      results.push({
        check: 'access',
        subject,
        status: denied.length === 0 ? 'ok' : 'missing',
        detail: denied.length === 0 ? MANAGED_VERBS.join(', ') : `the deployer may not ${denied.join(', ')}`,
        fix:
          denied.length === 0
            ? ''
            : `grant ${denied.join(', ')} on ${resource.group === '' ? resource.name : `${resource.name}.${resource.group}`}` +
              `${kind.namespace !== undefined ? ` in ${kind.namespace}` : ''} to the deployer (a Role or ClusterRole and its binding)`,
      });
    }
    return results;
  };

  const [objectResults, operatorResults, accessResults] = await Promise.all([
    Promise.all(objectQueries),
    Promise.all(operatorQueries),
    accessQuery(),
  ]);
  results.push(...accessResults, ...objectResults, ...operatorResults);
  const order = (result: PreflightResult): number => PREFLIGHT_CHECKS.indexOf(result.check);
  return results
    .map((result, index) => ({ result, index }))
    .sort((a, b) => order(a.result) - order(b.result) || a.index - b.index)
    .map(({ result }) => result);
}

/** The results that stop an update: everything not ok. */
export function preflightProblems(results: readonly PreflightResult[]): PreflightResult[] {
  return results.filter((result) => result.status !== 'ok');
}

/** The message an update fails with: every problem, each with its fix, and how to skip a check. */
export function preflightFailure(stack: string, problems: readonly PreflightResult[]): string {
  const lines = problems.map((problem) => `  ${problem.check}: ${problem.subject}: ${problem.detail}; ${problem.fix}`);
  return [
    `stack "${stack}": preflight found ${problems.length} problem${problems.length === 1 ? '' : 's'} in the cluster; nothing was applied:`,
    ...lines,
    `Run \`npm run preflight -- --stack ${stack}\` to check again; a check the deployer cannot make can be skipped (\`preflight.skip\`, ` +
      `docs/preflight.md).`,
  ].join('\n');
}

/** A readable table of every result. */
export function formatPreflight(results: readonly PreflightResult[]): string {
  const rows = results.map((result) => [
    result.status === 'ok' ? 'ok' : result.status.toUpperCase(),
    result.check,
    result.subject,
    result.status === 'ok' ? result.detail : `${result.detail}; ${result.fix}`,
  ]);
  const header = ['STATUS', 'CHECK', 'WHAT', 'DETAIL'];
  const widths = [0, 1, 2].map((column) => Math.max(header[column].length, ...rows.map((row) => row[column].length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell)).join('  ')).join('\n');
}
