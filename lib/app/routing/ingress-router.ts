import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { appLabels } from '../../core/labels';
import { Problems, requireInteger } from '../../core/validation';
import { ITrafficRouter, RoutedApp, RouterLabels, SECURITY_HEADERS, afterBackends } from './router';

/** The public entry point of an app, whichever router serves it; the rest is what an Ingress adds. */
export interface AppIngressOptions {
  /** DNS name the service answers on, e.g. `app.example.com`. */
  readonly host: string;

  /**
   * Secret that cert-manager fills with the certificate for `host` (an Ingress's TLS, or the listener of a Gateway
   * the stack owns).
   * @default `${name}-tls`
   */
  readonly tlsSecretName?: string;

  /**
   * cert-manager ClusterIssuer that issues the certificate.
   * @see https://cert-manager.io/docs/usage/ingress/
   * @default 'letsencrypt-prod'
   */
  readonly clusterIssuer?: string;

  /**
   * IngressClass of the controller (Ingress router only).
   * @default 'nginx'
   */
  readonly className?: string;

  /**
   * Requests per second allowed from one client IP (ingress-nginx `limit-rps`; Ingress router only); bursts of 5× are
   * allowed.
   * @see https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#rate-limiting
   * @default 20
   */
  readonly rateLimitRps?: number;

  /**
   * Concurrent connections allowed from one client IP (ingress-nginx `limit-connections`; Ingress router only).
   * @default 50
   */
  readonly rateLimitConnections?: number;
}

/** Props of {@link IngressRouter}. */
export interface IngressRouterProps {
  readonly app: RoutedApp;
  readonly options: AppIngressOptions;
  readonly labels: RouterLabels;
}

/**
 * The Ingress router: an Ingress `<app>` for `host` to the live Service, with the ingress-nginx annotations for the
 * HTTP to HTTPS redirect, per-client rate limits and security headers (a ConfigMap `<app>-security-headers`), a TLS
 * certificate from cert-manager, and while `trafficWeight` is above 0 a canary Ingress `<app>-canary` to the idle
 * color's Service. Controllers that read the ingress-nginx annotations (Traefik's ingress-nginx provider) honour
 * the canary too. A cutover changes none of these objects: the live Service's selector is the switch.
 */
export class IngressRouter extends Construct implements ITrafficRouter {
  public readonly router = 'ingress' as const;
  public readonly ingress: kplus.Ingress;
  /** Present only while `trafficWeight` is above 0. */
  public readonly canaryIngress?: kplus.Ingress;
  public readonly securityHeaders: kplus.ConfigMap;

  public constructor(scope: Construct, id: string, props: IngressRouterProps) {
    super(scope, id);
    const { app, options, labels } = props;
    const rateLimitRps = options.rateLimitRps ?? 20;
    const rateLimitConnections = options.rateLimitConnections ?? 50;
    const problems = new Problems();
    problems.check(
      () => requireInteger('ingress.rateLimitRps', rateLimitRps, 1),
      () => requireInteger('ingress.rateLimitConnections', rateLimitConnections, 1),
    );
    problems.throwIfAny();
    this.securityHeaders = new kplus.ConfigMap(this, 'security-headers', {
      metadata: { name: `${app.name}-security-headers`, labels: appLabels(labels) },
      data: { ...SECURITY_HEADERS },
    });
    const namespace = app.liveService.metadata.namespace;
    const className = options.className ?? 'nginx';
    const tlsSecretName = options.tlsSecretName ?? `${app.name}-tls`;
    this.ingress = new kplus.Ingress(this, 'ingress', {
      metadata: {
        name: app.name,
        labels: appLabels(labels),
        annotations: {
          'cert-manager.io/cluster-issuer': options.clusterIssuer ?? 'letsencrypt-prod',
          'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
          'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
          'nginx.ingress.kubernetes.io/limit-rps': String(rateLimitRps),
          'nginx.ingress.kubernetes.io/limit-burst-multiplier': '5',
          'nginx.ingress.kubernetes.io/limit-connections': String(rateLimitConnections),
          'nginx.ingress.kubernetes.io/custom-headers': `${namespace ?? 'default'}/${this.securityHeaders.name}`,
        },
      },
      className,
      tls: [{ hosts: [options.host], secret: kplus.Secret.fromSecretName(this, 'tls-secret', tlsSecretName) }],
    });
    this.ingress.addHostRule(options.host, '/', kplus.IngressBackend.fromService(app.liveService, { port: 80 }), kplus.HttpIngressPathType.PREFIX);
    const live = app.colors[app.activeColor];
    if (live !== undefined) {
      ApiObject.of(this.ingress).node.addDependency(live.deployment, ApiObject.of(app.liveService));
    }

    // The constructor of the app made sure that above 0 the idle color is deployed and scaled up, so it has a Service.
    const idleService = app.colorServices[app.idleColor];
    if (app.trafficWeight > 0 && idleService !== undefined) {
      // ingress-nginx ignores the other annotations on a canary and applies the main Ingress's (rate limits,
      // headers); cert-manager's is left off so that one Certificate owns the TLS Secret.
      this.canaryIngress = new kplus.Ingress(this, 'canary-ingress', {
        metadata: {
          name: `${app.name}-canary`,
          labels: appLabels(labels),
          annotations: {
            'nginx.ingress.kubernetes.io/canary': 'true',
            'nginx.ingress.kubernetes.io/canary-weight': String(app.trafficWeight),
            // Pinned rather than left to the controller's default, so that the weight always reads as a percentage.
            'nginx.ingress.kubernetes.io/canary-weight-total': '100',
          },
        },
        className,
        tls: [{ hosts: [options.host], secret: kplus.Secret.fromSecretName(this, 'canary-tls-secret', tlsSecretName) }],
      });
      this.canaryIngress.addHostRule(
        options.host,
        '/',
        kplus.IngressBackend.fromService(idleService, { port: 80 }),
        kplus.HttpIngressPathType.PREFIX,
      );
      // Requests move only once the idle color is ready, and a canary is only honoured beside its main Ingress.
      const canary = ApiObject.of(this.canaryIngress);
      afterBackends(canary, app, [app.idleColor]);
      canary.node.addDependency(ApiObject.of(this.ingress));
    }
  }

  public get routingObjects(): kplus.Ingress[] {
    return [this.ingress, this.canaryIngress].filter((o): o is kplus.Ingress => o !== undefined);
  }
}
