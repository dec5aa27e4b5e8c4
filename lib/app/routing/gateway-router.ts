import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { appLabels } from '../../core/labels';
import { Problems, isDnsLabel, requireInteger } from '../../core/validation';
import {
  HttpRoute,
  HttpRouteSpec,
  HttpRouteSpecParentRefs,
  HttpRouteSpecRulesBackendRefs,
  HttpRouteSpecRulesFiltersRequestRedirectScheme,
  HttpRouteSpecRulesFiltersRequestRedirectStatusCode,
  HttpRouteSpecRulesFiltersType,
  HttpRouteSpecRulesMatchesPathType,
} from '../../imports/gateway.networking.k8s.io';
import { ITrafficRouter, RoutedApp, RouterLabels, SECURITY_HEADERS, afterBackends, trafficSplit } from './router';

/** The Gateway API group and version of the objects this module renders. */
export const GATEWAY_API_VERSION = HttpRoute.GVK.apiVersion;
/** The Gateway API group. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/**
 * HSTS, which ingress-nginx adds by default (`hsts`, `hsts-max-age`, `hsts-include-subdomains`) and a Gateway does
 * not: the HTTPS route sets it, so browsers never try plain HTTP again for a year.
 */
export const HSTS_HEADER = { name: 'Strict-Transport-Security', value: 'max-age=31536000; includeSubDomains' } as const;

/** The Gateway (Gateway API) the app's HTTPRoutes attach to, and what the product expects of it (docs/routing.md). */
export interface AppGatewayOptions {
  /** Name of the Gateway, e.g. `public`. */
  readonly name: string;

  /**
   * Namespace of the Gateway; its listeners' `allowedRoutes` must admit routes from the app's namespace.
   * @see https://gateway-api.sigs.k8s.io/guides/multiple-ns/
   * @default - the app's namespace
   */
  readonly namespace?: string;

  /**
   * The HTTPS listener the app's route attaches to: it terminates TLS for `host` (the certificate belongs to the
   * listener, e.g. from cert-manager's Gateway support).
   * @default 'https'
   */
  readonly sectionName?: string;

  /**
   * The plain-HTTP listener the redirect route attaches to.
   * @default 'http'
   */
  readonly httpSectionName?: string;

  /**
   * Answer plain HTTP on `httpSectionName` with a redirect to HTTPS (an HTTPRoute `<app>-https-redirect` with the
   * `RequestRedirect` filter), as ingress-nginx's `force-ssl-redirect` did. Turn it off only for a Gateway without
   * an HTTP listener.
   * @default true
   */
  readonly httpsRedirect?: boolean;
}

/** Props of {@link GatewayRouter}. */
export interface GatewayRouterProps {
  readonly app: RoutedApp;
  /** DNS name the route answers on. */
  readonly host: string;
  readonly gateway: AppGatewayOptions;
  /**
   * How long the Gateway waits for the whole response of a request before it answers 504 (the rule's
   * `timeouts.request`): ingress-nginx's default read timeout.
   * @default 60
   */
  readonly requestTimeoutSeconds?: number;
  readonly labels: RouterLabels;
}

/**
 * The Gateway API router: an HTTPRoute `<app>` for `host` on the Gateway's HTTPS listener, to the live Service (or,
 * during a weighted shift, to the color Services by weight), with the security headers and HSTS set by a
 * `ResponseHeaderModifier` filter and a request timeout; and an HTTPRoute `<app>-https-redirect` on the HTTP
 * listener that answers every request with a 301 to HTTPS (`RequestRedirect`). TLS belongs to the Gateway's
 * listener. A cutover changes none of these objects: the live Service's selector is the switch, as with an
 * Ingress, so public and in-cluster traffic move together and no Gateway has to reprogram a route at a cutover.
 */
export class GatewayRouter extends Construct implements ITrafficRouter {
  public readonly router = 'gateway' as const;
  public readonly route: HttpRoute;
  /** Absent with `httpsRedirect: false`. */
  public readonly redirectRoute?: HttpRoute;

  public constructor(scope: Construct, id: string, props: GatewayRouterProps) {
    super(scope, id);
    const { app, host, gateway, labels } = props;
    const sectionName = gateway.sectionName ?? 'https';
    const httpSectionName = gateway.httpSectionName ?? 'http';
    const httpsRedirect = gateway.httpsRedirect ?? true;
    const timeout = props.requestTimeoutSeconds ?? 60;
    const problems = new Problems();
    problems.check(
      () => requireGatewayName(gateway.name),
      () => {
        if (gateway.namespace !== undefined && !isDnsLabel(gateway.namespace)) {
          throw new Error(
            `routing.gateway.namespace: must be a lowercase DNS label (a namespace), got "${gateway.namespace}"; ` +
              `e.g. "gateway-system", or leave it out for the app's namespace`,
          );
        }
      },
      () => requireListener('routing.gateway.sectionName', sectionName, 'https'),
      () => requireListener('routing.gateway.httpSectionName', httpSectionName, 'http'),
      () => {
        if (httpsRedirect && sectionName === httpSectionName) {
          throw new Error(
            `routing.gateway.httpSectionName: is the HTTPS listener too, got "${httpSectionName}" for both; ` +
              'the redirect and the route would answer on one listener: ' +
              `name the Gateway's plain-HTTP listener, or set routing.gateway.httpsRedirect to false`,
          );
        }
      },
      () => requireInteger('routing.requestTimeoutSeconds', timeout, 1, 3600),
    );
    problems.throwIfAny();

    const parent = (listener: string): HttpRouteSpecParentRefs => ({
      group: GATEWAY_API_GROUP,
      kind: 'Gateway',
      name: gateway.name,
      ...(gateway.namespace !== undefined ? { namespace: gateway.namespace } : {}),
      sectionName: listener,
    });
    const split = trafficSplit(app.activeColor, app.trafficWeight);
    const backendRefs: HttpRouteSpecRulesBackendRefs[] =
      app.trafficWeight === 0
        ? [{ group: '', kind: 'Service', name: app.liveService.name, port: 80 }]
        : split.map(({ color, weight }) => ({ group: '', kind: 'Service', name: `${app.name}-${color}`, port: 80, weight }));
    const spec: HttpRouteSpec = {
      parentRefs: [parent(sectionName)],
      hostnames: [host],
      rules: [
        {
          matches: [{ path: { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: '/' } }],
          filters: [
            {
              type: HttpRouteSpecRulesFiltersType.RESPONSE_HEADER_MODIFIER,
              responseHeaderModifier: { set: [...Object.entries(SECURITY_HEADERS).map(([name, value]) => ({ name, value })), { ...HSTS_HEADER }] },
            },
          ],
          backendRefs,
          timeouts: { request: `${timeout}s` },
        },
      ],
    };
    this.route = new HttpRoute(this, 'route', {
      metadata: { name: app.name, labels: appLabels(labels) },
      spec,
    });
    // Requests move to a color only once it is ready: every backend's Deployment and Service come first.
    if (app.trafficWeight === 0) {
      const live = app.colors[app.activeColor];
      if (live !== undefined) {
        this.route.node.addDependency(live.deployment, ApiObject.of(app.liveService));
      }
    } else {
      afterBackends(
        this.route,
        app,
        split.map(({ color }) => color),
      );
    }

    if (httpsRedirect) {
      const redirect: HttpRouteSpec = {
        parentRefs: [parent(httpSectionName)],
        hostnames: [host],
        rules: [
          {
            filters: [
              {
                type: HttpRouteSpecRulesFiltersType.REQUEST_REDIRECT,
                requestRedirect: {
                  scheme: HttpRouteSpecRulesFiltersRequestRedirectScheme.HTTPS,
                  statusCode: HttpRouteSpecRulesFiltersRequestRedirectStatusCode.VALUE_301,
                },
              },
            ],
          },
        ],
      };
      this.redirectRoute = new HttpRoute(this, 'redirect-route', {
        metadata: { name: `${app.name}-https-redirect`, labels: appLabels(labels) },
        spec: redirect,
      });
    }
  }

  public get routingObjects(): ApiObject[] {
    return [this.route];
  }
}

/** The name of a Gateway (`routing.gateway.name`): a DNS label. */
export function requireGatewayName(name: string): void {
  if (!isDnsLabel(name)) {
    throw new Error(`routing.gateway.name: must be a lowercase DNS label (the name of a Gateway), got "${name}"; e.g. "public"`);
  }
}

/** A listener name (a `sectionName`): Gateway API allows a DNS subdomain; cutover asks for a DNS label, as listeners are named in practice. */
function requireListener(key: string, value: string, example: string): void {
  if (!isDnsLabel(value)) {
    throw new Error(`${key}: must be a lowercase DNS label (the name of a listener of the Gateway), got "${value}"; e.g. "${example}"`);
  }
}
