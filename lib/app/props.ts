import { Color, COLORS, otherColor } from '../core/color';
import { ImageRef } from '../core/image';
import { PodScheduling, schedulingProblems } from '../core/scheduling';
import { Problems, requireDnsLabel, requireEnvName, requireInteger, validateHost } from '../core/validation';
import { k8s } from 'cdk8s-plus-28';
import { ContainerResourceProps, IAppBackend, containerResources } from '../core/workload';
import { AppGatewayOptions } from './routing/gateway-router';
import { AppIngressOptions } from './routing/ingress-router';
import { ROUTERS, Router } from './routing/router';

/** What runs in one color. */
export interface ColorSpec {
  /**
   * The image this color runs, pinned by tag or digest. A color without an image is not deployed at all
   * (no Deployment, HPA or PDB), which is how a service starts before its second color exists.
   * @default - the color is not deployed
   */
  readonly image?: string;

  /**
   * Minimum replicas of this color. `0` scales the color down (Deployment at 0, no HPA, no PDB);
   * such a color cannot be made live.
   * @default BlueGreenAppProps.replicas
   */
  readonly replicas?: number;

  /**
   * Extra environment variables for this color only, e.g. a feature flag under test.
   * @default {}
   */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * CPU, memory and local disk for every container of the app, each field defaulting to {@link APP_RESOURCE_DEFAULTS}.
 * The ephemeral-storage request is the local disk (logs, the writable emptyDir volumes) the scheduler reserves per
 * container: without it the app's pods are the first evicted when a node runs short of disk. The ephemeral-storage
 * limit is what a container may use before it is evicted: it must hold the writable volumes (256Mi each).
 */
export type AppResources = ContainerResourceProps;

/** How outside traffic reaches the colors. */
export interface AppRoutingOptions {
  /**
   * Where the public entry point splits traffic: `gateway`, a Gateway API HTTPRoute attached to `gateway`
   * ({@link GatewayRouter}); `ingress`, an Ingress read by an Ingress controller ({@link IngressRouter}).
   * @default 'gateway'
   */
  readonly router?: Router;

  /**
   * The Gateway the HTTPRoutes attach to; required with the `gateway` router (and with `keepIngress`).
   * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
   */
  readonly gateway?: AppGatewayOptions;

  /**
   * With the `gateway` router, keep the Ingress (and its canary) beside the HTTPRoute, both sending requests to the
   * same Services: the middle step of a migration from Ingress to Gateway API, while DNS moves from the Ingress
   * controller's address to the Gateway's (docs/routing.md). Turning it off deletes the Ingress.
   * @default false
   */
  readonly keepIngress?: boolean;

  /**
   * Seconds the Gateway waits for a whole response before it answers 504 (HTTPRoute `timeouts.request`).
   * @default 60
   */
  readonly requestTimeoutSeconds?: number;
}

/** Props of {@link BlueGreenApp}. */
export interface BlueGreenAppProps {
  /** Name of the service: prefixes every object name and is the `app.kubernetes.io/name` label. */
  readonly name: string;

  /** The color that receives traffic through the live Service and the Ingress. */
  readonly activeColor: Color;

  /** What the blue color runs. */
  readonly blue: ColorSpec;

  /** What the green color runs. */
  readonly green: ColorSpec;

  /**
   * Minimum replicas of each color (the HPA's `minReplicas`); per-color `replicas` overrides it.
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
   * @default 3
   */
  readonly replicas?: number;

  /**
   * Maximum replicas of each color (the HPA's `maxReplicas`).
   * @default 10
   */
  readonly maxReplicas?: number;

  /**
   * Target average CPU utilization, in percent of the request, for the HPA.
   * @default 70
   */
  readonly targetCpuUtilization?: number;

  /**
   * Target average memory utilization, in percent of the request, for the HPA.
   * @default 80
   */
  readonly targetMemoryUtilization?: number;

  /**
   * Pods of one color that voluntary disruptions (node drains) may take down at once. The PDB uses
   * `maxUnavailable` rather than `minAvailable` so it keeps protecting the color when the HPA scales it out.
   * @see https://kubernetes.io/docs/tasks/run-application/configure-pdb/
   * @default 1
   */
  readonly maxUnavailable?: number;

  /**
   * Container port that serves HTTP.
   * @default 8080
   */
  readonly port?: number;

  /**
   * Container port that serves Prometheus metrics, named `metrics`.
   * @default 9090
   */
  readonly metricsPort?: number;

  /**
   * HTTP path of the readiness probe: a pod receives traffic only while it answers 2xx here.
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
   * @default '/ready'
   */
  readonly readinessPath?: string;

  /**
   * HTTP path of the liveness probe.
   * @default '/health'
   */
  readonly livenessPath?: string;

  /**
   * Requests and limits of the app container.
   * @default APP_RESOURCE_DEFAULTS ({ cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi',
   *   ephemeralStorageRequest: '256Mi', ephemeralStorageLimit: '1Gi' })
   */
  readonly resources?: AppResources;

  /**
   * Seconds a terminating pod keeps serving before it gets SIGTERM, so that endpoint removal reaches
   * every proxy first (a `preStop` sleep). The termination grace period is this plus `shutdownSeconds`.
   * @see https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/
   * @default 10
   */
  readonly drainSeconds?: number;

  /**
   * Seconds the app gets after SIGTERM to finish in-flight requests.
   * @default 20
   */
  readonly shutdownSeconds?: number;

  /**
   * Non-root UID (and GID) the container runs as.
   * @default 10001
   */
  readonly runAsUser?: number;

  /**
   * Paths that get a writable `emptyDir`, since the root filesystem is read-only.
   * @default ['/tmp']
   */
  readonly writablePaths?: readonly string[];

  /**
   * Where the pods run (node pool, tolerated taints, how strictly one color's pods avoid sharing a node); the
   * gate and migration Jobs of the app run in the same place.
   * @default {} (any node; podAntiAffinity 'required')
   */
  readonly scheduling?: PodScheduling;

  /**
   * Non-secret settings, put in a ConfigMap and loaded as environment variables by both colors.
   * @default { NODE_ENV: 'production', LOG_LEVEL: 'info' }
   */
  readonly settings?: Readonly<Record<string, string>>;

  /**
   * Names of existing Secrets loaded as environment variables. Only the names are referenced:
   * secret values never pass through this program, its manifests or its state.
   * @default []
   */
  readonly secretNames?: readonly string[];

  /**
   * Backing services (e.g. PostgresHA, RedisCluster) whose connection variables both colors get.
   * @default []
   */
  readonly backends?: readonly IAppBackend[];

  /**
   * The public entry point (its host and certificate), whichever router serves it; without it the service is
   * reachable only inside the cluster.
   */
  readonly ingress?: AppIngressOptions;

  /**
   * Where the public entry point splits traffic: a Gateway API HTTPRoute (the default), or an Ingress.
   * @default - the `gateway` router; it needs `routing.gateway`
   */
  readonly routing?: AppRoutingOptions;

  /**
   * Percent of the public requests (0–100) sent to the idle color, for a progressive shift such as
   * 5 → 25 → 50 → 100 before a cutover. `activeColor` stays the stable color during the shift; once the idle
   * color serves 100%, flip `activeColor` and set `trafficWeight` back to 0 in the same update. Above 0, the idle
   * color must be deployed and scaled up, and `ingress` must be set. With the `gateway` router the HTTPRoute sends
   * to both color Services by weight while the weight is above 0 (to the live Service otherwise); with the `ingress`
   * router an Ingress `<name>-canary` (annotations `canary`, `canary-weight`) exists only while the weight is above
   * 0. In-cluster clients of the live Service are not shifted: it keeps selecting `activeColor`.
   * @see https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary
   * @default 0
   */
  readonly trafficWeight?: number;

  /**
   * The `app.kubernetes.io/part-of` label.
   * @default name
   */
  readonly partOf?: string;

  /**
   * The `app.kubernetes.io/component` label.
   * @default 'server'
   */
  readonly component?: string;
}

/** The defaults of {@link AppResources}. */
export const APP_RESOURCE_DEFAULTS: Required<ContainerResourceProps> = {
  cpuRequest: '100m',
  cpuLimit: '500m',
  memoryRequest: '256Mi',
  memoryLimit: '512Mi',
  ephemeralStorageRequest: '256Mi',
  ephemeralStorageLimit: '1Gi',
};

/** Size limit of each writable emptyDir volume; the volumes count against the container's ephemeral-storage limit. */
export const WRITABLE_VOLUME_MEBIBYTES = 256;

/** What one deployed color runs, validated. */
export interface ResolvedColor {
  readonly image: ImageRef;
  readonly replicas: number;
  readonly env: Readonly<Record<string, string>>;
}

/** The labels every object of the app carries, without a color. */
export interface AppLabelSet {
  readonly name: string;
  readonly partOf: string;
  readonly component: string;
}

/** {@link BlueGreenAppProps} validated, every default applied: what the rest of the app is built from. */
export interface ResolvedAppProps {
  readonly name: string;
  readonly activeColor: Color;
  readonly idleColor: Color;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly maxUnavailable: number;
  readonly targetCpuUtilization: number;
  readonly targetMemoryUtilization: number;
  readonly port: number;
  readonly metricsPort: number;
  readonly readinessPath: string;
  readonly livenessPath: string;
  /** Requests and limits of the app container, rendered. */
  readonly resources: k8s.ResourceRequirements;
  readonly drainSeconds: number;
  readonly shutdownSeconds: number;
  readonly runAsUser: number;
  readonly writablePaths: readonly string[];
  readonly scheduling: PodScheduling;
  readonly settings: Readonly<Record<string, string>>;
  readonly secretNames: readonly string[];
  readonly backends: readonly IAppBackend[];
  readonly trafficWeight: number;
  readonly router: Router;
  readonly ingress?: AppIngressOptions;
  readonly routing: AppRoutingOptions;
  readonly labels: AppLabelSet;
  /** The deployed colors: those with an image. */
  readonly colors: Readonly<Partial<Record<Color, ResolvedColor>>>;
}

/**
 * Validates `props` and applies every default, before any object exists. Independent checks all run, so that one run
 * reports every problem (a {@link ValidationError}); the colors and the routing, which need those values, follow.
 */
export function resolveAppProps(props: BlueGreenAppProps): ResolvedAppProps {
  // `-preview` and `-green` are appended, and Service names are DNS-1035 labels of at most 63 characters.
  requireDnsLabel('name', props.name, 50, '"web" or "checkout-api"');
  const replicas = props.replicas ?? 3;
  const maxReplicas = props.maxReplicas ?? 10;
  const maxUnavailable = props.maxUnavailable ?? 1;
  const port = props.port ?? 8080;
  const metricsPort = props.metricsPort ?? 9090;
  const targetCpuUtilization = props.targetCpuUtilization ?? 70;
  const targetMemoryUtilization = props.targetMemoryUtilization ?? 80;
  const drainSeconds = props.drainSeconds ?? 10;
  const shutdownSeconds = props.shutdownSeconds ?? 20;
  const runAsUser = props.runAsUser ?? 10001;
  const scheduling = props.scheduling ?? {};

  const problems = new Problems();
  problems.check(
    () => requireInteger('replicas', replicas, 1),
    () => requireInteger('maxReplicas', maxReplicas, 1),
    () => requireInteger('maxUnavailable', maxUnavailable, 1),
    () => requirePort('port', port),
    () => requirePort('metricsPort', metricsPort),
    () => {
      if (port === metricsPort) {
        throw new Error(`metricsPort: must differ from port, got ${metricsPort} for both; serve metrics on a port of their own, e.g. 9090`);
      }
    },
    () => requirePercent('targetCpuUtilization', targetCpuUtilization),
    () => requirePercent('targetMemoryUtilization', targetMemoryUtilization),
    () => requireInteger('drainSeconds', drainSeconds, 0),
    () => requireInteger('shutdownSeconds', shutdownSeconds, 1),
    () => requireInteger('runAsUser', runAsUser, 1),
  );
  for (const problem of schedulingProblems('scheduling', scheduling)) {
    problems.check(() => {
      throw new Error(problem);
    });
  }
  problems.throwIfAny();

  const colors = resolveColors(props, replicas, maxReplicas, maxUnavailable);
  const idleColor = otherColor(props.activeColor);
  const trafficWeight = props.trafficWeight ?? 0;
  const router = validateRouting(props, colors, idleColor, trafficWeight);
  const writablePaths = props.writablePaths ?? ['/tmp'];
  const writableMebibytes = writablePaths.length * WRITABLE_VOLUME_MEBIBYTES;
  const resources = containerResources(props.resources ?? {}, APP_RESOURCE_DEFAULTS, {
    mebibytes: writableMebibytes,
    description: `the ${writablePaths.length} writable volume(s) of ${WRITABLE_VOLUME_MEBIBYTES}Mi each (${writableMebibytes}Mi)`,
  });
  return {
    name: props.name,
    activeColor: props.activeColor,
    idleColor,
    replicas,
    maxReplicas,
    maxUnavailable,
    targetCpuUtilization,
    targetMemoryUtilization,
    port,
    metricsPort,
    readinessPath: props.readinessPath ?? '/ready',
    livenessPath: props.livenessPath ?? '/health',
    resources,
    drainSeconds,
    shutdownSeconds,
    runAsUser,
    writablePaths,
    scheduling,
    settings: props.settings ?? { NODE_ENV: 'production', LOG_LEVEL: 'info' },
    secretNames: props.secretNames ?? [],
    backends: props.backends ?? [],
    trafficWeight,
    router,
    ingress: props.ingress,
    routing: props.routing ?? {},
    labels: { name: props.name, partOf: props.partOf ?? props.name, component: props.component ?? 'server' },
    colors,
  };
}

function resolveColors(
  props: BlueGreenAppProps,
  replicas: number,
  maxReplicas: number,
  maxUnavailable: number,
): Partial<Record<Color, ResolvedColor>> {
  const resolved: Partial<Record<Color, ResolvedColor>> = {};
  for (const color of COLORS) {
    const spec = props[color];
    const colorReplicas = spec.replicas ?? replicas;
    requireInteger(`${color}.replicas`, colorReplicas, 0);
    if (spec.image === undefined) {
      if (color === props.activeColor) {
        throw new Error(`${color}.image: the live color has no image, got none; set ${color}.image to a tagged image before making ${color} live`);
      }
      continue;
    }
    const image = ImageRef.parse(spec.image, `${color}.image`);
    if (colorReplicas === 0 && color === props.activeColor) {
      throw new Error(
        `${color}.replicas: cannot make a color scaled to 0 live, got activeColor=${color} with ${color}.replicas=0; ` +
          `scale ${color} up first (remove ${color}.replicas or set it to at least ${replicas}), run pulumi up, then cut over`,
      );
    }
    if (colorReplicas > maxReplicas) {
      throw new Error(`${color}.replicas: exceeds maxReplicas ${maxReplicas}, got ${colorReplicas}; lower ${color}.replicas or raise maxReplicas`);
    }
    if (colorReplicas > 0 && colorReplicas <= maxUnavailable) {
      throw new Error(
        `${color}.replicas: the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once, which would leave none running, ` +
          `got ${colorReplicas}; ` +
          `run at least ${maxUnavailable + 1} replicas or lower maxUnavailable`,
      );
    }
    for (const key of Object.keys(spec.env ?? {})) {
      requireEnvName(`${color}.env`, key, 'FEATURE_FLAG');
    }
    resolved[color] = { image, replicas: colorReplicas, env: spec.env ?? {} };
  }
  return resolved;
}

/** Validates the entry point and the weighted shift before any object exists; returns the router. */
function validateRouting(props: BlueGreenAppProps, specs: Partial<Record<Color, ResolvedColor>>, idleColor: Color, trafficWeight: number): Router {
  if (props.ingress !== undefined) {
    validateHost('ingress.host', props.ingress.host);
  }
  const routing = props.routing ?? {};
  const router = routing.router ?? 'gateway';
  if (!(ROUTERS as readonly string[]).includes(router)) {
    throw new Error(
      `routing.router: must be one of ${ROUTERS.join(', ')}, got "${String(router)}"; ` +
        '"gateway" for an HTTPRoute on a Gateway, "ingress" for an Ingress',
    );
  }
  if (routing.keepIngress === true && router !== 'gateway') {
    throw new Error(
      `routing.keepIngress: keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router "${router}"; ` +
        'remove it, or set routing.router to "gateway"',
    );
  }
  if (routing.gateway !== undefined && router !== 'gateway') {
    throw new Error(
      `routing.gateway: is only read by the gateway router, got it with routing.router "${router}"; ` +
        'remove routing.gateway, or set routing.router to "gateway" (docs/routing.md: migrating)',
    );
  }
  if (routing.gateway !== undefined && props.ingress === undefined) {
    throw new Error(`routing.gateway: the HTTPRoute needs a hostname, got no ingress; set ingress.host, e.g. "app.example.com"`);
  }
  if (router === 'gateway' && props.ingress !== undefined && routing.gateway === undefined) {
    throw new Error(
      `routing.gateway: the gateway router (the default) needs the Gateway the HTTPRoute attaches to, got none; ` +
        `set routing.gateway.name (e.g. "public"), or routing.router to "ingress" for an Ingress`,
    );
  }
  if (!Number.isInteger(trafficWeight) || trafficWeight < 0 || trafficWeight > 100) {
    throw new Error(`trafficWeight: must be a whole percentage from 0 to 100, got ${trafficWeight}; shift in steps such as 5, 25, 50, 100`);
  }
  if (trafficWeight === 0) {
    return router;
  }
  if (props.ingress === undefined) {
    throw new Error(
      `trafficWeight: there is no public entry point to split, got trafficWeight=${trafficWeight} without ingress; ` +
        `set ingress (the HTTPRoute's host, or the Ingress's), or set trafficWeight to 0`,
    );
  }
  const idle = specs[idleColor];
  if (idle === undefined) {
    throw new Error(
      `trafficWeight: sends ${trafficWeight}% of requests to ${idleColor}, which is not deployed, got no ${idleColor}.image; ` +
        `set ${idleColor}.image and run pulumi up first, then shift traffic`,
    );
  }
  if (idle.replicas === 0) {
    throw new Error(
      `trafficWeight: sends ${trafficWeight}% of requests to ${idleColor}, which is scaled to 0, got ${idleColor}.replicas=0; ` +
        `scale ${idleColor} up first (remove ${idleColor}.replicas), run pulumi up, then shift traffic`,
    );
  }
  return router;
}

function requirePort(key: string, value: number): void {
  if (!Number.isInteger(value) || value < 1024 || value > 65535) {
    throw new Error(`${key}: must be a port from 1024 to 65535 (non-root containers cannot bind below 1024), got ${value}; e.g. 8080`);
  }
}

function requirePercent(key: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new Error(`${key}: must be a percentage from 1 to 100, got ${value}; e.g. 70`);
  }
}
