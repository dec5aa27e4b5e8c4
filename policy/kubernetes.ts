/**
 * What the policies read of a Pulumi resource that is a Kubernetes object: typed shapes of the fields they
 * inspect (nothing else is assumed about an object), and how an object is named in a message.
 *
 * The program registers every object as its own `@pulumi/kubernetes` resource whose type token is
 * `kubernetes:<group>/<version>:<Kind>` (`core/v1` for the core group), custom resources included, and whose
 * properties are the manifest (`apiVersion`, `kind`, `metadata`, `spec`, …).
 */
import { PodSpecLike } from '../lib/core/pod-security';

/** One resource as a policy sees it: its Pulumi type token and its properties (inputs, or outputs in a stack check). */
export interface PolicyObject {
  /** Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  /** The properties: for Kubernetes resources, the manifest. */
  readonly props: Readonly<Record<string, unknown>>;
  /** The URN, when the engine gave one; violations of stack rules point at it. */
  readonly urn?: string;
}

/** `metadata` of an object. */
export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A label selector (`matchLabels` and `matchExpressions`). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | null;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | null;
}

/** One `matchExpressions` entry. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | null;
}

/** An environment variable of a container. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: Readonly<Record<string, unknown>>;
}

/** `resources` of a container. */
export interface ResourceRequirements {
  readonly requests?: Readonly<Record<string, string | number>>;
  readonly limits?: Readonly<Record<string, string | number>>;
}

/** The container fields the policies read. */
export interface Container {
  readonly name?: string;
  readonly image?: string;
  readonly resources?: ResourceRequirements;
  readonly env?: readonly EnvVar[];
  readonly securityContext?: NonNullable<PodSpecLike['containers']>[number]['securityContext'];
  readonly ports?: readonly { readonly hostPort?: number }[];
}

/** The pod spec fields the policies read: the Pod Security fields plus images, resources and environment. */
export interface PodSpec extends PodSpecLike {
  readonly containers?: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly ephemeralContainers?: readonly Container[];
}

/** `spec.template` of a workload. */
export interface PodTemplateSpec {
  readonly metadata?: ObjectMeta;
  readonly spec?: PodSpec;
}

/** The group/version and kind of a Kubernetes resource type token, e.g. `apps/v1` and `Deployment`. */
export interface KubernetesKind {
  /** As in a manifest's `apiVersion`: `v1` for the core group. */
  readonly apiVersion: string;
  readonly kind: string;
}

const TYPE_TOKEN = /^kubernetes:([^:]+):([A-Za-z0-9]+)$/;

/** The apiVersion and kind a `kubernetes:…` type token stands for; undefined for any other resource. */
export function kindOf(type: string): KubernetesKind | undefined {
  const match = TYPE_TOKEN.exec(type);
  if (match === null) {
    return undefined;
  }
  return { apiVersion: match[1] === 'core/v1' ? 'v1' : match[1], kind: match[2] };
}

/** True when `object` is a Kubernetes object of `apiVersion` and `kind`. */
export function isKind(object: PolicyObject, apiVersion: string, kind: string): boolean {
  const found = kindOf(object.type);
  return found !== undefined && found.apiVersion === apiVersion && found.kind === kind;
}

/** The object's metadata; an empty one when it has none. */
export function metadataOf(object: PolicyObject): ObjectMeta {
  const metadata = object.props.metadata;
  return typeof metadata === 'object' && metadata !== null ? metadata : {};
}

/** The object's namespace (`default` when the manifest names none, as the API server would). */
export function namespaceOf(object: PolicyObject): string {
  return metadataOf(object).namespace ?? 'default';
}

/** The object's `spec`, typed by the caller; an empty object when it has none. */
export function specOf<T>(object: PolicyObject): Partial<T> {
  const spec = object.props.spec;
  return typeof spec === 'object' && spec !== null ? spec : {};
}

/** How a message names an object: `Deployment web-prod/web-blue`. */
export function describeObject(object: PolicyObject): string {
  const kind = kindOf(object.type)?.kind ?? object.type;
  const { name, namespace } = metadataOf(object);
  return `${kind} ${namespace !== undefined ? `${namespace}/` : ''}${name ?? '(unnamed)'}`;
}

/** `{a=1,b=2}`: labels as a message shows them. */
export function showLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')}}`;
}

/** A violation message in the project's shape: `<where>: <problem>, got <value>; <fix>`. */
export function violation(where: string, problem: string, got: string, fix: string): string {
  return `${where}: ${problem}, got ${got}; ${fix}`;
}

/** A violation of a stack rule, and the resource it is about (none: the stack as a whole). */
export interface StackViolation {
  readonly message: string;
  readonly urn?: string;
}
