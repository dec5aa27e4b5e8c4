import { App, ApiObject, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { BlueGreenApp, BlueGreenAppProps, LABEL_COLOR, renderChart, restrictedViolations } from '../lib';
import { BASE_PROPS, find, names, renderApp } from './helpers';

const ROUTING_KINDS = new Set(['Service', 'Ingress']);

describe('BlueGreenApp names and defaults', () => {
  it('pins every object name to the service name and color', () => {
    const { manifests } = renderApp();
    expect(names(manifests)).toEqual([
      'ConfigMap/web-security-headers',
      'ConfigMap/web-settings',
      'Deployment/web-blue',
      'Deployment/web-green',
      'HorizontalPodAutoscaler/web-blue',
      'HorizontalPodAutoscaler/web-green',
      'Ingress/web',
      'PodDisruptionBudget/web-blue',
      'PodDisruptionBudget/web-green',
      'Service/web',
      'Service/web-preview',
      'ServiceAccount/web',
    ]);
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
    expect(() => renderApp({ writablePaths: ['/tmp', '/cache'], resources: { ephemeralStorageRequest: '128Mi', ephemeralStorageLimit: '512Mi' } })).toThrow(
      'resources.ephemeralStorageLimit: must exceed the 2 writable volume(s) of 256Mi each (512Mi), got 512Mi; raise it, e.g. to 1024Mi',
    );
    expect(() => renderApp({ resources: { ephemeralStorageLimit: '1TB' } })).toThrow('resources.ephemeralStorageLimit: is not a memory quantity in Mi or Gi, got "1TB"');
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
    const container = find(renderApp({ readinessPath: '/readyz', livenessPath: '/livez' }).manifests, 'Deployment', 'web-blue').spec.template.spec.containers[0];
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
    const { manifests } = renderApp();
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

  it('makes the live Service and Ingress depend on the active Deployment', () => {
    const { app } = renderApp({ activeColor: 'green' });
    const green = app.colors.green?.deployment as ApiObject;
    expect(ApiObject.of(app.liveService).node.dependencies).toContain(green);
    expect(ApiObject.of(app.ingress as never).node.dependencies).toContain(green);
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
    const changed = before.filter((m) => JSON.stringify(m) !== JSON.stringify(after.find((a) => a.kind === m.kind && a.metadata.name === m.metadata.name)));
    expect(changed.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(['Deployment/web-green']);
  });
});

describe('BlueGreenApp validation', () => {
  const cases: Array<[string, Partial<BlueGreenAppProps>, string]> = [
    ['a live color without image', { blue: {} }, 'blue.image: the live color has no image, got none; set blue.image to a tagged image before making blue live'],
    ['an untagged image', { green: { image: 'acme/web' } }, 'green.image: has no tag or digest, got "acme/web"; pin the build, e.g. "acme/web:1.4.2" or "acme/web@sha256:<digest>"'],
    [
      'a live color scaled to 0',
      { blue: { image: 'acme/web:1', replicas: 0 } },
      'blue.replicas: cannot make a color scaled to 0 live, got activeColor=blue with blue.replicas=0; scale blue up first (remove blue.replicas or set it to at least 3), run pulumi up, then cut over',
    ],
    [
      'replicas the PDB would drain to zero',
      { replicas: 1 },
      'blue.replicas: the PodDisruptionBudget allows 1 pod(s) down at once, which would leave none running, got 1; run at least 2 replicas or lower maxUnavailable',
    ],
    ['replicas above maxReplicas', { green: { image: 'acme/web:1', replicas: 12 } }, 'green.replicas: exceeds maxReplicas 10, got 12; lower green.replicas or raise maxReplicas'],
    ['a bad name', { name: 'Web_App' }, 'name: must be a lowercase DNS label of at most 50 characters starting with a letter, got "Web_App"; e.g. "web" or "checkout-api"'],
    ['a host that is not a DNS name', { ingress: { host: 'https://web.example.com' } }, 'ingress.host: is not a DNS name, got "https://web.example.com"; use a lowercase fully qualified name such as "app.example.com"'],
    ['a privileged port', { port: 80 }, 'port: must be a port from 1024 to 65535 (non-root containers cannot bind below 1024), got 80; e.g. 8080'],
    ['metrics on the app port', { metricsPort: 8080 }, 'metricsPort: must differ from port, got 8080 for both; serve metrics on a port of their own, e.g. 9090'],
    ['a utilization above 100%', { targetCpuUtilization: 120 }, 'targetCpuUtilization: must be a percentage from 1 to 100, got 120; e.g. 70'],
    ['a CPU request above its limit', { resources: { cpuRequest: '1', cpuLimit: '500m' } }, 'resources.cpuRequest: exceeds resources.cpuLimit 500m, got 1000m; lower the request or raise the limit'],
    ['a malformed memory quantity', { resources: { memoryLimit: '1GB' } }, 'resources.memoryLimit: is not a memory quantity in Mi or Gi, got "1GB"; use e.g. "256Mi" or "1Gi"'],
    ['a bad env name', { blue: { image: 'acme/web:1', env: { 'FEATURE-X': '1' } } }, 'blue.env: "FEATURE-X" is not an environment variable name; use letters, digits and underscores, e.g. FEATURE_FLAG'],
    ['root as the user', { runAsUser: 0 }, 'runAsUser: must be a whole number of at least 1, got 0; set runAsUser to 1 or more'],
  ];
  for (const [what, overrides, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => renderApp(overrides)).toThrow(message);
    });
  }

  it('renders nothing when validation fails', () => {
    const chart = new Chart(new App(), 'test');
    expect(() => new BlueGreenApp(chart, 'app', { ...BASE_PROPS, blue: {} })).toThrow();
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
