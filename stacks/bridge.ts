import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { Manifest, RenderedObject, objectKey } from '../lib';

// The bridge from rendered cdk8s objects to Pulumi resources, in two parts: `registrationPlan` decides everything
// (type, name, args, parent, dependencies) as plain data that tests check directly; `register` only creates what
// the plan says.

/** The Pulumi package that groups the stack's objects in `pulumi preview`: `cutover:index:<Construct>`. */
export const COMPONENT_PACKAGE = 'cutover:index';

/** One ComponentResource: the stack's Platform, or one top-level construct of its chart (an app, a gate, the database). */
export interface ComponentPlan {
  /** `<type>::<name>`, unique in the plan. */
  readonly key: string;
  /** `cutover:index:Platform`, or `cutover:index:<construct class>` (e.g. `cutover:index:BlueGreenApp`). */
  readonly type: string;
  /** The Platform: the stack's namespace. A construct: its construct ID, which is public contract like an object name. */
  readonly name: string;
  /** Key of the parent component; absent for the Platform (a child of the stack). */
  readonly parent?: string;
}

/** One rendered object as a Pulumi resource. */
export interface ResourcePlan {
  /** The object's key (see {@link objectKey}). */
  readonly key: string;
  /** The Pulumi type token: `kubernetes:<group>/<version>:<Kind>`, `core` for the core group. */
  readonly type: string;
  /** See {@link resourceName}. */
  readonly name: string;
  /** The manifest, with the annotations the provider reads (`pulumi.com/skipAwait`, `pulumi.com/patchForce`). */
  readonly args: Manifest;
  /** Key of the component it lives under. */
  readonly parent: string;
  /** Keys of the objects it waits for: its Namespace and what its construct depends on, in that order. */
  readonly dependsOn: readonly string[];
  /** Waits for the operators the program installs (their custom resource kinds). */
  readonly waitsForOperators: boolean;
  /** How long the provider waits for the object to become ready before the update fails; absent: the provider's own. */
  readonly customTimeouts?: ResourceTimeouts;
}

/** A resource's create and update timeouts, in Pulumi's duration strings (`90s`). */
export interface ResourceTimeouts {
  readonly create: string;
  readonly update: string;
}

/** Everything the program registers for the rendered objects, in registration order. */
export interface RegistrationPlan {
  readonly components: readonly ComponentPlan[];
  readonly resources: readonly ResourcePlan[];
}

/** Options of {@link registrationPlan}. */
export interface PlanOptions {
  /** Name of the Platform component: the stack's namespace. */
  readonly platform: string;
  /**
   * Objects the provider must not wait for, e.g. the preview Service of a color scaled to 0, which has no
   * endpoints by design. Marked with `pulumi.com/skipAwait`.
   */
  readonly skipAwait?: readonly ApiObject[];
  /**
   * Take ownership of every field the program declares, even from another field manager (a hand-run
   * `kubectl patch`): marks objects with `pulumi.com/patchForce`. Without it, server-side apply refuses to
   * overwrite such a field and drift could not be corrected by `pulumi up --refresh`.
   */
  readonly forceOwnership?: boolean;
  /** Objects that must wait for the operators, e.g. those whose custom resource kind an operator serves. @default none */
  readonly waitsForOperators?: (manifest: Manifest) => boolean;
  /** How long the provider may wait for each object to become ready, in seconds. @default the provider's own timeouts */
  readonly timeoutSeconds?: number;
}

/**
 * The stable Pulumi name of an object: `namespace/name`, or `name` for cluster-scoped objects.
 * The resource type carries the kind, so the name only has to be unique per kind.
 */
export function resourceName(manifest: Manifest): string {
  return manifest.metadata.namespace === undefined ? manifest.metadata.name : `${manifest.metadata.namespace}/${manifest.metadata.name}`;
}

/** The Kubernetes provider's type token for a kind: `kubernetes:apps/v1:Deployment`, `kubernetes:core/v1:Service`. */
export function resourceType(manifest: Pick<Manifest, 'apiVersion' | 'kind'>): string {
  const groupVersion = manifest.apiVersion.includes('/') ? manifest.apiVersion : `core/${manifest.apiVersion}`;
  return `kubernetes:${groupVersion}:${manifest.kind}`;
}

/**
 * Plans each rendered object as its own Pulumi resource, in render order, under a component for its top-level construct
 * (the app, its gate, the database, ...), all under one Platform component, with `dependsOn` edges: every namespaced
 * object after its Namespace (when it is one of `objects`), and after every object its construct depends on
 * (`node.addDependency` in lib/, e.g. the live Service on the active Deployment). Pure: nothing is registered.
 */
export function registrationPlan(objects: readonly RenderedObject[], options: PlanOptions): RegistrationPlan {
  const platform: ComponentPlan = {
    key: `${COMPONENT_PACKAGE}:Platform::${options.platform}`,
    type: `${COMPONENT_PACKAGE}:Platform`,
    name: options.platform,
  };
  const components = new Map<string, ComponentPlan>([[platform.key, platform]]);
  const keyOf = new Map<ApiObject, string>();
  const namespaces = new Set<string>();
  const resources: ResourcePlan[] = [];
  for (const { object, manifest } of objects) {
    const key = objectKey(manifest);
    const dependsOn: string[] = [];
    const namespace = manifest.metadata.namespace;
    if (namespace !== undefined && namespaces.has(namespace)) {
      dependsOn.push(objectKey({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }));
    }
    for (const before of object.node.dependencies.flatMap((dependency) => dependency.node.findAll().filter((c) => ApiObject.isApiObject(c)))) {
      const found = keyOf.get(before);
      if (found === undefined) {
        throw new Error(`bridge: ${key} must wait for ${before.kind} "${before.name}", which is not rendered before it`);
      }
      dependsOn.push(found);
    }
    let args = options.skipAwait?.includes(object) ? withAnnotation(manifest, 'pulumi.com/skipAwait', 'true') : manifest;
    args = options.forceOwnership === true ? withAnnotation(args, 'pulumi.com/patchForce', 'true') : args;
    const component = componentOf(object, platform);
    components.set(component.key, component);
    resources.push({
      key,
      type: resourceType(manifest),
      name: resourceName(manifest),
      args,
      parent: component.key,
      dependsOn,
      waitsForOperators: options.waitsForOperators?.(manifest) ?? false,
      ...(options.timeoutSeconds !== undefined
        ? { customTimeouts: { create: `${options.timeoutSeconds}s`, update: `${options.timeoutSeconds}s` } }
        : {}),
    });
    keyOf.set(object, key);
    if (manifest.kind === 'Namespace' && manifest.apiVersion === 'v1') {
      namespaces.add(manifest.metadata.name);
    }
  }
  return { components: [...components.values()], resources };
}

/** The component of an object: its top-level construct in the chart, or the Platform for an object placed in the chart itself. */
function componentOf(object: ApiObject, platform: ComponentPlan): ComponentPlan {
  // scopes: the App, the Chart, then the construct tree down to the object.
  const top: IConstruct | undefined = object.node.scopes[2];
  if (top === undefined || top === object) {
    return platform;
  }
  const type = `${COMPONENT_PACKAGE}:${top.constructor.name}`;
  return { key: `${type}::${top.node.id}`, type, name: top.node.id, parent: platform.key };
}

/**
 * The kinds the constructs emit, mapped to their typed Pulumi classes, so each object gets the provider's
 * readiness await for its kind (a Deployment waits for its rollout, a Service for its endpoints).
 * Any other kind (custom resources) is registered as a `CustomResource` of the same type token.
 */
const TYPED_KINDS: Readonly<Record<string, new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource>> = {
  'kubernetes:core/v1:Namespace': k8s.core.v1.Namespace,
  'kubernetes:core/v1:ServiceAccount': k8s.core.v1.ServiceAccount,
  'kubernetes:core/v1:ConfigMap': k8s.core.v1.ConfigMap,
  'kubernetes:core/v1:Service': k8s.core.v1.Service,
  'kubernetes:core/v1:ResourceQuota': k8s.core.v1.ResourceQuota,
  'kubernetes:core/v1:LimitRange': k8s.core.v1.LimitRange,
  'kubernetes:apps/v1:Deployment': k8s.apps.v1.Deployment,
  'kubernetes:autoscaling/v2:HorizontalPodAutoscaler': k8s.autoscaling.v2.HorizontalPodAutoscaler,
  'kubernetes:policy/v1:PodDisruptionBudget': k8s.policy.v1.PodDisruptionBudget,
  'kubernetes:networking.k8s.io/v1:Ingress': k8s.networking.v1.Ingress,
  'kubernetes:networking.k8s.io/v1:NetworkPolicy': k8s.networking.v1.NetworkPolicy,
  'kubernetes:batch/v1:Job': k8s.batch.v1.Job,
  'kubernetes:rbac.authorization.k8s.io/v1:Role': k8s.rbac.v1.Role,
  'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding': k8s.rbac.v1.RoleBinding,
};

/** What {@link register} adds to the plan: what only exists once the program runs. */
export interface RegisterOptions {
  /** The operators the program installed: the resources planned with `waitsForOperators` wait for them. */
  readonly operators?: readonly pulumi.Resource[];
}

/**
 * The options of one planned resource, given the resources registered before it. Every resource also answers to the URN
 * it had before the objects were grouped under components (a child of the stack), so a stack deployed by that layout
 * updates in place: Pulumi moves each resource under its component without replacing it.
 */
export function resourceOptions(
  entry: ResourcePlan,
  registered: ReadonlyMap<string, pulumi.Resource>,
  options: RegisterOptions,
): pulumi.CustomResourceOptions {
  const dependency = (key: string): pulumi.Resource => {
    const found = registered.get(key);
    if (found === undefined) {
      throw new Error(`bridge: ${entry.key} must wait for ${key}, which is not registered before it`);
    }
    return found;
  };
  return {
    parent: dependency(entry.parent),
    dependsOn: [...entry.dependsOn.map(dependency), ...(entry.waitsForOperators ? (options.operators ?? []) : [])],
    customTimeouts: entry.customTimeouts,
    aliases: [{ parent: pulumi.rootStackResource }],
  };
}

/**
 * Registers the plan: each component, then each object as its typed resource (a `CustomResource` for other kinds).
 * @returns the resources by object key (see {@link objectKey})
 */
export function register(plan: RegistrationPlan, options: RegisterOptions = {}): Map<string, pulumi.CustomResource> {
  const registered = new Map<string, pulumi.Resource>();
  const components: Component[] = [];
  for (const component of plan.components) {
    const parent = component.parent !== undefined ? registered.get(component.parent) : undefined;
    const resource = new Component(component, parent);
    registered.set(component.key, resource);
    components.push(resource);
  }
  const resources = new Map<string, pulumi.CustomResource>();
  for (const entry of plan.resources) {
    const opts = resourceOptions(entry, registered, options);
    const Typed = TYPED_KINDS[entry.type];
    const resource =
      Typed !== undefined ? new Typed(entry.name, entry.args as never, opts) : new k8s.apiextensions.CustomResource(entry.name, entry.args, opts);
    registered.set(entry.key, resource);
    resources.set(entry.key, resource);
  }
  for (const component of components) {
    component.complete();
  }
  return resources;
}

/** A component of the plan; {@link register} completes it once every object under it is registered. */
class Component extends pulumi.ComponentResource {
  constructor(plan: ComponentPlan, parent: pulumi.Resource | undefined) {
    super(plan.type, plan.name, {}, { parent });
  }

  complete(): void {
    this.registerOutputs({});
  }
}

function withAnnotation(manifest: Manifest, key: string, value: string): Manifest {
  const annotations = (manifest.metadata.annotations ?? {}) as Record<string, string>;
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...annotations, [key]: value } } };
}
