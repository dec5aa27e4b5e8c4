import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import { Construct, IConstruct } from 'constructs';
import { COLORS, Color, otherColor } from '../core/color';
import { ImageRef } from '../core/image';
import { shortHash } from '../core/hash';
import { ANNOTATION_PEAK_REPLICAS, LABEL_COLOR, LABEL_SERVICE_ROLE, LABEL_TEMPLATE, ServiceRole, appLabels, selectorLabels } from '../core/labels';
import { PodScheduling, podPlacement, schedulingProblems } from '../core/scheduling';
import { INetworkPeer, NetworkPeerSpec, NetworkPort } from '../network/network-policy-set';
import { AppGatewayOptions, GatewayRouter } from './routing/gateway-router';
import { AppIngressOptions, IngressRouter } from './routing/ingress-router';
import { ITrafficRouter, ROUTERS, Router } from './routing/router';
import { Problems, parseMebibytes, requireDnsLabel, requireInteger, resolveResources, validateHost, requireEnvName } from '../core/validation';

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

/** One environment variable of the app container: a plain value or a key of a Secret. */
export interface AppEnvVar {
  readonly name: string;
  /** A literal value; may reference earlier variables as `$(NAME)`. */
  readonly value?: string;
  /** A key of a Secret, read by the kubelet: the value never appears in manifests or state. */
  readonly secretKeyRef?: { readonly name: string; readonly key: string };
}

/** A backing service the app connects to (a database, a cache): what the app needs to reach it. */
export interface IAppBackend {
  /** Environment variables that connect the app, in order (later ones may use `$(EARLIER)`). */
  readonly connectionEnv: readonly AppEnvVar[];
}

/** CPU and memory for every container of the app. */
export interface AppResources {
  /** @default '100m' */
  readonly cpuRequest?: string;
  /** @default '500m' */
  readonly cpuLimit?: string;
  /** @default '256Mi' */
  readonly memoryRequest?: string;
  /** @default '512Mi' */
  readonly memoryLimit?: string;
  /**
   * Local disk (logs, the writable emptyDir volumes) the scheduler reserves per container; without it the
   * app's pods are the first evicted when a node runs short of disk.
   * @default '256Mi'
   */
  readonly ephemeralStorageRequest?: string;
  /**
   * Local disk a container may use before it is evicted; must hold the writable volumes (256Mi each).
   * @default '1Gi'
   */
  readonly ephemeralStorageLimit?: string;
}

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

  /** Requests and limits of the app container. */
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

/** What the construct made for one deployed color. */
export interface ColorResources {
  readonly color: Color;
  readonly image: ImageRef;
  readonly replicas: number;
  readonly deployment: ApiObject;
  /**
   * Six hex digits of the SHA-256 of the color's pod template: the value of its pods' `cutover.dev/template` label,
   * new with every change of the template (image, env, resources, ...).
   */
  readonly templateId: string;
  /** Absent when the color is scaled to 0. */
  readonly autoscaler?: k8s.KubeHorizontalPodAutoscalerV2;
  /** Absent when the color is scaled to 0. */
  readonly disruptionBudget?: k8s.KubePodDisruptionBudget;
}

const HTTP_PORT_NAME = 'http';
const METRICS_PORT_NAME = 'metrics';

/**
 * One web service deployed twice, as `blue` and `green`, with a live Service (and the router's routes) that sends
 * traffic to the active color and a preview Service that reaches the idle one. Each color scaled up also has a
 * Service of its own (`<name>-blue`, `<name>-green`), the backend of weighted shifts (`trafficWeight`).
 *
 * Object names and selectors depend only on the service name and the color, never on which color is live,
 * on images or on replica counts, so changing `activeColor` changes only the routing objects.
 */
export class BlueGreenApp extends Construct implements INetworkPeer {
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

  public constructor(scope: Construct, id: string, props: BlueGreenAppProps) {
    super(scope, id);
    // `-preview` and `-green` are appended, and Service names are DNS-1035 labels of at most 63 characters.
    requireDnsLabel('name', props.name, 50, '"web" or "checkout-api"');
    this.name = props.name;
    this.activeColor = props.activeColor;
    this.idleColor = otherColor(props.activeColor);
    this.replicas = props.replicas ?? 3;
    this.maxReplicas = props.maxReplicas ?? 10;
    this.maxUnavailable = props.maxUnavailable ?? 1;
    this.port = props.port ?? 8080;
    this.metricsPort = props.metricsPort ?? 9090;
    const targetCpu = props.targetCpuUtilization ?? 70;
    const targetMemory = props.targetMemoryUtilization ?? 80;
    const drainSeconds = props.drainSeconds ?? 10;
    const shutdownSeconds = props.shutdownSeconds ?? 20;
    const runAsUser = props.runAsUser ?? 10001;

    // Every independent check runs, so that one run reports every problem.
    const problems = new Problems();
    problems.check(
      () => requireInteger('replicas', this.replicas, 1),
      () => requireInteger('maxReplicas', this.maxReplicas, 1),
      () => requireInteger('maxUnavailable', this.maxUnavailable, 1),
      () => requirePort('port', this.port),
      () => requirePort('metricsPort', this.metricsPort),
      () => {
        if (this.port === this.metricsPort) {
          throw new Error(`metricsPort: must differ from port, got ${this.metricsPort} for both; serve metrics on a port of their own, e.g. 9090`);
        }
      },
      () => requirePercent('targetCpuUtilization', targetCpu),
      () => requirePercent('targetMemoryUtilization', targetMemory),
      () => requireInteger('drainSeconds', drainSeconds, 0),
      () => requireInteger('shutdownSeconds', shutdownSeconds, 1),
      () => requireInteger('runAsUser', runAsUser, 1),
    );
    this.scheduling = props.scheduling ?? {};
    for (const problem of schedulingProblems('scheduling', this.scheduling)) {
      problems.check(() => {
        throw new Error(problem);
      });
    }
    problems.throwIfAny();

    const specs = resolveColors(props, this.replicas, this.maxReplicas, this.maxUnavailable);
    this.trafficWeight = props.trafficWeight ?? 0;
    const router = validateRouting(props, specs, this.idleColor, this.trafficWeight);
    const labels = { name: this.name, partOf: props.partOf ?? this.name, component: props.component ?? 'server' };

    this.serviceAccount = new kplus.ServiceAccount(this, 'service-account', {
      metadata: { name: this.name, labels: appLabels(labels) },
      automountToken: false,
    });

    this.settings = new kplus.ConfigMap(this, 'settings', {
      metadata: { name: `${this.name}-settings`, labels: appLabels(labels) },
      data: { ...(props.settings ?? { NODE_ENV: 'production', LOG_LEVEL: 'info' }) },
    });

    const colors: Partial<Record<Color, ColorResources>> = {};
    for (const color of COLORS) {
      const spec = specs[color];
      if (spec === undefined) {
        continue;
      }
      const { deployment, templateId } = this.createDeployment(color, spec, props, labels, {
        drainSeconds,
        shutdownSeconds,
        runAsUser,
      });
      if (spec.replicas === 0) {
        colors[color] = { color, image: spec.image, replicas: 0, deployment, templateId };
        continue;
      }
      const autoscaler = new k8s.KubeHorizontalPodAutoscalerV2(this, `${color}-autoscaler`, {
        metadata: { name: `${this.name}-${color}`, labels: appLabels({ ...labels, color }) },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name },
          minReplicas: spec.replicas,
          maxReplicas: this.maxReplicas,
          metrics: [
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCpu } } },
            { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: targetMemory } } },
          ],
          // Scale out fast on a spike, scale in slowly so a brief dip does not shed capacity.
          behavior: {
            scaleUp: {
              stabilizationWindowSeconds: 0,
              selectPolicy: 'Max',
              policies: [
                { type: 'Percent', value: 100, periodSeconds: 15 },
                { type: 'Pods', value: 4, periodSeconds: 15 },
              ],
            },
            scaleDown: {
              stabilizationWindowSeconds: 300,
              selectPolicy: 'Min',
              policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }],
            },
          },
        },
      });
      const disruptionBudget = new k8s.KubePodDisruptionBudget(this, `${color}-disruption-budget`, {
        metadata: { name: `${this.name}-${color}`, labels: appLabels({ ...labels, color }) },
        spec: {
          maxUnavailable: k8s.IntOrString.fromNumber(this.maxUnavailable),
          selector: { matchLabels: selectorLabels(this.name, color) },
        },
      });
      colors[color] = { color, image: spec.image, replicas: spec.replicas, deployment, templateId, autoscaler, disruptionBudget };
    }
    this.colors = colors;

    this.liveService = this.createService('live-service', this.name, this.activeColor, 'live', labels);
    this.previewService = this.createService('preview-service', `${this.name}-preview`, this.idleColor, 'preview', labels);

    // A color scaled to 0 gets no Service: nothing routes or checks through a color without pods.
    const colorServices: Partial<Record<Color, kplus.Service>> = {};
    const templateServices: Partial<Record<Color, kplus.Service>> = {};
    for (const color of COLORS) {
      const resources = colors[color];
      if (resources !== undefined && resources.replicas > 0) {
        const service = this.createService(`${color}-service`, `${this.name}-${color}`, color, 'color', labels);
        ApiObject.of(service).node.addDependency(resources.deployment);
        colorServices[color] = service;
        // No dependency on the Deployment: created while the pods roll, it is resolvable and routed by the time the gate runs.
        const template = this.createService(`${color}-template-service`, `${this.name}-${color}-${resources.templateId}`, color, 'template', labels);
        template.selectLabel(LABEL_TEMPLATE, resources.templateId);
        templateServices[color] = template;
      }
    }
    this.colorServices = colorServices;
    this.templateServices = templateServices;

    const live = colors[this.activeColor];
    if (live !== undefined) {
      // Traffic moves only once the color it moves to is ready: whoever applies these objects in dependency order
      // (the Pulumi bridge awaits each Deployment's rollout) switches the live Service, and the routes, last.
      ApiObject.of(this.liveService).node.addDependency(live.deployment);
    }
    const routers: ITrafficRouter[] = [];
    if (props.ingress !== undefined) {
      if (router === 'gateway' && props.routing?.gateway !== undefined) {
        const gatewayRouter = new GatewayRouter(this, 'gateway-router', {
          app: this,
          host: props.ingress.host,
          gateway: props.routing.gateway,
          requestTimeoutSeconds: props.routing.requestTimeoutSeconds,
          labels,
        });
        this.route = gatewayRouter.route;
        this.redirectRoute = gatewayRouter.redirectRoute;
        routers.push(gatewayRouter);
      }
      if (router === 'ingress' || props.routing?.keepIngress === true) {
        const ingressRouter = new IngressRouter(this, 'ingress-router', { app: this, options: props.ingress, labels });
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
          selector: { matchLabels: { 'app.kubernetes.io/name': this.name }, matchExpressions: [{ key: LABEL_COLOR, operator: 'In', values: [...COLORS] }] },
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

  private createDeployment(
    color: Color,
    spec: ResolvedColor,
    props: BlueGreenAppProps,
    labels: { name: string; partOf: string; component: string },
    pod: { drainSeconds: number; shutdownSeconds: number; runAsUser: number },
  ): { deployment: ApiObject; templateId: string } {
    const podLabels = appLabels({ ...labels, color, version: spec.image.version });
    const selector = selectorLabels(this.name, color);
    const writablePaths = props.writablePaths ?? ['/tmp'];
    const resources = resolveResources(props.resources ?? {}, { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '256Mi', memoryLimit: '512Mi' });
    const ephemeral = resolveEphemeralStorage(props.resources ?? {}, writablePaths.length);
    const env = { ...spec.env, CUTOVER_COLOR: color };

    const deploymentSpec: k8s.DeploymentSpec = {
      // With an HPA the Deployment leaves replicas unset, so `pulumi up` never resets what the HPA scaled to.
      replicas: spec.replicas === 0 ? 0 : undefined,
      selector: { matchLabels: selector },
      // A new ReplicaSet only replaces old pods once its own pods are ready; never below full size.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: k8s.IntOrString.fromString('25%'), maxUnavailable: k8s.IntOrString.fromNumber(0) } },
      minReadySeconds: 5,
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 5,
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: this.serviceAccount.name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: pod.drainSeconds + pod.shutdownSeconds,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: pod.runAsUser,
            runAsGroup: pod.runAsUser,
            fsGroup: pod.runAsUser,
            fsGroupChangePolicy: 'OnRootMismatch',
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...podPlacement(this.scheduling),
          // Required (unless scheduling says preferred): two pods of one color never share a node. Preferred: pods
          // of one color spread over zones.
          affinity: {
            podAntiAffinity:
              this.scheduling.podAntiAffinity === 'preferred'
                ? {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                      { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' } },
                    ],
                  }
                : { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' }] },
          },
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
          ],
          containers: [
            {
              name: 'app',
              image: spec.image.toString(),
              imagePullPolicy: 'IfNotPresent',
              ports: [
                { name: HTTP_PORT_NAME, containerPort: this.port, protocol: 'TCP' },
                { name: METRICS_PORT_NAME, containerPort: this.metricsPort, protocol: 'TCP' },
              ],
              envFrom: [
                { configMapRef: { name: this.settings.name } },
                ...(props.secretNames ?? []).map((name) => ({ secretRef: { name } })),
              ],
              env: [
                ...(props.backends ?? []).flatMap((backend) =>
                  backend.connectionEnv.map(({ name, value, secretKeyRef }) =>
                    secretKeyRef !== undefined ? { name, valueFrom: { secretKeyRef: { name: secretKeyRef.name, key: secretKeyRef.key } } } : { name, value },
                  ),
                ),
                ...Object.entries(env).map(([name, value]) => ({ name, value })),
              ],
              resources: {
                requests: {
                  cpu: k8s.Quantity.fromString(resources.requests.cpu),
                  memory: k8s.Quantity.fromString(resources.requests.memory),
                  'ephemeral-storage': k8s.Quantity.fromString(ephemeral.request),
                },
                limits: {
                  cpu: k8s.Quantity.fromString(resources.limits.cpu),
                  memory: k8s.Quantity.fromString(resources.limits.memory),
                  'ephemeral-storage': k8s.Quantity.fromString(ephemeral.limit),
                },
              },
              readinessProbe: {
                httpGet: { path: props.readinessPath ?? '/ready', port: k8s.IntOrString.fromString(HTTP_PORT_NAME) },
                initialDelaySeconds: 2,
                periodSeconds: 5,
                timeoutSeconds: 2,
                successThreshold: 1,
                failureThreshold: 2,
              },
              livenessProbe: {
                httpGet: { path: props.livenessPath ?? '/health', port: k8s.IntOrString.fromString(HTTP_PORT_NAME) },
                initialDelaySeconds: 10,
                periodSeconds: 10,
                timeoutSeconds: 2,
                failureThreshold: 3,
              },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: pod.runAsUser,
                runAsGroup: pod.runAsUser,
                privileged: false,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: writablePaths.map((mountPath, index) => ({ name: `writable-${index}`, mountPath })),
            },
          ],
          volumes: writablePaths.map((_, index) => ({ name: `writable-${index}`, emptyDir: { sizeLimit: k8s.Quantity.fromString(`${WRITABLE_VOLUME_MEBIBYTES}Mi`) } })),
        },
      },
    };
    const rendered = k8s.toJson_DeploymentSpec(deploymentSpec) as { template: { metadata: { labels: Record<string, string> }; spec: { containers: Record<string, unknown>[] } } };
    // The preStop sleep action (Kubernetes >= 1.30) needs no shell in the image; the 1.28 types do not know it yet.
    rendered.template.spec.containers[0].lifecycle = { preStop: { sleep: { seconds: pod.drainSeconds } } };
    // Hashed before the label is added, so the label never feeds its own value.
    const templateId = shortHash(rendered.template).slice(0, 6);
    rendered.template.metadata.labels = { ...rendered.template.metadata.labels, [LABEL_TEMPLATE]: templateId };
    const deployment = new ApiObject(this, `${color}-deployment`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: `${this.name}-${color}`,
        labels: podLabels,
        // A color at 0 pods keeps its room in the namespace quota: scaling it back up never waits on the quota.
        ...(spec.replicas === 0 ? { annotations: { [ANNOTATION_PEAK_REPLICAS]: String(this.maxReplicas) } } : {}),
      },
      spec: rendered,
    });
    deployment.node.addDependency(ApiObject.of(this.serviceAccount), ApiObject.of(this.settings));
    return { deployment, templateId };
  }

  private createService(id: string, name: string, color: Color, role: ServiceRole, labels: { name: string; partOf: string; component: string }): kplus.Service {
    const http = { name: HTTP_PORT_NAME, port: 80, targetPort: this.port };
    const service = new kplus.Service(this, id, {
      metadata: { name, labels: { ...appLabels(role === 'color' || role === 'template' ? { ...labels, color } : labels), [LABEL_SERVICE_ROLE]: role } },
      type: kplus.ServiceType.CLUSTER_IP,
      // Metrics only behind the live and preview Services, which select each pod exactly once between them.
      ports: role === 'color' || role === 'template' ? [http] : [http, { name: METRICS_PORT_NAME, port: this.metricsPort, targetPort: this.metricsPort }],
    });
    for (const [key, value] of Object.entries(selectorLabels(this.name, color))) {
      service.selectLabel(key, value);
    }
    return service;
  }
}

interface ResolvedColor {
  readonly image: ImageRef;
  readonly replicas: number;
  readonly env: Readonly<Record<string, string>>;
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
        `${color}.replicas: the PodDisruptionBudget allows ${maxUnavailable} pod(s) down at once, which would leave none running, got ${colorReplicas}; ` +
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
    throw new Error(`routing.router: must be one of ${ROUTERS.join(', ')}, got "${String(router)}"; "gateway" for an HTTPRoute on a Gateway, "ingress" for an Ingress`);
  }
  if (routing.keepIngress === true && router !== 'gateway') {
    throw new Error(`routing.keepIngress: keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router "${router}"; remove it, or set routing.router to "gateway"`);
  }
  if (routing.gateway !== undefined && router !== 'gateway') {
    throw new Error(`routing.gateway: is only read by the gateway router, got it with routing.router "${router}"; remove routing.gateway, or set routing.router to "gateway" (docs/routing.md: migrating)`);
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


/** Size limit of each writable emptyDir volume; the volumes count against the container's ephemeral-storage limit. */
const WRITABLE_VOLUME_MEBIBYTES = 256;

function resolveEphemeralStorage(resources: AppResources, writableVolumes: number): { request: string; limit: string } {
  const request = resources.ephemeralStorageRequest ?? '256Mi';
  const limit = resources.ephemeralStorageLimit ?? '1Gi';
  const requestMi = parseMebibytes('resources.ephemeralStorageRequest', request);
  const limitMi = parseMebibytes('resources.ephemeralStorageLimit', limit);
  if (requestMi > limitMi) {
    throw new Error(`resources.ephemeralStorageRequest: exceeds resources.ephemeralStorageLimit ${limit}, got ${request}; lower the request or raise the limit`);
  }
  const volumesMi = writableVolumes * WRITABLE_VOLUME_MEBIBYTES;
  if (limitMi <= volumesMi) {
    throw new Error(
      `resources.ephemeralStorageLimit: must exceed the ${writableVolumes} writable volume(s) of ${WRITABLE_VOLUME_MEBIBYTES}Mi each (${volumesMi}Mi), got ${limit}; raise it, e.g. to ${volumesMi + 512}Mi`,
    );
  }
  return { request, limit };
}
