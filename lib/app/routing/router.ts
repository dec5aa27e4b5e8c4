import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { COLORS, Color } from '../../core/color';

/** The routers a BlueGreenApp's public entry point can use. */
export const ROUTERS = ['gateway', 'ingress'] as const;

/**
 * Where the public entry point splits traffic: `gateway`, a Gateway API HTTPRoute on a Gateway (the default:
 * ingress-nginx is retired); `ingress`, an Ingress for clusters that still run an Ingress controller.
 */
export type Router = (typeof ROUTERS)[number];

/** What a traffic router needs of the app it routes to. */
export interface RoutedApp extends IConstruct {
  readonly name: string;
  readonly activeColor: Color;
  readonly idleColor: Color;
  /** Percent of the public requests sent to the idle color (0–100). */
  readonly trafficWeight: number;
  /** The Service that selects the active color: what a router sends requests to outside a weighted shift. */
  readonly liveService: kplus.Service;
  /** The Service of each color scaled up: the backends of a weighted shift. */
  readonly colorServices: Readonly<Partial<Record<Color, kplus.Service>>>;
  /** The Deployment of each deployed color. */
  readonly colors: Readonly<Partial<Record<Color, { readonly deployment: ApiObject }>>>;
}

/** A router of one app: the objects it made, which decide where public requests go. */
export interface ITrafficRouter extends IConstruct {
  readonly router: Router;
  /** The objects in the public traffic path (Ingresses, HTTPRoutes), which a gate or migration guards. */
  readonly routingObjects: readonly IConstruct[];
}

/** Labels of a router's objects: the app's, without a color. */
export interface RouterLabels {
  readonly name: string;
  readonly partOf: string;
  readonly component: string;
}

/** One color's share of the public requests. */
export interface ColorWeight {
  readonly color: Color;
  /** Percent of the requests, 1–100. */
  readonly weight: number;
}

/**
 * Which colors receive public requests, and what percent each, when `trafficWeight` percent go to the idle color:
 * only colors with a share above 0, in the fixed color order (so the result never depends on which color is live
 * beyond the weights themselves).
 */
export function trafficSplit(activeColor: Color, trafficWeight: number): ColorWeight[] {
  return COLORS.map((color) => ({ color, weight: color === activeColor ? 100 - trafficWeight : trafficWeight })).filter(({ weight }) => weight > 0);
}

/** Response headers the public entry point adds (the ingress-nginx `custom-headers` ConfigMap, or the HTTPRoute filter). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/** Requests go to a color only once it is ready: `object` waits for the Deployment and the Service of each backend. */
export function afterBackends(object: ApiObject, app: RoutedApp, colors: readonly Color[]): void {
  for (const color of colors) {
    const deployment = app.colors[color]?.deployment;
    const service = app.colorServices[color];
    if (deployment !== undefined && service !== undefined) {
      object.node.addDependency(deployment, ApiObject.of(service));
    }
  }
}
