import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { COLORS, Color } from '../core/color';
import { LABEL_COLOR, appLabels } from '../core/labels';
import { PodScheduling } from '../core/scheduling';
import { APP_CONTAINER_NAME, METRICS_PORT_NAME } from '../core/workload';
import { INetworkPeer, NetworkPeerSpec, NetworkPort } from '../network/network-policy-set';
import { ColorResources, createColorWorkload } from './color-workload';
import { BlueGreenAppProps, resolveAppProps } from './props';
import { createAppServices } from './services';
import { GatewayRouter } from './routing/gateway-router';
import { IngressRouter } from './routing/ingress-router';
import { ITrafficRouter, RoutedApp } from './routing/router';

/**
 * What other constructs (the gates, a migration, monitoring, network policies, the routers) need of a blue-green app,
 * as typed values: they never read it back from the rendered objects. {@link BlueGreenApp} is one.
 */
export interface IBlueGreenApp extends RoutedApp, INetworkPeer {
  /** Container port that serves HTTP, behind every Service's port 80. */
  readonly port: number;
  /** Container port that serves Prometheus metrics. */
  readonly metricsPort: number;
  /** Name of the metrics port, which the ServiceMonitor scrapes. */
  readonly metricsPortName: string;
  /** Name of the app container in every pod of either color. */
  readonly containerName: string;
  /** HTTP path of the readiness probe of both colors (the first check of a gate). */
  readonly readinessPath: string;
  /** HTTP path of the liveness probe of both colors. */
  readonly livenessPath: string;
  /** The Service that selects the idle color. */
  readonly previewService: kplus.Service;
  /** Services of one color's current pod template each, for every color scaled up: what a color's gate checks through. */
  readonly templateServices: Readonly<Partial<Record<Color, kplus.Service>>>;
  /** Deployed colors, keyed by color. */
  readonly colors: Readonly<Partial<Record<Color, ColorResources>>>;
  /** The app's ServiceAccount, lent to its gate and migration Jobs. */
  readonly serviceAccount: kplus.ServiceAccount;
  /** Where the app's pods run; its gate and migration Jobs run there too. */
  readonly scheduling: PodScheduling;
  /** The objects that decide where requests go, which a gate or a migration guards. */
  readonly routingObjects: readonly IConstruct[];
}

/**
 * One web service deployed twice, as `blue` and `green`, with a live Service (and the router's routes) that sends
 * traffic to the active color and a preview Service that reaches the idle one. Each color scaled up also has a
 * Service of its own (`<name>-blue`, `<name>-green`), the backend of weighted shifts (`trafficWeight`).
 *
 * Object names and selectors depend only on the service name and the color, never on which color is live,
 * on images or on replica counts, so changing `activeColor` changes only the routing objects.
 */
export class BlueGreenApp extends Construct implements IBlueGreenApp {
  public readonly name: string;
  public readonly activeColor: Color;
  public readonly idleColor: Color;
  public readonly replicas: number;
  public readonly maxReplicas: number;
  public readonly maxUnavailable: number;
  public readonly port: number;
  public readonly metricsPort: number;

  /** The Service that routes production traffic: selects the active color. */
  public readonly liveService: kplus.Service;
  /** The Service that reaches the idle color, for smoke tests before it goes live. */
  public readonly previewService: kplus.Service;
  /** The routers of the public entry point: none without `ingress`, two while `routing.keepIngress` migrates. */
  public readonly routers: readonly ITrafficRouter[];
  /** The Ingress for `ingress.host`, with the `ingress` router (or `routing.keepIngress`). */
  public readonly ingress?: kplus.Ingress;
  /**
   * Services of one color each, for every color scaled up: the backends of weighted shifts, and what a color's gate
   * checks it through ({@link CutoverGate}). They select one color
   * whichever is live, so a cutover never changes them; they expose no metrics port, so the ServiceMonitor that
   * scrapes the live and preview Services never scrapes a pod twice through them.
   */
  public readonly colorServices: Readonly<Partial<Record<Color, kplus.Service>>>;
  /**
   * Services of one color's current pod template each, `<name>-<color>-<templateId>`, for every color scaled up: what
   * the color's gate checks it through ({@link CutoverGate}). They select the `cutover.dev/template` label too, so they
   * never route to the pods of an earlier template, which keep answering while they drain after a rollout. A rollout
   * gives the color a new one (a new name, created while the pods roll) and deletes the old one; a cutover changes none.
   */
  public readonly templateServices: Readonly<Partial<Record<Color, kplus.Service>>>;
  /** Percent of the public requests sent to the idle color. */
  public readonly trafficWeight: number;
  /** The canary Ingress `<name>-canary`, with an Ingress, only while `trafficWeight` is above 0. */
  public readonly canaryIngress?: kplus.Ingress;
  /** The HTTPRoute `<name>`, with the `gateway` router. */
  public readonly route?: ApiObject;
  /** The HTTPRoute `<name>-https-redirect`, with the `gateway` router unless `routing.gateway.httpsRedirect` is false. */
  public readonly redirectRoute?: ApiObject;
  public readonly serviceAccount: kplus.ServiceAccount;
  public readonly settings: kplus.ConfigMap;
  /** Deployed colors, keyed by color. */
  public readonly colors: Readonly<Partial<Record<Color, ColorResources>>>;
  /** Where the app's pods run; its gate and migration Jobs run there too. */
  public readonly scheduling: PodScheduling;

  /** HTTP path of the readiness probe: a pod receives traffic only while it answers 2xx here. */
  public readonly readinessPath: string;
  /** HTTP path of the liveness probe. */
  public readonly livenessPath: string;
  public readonly containerName = APP_CONTAINER_NAME;
  public readonly metricsPortName = METRICS_PORT_NAME;

  public constructor(scope: Construct, id: string, props: BlueGreenAppProps) {
    super(scope, id);
    const app = resolveAppProps(props);
    this.name = app.name;
    this.activeColor = app.activeColor;
    this.idleColor = app.idleColor;
    this.replicas = app.replicas;
    this.maxReplicas = app.maxReplicas;
    this.maxUnavailable = app.maxUnavailable;
    this.port = app.port;
    this.metricsPort = app.metricsPort;
    this.readinessPath = app.readinessPath;
    this.livenessPath = app.livenessPath;
    this.scheduling = app.scheduling;
    this.trafficWeight = app.trafficWeight;

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: { name: this.name, labels: appLabels(app.labels) },
      automountToken: false,
    });
    this.settings = new kplus.ConfigMap(this, 'settings', {
      metadata: { name: `${this.name}-settings`, labels: appLabels(app.labels) },
      data: { ...app.settings },
    });

    const colors: Partial<Record<Color, ColorResources>> = {};
    for (const color of COLORS) {
      const spec = app.colors[color];
      if (spec !== undefined) {
        colors[color] = createColorWorkload(this, color, spec, { app, serviceAccount: this.serviceAccount, settings: this.settings });
      }
    }
    this.colors = colors;

    const services = createAppServices(this, app, colors);
    this.liveService = services.liveService;
    this.previewService = services.previewService;
    this.colorServices = services.colorServices;
    this.templateServices = services.templateServices;

    const routers: ITrafficRouter[] = [];
    if (app.ingress !== undefined) {
      if (app.router === 'gateway' && app.routing.gateway !== undefined) {
        const gatewayRouter = new GatewayRouter(this, 'gateway-router', {
          app: this,
          host: app.ingress.host,
          gateway: app.routing.gateway,
          requestTimeoutSeconds: app.routing.requestTimeoutSeconds,
          labels: app.labels,
        });
        this.route = gatewayRouter.route;
        this.redirectRoute = gatewayRouter.redirectRoute;
        routers.push(gatewayRouter);
      }
      if (app.router === 'ingress' || app.routing.keepIngress === true) {
        const ingressRouter = new IngressRouter(this, 'ingress-router', { app: this, options: app.ingress, labels: app.labels });
        this.ingress = ingressRouter.ingress;
        this.canaryIngress = ingressRouter.canaryIngress;
        routers.push(ingressRouter);
      }
    }
    this.routers = routers;
  }

  /**
   * For NetworkPolicySet: the pods of both colors alike (the color label must exist, whatever its value), so the
   * policies never depend on which color is live and a cutover changes no policy.
   */
  public get networkPeer(): NetworkPeerSpec {
    return {
      workloads: [
        {
          name: this.name,
          selector: {
            matchLabels: { 'app.kubernetes.io/name': this.name },
            matchExpressions: [{ key: LABEL_COLOR, operator: 'In', values: [...COLORS] }],
          },
          clientPorts: [NetworkPort.tcp(this.port)],
          metricsPorts: [NetworkPort.tcp(this.metricsPort)],
        },
      ],
    };
  }

  /**
   * The objects that decide where requests go: the live and preview Services, then each router's (the HTTPRoute, the
   * Ingress and its canary). Whatever must hold before traffic moves (a gate, a migration) guards these.
   */
  public get routingObjects(): IConstruct[] {
    return [this.liveService, this.previewService, ...this.routers.flatMap((router) => router.routingObjects)];
  }
}
