import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { COLORS, Color } from '../core/color';
import { LABEL_SERVICE_ROLE, LABEL_TEMPLATE, ServiceRole, appLabels, selectorLabels } from '../core/labels';
import { HTTP_PORT_NAME, METRICS_PORT_NAME } from '../core/workload';
import { ColorResources } from './color-workload';
import { ResolvedAppProps } from './props';

/** The Services of an app; see {@link BlueGreenApp} for what each is for. */
export interface AppServices {
  readonly liveService: kplus.Service;
  readonly previewService: kplus.Service;
  readonly colorServices: Readonly<Partial<Record<Color, kplus.Service>>>;
  readonly templateServices: Readonly<Partial<Record<Color, kplus.Service>>>;
}

/**
 * The live and preview Services, and for every color scaled up its own Service and its current template's, made in
 * `scope` (the app) under the IDs `live-service`, `preview-service`, `<color>-service` and `<color>-template-service`.
 */
export function createAppServices(scope: Construct, app: ResolvedAppProps, colors: Readonly<Partial<Record<Color, ColorResources>>>): AppServices {
  const liveService = createService(scope, app, 'live-service', app.name, app.activeColor, 'live');
  const previewService = createService(scope, app, 'preview-service', `${app.name}-preview`, app.idleColor, 'preview');
  // A color scaled to 0 gets no Service: nothing routes or checks through a color without pods.
  const colorServices: Partial<Record<Color, kplus.Service>> = {};
  const templateServices: Partial<Record<Color, kplus.Service>> = {};
  for (const color of COLORS) {
    const resources = colors[color];
    if (resources !== undefined && resources.replicas > 0) {
      const service = createService(scope, app, `${color}-service`, `${app.name}-${color}`, color, 'color');
      ApiObject.of(service).node.addDependency(resources.deployment);
      colorServices[color] = service;
      // No dependency on the Deployment: created while the pods roll, it is resolvable and routed by the time the gate runs.
      const template = createService(scope, app, `${color}-template-service`, `${app.name}-${color}-${resources.templateId}`, color, 'template');
      template.selectLabel(LABEL_TEMPLATE, resources.templateId);
      templateServices[color] = template;
    }
  }
  const live = colors[app.activeColor];
  if (live !== undefined) {
    // Traffic moves only once the color it moves to is ready: whoever applies these objects in dependency order
    // (the Pulumi bridge awaits each Deployment's rollout) switches the live Service, and the routes, last.
    ApiObject.of(liveService).node.addDependency(live.deployment);
  }
  return { liveService, previewService, colorServices, templateServices };
}

function createService(scope: Construct, app: ResolvedAppProps, id: string, name: string, color: Color, role: ServiceRole): kplus.Service {
  const oneColor = role === 'color' || role === 'template';
  const http = { name: HTTP_PORT_NAME, port: 80, targetPort: app.port };
  const service = new kplus.Service(scope, id, {
    metadata: { name, labels: { ...appLabels(oneColor ? { ...app.labels, color } : app.labels), [LABEL_SERVICE_ROLE]: role } },
    type: kplus.ServiceType.CLUSTER_IP,
    // Metrics only behind the live and preview Services, which select each pod exactly once between them.
    ports: oneColor ? [http] : [http, { name: METRICS_PORT_NAME, port: app.metricsPort, targetPort: app.metricsPort }],
  });
  for (const [key, value] of Object.entries(selectorLabels(app.name, color))) {
    service.selectLabel(key, value);
  }
  return service;
}
