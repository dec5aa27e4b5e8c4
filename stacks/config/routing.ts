import { ROUTERS, Router } from '../../lib';
import { Fail } from './errors';
import { CONFIG_SCHEMAS, checkShape, checkValue } from './shape';
import { GatewayConfig, NetworkConfig, RoutingConfig, routingSchema } from './schema';

/**
 * Where the Gateway's proxies run, which the app's NetworkPolicy admits: `network.gatewayNamespace`, else the
 * Gateway's namespace (the stack's own for a Gateway it creates or one without `namespace`). Undefined without the
 * gateway router.
 */
export function gatewayProxyNamespace(routing: RoutingConfig, network: NetworkConfig, stackNamespace: string): string | undefined {
  const gateway = routing.router === 'gateway' ? routing.gateway : undefined;
  if (gateway === undefined) {
    return undefined;
  }
  return network.gatewayNamespace ?? gateway.namespace ?? stackNamespace;
}

/**
 * The `routing` value. A stack must say how it routes: cutover's default router is Gateway API, and a stack deployed
 * before that default existed routes through an Ingress, so an absent `routing` is refused rather than read as either
 * (docs/routing.md: a stack that says nothing).
 */
export function parseRouting(
  value: unknown,
  stack: { readonly app: string; readonly namespace: string; readonly values: ReadonlyMap<string, string> },
  fail: Fail,
): RoutingConfig {
  if (value === undefined) {
    fail(
      'routing',
      'is not set: the default router is now Gateway API (an HTTPRoute on a Gateway), and a stack deployed before routed through an Ingress',
      undefined,
      'name the Gateway: `pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`); ' +
        'a stack deployed with an Ingress keeps it with `pulumi config set --path routing.router ingress`, then migrates (docs/routing.md)',
    );
    return { router: 'gateway' };
  }
  if (!checkShape('routing', value, CONFIG_SCHEMAS.keys.routing, fail)) {
    return { router: 'gateway' };
  }
  const raw = value as { router?: string; gateway?: Partial<GatewayConfig>; keepIngress?: boolean; requestTimeoutSeconds?: number };
  const router = (raw.router ?? 'gateway') as Router;
  if (!ROUTERS.includes(router)) {
    fail('routing.router', `must be one of ${ROUTERS.join(', ')}`, router, '`gateway` for an HTTPRoute on a Gateway, `ingress` for an Ingress');
    return { router: 'gateway' };
  }
  const timeout = raw.requestTimeoutSeconds;
  checkValue('routing.requestTimeoutSeconds', timeout, routingSchema.shape.requestTimeoutSeconds, fail);
  const rest = {
    ...(raw.keepIngress !== undefined ? { keepIngress: raw.keepIngress } : {}),
    ...(timeout !== undefined ? { requestTimeoutSeconds: timeout } : {}),
  };
  if (router === 'ingress') {
    if (raw.gateway !== undefined) {
      fail(
        'routing.gateway',
        'is only read by the gateway router, got it with routing.router ingress',
        raw.gateway,
        'remove it, or set routing.router to gateway (docs/routing.md: migrating)',
      );
    }
    if (raw.keepIngress !== undefined) {
      fail(
        'routing.keepIngress',
        'keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router ingress',
        raw.keepIngress,
        'remove it',
      );
    }
    if (timeout !== undefined) {
      fail(
        'routing.requestTimeoutSeconds',
        "is the HTTPRoute's request timeout, got it with routing.router ingress",
        timeout,
        "remove it: the Ingress controller's timeouts apply",
      );
    }
    return { router };
  }
  if (raw.keepIngress !== true && stack.values.has('rateLimitRps')) {
    fail(
      'rateLimitRps',
      'has no effect with the gateway router: Gateway API has no rate limit of its own, so it would be dropped without a word',
      stack.values.get('rateLimitRps'),
      'remove it (`pulumi config rm rateLimitRps`) and limit at the Gateway implementation (docs/routing.md: rate ' +
        "limiting, e.g. Envoy Gateway's BackendTrafficPolicy)",
    );
  }
  if (raw.keepIngress !== true && stack.values.has('ingressClassName')) {
    fail(
      'ingressClassName',
      'has no effect with the gateway router: no Ingress is rendered',
      stack.values.get('ingressClassName'),
      'remove it (`pulumi config rm ingressClassName`), or keep the Ingress with `pulumi config set --path routing.router ingress`',
    );
  }
  const gateway = raw.gateway;
  const create = gateway?.create;
  if (create !== undefined && create.className === undefined) {
    fail(
      'routing.gateway.create.className',
      'is required',
      undefined,
      'the GatewayClass of the implementation that runs the Gateway (`kubectl get gatewayclass`), e.g. `pulumi config ' +
        'set --path routing.gateway.create.className eg`',
    );
  }
  if (create !== undefined) {
    if (gateway?.namespace !== undefined && gateway.namespace !== stack.namespace) {
      fail(
        'routing.gateway.namespace',
        `is not the stack's namespace (${stack.namespace}): a Gateway the stack creates lives in it`,
        gateway.namespace,
        'remove routing.gateway.namespace',
      );
    }
    for (const field of ['sectionName', 'httpSectionName'] as const) {
      if (gateway?.[field] !== undefined) {
        fail(
          `routing.gateway.${field}`,
          'names a listener, and cutover names the listeners of a Gateway it creates (`http`, `https-<app>`)',
          gateway[field],
          `remove routing.gateway.${field}`,
        );
      }
    }
  }
  const name = gateway?.name ?? (create !== undefined ? stack.app : undefined);
  if (name === undefined) {
    fail(
      'routing.gateway.name',
      'is required by the gateway router (the default)',
      undefined,
      'the Gateway the HTTPRoutes attach to: `pulumi config set --path routing.gateway.name public` (and `routing.gateway.namespace`), ' +
        'or `routing.gateway.create.className` for a Gateway the stack owns, or keep an Ingress with `pulumi config set ' +
        '--path routing.router ingress`',
    );
    return { router, ...rest };
  }
  // A Gateway the stack creates is in the stack's namespace: the routes name no namespace for it.
  const { namespace: gatewayNamespace, ...fields } = gateway ?? {};
  const resolved = {
    ...fields,
    name,
    ...(create === undefined && gatewayNamespace !== undefined ? { namespace: gatewayNamespace } : {}),
  };
  return { router, gateway: resolved, ...rest };
}
