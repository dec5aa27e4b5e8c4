import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { ApiObject } from 'cdk8s';
import { Manifest, RenderedObject, objectKey } from '../lib';

type ResourceClass = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/**
 * The kinds the constructs emit, mapped to their typed Pulumi classes, so each object gets the provider's
 * readiness await for its kind (a Deployment waits for its rollout, a Service for its endpoints).
 * Any other kind (custom resources) is registered as a `CustomResource` of the same type token.
 */
const TYPED_KINDS: Readonly<Record<string, ResourceClass>> = {
  'v1/Namespace': k8s.core.v1.Namespace,
  'v1/ServiceAccount': k8s.core.v1.ServiceAccount,
  'v1/ConfigMap': k8s.core.v1.ConfigMap,
  'v1/Service': k8s.core.v1.Service,
  'v1/ResourceQuota': k8s.core.v1.ResourceQuota,
  'v1/LimitRange': k8s.core.v1.LimitRange,
  'apps/v1/Deployment': k8s.apps.v1.Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': k8s.autoscaling.v2.HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': k8s.policy.v1.PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': k8s.networking.v1.Ingress,
  'networking.k8s.io/v1/NetworkPolicy': k8s.networking.v1.NetworkPolicy,
  'batch/v1/Job': k8s.batch.v1.Job,
  'rbac.authorization.k8s.io/v1/Role': k8s.rbac.v1.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': k8s.rbac.v1.RoleBinding,
};

/** Options of {@link deployObjects}. */
export interface DeployOptions {
  /** Parent of every resource. */
  readonly parent?: pulumi.Resource;
  /** The Kubernetes provider; the default provider (ambient kubeconfig) when absent. */
  readonly provider?: k8s.Provider;
  /** How long the provider waits for an object to become ready before the update fails. */
  readonly timeouts?: pulumi.CustomTimeouts;
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
  /** Further resources an object must wait for, e.g. the operator that serves its custom resource kind. */
  readonly dependsOn?: (manifest: Manifest) => readonly pulumi.Resource[];
}

/**
 * The stable Pulumi name of an object: `namespace/name`, or `name` for cluster-scoped objects.
 * The resource type carries the kind, so the name only has to be unique per kind.
 */
export function resourceName(manifest: Manifest): string {
  return manifest.metadata.namespace === undefined ? manifest.metadata.name : `${manifest.metadata.namespace}/${manifest.metadata.name}`;
}

/**
 * Registers each rendered object as its own Pulumi resource, in render order, with `dependsOn` edges:
 * every namespaced object after its Namespace (when it is one of `objects`), and after every object its
 * construct depends on (`node.addDependency` in lib/, e.g. the live Service on the active Deployment).
 * @returns the resources by object key (see {@link objectKey})
 */
export function deployObjects(objects: readonly RenderedObject[], options: DeployOptions = {}): Map<string, pulumi.CustomResource> {
  const resources = new Map<string, pulumi.CustomResource>();
  const byObject = new Map<ApiObject, pulumi.CustomResource>();
  const namespaces = new Map<string, pulumi.CustomResource>();
  for (const { object, manifest } of objects) {
    const dependsOn: pulumi.Resource[] = [];
    const namespace = manifest.metadata.namespace !== undefined ? namespaces.get(manifest.metadata.namespace) : undefined;
    if (namespace !== undefined) {
      dependsOn.push(namespace);
    }
    for (const before of object.node.dependencies.flatMap((dependency) => dependency.node.findAll().filter(ApiObject.isApiObject))) {
      const resource = byObject.get(before);
      if (resource === undefined) {
        throw new Error(`bridge: ${objectKey(manifest)} must wait for ${before.kind} "${before.name}", which is not rendered before it`);
      }
      dependsOn.push(resource);
    }
    dependsOn.push(...(options.dependsOn?.(manifest) ?? []));
    const opts: pulumi.CustomResourceOptions = {
      parent: options.parent,
      provider: options.provider,
      dependsOn,
      customTimeouts: options.timeouts,
    };
    let args = options.skipAwait?.includes(object) ? withAnnotation(manifest, 'pulumi.com/skipAwait', 'true') : manifest;
    args = options.forceOwnership === true ? withAnnotation(args, 'pulumi.com/patchForce', 'true') : args;
    const Typed = TYPED_KINDS[`${manifest.apiVersion}/${manifest.kind}`];
    const resource =
      Typed !== undefined
        ? new Typed(resourceName(manifest), args as never, opts)
        : new k8s.apiextensions.CustomResource(resourceName(manifest), args as unknown as k8s.apiextensions.CustomResourceArgs, opts);
    resources.set(objectKey(manifest), resource);
    byObject.set(object, resource);
    if (manifest.kind === 'Namespace' && manifest.apiVersion === 'v1') {
      namespaces.set(manifest.metadata.name, resource);
    }
  }
  return resources;
}

function withAnnotation(manifest: Manifest, key: string, value: string): Manifest {
  const annotations = (manifest.metadata.annotations ?? {}) as Record<string, string>;
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...annotations, [key]: value } } };
}
