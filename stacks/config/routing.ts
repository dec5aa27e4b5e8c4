import { ROUTERS, Router } from '../../lib';
import { Fail } from './errors';
import { CONFIG_SCHEMAS, checkRules, checkValue, readShape } from './shape';
import { routerRule } from './rules';
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
  const raw = readShape<{ router?: string; gateway?: Partial<GatewayConfig>; keepIngress?: boolean; requestTimeoutSeconds?: number }>(
    'routing',
    value,
    CONFIG_SCHEMAS.keys.routing,
    fail,
  );
  if (raw === undefined) {
    return { router: 'gateway' };
  }
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
  checkRules(
    {
      routing: { ...raw, router },
      rateLimitRps: stack.values.get('rateLimitRps'),
      ingressClassName: stack.values.get('ingressClassName'),
      namespace: stack.namespace,
    },
    routerRule,
    fail,
  );
  if (router === 'ingress') {
    return { router };
  }
  const gateway = raw.gateway;
  const name = gateway?.name ?? (gateway?.create !== undefined ? stack.app : undefined);
  if (name === undefined) {
    return { router, ...rest };
  }
  // A Gateway the stack creates is in the stack's namespace: the routes name no namespace for it.
  const { namespace: gatewayNamespace, ...fields } = gateway ?? {};
  const resolved = {
    ...fields,
    name,
    ...(gateway?.create === undefined && gatewayNamespace !== undefined ? { namespace: gatewayNamespace } : {}),
  };
  return { router, gateway: resolved, ...rest };
}
