import { k8s } from 'cdk8s-plus-28';
import { parseMebibytes, resolveResources } from './validation';

/** One environment variable of a container: a plain value or a key of a Secret. */
export interface AppEnvVar {
  readonly name: string;
  /** A literal value; may reference earlier variables as `$(NAME)`. */
  readonly value?: string;
  /** A key of a Secret, read by the kubelet: the value never appears in manifests or state. */
  readonly secretKeyRef?: { readonly name: string; readonly key: string };
}

/** A backing service an app (or its migration) connects to, e.g. a database or a cache: what it needs to reach it. */
export interface IAppBackend {
  /** Environment variables that connect the app, in order (later ones may use `$(EARLIER)`). */
  readonly connectionEnv: readonly AppEnvVar[];
}

/** The connection variables of every backend, in order, as container `env` entries. */
export function backendEnv(backends: readonly IAppBackend[]): k8s.EnvVar[] {
  return backends.flatMap((backend) =>
    backend.connectionEnv.map(({ name, value, secretKeyRef }) =>
      secretKeyRef !== undefined ? { name, valueFrom: { secretKeyRef: { name: secretKeyRef.name, key: secretKeyRef.key } } } : { name, value },
    ),
  );
}

/** Plain variables as container `env` entries, in the order given. */
export function plainEnv(env: Readonly<Record<string, string>>): k8s.EnvVar[] {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/**
 * The container security context of every pod this project runs itself, as Pod Security `restricted` asks: non-root
 * as `runAsUser` (and its group), no privilege or escalation, a read-only root filesystem, no capabilities.
 */
export function restrictedContainerSecurity(runAsUser: number): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: runAsUser,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Requests and limits of a container, as its props give them (any field may be left out for its default). */
export interface ContainerResourceProps {
  readonly cpuRequest?: string;
  readonly cpuLimit?: string;
  readonly memoryRequest?: string;
  readonly memoryLimit?: string;
  readonly ephemeralStorageRequest?: string;
  readonly ephemeralStorageLimit?: string;
}

/** The writable volumes of a container, which count against its ephemeral-storage limit. */
export interface WritableStorage {
  /** Their total size limit, in mebibytes (0 without any). */
  readonly mebibytes: number;
  /** What they are, for the message when the limit cannot hold them, e.g. `the writable /tmp of 64Mi`. */
  readonly description: string;
}

/**
 * Validates and renders a container's requests and limits, ephemeral storage included: every request at most its
 * limit, and the ephemeral-storage limit above the writable volumes (else the kubelet evicts the pod once they fill).
 */
export function containerResources(
  resources: ContainerResourceProps,
  defaults: Required<ContainerResourceProps>,
  writable: WritableStorage,
): k8s.ResourceRequirements {
  const cpuMemory = resolveResources(resources, defaults);
  const request = resources.ephemeralStorageRequest ?? defaults.ephemeralStorageRequest;
  const limit = resources.ephemeralStorageLimit ?? defaults.ephemeralStorageLimit;
  const requestMi = parseMebibytes('resources.ephemeralStorageRequest', request);
  const limitMi = parseMebibytes('resources.ephemeralStorageLimit', limit);
  if (requestMi > limitMi) {
    throw new Error(
      `resources.ephemeralStorageRequest: exceeds resources.ephemeralStorageLimit ${limit}, got ${request}; lower the request or raise the limit`,
    );
  }
  if (limitMi <= writable.mebibytes) {
    const suggestion = Math.max(parseMebibytes('defaults.ephemeralStorageLimit', defaults.ephemeralStorageLimit), 2 * writable.mebibytes);
    throw new Error(`resources.ephemeralStorageLimit: must exceed ${writable.description}, got ${limit}; raise it, e.g. to ${suggestion}Mi`);
  }
  return {
    requests: {
      cpu: k8s.Quantity.fromString(cpuMemory.requests.cpu),
      memory: k8s.Quantity.fromString(cpuMemory.requests.memory),
      'ephemeral-storage': k8s.Quantity.fromString(request),
    },
    limits: {
      cpu: k8s.Quantity.fromString(cpuMemory.limits.cpu),
      memory: k8s.Quantity.fromString(cpuMemory.limits.memory),
      'ephemeral-storage': k8s.Quantity.fromString(limit),
    },
  };
}

/**
 * Name of an app's container, and of its HTTP and metrics ports: what the app renders, and what its monitoring
 * selects (cAdvisor series by container, the ServiceMonitor by port name).
 */
export const APP_CONTAINER_NAME = 'app';
export const HTTP_PORT_NAME = 'http';
export const METRICS_PORT_NAME = 'metrics';
