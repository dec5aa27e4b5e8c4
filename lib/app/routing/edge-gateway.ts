import { Construct } from 'constructs';
import { Problems, isDnsName, isDnsSubdomain } from '../../core/validation';
import {
  Gateway,
  GatewaySpecListenersAllowedRoutes,
  GatewaySpecListenersAllowedRoutesNamespacesFrom,
  GatewaySpecListenersTlsMode,
} from '../../imports/gateway.networking.k8s.io';
import { GATEWAY_API_GROUP, requireGatewayName } from './gateway-router';

/** One host the Gateway terminates TLS for: an HTTPS listener `https-<app>`. */
export interface EdgeGatewayHost {
  /** The app the host belongs to; names its listener. */
  readonly app: string;
  readonly host: string;
  /**
   * Secret cert-manager fills with the host's certificate.
   * @default `${app}-tls`
   */
  readonly tlsSecretName?: string;
}

/** Props of {@link EdgeGateway}. */
export interface EdgeGatewayProps {
  /** Name of the Gateway. */
  readonly name: string;
  /** GatewayClass of the implementation that runs it (`kubectl get gatewayclass`), e.g. `eg` for Envoy Gateway. */
  readonly className: string;
  /**
   * cert-manager ClusterIssuer that issues each HTTPS listener's certificate (cert-manager's Gateway support reads the
   * annotation and makes one Certificate per listener).
   * @see https://cert-manager.io/docs/usage/gateway/
   * @default 'letsencrypt-prod'
   */
  readonly clusterIssuer?: string;
  /** The hosts it serves, one HTTPS listener each. */
  readonly hosts: readonly EdgeGatewayHost[];
  /** Its labels. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The plain-HTTP listener of an {@link EdgeGateway}: only the redirect routes attach to it. */
export const EDGE_HTTP_LISTENER = 'http';

/** A Gateway allows at most 64 listeners; one is the HTTP listener. */
const MAX_HOSTS = 63;

/**
 * A Gateway the stack owns, for teams whose stack owns the edge: one HTTP listener (port 80, for the redirect routes)
 * and one HTTPS listener per host (port 443, `https-<app>`, TLS terminated with the Secret cert-manager fills), each
 * admitting HTTPRoutes from its own namespace only. Its address (`status.addresses`) is what DNS points at.
 * @see https://gateway-api.sigs.k8s.io/api-types/gateway/
 */
export class EdgeGateway extends Construct {
  public readonly name: string;
  public readonly gateway: Gateway;

  public constructor(scope: Construct, id: string, props: EdgeGatewayProps) {
    super(scope, id);
    const problems = new Problems();
    problems.check(
      () => requireGatewayName(props.name),
      () => {
        if (!isDnsSubdomain(props.className)) {
          throw new Error(
            `routing.gateway.create.className: must be a lowercase DNS subdomain (a GatewayClass), got "${props.className}"; ` +
              'see `kubectl get gatewayclass`, e.g. "eg"',
          );
        }
      },
      () => {
        if (props.hosts.length === 0 || props.hosts.length > MAX_HOSTS) {
          throw new Error(
            `routing.gateway.create: a Gateway holds 1 to ${MAX_HOSTS} HTTPS listeners (one per app), got ${props.hosts.length}; ` +
              'split the apps over stacks, or bring your own Gateway',
          );
        }
      },
      ...props.hosts.map(({ app, host }) => () => {
        if (!isDnsName(host)) {
          throw new Error(`routing.gateway.create: the listener of ${app} needs a DNS name, got "${host}"; e.g. "${app}.example.com"`);
        }
      }),
    );
    problems.throwIfAny();
    this.name = props.name;
    const allowedRoutes: GatewaySpecListenersAllowedRoutes = {
      namespaces: { from: GatewaySpecListenersAllowedRoutesNamespacesFrom.SAME },
      kinds: [{ group: GATEWAY_API_GROUP, kind: 'HTTPRoute' }],
    };
    this.gateway = new Gateway(this, 'gateway', {
      metadata: {
        name: props.name,
        labels: { ...(props.labels ?? {}) },
        annotations: { 'cert-manager.io/cluster-issuer': props.clusterIssuer ?? 'letsencrypt-prod' },
      },
      spec: {
        gatewayClassName: props.className,
        listeners: [
          { name: EDGE_HTTP_LISTENER, protocol: 'HTTP', port: 80, allowedRoutes },
          ...props.hosts.map(({ app, host, tlsSecretName }) => ({
            name: EdgeGateway.httpsListener(app),
            protocol: 'HTTPS',
            port: 443,
            hostname: host,
            tls: {
              mode: GatewaySpecListenersTlsMode.TERMINATE,
              certificateRefs: [{ group: '', kind: 'Secret', name: tlsSecretName ?? `${app}-tls` }],
            },
            allowedRoutes,
          })),
        ],
      },
    });
  }

  /** The HTTPS listener of `app`: the `sectionName` its HTTPRoute attaches to. */
  public static httpsListener(app: string): string {
    return `https-${app}`;
  }
}
