import { PolicyObject, StackViolation, describeObject, isKind, metadataOf, namespaceOf, specOf, violation } from './kubernetes';

/** The annotation that tells the Kubernetes provider not to wait for an object to become ready. */
export const SKIP_AWAIT = 'pulumi.com/skipAwait';

/** The `spec` fields of an Ingress (networking.k8s.io/v1) that name Services. */
interface IngressSpec {
  readonly defaultBackend: IngressBackend;
  readonly rules: readonly { readonly http?: { readonly paths?: readonly { readonly backend?: IngressBackend }[] } }[];
}

interface IngressBackend {
  readonly service?: { readonly name?: string };
}

/** The kinds whose readiness decides whether traffic moves to ready pods. */
const WORKLOAD_KINDS: readonly (readonly [string, string])[] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
];

/** `namespace/name` of every Service an Ingress routes to. */
interface HttpRouteSpec {
  readonly rules?: readonly { readonly backendRefs?: readonly { readonly kind?: string; readonly name?: string; readonly namespace?: string }[] }[];
}

function routedServices(objects: readonly PolicyObject[]): Set<string> {
  const routed = new Set<string>();
  for (const route of objects.filter((object) => isKind(object, 'gateway.networking.k8s.io/v1', 'HTTPRoute'))) {
    for (const backend of (specOf<HttpRouteSpec>(route).rules ?? []).flatMap((rule) => rule.backendRefs ?? [])) {
      if (backend.name !== undefined && (backend.kind ?? 'Service') === 'Service') {
        routed.add(`${backend.namespace ?? namespaceOf(route)}/${backend.name}`);
      }
    }
  }
  for (const ingress of objects.filter((object) => isKind(object, 'networking.k8s.io/v1', 'Ingress'))) {
    const spec = specOf<IngressSpec>(ingress);
    const backends = [spec.defaultBackend, ...(spec.rules ?? []).flatMap((rule) => (rule.http?.paths ?? []).map((path) => path.backend))];
    for (const backend of backends) {
      const name = backend?.service?.name;
      if (name !== undefined) {
        routed.add(`${namespaceOf(ingress)}/${name}`);
      }
    }
  }
  return routed;
}

/**
 * The objects in the traffic path, and why:
 * - every Ingress (it is where traffic enters);
 * - every Service an Ingress routes to (the live Service `<app>`);
 * - every Deployment and StatefulSet: either color's Deployment carries traffic once a cutover points the
 *   live Service at it, and the provider's rollout await is what keeps `pulumi up` from switching the live
 *   Service before the new pods are ready.
 *
 * A Service no Ingress routes to is not in the traffic path: that is the preview Service (`<app>-preview`),
 * which selects the idle color, may select a color scaled to 0 and so has no endpoints to wait for.
 */
export function trafficPath(objects: readonly PolicyObject[]): { readonly object: PolicyObject; readonly why: string }[] {
  const routed = routedServices(objects);
  return objects.flatMap((object) => {
    if (isKind(object, 'networking.k8s.io/v1', 'Ingress') || isKind(object, 'gateway.networking.k8s.io/v1', 'HTTPRoute')) {
      return [{ object, why: 'traffic enters through it' }];
    }
    if (isKind(object, 'v1', 'Service') && routed.has(`${namespaceOf(object)}/${metadataOf(object).name ?? ''}`)) {
      return [{ object, why: 'an Ingress or HTTPRoute routes to it' }];
    }
    if (WORKLOAD_KINDS.some(([apiVersion, kind]) => isKind(object, apiVersion, kind))) {
      return [{ object, why: 'its pods receive traffic once the live Service selects them' }];
    }
    return [];
  });
}

/**
 * Whether the provider's await of an object proves something about readiness. For a Deployment or StatefulSet it is
 * the rollout (ready pods), for an Ingress its load balancer, for a LoadBalancer Service its address. For a ClusterIP
 * (or NodePort) Service it is not: pulumi-kubernetes 4.25 (provider/pkg/await/service.go) waits until 10 s have passed since the
 * last change of the Service's Endpoints with no not-ready address among them, and passes with no endpoints at all;
 * on an update it runs after the new selector is applied. Ready endpoints behind a route are the gate's check
 * (lib/gates/cutover-gate.ts), made just before traffic moves.
 */
function awaitProvesReadiness(object: PolicyObject): boolean {
  if (!isKind(object, 'v1', 'Service')) {
    return true;
  }
  // A NodePort Service is awaited like a ClusterIP one; only a LoadBalancer's await waits for something (its address).
  return specOf<{ readonly type?: string }>(object).type === 'LoadBalancer';
}

/**
 * Traffic-path objects marked `pulumi.com/skipAwait` whose await proves readiness: without it, `pulumi up` would
 * report success and move on to the routing objects while the pods (or the load balancer) behind them are not ready.
 */
export function skipAwaitViolations(objects: readonly PolicyObject[]): StackViolation[] {
  return trafficPath(objects).flatMap(({ object, why }) => {
    if (!awaitProvesReadiness(object)) {
      return [];
    }
    const value = metadataOf(object).annotations?.[SKIP_AWAIT];
    if (value === undefined || String(value).toLowerCase() !== 'true') {
      return [];
    }
    return [
      {
        urn: object.urn,
        message: violation(
          describeObject(object),
          `is in the traffic path (${why}) but skips the provider's readiness await`,
          `${SKIP_AWAIT}=${value}`,
          'remove the annotation; only ClusterIP and NodePort Services may skip it (their await proves no readiness; the gate checks ready ' +
            'endpoints)',
        ),
      },
    ];
  });
}
