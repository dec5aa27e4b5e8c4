import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Color } from '../core/color';
import { shortHash } from '../core/hash';
import { ImageRef } from '../core/image';
import { ANNOTATION_PEAK_REPLICAS, LABEL_TEMPLATE, appLabels, selectorLabels } from '../core/labels';
import { podPlacement } from '../core/scheduling';
import { APP_CONTAINER_NAME, HTTP_PORT_NAME, METRICS_PORT_NAME, backendEnv, plainEnv, restrictedContainerSecurity } from '../core/workload';
import * as kube from '../imports/k8s';
import { ResolvedAppProps, ResolvedColor, WRITABLE_VOLUME_MEBIBYTES } from './props';

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

/** What a color's pods share with the rest of the app. */
export interface ColorWorkloadContext {
  readonly app: ResolvedAppProps;
  readonly serviceAccount: kplus.ServiceAccount;
  readonly settings: kplus.ConfigMap;
}

/**
 * The Deployment of one color and, unless it is scaled to 0, its HPA and PDB, made in `scope` (the app) under the IDs
 * `<color>-deployment`, `<color>-autoscaler` and `<color>-disruption-budget`.
 */
export function createColorWorkload(scope: Construct, color: Color, spec: ResolvedColor, context: ColorWorkloadContext): ColorResources {
  const { app } = context;
  const { deployment, templateId } = createDeployment(scope, color, spec, context);
  if (spec.replicas === 0) {
    return { color, image: spec.image, replicas: 0, deployment, templateId };
  }
  const autoscaler = new k8s.KubeHorizontalPodAutoscalerV2(scope, `${color}-autoscaler`, {
    metadata: { name: `${app.name}-${color}`, labels: appLabels({ ...app.labels, color }) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name },
      minReplicas: spec.replicas,
      maxReplicas: app.maxReplicas,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: app.targetCpuUtilization } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: app.targetMemoryUtilization } } },
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
  const disruptionBudget = new k8s.KubePodDisruptionBudget(scope, `${color}-disruption-budget`, {
    metadata: { name: `${app.name}-${color}`, labels: appLabels({ ...app.labels, color }) },
    spec: {
      maxUnavailable: k8s.IntOrString.fromNumber(app.maxUnavailable),
      selector: { matchLabels: selectorLabels(app.name, color) },
    },
  });
  return { color, image: spec.image, replicas: spec.replicas, deployment, templateId, autoscaler, disruptionBudget };
}

function createDeployment(
  scope: Construct,
  color: Color,
  spec: ResolvedColor,
  context: ColorWorkloadContext,
): { deployment: ApiObject; templateId: string } {
  const { app } = context;
  const podLabels = appLabels({ ...app.labels, color, version: spec.image.version });
  const deploymentSpec: kube.DeploymentSpec = {
    // With an HPA the Deployment leaves replicas unset, so `pulumi up` never resets what the HPA scaled to.
    replicas: spec.replicas === 0 ? 0 : undefined,
    selector: { matchLabels: selectorLabels(app.name, color) },
    // A new ReplicaSet only replaces old pods once its own pods are ready; never below full size.
    strategy: {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: kube.IntOrString.fromString('25%'), maxUnavailable: kube.IntOrString.fromNumber(0) },
    },
    minReadySeconds: 5,
    progressDeadlineSeconds: 600,
    revisionHistoryLimit: 5,
    template: { metadata: { labels: podLabels }, spec: appPodSpec(color, spec, context) },
  };
  // Hashed as rendered, before the label is added, so the label never feeds its own value.
  const templateId = shortHash(kube.toJson_PodTemplateSpec(deploymentSpec.template), 6);
  const deployment = new kube.KubeDeployment(scope, `${color}-deployment`, {
    metadata: {
      name: `${app.name}-${color}`,
      labels: podLabels,
      // A color at 0 pods keeps its room in the namespace quota: scaling it back up never waits on the quota.
      ...(spec.replicas === 0 ? { annotations: { [ANNOTATION_PEAK_REPLICAS]: String(app.maxReplicas) } } : {}),
    },
    spec: {
      ...deploymentSpec,
      template: { ...deploymentSpec.template, metadata: { labels: { ...podLabels, [LABEL_TEMPLATE]: templateId } } },
    },
  });
  deployment.node.addDependency(ApiObject.of(context.serviceAccount), ApiObject.of(context.settings));
  return { deployment, templateId };
}

/** The pod spec of one color: the app container under Pod Security `restricted`, placed one pod per node. */
function appPodSpec(color: Color, spec: ResolvedColor, context: ColorWorkloadContext): kube.PodSpec {
  const { app } = context;
  const selector = selectorLabels(app.name, color);
  return {
    serviceAccountName: context.serviceAccount.name,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: app.drainSeconds + app.shutdownSeconds,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: app.runAsUser,
      runAsGroup: app.runAsUser,
      fsGroup: app.runAsUser,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...podPlacement(app.scheduling),
    // Required (unless scheduling says preferred): two pods of one color never share a node. Preferred: pods
    // of one color spread over zones.
    affinity: {
      podAntiAffinity:
        app.scheduling.podAntiAffinity === 'preferred'
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
        name: APP_CONTAINER_NAME,
        image: spec.image.toString(),
        imagePullPolicy: 'IfNotPresent',
        ports: [
          { name: HTTP_PORT_NAME, containerPort: app.port, protocol: 'TCP' },
          { name: METRICS_PORT_NAME, containerPort: app.metricsPort, protocol: 'TCP' },
        ],
        envFrom: [{ configMapRef: { name: context.settings.name } }, ...app.secretNames.map((name) => ({ secretRef: { name } }))],
        env: [...backendEnv(app.backends), ...plainEnv({ ...spec.env, CUTOVER_COLOR: color })],
        resources: app.resources,
        // The sleep action (Kubernetes >= 1.30) keeps the pod serving while endpoints drop it, with no shell in the image.
        lifecycle: { preStop: { sleep: { seconds: app.drainSeconds } } },
        readinessProbe: {
          httpGet: { path: app.readinessPath, port: kube.IntOrString.fromString(HTTP_PORT_NAME) },
          initialDelaySeconds: 2,
          periodSeconds: 5,
          timeoutSeconds: 2,
          successThreshold: 1,
          failureThreshold: 2,
        },
        livenessProbe: {
          httpGet: { path: app.livenessPath, port: kube.IntOrString.fromString(HTTP_PORT_NAME) },
          initialDelaySeconds: 10,
          periodSeconds: 10,
          timeoutSeconds: 2,
          failureThreshold: 3,
        },
        securityContext: restrictedContainerSecurity(app.runAsUser),
        volumeMounts: app.writablePaths.map((mountPath, index) => ({ name: `writable-${index}`, mountPath })),
      },
    ],
    volumes: app.writablePaths.map((_, index) => ({
      name: `writable-${index}`,
      emptyDir: { sizeLimit: kube.Quantity.fromString(`${WRITABLE_VOLUME_MEBIBYTES}Mi`) },
    })),
  };
}
