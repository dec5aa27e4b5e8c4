import { ANNOTATION_PEAK_REPLICAS as PEAK_REPLICAS } from '../core/labels';
import { Manifest } from '../core/render';

/** CPU in millicores and memory in bytes, requested and limited: what a ResourceQuota counts for a pod. */
export interface PodResources {
  readonly cpuRequest: number;
  readonly cpuLimit: number;
  readonly memoryRequest: number;
  readonly memoryLimit: number;
}

/** The most pods one rendered object can run at once, and what each of them counts against the quota. */
export interface WorkloadPeak {
  /** `Kind/name` of the rendered object the pods come from. */
  readonly source: string;
  readonly pods: number;
  readonly perPod: PodResources;
  /** The containers (and init containers) of one such pod, with their resources as rendered or as the operator sets them. */
  readonly podSpec: QuotaPodSpec;
  /** Why that many pods, e.g. `HPA maxReplicas 10 + maxSurge 3`. */
  readonly why: string;
}

/** What the namespace holds at its peak: every workload at once, each at its most pods. */
export interface NamespacePeak {
  readonly pods: number;
  /** Totals over every pod, as {@link PodResources}. */
  readonly total: PodResources;
  readonly workloads: readonly WorkloadPeak[];
}

/** A container's `resources`, as rendered. */
export interface ContainerLike {
  readonly name?: string;
  readonly restartPolicy?: string;
  readonly resources?: { readonly requests?: Record<string, string | number>; readonly limits?: Record<string, string | number> };
}

/** The part of a pod spec the quota reads. */
export interface QuotaPodSpec {
  readonly containers?: readonly ContainerLike[];
  readonly initContainers?: readonly ContainerLike[];
}

/** What a container gets where it sets nothing: the namespace's LimitRange (`type: Container`). */
export interface ContainerDefaults {
  readonly defaultRequest: { readonly cpu: number; readonly memory: number };
  readonly defaultLimit: { readonly cpu: number; readonly memory: number };
}

const NO_DEFAULTS: ContainerDefaults = { defaultRequest: { cpu: 0, memory: 0 }, defaultLimit: { cpu: 0, memory: 0 } };

/**
 * The namespace's peak from its rendered objects: every workload at the most pods it can run at once, each pod
 * counted as the ResourceQuota admission counts it (containers plus native sidecars, or the largest init container
 * if more; a container without requests or limits gets the LimitRange's defaults; a limit without a request is the
 * request too).
 *
 * - Deployment: its HorizontalPodAutoscaler's `maxReplicas` (or the `cutover.dev/peak-replicas` a color scaled to 0
 *   returns to, or `spec.replicas`, default 1) plus the rollout's `maxSurge` (default 25%, rounded up; none with
 *   `Recreate`). Both colors count at their maximum: each has its own HPA, and a release may roll both.
 * - StatefulSet: `spec.replicas` (default 1); Job: `spec.parallelism` (default 1).
 * - Operator workloads, from their custom resources, with the pods and sidecars the operators add (see the
 *   functions below and docs/namespace.md).
 */
export function namespacePeak(manifests: readonly Manifest[]): NamespacePeak {
  const defaults = containerDefaults(manifests);
  const maxReplicas = new Map<string, number>();
  for (const manifest of manifests) {
    if (manifest.kind === 'HorizontalPodAutoscaler') {
      const spec = (manifest as { spec?: { maxReplicas?: number; scaleTargetRef?: { kind?: string; name?: string } } }).spec;
      if (spec?.scaleTargetRef?.name !== undefined && spec.maxReplicas !== undefined) {
        maxReplicas.set(`${spec.scaleTargetRef.kind}/${spec.scaleTargetRef.name}`, spec.maxReplicas);
      }
    }
  }
  const sidecars = new Map<string, ContainerLike['resources']>();
  for (const manifest of manifests) {
    if (manifest.kind === 'ObjectStore' && isGroup(manifest, 'barmancloud.cnpg.io')) {
      sidecars.set(
        manifest.metadata.name,
        (manifest as { spec?: { instanceSidecarConfiguration?: { resources?: ContainerLike['resources'] } } }).spec?.instanceSidecarConfiguration
          ?.resources,
      );
    }
  }
  const workloads = manifests.flatMap((manifest) => workloadPeaks(manifest, { defaults, maxReplicas, sidecars }));
  const sum = (field: keyof PodResources): number => workloads.reduce((total, w) => total + w.pods * w.perPod[field], 0);
  return {
    pods: workloads.reduce((total, w) => total + w.pods, 0),
    total: { cpuRequest: sum('cpuRequest'), cpuLimit: sum('cpuLimit'), memoryRequest: sum('memoryRequest'), memoryLimit: sum('memoryLimit') },
    workloads,
  };
}

/** An optional on/off container of the Redis operator's custom resources. */
interface RedisOptionalContainer {
  readonly enabled?: boolean;
  readonly resources?: ContainerLike['resources'];
}

/**
 * The `spec` fields the peak reads, over every kind it sizes (Deployment, StatefulSet, Job, CloudNativePG Cluster
 * and Pooler, Redis replication and sentinel): each kind sets only its own, so all are optional.
 */
interface RenderedSpec {
  readonly replicas?: number;
  readonly parallelism?: number;
  readonly instances?: number;
  readonly clusterSize?: number;
  readonly strategy?: { readonly type?: string; readonly rollingUpdate?: { readonly maxSurge?: string | number } };
  readonly template?: { readonly spec?: QuotaPodSpec };
  readonly resources?: ContainerLike['resources'];
  readonly plugins?: readonly { readonly name?: string; readonly parameters?: Readonly<Record<string, string>> }[];
  readonly kubernetesConfig?: { readonly resources?: ContainerLike['resources'] };
  readonly redisExporter?: RedisOptionalContainer;
  readonly initContainer?: RedisOptionalContainer;
  readonly sidecars?: readonly ContainerLike[];
}

/** What the peak of one object depends on elsewhere in the namespace. */
interface PeakContext {
  readonly defaults: ContainerDefaults;
  /** HPA `maxReplicas` by `Kind/name` of the target. */
  readonly maxReplicas: ReadonlyMap<string, number>;
  /** Barman Cloud ObjectStores by name: the resources of the sidecar they give instance pods. */
  readonly sidecars: ReadonlyMap<string, ContainerLike['resources']>;
}

function workloadPeaks(manifest: Manifest, { defaults, maxReplicas, sidecars }: PeakContext): WorkloadPeak[] {
  const source = `${manifest.kind}/${manifest.metadata.name}`;
  const workload = (pods: number, podSpec: QuotaPodSpec, why: string): WorkloadPeak => ({
    source,
    pods,
    perPod: podResources(podSpec, defaults),
    podSpec,
    why,
  });
  const spec = (manifest as { spec?: RenderedSpec }).spec ?? {};
  switch (manifest.kind) {
    case 'Deployment': {
      const hpaMax = maxReplicas.get(source);
      // A color scaled to 0 counts at the size it returns to.
      const reserved = Number((manifest.metadata as { annotations?: Record<string, string> }).annotations?.[PEAK_REPLICAS] ?? NaN);
      const replicas = hpaMax ?? (Number.isInteger(reserved) && reserved > 0 ? reserved : undefined) ?? spec.replicas ?? 1;
      const surge = spec.strategy?.type === 'Recreate' ? 0 : scaled(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas);
      const sized =
        hpaMax !== undefined
          ? `HPA maxReplicas ${hpaMax}`
          : Number.isInteger(reserved) && reserved > 0
            ? `${PEAK_REPLICAS} ${reserved}`
            : `replicas ${replicas}`;
      const why = `${sized} + maxSurge ${surge}`;
      return replicas === 0 ? [] : [workload(replicas + surge, spec.template?.spec ?? {}, why)];
    }
    case 'StatefulSet': {
      const replicas = spec.replicas ?? 1;
      return replicas === 0 ? [] : [workload(replicas, spec.template?.spec ?? {}, `replicas ${replicas}`)];
    }
    case 'Job': {
      const parallelism = spec.parallelism ?? 1;
      return [workload(parallelism, spec.template?.spec ?? {}, `parallelism ${parallelism}`)];
    }
    case 'Cluster':
      return isGroup(manifest, 'postgresql.cnpg.io') ? [cnpgClusterPeak(spec, sidecars, workload)] : [];
    case 'Pooler': {
      if (!isGroup(manifest, 'postgresql.cnpg.io')) {
        return [];
      }
      // A Deployment of PgBouncer pods with the default rolling update (25% surge). The operator's init container
      // (bootstrap-controller) gets the template's pod-level resources, which cutover never sets: LimitRange defaults.
      const instances = spec.instances ?? 1;
      const surge = scaled('25%', instances);
      const template = spec.template?.spec ?? {};
      const podSpec = { containers: template.containers ?? [{ name: 'pgbouncer' }], initContainers: [{ name: 'bootstrap-controller' }] };
      return [workload(instances + surge, podSpec, `instances ${instances} + maxSurge ${surge}`)];
    }
    case 'RedisReplication':
    case 'RedisSentinel': {
      if (!isGroup(manifest, 'redis.redis.opstreelabs.in')) {
        return [];
      }
      // A StatefulSet of clusterSize pods (no surge): the server (or sentinel), the exporter when enabled, the
      // extra sidecars, and the init container only when enabled (internal/k8sutils/statefulset.go).
      const size = spec.clusterSize ?? (manifest.kind === 'RedisSentinel' ? 3 : 1);
      const containers: ContainerLike[] = [
        { name: 'redis', resources: spec.kubernetesConfig?.resources },
        ...(spec.redisExporter?.enabled === true ? [{ name: 'redis-exporter', resources: spec.redisExporter?.resources }] : []),
        ...(spec.sidecars ?? []),
      ];
      const initContainers: ContainerLike[] =
        spec.initContainer?.enabled === true ? [{ name: 'init', resources: spec.initContainer?.resources }] : [];
      return [workload(size, { containers, initContainers }, `clusterSize ${size}`)];
    }
    default:
      return [];
  }
}

function isGroup(manifest: Manifest, group: string): boolean {
  return manifest.apiVersion.split('/')[0] === group;
}

/**
 * A CloudNativePG Cluster: `instances` pods, each the `postgres` container with `spec.resources`, the
 * bootstrap-controller init container with the same resources, and, when a WAL archiver plugin is configured, the
 * Barman Cloud plugin's native sidecar with its ObjectStore's `instanceSidecarConfiguration.resources` (LimitRange
 * defaults when unset: the plugin sets none). The operator joins one replica at a time, and a bootstrap Job's pod runs
 * only while its instance's pod does not exist yet, so `instances` pods is the peak; it restarts instances one by one
 * on an update, without surge (pkg/specs/pods.go, pkg/specs/jobs.go, plugin-barman-cloud lifecycle.go).
 */
function cnpgClusterPeak(
  spec: RenderedSpec,
  sidecars: PeakContext['sidecars'],
  workload: (pods: number, podSpec: QuotaPodSpec, why: string) => WorkloadPeak,
): WorkloadPeak {
  const instances = spec.instances ?? 1;
  const resources = spec.resources;
  const plugins = (spec.plugins ?? []).filter((plugin) => plugin.parameters?.barmanObjectName !== undefined);
  const initContainers: ContainerLike[] = [
    { name: 'bootstrap-controller', resources },
    ...plugins.map((plugin): ContainerLike => ({
      name: 'plugin-barman-cloud',
      restartPolicy: 'Always',
      resources: sidecars.get(plugin.parameters?.barmanObjectName ?? ''),
    })),
  ];
  return workload(
    instances,
    { containers: [{ name: 'postgres', resources }], initContainers },
    `instances ${instances}${plugins.length > 0 ? ', with the Barman Cloud sidecar' : ''}`,
  );
}

/** `value` (an integer or a percentage like `25%`) of `replicas`, rounded up as the Deployment controller rounds maxSurge. */
function scaled(value: string | number, replicas: number): number {
  if (typeof value === 'number') {
    return value;
  }
  const percent = /^(\d+)%$/.exec(value);
  return percent !== null ? Math.ceil((replicas * Number(percent[1])) / 100) : Number(value);
}

/**
 * What one pod counts against a quota: the larger of its containers plus native sidecars (init containers with
 * `restartPolicy: Always`) and each regular init container plus the sidecars started before it.
 * @see https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers
 */
export function podResources(spec: QuotaPodSpec, defaults: ContainerDefaults = NO_DEFAULTS): PodResources {
  const fields: (keyof PodResources)[] = ['cpuRequest', 'cpuLimit', 'memoryRequest', 'memoryLimit'];
  const sidecarsSoFar: PodResources[] = [];
  const initPeaks: PodResources[] = [];
  for (const init of spec.initContainers ?? []) {
    const resources = containerResources(init, defaults);
    if (init.restartPolicy === 'Always') {
      sidecarsSoFar.push(resources);
    } else {
      initPeaks.push(add([resources, ...sidecarsSoFar]));
    }
  }
  const running = add([...(spec.containers ?? []).map((container) => containerResources(container, defaults)), ...sidecarsSoFar]);
  return Object.fromEntries(
    fields.map((field) => [field, Math.max(running[field], ...initPeaks.map((peak) => peak[field]))]),
  ) as unknown as PodResources;
}

function add(parts: readonly PodResources[]): PodResources {
  return {
    cpuRequest: parts.reduce((sum, part) => sum + part.cpuRequest, 0),
    cpuLimit: parts.reduce((sum, part) => sum + part.cpuLimit, 0),
    memoryRequest: parts.reduce((sum, part) => sum + part.memoryRequest, 0),
    memoryLimit: parts.reduce((sum, part) => sum + part.memoryLimit, 0),
  };
}

/** A container's resources after API defaulting (a limit without a request is the request) and the LimitRange's defaults. */
export function containerResources(container: ContainerLike, defaults: ContainerDefaults = NO_DEFAULTS): PodResources {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  const read = (map: Record<string, string | number>, name: 'cpu' | 'memory'): number | undefined =>
    map[name] === undefined ? undefined : name === 'cpu' ? millicores(map[name]) : bytes(map[name]);
  const limitCpu = read(limits, 'cpu') ?? defaults.defaultLimit.cpu;
  const limitMemory = read(limits, 'memory') ?? defaults.defaultLimit.memory;
  return {
    cpuRequest: read(requests, 'cpu') ?? (limits.cpu !== undefined ? limitCpu : defaults.defaultRequest.cpu),
    cpuLimit: limitCpu,
    memoryRequest: read(requests, 'memory') ?? (limits.memory !== undefined ? limitMemory : defaults.defaultRequest.memory),
    memoryLimit: limitMemory,
  };
}

/** The defaults of the first `type: Container` limit of a rendered LimitRange, or none. */
function containerDefaults(manifests: readonly Manifest[]): ContainerDefaults {
  for (const manifest of manifests) {
    if (manifest.kind !== 'LimitRange') {
      continue;
    }
    const limits =
      (manifest as { spec?: { limits?: { type?: string; default?: Record<string, string>; defaultRequest?: Record<string, string> }[] } }).spec
        ?.limits ?? [];
    const container = limits.find((limit) => limit.type === 'Container');
    if (container !== undefined) {
      const limit = { cpu: millicores(container.default?.cpu ?? 0), memory: bytes(container.default?.memory ?? 0) };
      // Without a defaultRequest the LimitRanger uses the default limit as the request.
      const request =
        container.defaultRequest !== undefined
          ? { cpu: millicores(container.defaultRequest.cpu ?? 0), memory: bytes(container.defaultRequest.memory ?? 0) }
          : limit;
      return { defaultRequest: request, defaultLimit: limit };
    }
  }
  return NO_DEFAULTS;
}

const SUFFIXES: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** A Kubernetes quantity (`250m`, `1.5`, `2Gi`, `500M`) as a number of base units; throws on anything else. */
export function quantity(value: string | number): number {
  if (typeof value === 'number') {
    return value;
  }
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(value);
  if (match === null) {
    throw new Error(`not a Kubernetes quantity, got "${value}"; e.g. "250m", "1", "512Mi" or "2Gi"`);
  }
  return Number(match[1]) * SUFFIXES[match[2] ?? ''];
}

/** CPU as whole millicores, rounded up as the API server rounds a quantity below 1m. */
export function millicores(value: string | number): number {
  return Math.ceil(Math.round(quantity(value) * 1e6) / 1e3);
}

/** Memory in whole bytes, rounded up. */
export function bytes(value: string | number): number {
  return Math.ceil(quantity(value));
}
