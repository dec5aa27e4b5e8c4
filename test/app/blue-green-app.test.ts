import { App, ApiObject, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import {
  BlueGreenApp,
  BlueGreenAppProps,
  LABEL_COLOR,
  LABEL_SERVICE_ROLE,
  LABEL_TEMPLATE,
  Manifest,
  MonitoringStack,
  renderChart,
  restrictedViolations,
  trafficSplit,
  ValidationError,
} from '../../lib';
import { BASE_PROPS, find, names, renderApp } from '../helpers';

const ROUTING_KINDS = new Set(['Service', 'Ingress']);

describe('BlueGreenApp names and defaults', () => {
  it('pins every object name to the service name and color (and a template Service to its pod template)', () => {
    const { app, manifests } = renderApp();
    const [blue, green] = [app.colors.blue?.templateId, app.colors.green?.templateId];
    expect(names(manifests)).toEqual([
      'ConfigMap/web-settings',
      'Deployment/web-blue',
      'Deployment/web-green',
      'HTTPRoute/web',
      'HTTPRoute/web-https-redirect',
      'HorizontalPodAutoscaler/web-blue',
      'HorizontalPodAutoscaler/web-green',
      'PodDisruptionBudget/web-blue',
      'PodDisruptionBudget/web-green',
      'Service/web',
      'Service/web-blue',
      `Service/web-blue-${blue}`,
      'Service/web-green',
      `Service/web-green-${green}`,
      'Service/web-preview',
      'ServiceAccount/web',
    ]);
    expect(blue).toMatch(/^[0-9a-f]{6}$/);
    expect(green).toMatch(/^[0-9a-f]{6}$/);
    expect(blue).not.toBe(green);
  });

  it("labels each color's pods with the hash of their template, which the label itself does not feed", () => {
    const { app, manifests } = renderApp();
    const template = find(manifests, 'Deployment', 'web-green').spec.template;
    expect(template.metadata.labels[LABEL_TEMPLATE]).toBe(app.colors.green?.templateId);
    // Never in the selector: it changes with every rollout, and a Deployment's selector is immutable.
    expect(find(manifests, 'Deployment', 'web-green').spec.selector.matchLabels[LABEL_TEMPLATE]).toBeUndefined();
    // The same template renders the same id; any change of it (here one env value) a new one.
    expect(renderApp().app.colors.green?.templateId).toBe(app.colors.green?.templateId);
    const changed = renderApp({ green: { ...BASE_PROPS.green, env: { FEATURE: 'on' } } }).app;
    expect(changed.colors.green?.templateId).not.toBe(app.colors.green?.templateId);
    expect(changed.colors.blue?.templateId).toBe(app.colors.blue?.templateId);
  });

  it("renders one template Service per scaled-up color: that color's current pod template only, HTTP only, no metrics port", () => {
    const { app, manifests } = renderApp();
    for (const color of ['blue', 'green'] as const) {
      const id = app.colors[color]?.templateId;
      const service = find(manifests, 'Service', `web-${color}-${id}`);
      expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: color, [LABEL_TEMPLATE]: id });
      expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
      expect(service.metadata.labels).toMatchObject({ [LABEL_SERVICE_ROLE]: 'template', [LABEL_COLOR]: color });
      // Created while the pods roll: it waits for nothing of the app.
      expect(ApiObject.of(app.templateServices[color] as never).node.dependencies).toEqual([]);
    }
    const scaled = renderApp({ green: { image: 'registry.example.com/acme/web:1.1.0', replicas: 0 } }).app;
    expect(Object.keys(scaled.templateServices)).toEqual(['blue']);
  });

  it('live Service selects the active color and preview Service the idle one', () => {
    const { manifests } = renderApp({ activeColor: 'green' });
    expect(find(manifests, 'Service', 'web').spec.selector).toEqual({ 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: 'green' });
    expect(find(manifests, 'Service', 'web-preview').spec.selector).toEqual({ 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: 'blue' });
  });

  it('Deployment selectors use only the name and color', () => {
    const { manifests } = renderApp();
    expect(find(manifests, 'Deployment', 'web-blue').spec.selector).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: 'blue' },
    });
  });

  it('labels pods with the recommended labels, the color and the image version', () => {
    const { manifests } = renderApp({ partOf: 'shop', component: 'api' });
    expect(find(manifests, 'Deployment', 'web-green').spec.template.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'web',
      'app.kubernetes.io/instance': 'web-green',
      'app.kubernetes.io/version': '1.1.0',
      'app.kubernetes.io/component': 'api',
      'app.kubernetes.io/part-of': 'shop',
      'app.kubernetes.io/managed-by': 'cutover',
      [LABEL_COLOR]: 'green',
      [LABEL_TEMPLATE]: expect.stringMatching(/^[0-9a-f]{6}$/),
    });
  });

  it('leaves Deployment replicas to the HPA (3–10, CPU 70%, memory 80%)', () => {
    const { manifests } = renderApp();
    expect(find(manifests, 'Deployment', 'web-blue').spec.replicas).toBeUndefined();
    const hpa = find(manifests, 'HorizontalPodAutoscaler', 'web-blue');
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.maxReplicas).toBe(10);
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web-blue' });
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
    expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
  });

  it('PDB uses maxUnavailable 1 on the color selector', () => {
    const { manifests } = renderApp();
    expect(find(manifests, 'PodDisruptionBudget', 'web-green').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: 'green' } },
    });
  });

  it('requires node anti-affinity and prefers zone spread within a color', () => {
    const pod = find(renderApp().manifests, 'Deployment', 'web-blue').spec.template.spec;
    const selector = { matchLabels: { 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: 'blue' } };
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
      { labelSelector: selector, topologyKey: 'kubernetes.io/hostname' },
    ]);
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector },
    ]);
  });

  it('sets requests and limits to 100m/500m CPU, 256Mi/512Mi memory and 256Mi/1Gi local disk', () => {
    const container = find(renderApp().manifests, 'Deployment', 'web-blue').spec.template.spec.containers[0];
    expect(container.resources).toEqual({
      requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '256Mi' },
      limits: { cpu: '500m', memory: '512Mi', 'ephemeral-storage': '1Gi' },
    });
  });

  it('refuses a local-disk limit below its request or too small for the writable volumes', () => {
    expect(() => renderApp({ resources: { ephemeralStorageRequest: '2Gi' } })).toThrow(
      'resources.ephemeralStorageRequest: exceeds resources.ephemeralStorageLimit 1Gi, got 2Gi; lower the request or raise the limit',
    );
    expect(() =>
      renderApp({ writablePaths: ['/tmp', '/cache'], resources: { ephemeralStorageRequest: '128Mi', ephemeralStorageLimit: '512Mi' } }),
    ).toThrow('resources.ephemeralStorageLimit: must exceed the 2 writable volume(s) of 256Mi each (512Mi), got 512Mi; raise it, e.g. to 1024Mi');
    expect(() => renderApp({ resources: { ephemeralStorageLimit: '1TB' } })).toThrow(
      'resources.ephemeralStorageLimit: is not a memory quantity in Mi or Gi, got "1TB"',
    );
  });

  it('probes /ready and /health on the named http port, and names the metrics port', () => {
    const container = find(renderApp().manifests, 'Deployment', 'web-blue').spec.template.spec.containers[0];
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
  });

  it('takes configurable probe paths', () => {
    const container = find(renderApp({ readinessPath: '/readyz', livenessPath: '/livez' }).manifests, 'Deployment', 'web-blue').spec.template.spec
      .containers[0];
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/livez');
  });

  it('drains before SIGTERM: preStop sleep and a grace period that covers it', () => {
    const pod = find(renderApp({ drainSeconds: 15, shutdownSeconds: 30 }).manifests, 'Deployment', 'web-blue').spec.template.spec;
    expect(pod.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 15 } } });
    expect(pod.terminationGracePeriodSeconds).toBe(45);
  });

  it('mounts an emptyDir on every writable path under a read-only root filesystem', () => {
    const pod = find(renderApp({ writablePaths: ['/tmp', '/var/cache/app'] }).manifests, 'Deployment', 'web-blue').spec.template.spec;
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: 'writable-0', mountPath: '/tmp' },
      { name: 'writable-1', mountPath: '/var/cache/app' },
    ]);
    expect(pod.volumes.map((v: { emptyDir?: unknown }) => v.emptyDir)).toEqual([{ sizeLimit: '256Mi' }, { sizeLimit: '256Mi' }]);
  });

  it('every pod template passes Pod Security Standards restricted', () => {
    const { manifests } = renderApp();
    const deployments = manifests.filter((m) => m.kind === 'Deployment') as Array<Record<string, any>>;
    expect(deployments).toHaveLength(2);
    for (const deployment of deployments) {
      expect(restrictedViolations(deployment.spec.template.spec)).toEqual([]);
    }
  });

  it('uses a service account without a mounted token', () => {
    const { manifests } = renderApp();
    expect(find(manifests, 'ServiceAccount', 'web').automountServiceAccountToken).toBe(false);
    const pod = find(manifests, 'Deployment', 'web-blue').spec.template.spec;
    expect(pod.serviceAccountName).toBe('web');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('loads settings from a ConfigMap and secrets by name only', () => {
    const { manifests } = renderApp({ settings: { NODE_ENV: 'production', LOG_LEVEL: 'warn' }, secretNames: ['web-secrets'] });
    expect(find(manifests, 'ConfigMap', 'web-settings').data).toEqual({ NODE_ENV: 'production', LOG_LEVEL: 'warn' });
    const container = find(manifests, 'Deployment', 'web-blue').spec.template.spec.containers[0];
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'web-settings' } }, { secretRef: { name: 'web-secrets' } }]);
    expect(manifests.some((m) => m.kind === 'Secret')).toBe(false);
  });

  it('gives each color its own env on top of the shared settings', () => {
    const { manifests } = renderApp({ green: { image: 'acme/web:2.0.0', env: { FEATURE_X: 'on' } } });
    expect(find(manifests, 'Deployment', 'web-green').spec.template.spec.containers[0].env).toEqual([
      { name: 'FEATURE_X', value: 'on' },
      { name: 'CUTOVER_COLOR', value: 'green' },
    ]);
    expect(find(manifests, 'Deployment', 'web-blue').spec.template.spec.containers[0].env).toEqual([{ name: 'CUTOVER_COLOR', value: 'blue' }]);
  });

  it('routes the Ingress to the live Service with TLS, forced HTTPS, rate limits and security headers', () => {
    const { manifests } = renderApp(INGRESS);
    const ingress = find(manifests, 'Ingress', 'web');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['web.example.com'], secretName: 'web-tls' }]);
    expect(ingress.spec.rules[0].host).toBe('web.example.com');
    expect(ingress.spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'web', port: { number: 80 } } });
    expect(ingress.metadata.annotations).toEqual({
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
      'nginx.ingress.kubernetes.io/ssl-redirect': 'true',
      'nginx.ingress.kubernetes.io/force-ssl-redirect': 'true',
      'nginx.ingress.kubernetes.io/limit-rps': '20',
      'nginx.ingress.kubernetes.io/limit-burst-multiplier': '5',
      'nginx.ingress.kubernetes.io/limit-connections': '50',
      'nginx.ingress.kubernetes.io/custom-headers': 'web-test/web-security-headers',
    });
    expect(find(manifests, 'ConfigMap', 'web-security-headers').data['X-Content-Type-Options']).toBe('nosniff');
  });

  it('makes the live Service, the HTTPRoute and the Ingress depend on the active Deployment', () => {
    const { app } = renderApp({ activeColor: 'green', routing: { gateway: { name: 'public' }, keepIngress: true } });
    const green = app.colors.green?.deployment as ApiObject;
    expect(ApiObject.of(app.liveService).node.dependencies).toContain(green);
    expect(ApiObject.of(app.ingress as never).node.dependencies).toContain(green);
    expect(app.route?.node.dependencies).toEqual([green, ApiObject.of(app.liveService)]);
    expect(ApiObject.of(app.previewService).node.dependencies).toEqual([]);
  });
});

describe('BlueGreenApp colors', () => {
  it('does not deploy a color without an image', () => {
    const { manifests } = renderApp({ green: {} });
    expect(names(manifests).filter((n) => n.endsWith('-green'))).toEqual([]);
    expect(find(manifests, 'Service', 'web-preview').spec.selector[LABEL_COLOR]).toBe('green');
  });

  it('scales a color to 0 without an HPA or PDB', () => {
    const { manifests } = renderApp({ green: { image: 'acme/web:1.1.0', replicas: 0 } });
    expect(find(manifests, 'Deployment', 'web-green').spec.replicas).toBe(0);
    expect(names(manifests)).not.toContain('HorizontalPodAutoscaler/web-green');
    expect(names(manifests)).not.toContain('PodDisruptionBudget/web-green');
  });

  it('gives a color its own minimum replicas', () => {
    const { manifests } = renderApp({ green: { image: 'acme/web:1.1.0', replicas: 5 } });
    expect(find(manifests, 'HorizontalPodAutoscaler', 'web-green').spec.minReplicas).toBe(5);
    expect(find(manifests, 'HorizontalPodAutoscaler', 'web-blue').spec.minReplicas).toBe(3);
  });
});

describe('BlueGreenApp cutover', () => {
  it('changes only routing objects when the active color flips', () => {
    const blue = renderApp({ activeColor: 'blue' }).manifests;
    const green = renderApp({ activeColor: 'green' }).manifests;
    expect(names(green)).toEqual(names(blue));
    const changed = blue
      .filter((before) => {
        const after = green.find((m) => m.kind === before.kind && m.metadata.name === before.metadata.name);
        return JSON.stringify(after) !== JSON.stringify(before);
      })
      .map((m) => `${m.kind}/${m.metadata.name}`)
      .sort();
    expect(changed).toEqual(['Service/web', 'Service/web-preview']);
    expect(changed.every((name) => ROUTING_KINDS.has(name.split('/')[0]))).toBe(true);
  });

  it('changes only the flipped color when a new image is deployed', () => {
    const before = renderApp().manifests;
    const after = renderApp({ green: { image: 'registry.example.com/acme/web:1.2.0' } }).manifests;
    const changed = before.filter(
      (m) => JSON.stringify(m) !== JSON.stringify(after.find((a) => a.kind === m.kind && a.metadata.name === m.metadata.name)),
    );
    const added = after.filter((m) => !before.some((b) => b.kind === m.kind && b.metadata.name === m.metadata.name));
    const [was, now] = [
      renderApp().app.colors.green?.templateId,
      renderApp({ green: { image: 'registry.example.com/acme/web:1.2.0' } }).app.colors.green?.templateId,
    ];
    // Green's Deployment, and green's template Service, which is replaced by one for the new template.
    expect(changed.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['Deployment/web-green', `Service/web-green-${was}`]);
    expect(added.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([`Service/web-green-${now}`]);
  });
});

describe('BlueGreenApp validation', () => {
  it('reports every independent problem of its props at once, one line each', () => {
    let error: unknown;
    try {
      renderApp({ port: 0, targetCpuUtilization: 200, drainSeconds: -1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      expect.stringMatching(/^port: /),
      expect.stringMatching(/^targetCpuUtilization: /),
      'drainSeconds: must be a whole number of at least 0, got -1; set drainSeconds to 0 or more',
    ]);
    expect((error as Error).message.split('\n')).toHaveLength(3);
  });

  const cases: Array<[string, Partial<BlueGreenAppProps>, string]> = [
    [
      'a live color without image',
      { blue: {} },
      'blue.image: the live color has no image, got none; set blue.image to a tagged image before making blue live',
    ],
    [
      'an untagged image',
      { green: { image: 'acme/web' } },
      'green.image: has no tag or digest, got "acme/web"; pin the build, e.g. "acme/web:1.4.2" or "acme/web@sha256:<digest>"',
    ],
    [
      'a live color scaled to 0',
      { blue: { image: 'acme/web:1', replicas: 0 } },
      'blue.replicas: cannot make a color scaled to 0 live, got activeColor=blue with blue.replicas=0; scale blue up first (remove blue.replicas ' +
        'or set it to at least 3), run pulumi up, then cut over',
    ],
    [
      'replicas the PDB would drain to zero',
      { replicas: 1 },
      'blue.replicas: the PodDisruptionBudget allows 1 pod(s) down at once, which would leave none running, got 1; run at least 2 replicas or ' +
        'lower maxUnavailable',
    ],
    [
      'replicas above maxReplicas',
      { green: { image: 'acme/web:1', replicas: 12 } },
      'green.replicas: exceeds maxReplicas 10, got 12; lower green.replicas or raise maxReplicas',
    ],
    [
      'a bad name',
      { name: 'Web_App' },
      'name: must be a lowercase DNS label of at most 50 characters starting with a letter, got "Web_App"; e.g. "web" or "checkout-api"',
    ],
    [
      'a host that is not a DNS name',
      { ingress: { host: 'https://web.example.com' } },
      'ingress.host: is not a DNS name, got "https://web.example.com"; use a lowercase fully qualified name such as "app.example.com"',
    ],
    ['a privileged port', { port: 80 }, 'port: must be a port from 1024 to 65535 (non-root containers cannot bind below 1024), got 80; e.g. 8080'],
    [
      'metrics on the app port',
      { metricsPort: 8080 },
      'metricsPort: must differ from port, got 8080 for both; serve metrics on a port of their own, e.g. 9090',
    ],
    ['a utilization above 100%', { targetCpuUtilization: 120 }, 'targetCpuUtilization: must be a percentage from 1 to 100, got 120; e.g. 70'],
    [
      'a CPU request above its limit',
      { resources: { cpuRequest: '1', cpuLimit: '500m' } },
      'resources.cpuRequest: exceeds resources.cpuLimit 500m, got 1000m; lower the request or raise the limit',
    ],
    [
      'a malformed memory quantity',
      { resources: { memoryLimit: '1GB' } },
      'resources.memoryLimit: is not a memory quantity in Mi or Gi, got "1GB"; use e.g. "256Mi" or "1Gi"',
    ],
    [
      'a bad env name',
      { blue: { image: 'acme/web:1', env: { 'FEATURE-X': '1' } } },
      'blue.env: is not an environment variable name, got "FEATURE-X"; use letters, digits and underscores, e.g. FEATURE_FLAG',
    ],
    ['root as the user', { runAsUser: 0 }, 'runAsUser: must be a whole number of at least 1, got 0; set runAsUser to 1 or more'],
  ];
  for (const [what, overrides, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => renderApp(overrides)).toThrow(message);
    });
  }

  it('renders nothing when validation fails', () => {
    const chart = new Chart(new App(), 'test');
    expect(() => new BlueGreenApp(chart, 'app', { ...BASE_PROPS, blue: {} })).toThrow(
      'blue.image: the live color has no image, got none; set blue.image to a tagged image before making blue live',
    );
    expect(renderChart(chart)).toEqual([]);
  });
});

describe('BlueGreenApp backends', () => {
  it('wires backend connection variables from Secrets into both colors, in order', () => {
    const backend = {
      connectionEnv: [
        { name: 'REDIS_PASSWORD', secretKeyRef: { name: 'redis-auth', key: 'password' } },
        { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@redis-master:6379/0' },
      ],
    };
    const { manifests } = renderApp({ backends: [backend] });
    for (const color of ['blue', 'green']) {
      expect(find(manifests, 'Deployment', `web-${color}`).spec.template.spec.containers[0].env).toEqual([
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } },
        { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@redis-master:6379/0' },
        { name: 'CUTOVER_COLOR', value: color },
      ]);
    }
  });
});

/** `Kind/name` of every object created, deleted or changed between two renders, sorted. */
function changedObjects(before: readonly Manifest[], after: readonly Manifest[]): string[] {
  const key = (m: Manifest): string => `${m.kind}/${m.metadata.name}`;
  const rendered = (manifests: readonly Manifest[]): Map<string, string> => new Map(manifests.map((m) => [key(m), JSON.stringify(m)]));
  const [a, b] = [rendered(before), rendered(after)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((name) => a.get(name) !== b.get(name)).sort();
}

function labelsOf(manifest: Manifest): Record<string, string> {
  return (manifest.metadata.labels ?? {}) as Record<string, string>;
}

const GATEWAY = { routing: { gateway: { name: 'public', namespace: 'gateway-system', sectionName: 'https' } } } satisfies Partial<BlueGreenAppProps>;
const INGRESS = { routing: { router: 'ingress' } } satisfies Partial<BlueGreenAppProps>;

describe('BlueGreenApp color Services', () => {
  it('gives each color a Service that selects only that color, on port 80 to http and no metrics port', () => {
    const { manifests } = renderApp({ activeColor: 'green' });
    for (const color of ['blue', 'green']) {
      const service = find(manifests, 'Service', `web-${color}`);
      expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'web', [LABEL_COLOR]: color });
      expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
      expect(labelsOf(service)[LABEL_SERVICE_ROLE]).toBe('color');
      expect(labelsOf(service)[LABEL_COLOR]).toBe(color);
    }
  });

  it('labels the live and preview Services with their role', () => {
    const { manifests } = renderApp();
    expect(labelsOf(find(manifests, 'Service', 'web'))[LABEL_SERVICE_ROLE]).toBe('live');
    expect(labelsOf(find(manifests, 'Service', 'web-preview'))[LABEL_SERVICE_ROLE]).toBe('preview');
  });

  it('has no color Service for a color scaled to 0 or not deployed', () => {
    const scaled = renderApp({ green: { image: 'acme/web:1.1.0', replicas: 0 } });
    expect(names(scaled.manifests)).not.toContain('Service/web-green');
    expect(Object.keys(scaled.app.colorServices)).toEqual(['blue']);
    expect(names(renderApp({ green: {} }).manifests)).not.toContain('Service/web-green');
  });

  it('makes each color Service depend on its Deployment', () => {
    const { app } = renderApp();
    for (const color of ['blue', 'green'] as const) {
      expect(ApiObject.of(app.colorServices[color] as never).node.dependencies).toEqual([app.colors[color]?.deployment]);
    }
  });

  it('never scrapes a pod twice: the ServiceMonitor scrapes exactly the live and preview Services', () => {
    for (const overrides of [{}, { trafficWeight: 50 }, { ...GATEWAY, trafficWeight: 50 }]) {
      const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
      const web = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...overrides });
      new MonitoringStack(chart, 'monitoring', { app: web });
      const manifests = renderChart(chart).map((r) => r.manifest);
      const monitor = find(manifests, 'ServiceMonitor', 'web').spec;
      const scraped = manifests
        .filter((m) => m.kind === 'Service')
        .map((m) => m as Manifest & Record<string, any>)
        .filter((service) => selects(monitor.selector, labelsOf(service)))
        .filter((service) => service.spec.ports.some((port: { name: string }) => port.name === monitor.endpoints[0].port));
      expect(scraped.map((s) => s.metadata.name).sort()).toEqual(['web', 'web-preview']);
    }
  });
});

/** Whether a Kubernetes label selector (matchLabels and matchExpressions) selects `labels`. */
function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> },
  labels: Record<string, string>,
): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const byExpression = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]);
      case 'NotIn':
        return !(key in labels) || !values.includes(labels[key]);
      case 'Exists':
        return key in labels;
      default:
        return !(key in labels);
    }
  });
  return byLabel && byExpression;
}

describe('BlueGreenApp weighted shift with ingress-nginx', () => {
  it('has no canary Ingress at weight 0 (the default)', () => {
    const { app, manifests } = renderApp(INGRESS);
    expect(app.trafficWeight).toBe(0);
    expect(app.canaryIngress).toBeUndefined();
    expect(names(manifests).filter((n) => n.startsWith('Ingress/'))).toEqual(['Ingress/web']);
  });

  for (const weight of [5, 25, 50, 100]) {
    it(`sends ${weight}% to the idle color's Service through a canary Ingress on the same host, class and TLS`, () => {
      const { manifests } = renderApp({ ...INGRESS, trafficWeight: weight });
      const canary = find(manifests, 'Ingress', 'web-canary');
      expect(canary.metadata.annotations).toEqual({
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': String(weight),
        'nginx.ingress.kubernetes.io/canary-weight-total': '100',
      });
      expect(canary.spec.ingressClassName).toBe('nginx');
      expect(canary.spec.tls).toEqual([{ hosts: ['web.example.com'], secretName: 'web-tls' }]);
      expect(canary.spec.rules).toEqual([
        {
          host: 'web.example.com',
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-green', port: { number: 80 } } } }] },
        },
      ]);
      expect(find(manifests, 'Ingress', 'web').spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'web', port: { number: 80 } } });
    });
  }

  it('shifts to blue when green is live', () => {
    const canary = find(renderApp({ ...INGRESS, activeColor: 'green', trafficWeight: 5 }).manifests, 'Ingress', 'web-canary');
    expect(canary.spec.rules[0].http.paths[0].backend.service.name).toBe('web-blue');
  });

  it('makes the canary Ingress depend on the idle Deployment, its Service and the main Ingress', () => {
    const { app } = renderApp({ ...INGRESS, trafficWeight: 5 });
    const dependencies = ApiObject.of(app.canaryIngress as never).node.dependencies;
    expect(dependencies).toContain(app.colors.green?.deployment);
    expect(dependencies).toContain(ApiObject.of(app.colorServices.green as never));
    expect(dependencies).toContain(ApiObject.of(app.ingress as never));
  });

  it('changes only the canary Ingress at each step of a shift: created, updated, then deleted with the cutover', () => {
    const steps = [0, 5, 25, 50, 100].map((trafficWeight) => renderApp({ ...INGRESS, trafficWeight }).manifests);
    for (let i = 1; i < steps.length; i++) {
      expect(changedObjects(steps[i - 1], steps[i])).toEqual(['Ingress/web-canary']);
    }
    const done = renderApp({ ...INGRESS, activeColor: 'green', trafficWeight: 0 }).manifests;
    expect(names(done)).not.toContain('Ingress/web-canary');
    expect(changedObjects(steps[4], done)).toEqual(['Ingress/web-canary', 'Service/web', 'Service/web-preview']);
  });

  it('a cutover during a shift also moves the canary to the other color', () => {
    const blue = renderApp({ ...INGRESS, activeColor: 'blue', trafficWeight: 25 }).manifests;
    const green = renderApp({ ...INGRESS, activeColor: 'green', trafficWeight: 25 }).manifests;
    expect(changedObjects(blue, green)).toEqual(['Ingress/web-canary', 'Service/web', 'Service/web-preview']);
  });
});

describe('BlueGreenApp weighted shift with a Gateway API HTTPRoute', () => {
  it('routes the host through an HTTPRoute on the HTTPS listener to the live Service, with headers, HSTS and a timeout, and no Ingress', () => {
    const { app, manifests } = renderApp(GATEWAY);
    expect(app.ingress).toBeUndefined();
    expect(names(manifests).filter((n) => n.startsWith('Ingress/') || n === 'ConfigMap/web-security-headers')).toEqual([]);
    const route = find(manifests, 'HTTPRoute', 'web');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec.parentRefs).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'https' },
    ]);
    expect(route.spec.hostnames).toEqual(['web.example.com']);
    expect(route.spec.rules).toHaveLength(1);
    expect(route.spec.rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    expect(route.spec.rules[0].filters).toEqual([
      {
        type: 'ResponseHeaderModifier',
        responseHeaderModifier: {
          set: [
            { name: 'X-Content-Type-Options', value: 'nosniff' },
            { name: 'X-Frame-Options', value: 'DENY' },
            { name: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
            { name: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
            { name: 'Strict-Transport-Security', value: 'max-age=31536000; includeSubDomains' },
          ],
        },
      },
    ]);
    expect(route.spec.rules[0].timeouts).toEqual({ request: '60s' });
    expect(route.spec.rules[0].backendRefs).toEqual([{ group: '', kind: 'Service', name: 'web', port: 80 }]);
    expect(find(manifests, 'Service', 'web').spec.selector[LABEL_COLOR]).toBe('blue');
  });

  it('redirects plain HTTP to HTTPS with a route of its own on the HTTP listener, outside the traffic path', () => {
    const { app, manifests } = renderApp(GATEWAY);
    const redirect = find(manifests, 'HTTPRoute', 'web-https-redirect');
    expect(redirect.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'gateway-system', sectionName: 'http' }],
      hostnames: ['web.example.com'],
      rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }] }],
    });
    expect(app.routingObjects).not.toContain(app.redirectRoute);
    const named = renderApp({
      routing: { gateway: { name: 'edge', sectionName: 'tls', httpSectionName: 'plain' }, requestTimeoutSeconds: 5 },
    }).manifests;
    expect(find(named, 'HTTPRoute', 'web').spec.parentRefs[0].sectionName).toBe('tls');
    expect(find(named, 'HTTPRoute', 'web').spec.rules[0].timeouts).toEqual({ request: '5s' });
    expect(find(named, 'HTTPRoute', 'web-https-redirect').spec.parentRefs[0].sectionName).toBe('plain');
    const off = renderApp({ routing: { gateway: { name: 'public', httpsRedirect: false } } });
    expect(off.app.redirectRoute).toBeUndefined();
    expect(names(off.manifests).filter((n) => n.startsWith('HTTPRoute/'))).toEqual(['HTTPRoute/web']);
  });

  it('leaves the Gateway namespace out when not given', () => {
    const route = find(renderApp({ routing: { gateway: { name: 'public' } } }).manifests, 'HTTPRoute', 'web');
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', sectionName: 'https' }]);
  });

  const expected: Array<[number, Array<[string, number | undefined]>]> = [
    [0, [['web', undefined]]],
    [
      5,
      [
        ['web-blue', 95],
        ['web-green', 5],
      ],
    ],
    [
      25,
      [
        ['web-blue', 75],
        ['web-green', 25],
      ],
    ],
    [
      50,
      [
        ['web-blue', 50],
        ['web-green', 50],
      ],
    ],
    [100, [['web-green', 100]]],
  ];
  for (const [weight, backends] of expected) {
    it(`sends to ${backends.map(([n, w]) => (w === undefined ? n : `${n}=${w}`)).join(', ')} at trafficWeight ${weight}`, () => {
      const route = find(renderApp({ ...GATEWAY, trafficWeight: weight }).manifests, 'HTTPRoute', 'web');
      expect(route.spec.rules[0].backendRefs.map((b: { name: string; weight?: number }) => [b.name, b.weight])).toEqual(backends);
    });
  }

  it('changes only the HTTPRoute at each step of a shift, and the HTTPRoute and the two Services when the shift completes', () => {
    const steps = [0, 5, 25, 50, 100].map((trafficWeight) => renderApp({ ...GATEWAY, trafficWeight }).manifests);
    for (let i = 1; i < steps.length; i++) {
      expect(changedObjects(steps[i - 1], steps[i])).toEqual(['HTTPRoute/web']);
    }
    const done = renderApp({ ...GATEWAY, activeColor: 'green', trafficWeight: 0 }).manifests;
    expect(changedObjects(steps[4], done)).toEqual(['HTTPRoute/web', 'Service/web', 'Service/web-preview']);
    expect(find(done, 'HTTPRoute', 'web').spec.rules[0].backendRefs).toEqual([{ group: '', kind: 'Service', name: 'web', port: 80 }]);
  });

  it('a cutover at weight 0 changes only the two Services: the live Service is the switch, the routes stay', () => {
    const blue = renderApp({ ...GATEWAY, activeColor: 'blue' }).manifests;
    const green = renderApp({ ...GATEWAY, activeColor: 'green' }).manifests;
    expect(changedObjects(blue, green)).toEqual(['Service/web', 'Service/web-preview']);
  });

  it('makes the HTTPRoute depend on the Deployment and Service of every color it sends requests to', () => {
    const shifting = renderApp({ ...GATEWAY, trafficWeight: 5 }).app;
    const dependencies = (shifting.route as ApiObject).node.dependencies;
    for (const color of ['blue', 'green'] as const) {
      expect(dependencies).toContain(shifting.colors[color]?.deployment);
      expect(dependencies).toContain(ApiObject.of(shifting.colorServices[color] as never));
    }
    const still = renderApp({ ...GATEWAY, green: { image: 'acme/web:1.1.0', replicas: 0 } }).app;
    expect((still.route as ApiObject).node.dependencies).toEqual([still.colors.blue?.deployment, ApiObject.of(still.liveService)]);
  });

  it('keeps the Ingress beside the HTTPRoute while migrating, both to the live Service, and a cutover changes neither', () => {
    const migrating = { routing: { ...GATEWAY.routing, keepIngress: true } };
    const { app, manifests } = renderApp(migrating);
    expect(names(manifests).filter((n) => /^(Ingress|HTTPRoute|ConfigMap)\//.test(n))).toEqual([
      'ConfigMap/web-security-headers',
      'ConfigMap/web-settings',
      'HTTPRoute/web',
      'HTTPRoute/web-https-redirect',
      'Ingress/web',
    ]);
    expect(find(manifests, 'Ingress', 'web').spec.rules[0].http.paths[0].backend).toEqual({ service: { name: 'web', port: { number: 80 } } });
    expect(app.routers.map((router) => router.router)).toEqual(['gateway', 'ingress']);
    expect(app.routingObjects).toEqual(expect.arrayContaining([app.route, app.ingress]));
    const green = renderApp({ ...migrating, activeColor: 'green' }).manifests;
    expect(changedObjects(manifests, green)).toEqual(['Service/web', 'Service/web-preview']);
    // A shift weighs both entry points alike.
    const shifting = renderApp({ ...migrating, trafficWeight: 25 }).manifests;
    expect(changedObjects(manifests, shifting)).toEqual(['HTTPRoute/web', 'Ingress/web-canary']);
    // The migration's last step deletes the Ingress and its headers ConfigMap, nothing else.
    expect(changedObjects(manifests, renderApp(GATEWAY).manifests)).toEqual(['ConfigMap/web-security-headers', 'Ingress/web']);
  });

  it('splits the requests between the colors as a pure function, leaving out a color with no share', () => {
    expect(trafficSplit('blue', 0)).toEqual([{ color: 'blue', weight: 100 }]);
    expect(trafficSplit('green', 30)).toEqual([
      { color: 'blue', weight: 30 },
      { color: 'green', weight: 70 },
    ]);
    expect(trafficSplit('green', 100)).toEqual([{ color: 'blue', weight: 100 }]);
  });
});

describe('BlueGreenApp weighted shift validation', () => {
  const cases: Array<[string, Partial<BlueGreenAppProps>, string]> = [
    [
      'a weight above 100',
      { trafficWeight: 101 },
      'trafficWeight: must be a whole percentage from 0 to 100, got 101; shift in steps such as 5, 25, 50, 100',
    ],
    [
      'a negative weight',
      { trafficWeight: -5 },
      'trafficWeight: must be a whole percentage from 0 to 100, got -5; shift in steps such as 5, 25, 50, 100',
    ],
    [
      'a fractional weight',
      { trafficWeight: 2.5 },
      'trafficWeight: must be a whole percentage from 0 to 100, got 2.5; shift in steps such as 5, 25, 50, 100',
    ],
    [
      'a shift to a color with no image',
      { green: {}, trafficWeight: 5 },
      'trafficWeight: sends 5% of requests to green, which is not deployed, got no green.image; set green.image and run pulumi up first, then ' +
        'shift traffic',
    ],
    [
      'a shift to a color scaled to 0',
      { green: { image: 'acme/web:1.1.0', replicas: 0 }, trafficWeight: 25, ...GATEWAY },
      'trafficWeight: sends 25% of requests to green, which is scaled to 0, got green.replicas=0; scale green up first (remove green.replicas), ' +
        'run pulumi up, then shift traffic',
    ],
    [
      'a shift without an entry point',
      { ingress: undefined, routing: undefined, trafficWeight: 5 },
      "trafficWeight: there is no public entry point to split, got trafficWeight=5 without ingress; set ingress (the HTTPRoute's host, or the " +
        "Ingress's), or set trafficWeight to 0",
    ],
    [
      'a Gateway name that is not a DNS label',
      { routing: { gateway: { name: 'Public_GW' } } },
      'routing.gateway.name: must be a lowercase DNS label (the name of a Gateway), got "Public_GW"; e.g. "public"',
    ],
    [
      'a Gateway namespace that is not a DNS label',
      { routing: { gateway: { name: 'public', namespace: 'gateway.system' } } },
      'routing.gateway.namespace: must be a lowercase DNS label (a namespace), got "gateway.system"; e.g. "gateway-system", or leave it out for ' +
        "the app's namespace",
    ],
    [
      'a listener name that is not a DNS label',
      { routing: { gateway: { name: 'public', sectionName: 'tls.main' } } },
      'routing.gateway.sectionName: must be a lowercase DNS label (the name of a listener of the Gateway), got "tls.main"; e.g. "https"',
    ],
    [
      'an HTTP listener name that is not a DNS label',
      { routing: { gateway: { name: 'public', httpSectionName: 'HTTP' } } },
      'routing.gateway.httpSectionName: must be a lowercase DNS label (the name of a listener of the Gateway), got "HTTP"; e.g. "http"',
    ],
    [
      'a redirect on the HTTPS listener',
      { routing: { gateway: { name: 'public', sectionName: 'web', httpSectionName: 'web' } } },
      'routing.gateway.httpSectionName: is the HTTPS listener too, got "web" for both;',
    ],
    [
      'a request timeout of 0',
      { routing: { gateway: { name: 'public' }, requestTimeoutSeconds: 0 } },
      'routing.requestTimeoutSeconds: must be a whole number of at least 1, got 0',
    ],
    [
      'the default router without a Gateway',
      { routing: undefined },
      'routing.gateway: the gateway router (the default) needs the Gateway the HTTPRoute attaches to, got none; set routing.gateway.name (e.g. ' +
        '"public"), or routing.router to "ingress" for an Ingress',
    ],
    ['an unknown router', { routing: { router: 'nginx' as never } }, 'routing.router: must be one of gateway, ingress, got "nginx";'],
    [
      'a Gateway with the Ingress router',
      { routing: { router: 'ingress', gateway: { name: 'public' } } },
      'routing.gateway: is only read by the gateway router, got it with routing.router "ingress";',
    ],
    [
      'keepIngress with the Ingress router',
      { routing: { router: 'ingress', keepIngress: true } },
      'routing.keepIngress: keeps an Ingress beside the HTTPRoute while migrating to Gateway API, got it with routing.router "ingress";',
    ],
    [
      'a Gateway without a host',
      { ingress: undefined, ...GATEWAY },
      'routing.gateway: the HTTPRoute needs a hostname, got no ingress; set ingress.host, e.g. "app.example.com"',
    ],
    [
      'a Gateway host that is not a DNS name',
      { ingress: { host: 'web' }, ...GATEWAY },
      'ingress.host: is not a DNS name, got "web"; use a lowercase fully qualified name such as "app.example.com"',
    ],
  ];
  for (const [what, overrides, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => renderApp(overrides)).toThrow(message);
    });
  }

  it('accepts the bounds 0 and 100, and a weight of 0 whatever the idle color', () => {
    expect(() => renderApp({ trafficWeight: 100 })).not.toThrow();
    expect(() => renderApp({ green: {}, trafficWeight: 0 })).not.toThrow();
    expect(() => renderApp({ ingress: undefined, routing: undefined, trafficWeight: 0 })).not.toThrow();
  });

  it('renders nothing when the shift is refused', () => {
    const chart = new Chart(new App(), 'test');
    expect(() => new BlueGreenApp(chart, 'app', { ...BASE_PROPS, green: {}, trafficWeight: 5 })).toThrow(
      'trafficWeight: sends 5% of requests to green, which is not deployed, got no green.image; ' +
        'set green.image and run pulumi up first, then shift traffic',
    );
    expect(renderChart(chart)).toEqual([]);
  });
});
