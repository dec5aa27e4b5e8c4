import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressInfo } from 'node:net';
import { ApiObject, App, Chart } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlueGreenApp,
  BlueGreenAppProps,
  CutoverGate,
  CutoverGateOptions,
  DEFAULT_GATE_IMAGE,
  Manifest,
  MigrationJob,
  NetworkPolicySet,
  gateScript,
  renderChart,
  restrictedViolations,
} from '../../lib';
import { reportingScript, shellQuote } from '../../lib/gates/gate-job';
import { BASE_PROPS, find } from '../helpers';

interface Fixture {
  readonly chart: Chart;
  readonly app: BlueGreenApp;
  readonly gate: CutoverGate;
  readonly render: () => Manifest[];
}

/** An app (blue live unless told) with a gate, in namespace `web-test`. */
function fixture(options: CutoverGateOptions = {}, app: Partial<BlueGreenAppProps> = {}): Fixture {
  const chart = new Chart(new App(), 'test', { namespace: 'web-test' });
  const bga = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, ...app });
  const gate = new CutoverGate(chart, 'gate', { app: bga, ...options });
  return { chart, app: bga, gate, render: () => renderChart(chart).map((r) => r.manifest) };
}

function gateJob(manifests: Manifest[], color = 'blue'): Record<string, any> {
  return find(manifests, 'Job', `web-gate-${color}`);
}

function container(job: Record<string, any>): Record<string, any> {
  return job.spec.template.spec.containers[0];
}

function envOf(job: Record<string, any>): Record<string, string> {
  return Object.fromEntries((container(job).env as { name: string; value: string }[]).map(({ name, value }) => [name, value]));
}

function dependencyNames(object: ApiObject): string[] {
  return object.node.dependencies.flatMap((d) => d.node.findAll().filter((c) => ApiObject.isApiObject(c))).map((o) => `${o.kind}/${o.name}`);
}

describe('CutoverGate objects', () => {
  it('names the gate Job after the target color, and renders no Service of its own', () => {
    const blue = fixture().render();
    const green = fixture({}, { activeColor: 'green' }).render();
    expect(find(blue, 'Job', 'web-gate-blue')).toBeDefined();
    expect(find(green, 'Job', 'web-gate-green')).toBeDefined();
    expect(green.some((m) => m.metadata.name === 'web-gate-blue')).toBe(false);
    expect([...blue, ...green].filter((m) => m.metadata.name.includes('-gate-') && m.kind !== 'Job')).toEqual([]);
  });

  it("checks through the Service of the target color's current pod template: only those pods, port 80 to the app port", () => {
    const { app, gate } = fixture({}, { activeColor: 'green', port: 8081 });
    const service = gate.service.toJson();
    const id = app.colors.green?.templateId as string;
    expect(service.metadata.name).toBe(`web-green-${id}`);
    // Not the pods of an earlier template of green, which keep answering while they drain after a rollout.
    expect(service.spec.selector).toEqual({ 'app.kubernetes.io/name': 'web', 'cutover.dev/color': 'green', 'cutover.dev/template': id });
    expect(app.colors.green?.deployment.toJson().spec.template.metadata.labels['cutover.dev/template']).toBe(id);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8081 }]);
    expect(service.spec.type).toBe('ClusterIP');
  });

  it('Job runs once, within a deadline, never restarts, keeps its log as termination message and is not TTL-deleted', () => {
    const job = gateJob(fixture().render());
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(120);
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(container(job).terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(job.metadata.annotations).toEqual({ 'pulumi.com/replaceUnready': 'true' });
    expect(job.spec.podFailurePolicy.rules).toEqual([{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }]);
  });

  it('Job labels name the gate, its component and the color', () => {
    const job = gateJob(fixture().render());
    for (const labels of [job.metadata.labels, job.spec.template.metadata.labels]) {
      expect(labels).toMatchObject({
        'app.kubernetes.io/name': 'web-gate',
        'app.kubernetes.io/component': 'cutover-gate',
        'cutover.dev/color': 'blue',
      });
    }
  });

  it('Job checks the template Service inside the namespace with the default curl image', () => {
    const { app, render } = fixture();
    const job = gateJob(render());
    const id = app.colors.blue?.templateId as string;
    expect(container(job).image).toBe(DEFAULT_GATE_IMAGE);
    expect(container(job).command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(envOf(job)).toEqual({
      CUTOVER_GATE_URL: `http://web-blue-${id}.web-test.svc`,
      CUTOVER_TARGET_COLOR: 'blue',
      CUTOVER_TARGET_IMAGE: BASE_PROPS.blue.image,
      CUTOVER_TARGET_TEMPLATE: id,
    });
  });

  it('checks the readiness path, the liveness path, then the configured checks', () => {
    const { gate } = fixture(
      {
        checks: [
          { path: '/api/status', expectStatus: 204 },
          { path: '/', contains: 'Welcome' },
        ],
      },
      { readinessPath: '/r', livenessPath: '/l' },
    );
    expect(gate.checks).toEqual([
      { path: '/r', expectStatus: 200 },
      { path: '/l', expectStatus: 200 },
      { path: '/api/status', expectStatus: 204 },
      { path: '/', expectStatus: 200, contains: 'Welcome' },
    ]);
  });

  it('the Job pod passes Pod Security restricted', () => {
    const job = gateJob(fixture().render());
    expect(restrictedViolations(job.spec.template.spec)).toEqual([]);
    expect(job.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(container(job).securityContext.readOnlyRootFilesystem).toBe(true);
  });

  it('a copy without the container security context is rejected by the restricted check', () => {
    const spec = gateJob(fixture().render()).spec.template.spec;
    const broken = { ...spec, securityContext: {}, containers: [{ ...spec.containers[0], securityContext: undefined }] };
    expect(restrictedViolations(broken).map((v) => v.control)).toEqual(
      expect.arrayContaining(['Privilege Escalation', 'Running as Non-root', 'Seccomp', 'Capabilities']),
    );
  });

  it('sets requests and limits, ephemeral storage included', () => {
    expect(container(gateJob(fixture().render())).resources).toEqual({
      requests: { cpu: '50m', memory: '32Mi', 'ephemeral-storage': '16Mi' },
      limits: { cpu: '200m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
    });
  });
});

describe('CutoverGate re-runs', () => {
  it('Job template changes when the target color gets a new image', () => {
    const before = gateJob(fixture().render());
    const after = gateJob(fixture({}, { blue: { image: 'registry.example.com/acme/web:1.0.1' } }).render());
    expect(after.metadata.name).toBe(before.metadata.name);
    expect(envOf(after).CUTOVER_TARGET_IMAGE).toBe('registry.example.com/acme/web:1.0.1');
    expect(after.spec.template).not.toEqual(before.spec.template);
  });

  it('Job template changes when the target color pod template changes without a new image', () => {
    const before = gateJob(fixture().render());
    const after = gateJob(fixture({}, { blue: { image: BASE_PROPS.blue.image, env: { FEATURE: 'on' } } }).render());
    expect(envOf(after).CUTOVER_TARGET_TEMPLATE).not.toBe(envOf(before).CUTOVER_TARGET_TEMPLATE);
  });

  it('a release to the idle color leaves the gate unchanged', () => {
    const before = gateJob(fixture().render());
    const after = gateJob(fixture({}, { green: { image: 'registry.example.com/acme/web:2.0.0' } }).render());
    expect(after).toEqual(before);
  });
});

describe('CutoverGate ordering', () => {
  it('live Service, preview Service and HTTPRoute depend on the gate Job', () => {
    const { app, gate } = fixture();
    for (const object of [ApiObject.of(app.liveService), ApiObject.of(app.previewService), app.route!]) {
      expect(object.node.dependencies).toContain(gate.job);
    }
  });

  it('the gate Job waits for the template Service and the target Deployment; the Service for nothing (created while the pods roll)', () => {
    const { app, gate } = fixture({}, { activeColor: 'green' });
    expect(dependencyNames(gate.job)).toEqual([`Service/web-green-${app.colors.green?.templateId}`, 'Deployment/web-green']);
    expect(dependencyNames(gate.service)).toEqual([]);
  });

  it('renders Deployment before its color Service, the template Service and the Deployment before the gate Job, then the traffic objects', () => {
    const order = fixture()
      .render()
      .map((m) => `${m.kind}/${m.metadata.name}`);
    const at = (key: string): number => {
      expect(order).toContain(key);
      return order.indexOf(key);
    };
    expect(at('Deployment/web-blue')).toBeLessThan(at('Service/web-blue'));
    expect(at(`Service/web-blue-${fixture().app.colors.blue?.templateId}`)).toBeLessThan(at('Job/web-gate-blue'));
    expect(at('Deployment/web-blue')).toBeLessThan(at('Job/web-gate-blue'));
    for (const traffic of ['Service/web', 'Service/web-preview', 'HTTPRoute/web']) {
      expect(at('Job/web-gate-blue')).toBeLessThan(at(traffic));
    }
  });

  it('guard adds more objects that wait for the gate', () => {
    const { chart, gate } = fixture();
    const extra = new ApiObject(chart, 'extra', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' } });
    gate.guard(extra);
    expect(extra.node.dependencies).toContain(gate.job);
  });

  it('guard refuses the Deployment the gate checks (a cycle)', () => {
    const { app, gate } = fixture();
    expect(() => gate.guard(app.colors.blue!.deployment)).toThrow(
      'guard: the gate itself waits for test/app/blue-deployment, got it as an object to guard; that is a dependency cycle: guard only what moves ' +
        'traffic (Services, Ingresses, HTTPRoutes)',
    );
  });

  it('guard refuses a call without objects', () => {
    expect(() => fixture().gate.guard()).toThrow('guard: needs at least one object, got none; e.g. guard(app.liveService)');
  });

  it('after(expand migration): the gate Job waits for it, and so does the traffic (through the gate)', () => {
    const { chart, app, gate, render } = fixture();
    const migration = new MigrationJob(chart, 'expand', {
      app,
      phase: 'expand',
      image: 'registry.example.com/acme/web:1.1.0',
      command: ['bin/migrate'],
    });
    gate.after(migration);
    expect(gate.job.node.dependencies).toContain(migration);
    const order = render().map((m) => `${m.kind}/${m.metadata.name}`);
    expect(order.indexOf(`Job/${migration.name}`)).toBeLessThan(order.indexOf('Job/web-gate-blue'));
    expect(order.indexOf('Job/web-gate-blue')).toBeLessThan(order.indexOf('Service/web'));
  });

  it('after refuses a contract migration', () => {
    const { chart, app, gate } = fixture();
    const contract = new MigrationJob(chart, 'contract', {
      app,
      phase: 'contract',
      image: 'registry.example.com/acme/web:1.1.0',
      command: ['bin/migrate'],
    });
    expect(() => gate.after(contract)).toThrow(
      'after: test/contract is a contract migration, got it as a prerequisite of the switch; contract only once the old color is retired, in an ' +
        'update of its own, and gate the switch with expand migrations only',
    );
  });

  it('after refuses what already waits for the gate (a cycle)', () => {
    const { app, gate } = fixture();
    expect(() => gate.after(app.liveService)).toThrow(
      'after: test/app/live-service already waits for the gate, got it as a prerequisite; that is a dependency cycle',
    );
  });

  it('after refuses a call without prerequisites', () => {
    expect(() => fixture().gate.after()).toThrow('after: needs at least one prerequisite, got none; e.g. gate.after(expandMigration)');
  });
});

describe('CutoverGate network peer', () => {
  function policies(activeColor: 'blue' | 'green'): Manifest[] {
    const { chart, app, gate, render } = fixture({}, { activeColor });
    const set = new NetworkPolicySet(chart, 'network');
    set.allow(gate).to(app);
    return render().filter((m) => m.kind === 'NetworkPolicy');
  }

  it('allow(gate).to(app): the gate pods reach the app pods on the HTTP port only', () => {
    const manifests = policies('blue');
    const gatePolicy = find(manifests, 'NetworkPolicy', 'web-gate');
    const gatePods = { matchLabels: { 'app.kubernetes.io/name': 'web-gate', 'app.kubernetes.io/component': 'cutover-gate' } };
    expect(gatePolicy.spec.podSelector).toEqual(gatePods);
    expect(gatePolicy.spec.egress).toEqual([
      {
        to: [
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'web' },
              matchExpressions: [{ key: 'cutover.dev/color', operator: 'In', values: ['blue', 'green'] }],
            },
          },
        ],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
    ]);
    expect(gatePolicy.spec.ingress).toBeUndefined();
    expect(find(manifests, 'NetworkPolicy', 'web').spec.ingress).toEqual([
      { from: [{ podSelector: gatePods }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
  });

  it('the policies do not change with the live color', () => {
    expect(policies('green')).toEqual(policies('blue'));
  });

  it('gate pods match the gate policy and not the app policy', () => {
    const { gate, render } = fixture();
    const labels = gateJob(render()).spec.template.metadata.labels;
    const selector = gate.networkPeer.workloads[0].selector.matchLabels!;
    expect(Object.entries(selector).every(([key, value]) => labels[key] === value)).toBe(true);
    expect(labels['app.kubernetes.io/name']).not.toBe('web');
  });
});

describe('CutoverGate validation', () => {
  it.each<[string, CutoverGateOptions, string]>([
    [
      'a path without a leading slash',
      { checks: [{ path: 'status' }] },
      'checks[0].path: must start with "/" and hold only printable ASCII without spaces or "#", got "status"; percent-encode the rest, e.g. ' +
        '"/search?q=a%20b"',
    ],
    [
      'a path with a space',
      { checks: [{ path: '/a b' }] },
      'checks[0].path: must start with "/" and hold only printable ASCII without spaces or "#", got "/a b"; percent-encode the rest, e.g. ' +
        '"/search?q=a%20b"',
    ],
    [
      'a path with a fragment',
      { checks: [{ path: '/ok' }, { path: '/a#b' }] },
      'checks[1].path: must start with "/" and hold only printable ASCII without spaces or "#", got "/a#b"; percent-encode the rest, e.g. ' +
        '"/search?q=a%20b"',
    ],
    [
      'a check without a path',
      { checks: [{} as never] },
      'checks[0].path: is required: the path the check requests, got nothing; e.g. "/api/status"',
    ],
    [
      'a status below 100',
      { checks: [{ path: '/', expectStatus: 99 }] },
      'checks[0].expectStatus: must be an HTTP status from 100 to 599, got 99; e.g. 200',
    ],
    [
      'a status above 599',
      { checks: [{ path: '/', expectStatus: 600 }] },
      'checks[0].expectStatus: must be an HTTP status from 100 to 599, got 600; e.g. 200',
    ],
    [
      'a fractional status',
      { checks: [{ path: '/', expectStatus: 200.5 }] },
      'checks[0].expectStatus: must be an HTTP status from 100 to 599, got 200.5; e.g. 200',
    ],
    [
      'empty contains',
      { checks: [{ path: '/', contains: '' }] },
      'checks[0].contains: must be non-empty text on one line, without control characters, got ""; e.g. "\\"status\\":\\"ok\\""',
    ],
    [
      'contains with a newline',
      { checks: [{ path: '/', contains: 'a\nb' }] },
      'checks[0].contains: must be non-empty text on one line, without control characters, got "a\\nb"; e.g. "\\"status\\":\\"ok\\""',
    ],
    [
      'an image without tag',
      { image: 'curlimages/curl' },
      'image: has no tag or digest, got "curlimages/curl"; pin the build, e.g. "curlimages/curl:1.4.2" or "curlimages/curl@sha256:<digest>"',
    ],
    [
      'a latest image',
      { image: 'curlimages/curl:latest' },
      'image: must be pinned to one build, got "curlimages/curl:latest"; use a version tag or a digest, e.g. "curlimages/curl:1.4.2"',
    ],
    [
      'a zero deadline',
      { activeDeadlineSeconds: 0 },
      'activeDeadlineSeconds: must be a whole number of at least 1, got 0; set activeDeadlineSeconds to 1 or more',
    ],
    [
      'a fractional deadline',
      { activeDeadlineSeconds: 1.5 },
      'activeDeadlineSeconds: must be a whole number of at least 1, got 1.5; set activeDeadlineSeconds to 1 or more',
    ],
    [
      'a zero request timeout',
      { requestTimeoutSeconds: 0 },
      'requestTimeoutSeconds: must be a whole number of at least 1, got 0; set requestTimeoutSeconds to 1 or more',
    ],
    [
      'a request timeout not below the deadline',
      { activeDeadlineSeconds: 10, requestTimeoutSeconds: 10 },
      'requestTimeoutSeconds: must be below activeDeadlineSeconds 10, got 10; lower it or raise activeDeadlineSeconds',
    ],
    ['negative retries', { retries: -1 }, 'retries: must be a whole number of at least 0, got -1; set retries to 0 or more'],
    ['a root user', { runAsUser: 0 }, 'runAsUser: must be a whole number of at least 1, got 0; set runAsUser to 1 or more'],
    [
      'a CPU request above its limit',
      { resources: { cpuRequest: '300m' } },
      'resources.cpuRequest: exceeds resources.cpuLimit 200m, got 300m; lower the request or raise the limit',
    ],
    [
      'an ephemeral request above its limit',
      { resources: { ephemeralStorageRequest: '128Mi' } },
      'resources.ephemeralStorageRequest: exceeds resources.ephemeralStorageLimit 64Mi, got 128Mi; lower the request or raise the limit',
    ],
  ])('rejects %s', (_, options, message) => {
    expect(() => fixture(options)).toThrow(message);
  });

  it('rejects a readiness path of the app the gate cannot request', () => {
    expect(() => fixture({}, { readinessPath: 'ready' })).toThrow('app readinessPath.path: must start with "/"');
  });

  it('accepts a path with a quote, brackets and a query', () => {
    expect(() => fixture({ checks: [{ path: "/it's/[x]?q={y}&z=1" }] })).not.toThrow();
  });
});

describe('gateScript', () => {
  const OPTIONS = { requestTimeoutSeconds: 2, retries: 0 };

  it('quotes every value as one shell word', () => {
    expect(shellQuote("/it's")).toBe(`'/it'\\''s'`);
    expect(shellQuote('$(reboot)`x`')).toBe(`'$(reboot)\`x\`'`);
    expect(gateScript([{ path: "/it's", expectStatus: 200, contains: 'a "b"' }], OPTIONS)).toContain(`check '/it'\\''s' 200 'a "b"'`);
  });

  it('is valid POSIX sh syntax (sh -n)', () => {
    const script = gateScript(
      [
        { path: "/it's", contains: "it's $(x) `y`" },
        { path: '/a?b=[1]', expectStatus: 404 },
      ],
      { requestTimeoutSeconds: 5, retries: 2 },
    );
    expect(() => execFileSync('sh', ['-n', '-c', script])).not.toThrow();
  });

  it('a broken script fails the syntax check (the check can fail)', () => {
    expect(() => execFileSync('sh', ['-n', '-c', 'check() {'], { stdio: 'pipe' })).toThrow('Syntax error: end of file unexpected');
  });
});

/** The smoke test's own client runs it: curl must be installed (it is on Debian-based machines and CI). */
function requireCurl(): void {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('curl: not found on PATH; these tests run the generated smoke-test script with it: install curl');
  }
}

describe('gateScript against a local HTTP server', () => {
  requireCurl();
  const requested: string[] = [];
  let url = '';
  const server = createServer((request, response) => {
    requested.push(request.url ?? '');
    if (request.url === '/ready' || request.url === "/it's") {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('status: ok');
    } else if (request.url === '/teapot') {
      response.writeHead(418).end('short and stout');
    } else {
      response.writeHead(503).end('unavailable');
    }
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Runs the script asynchronously, so the server in this process can answer. */
  function run(script: string, gateUrl = url, env: Record<string, string> = {}): Promise<{ code: number; stdout: string }> {
    return new Promise((resolve) => {
      execFile('sh', ['-c', script], { env: { PATH: process.env.PATH, CUTOVER_GATE_URL: gateUrl, ...env } }, (error, stdout) => {
        resolve({ code: error === null ? 0 : Number(error.code), stdout });
      });
    });
  }

  it('passes when every check gets its status and text, one line per check', async () => {
    const result = await run(
      gateScript([{ path: '/ready' }, { path: "/it's", contains: 'ok' }, { path: '/teapot', expectStatus: 418, contains: 'stout' }], {
        requestTimeoutSeconds: 2,
        retries: 0,
      }),
    );
    expect(result).toEqual({
      code: 0,
      stdout: `ok   GET /ready -> 200\nok   GET /it's -> 200\nok   GET /teapot -> 418\ngate passed: 3 checks against ${url}\n`,
    });
    expect(requested).toContain("/it's");
  });

  it('fails on the first unexpected status and runs no later check', async () => {
    requested.length = 0;
    const result = await run(gateScript([{ path: '/ready' }, { path: '/broken' }, { path: "/it's" }], { requestTimeoutSeconds: 2, retries: 0 }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('ok   GET /ready -> 200\nFAIL GET /broken: expected status 200, got 503: unavailable\n');
    expect(requested).toEqual(['/ready', '/broken']);
  });

  it('wrapped as the Job runs it, keeps its output and exit status and copies the output to the termination message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-gate-'));
    const log = join(dir, 'termination-log');
    try {
      const script = gateScript([{ path: '/ready' }, { path: '/broken' }], { requestTimeoutSeconds: 2, retries: 0 });
      const result = await run(reportingScript(script), url, { CUTOVER_TERMINATION_LOG: log });
      expect(result).toEqual({ code: 1, stdout: 'ok   GET /ready -> 200\nFAIL GET /broken: expected status 200, got 503: unavailable\n' });
      expect(readFileSync(log, 'utf8')).toBe(result.stdout);
      const passed = await run(reportingScript(gateScript([{ path: '/ready' }], { requestTimeoutSeconds: 2, retries: 0 })), url, {
        CUTOVER_TERMINATION_LOG: log,
      });
      expect(passed.code).toBe(0);
      expect(readFileSync(log, 'utf8')).toBe(`ok   GET /ready -> 200\ngate passed: 1 checks against ${url}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when the body lacks the expected text', async () => {
    const result = await run(gateScript([{ path: '/ready', contains: 'healthy' }], { requestTimeoutSeconds: 2, retries: 0 }));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('FAIL GET /ready: status 200, but the body does not contain "healthy"\n');
  });

  it('fails when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await run(gateScript([{ path: '/ready' }], { requestTimeoutSeconds: 2, retries: 0 }), `http://127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('FAIL GET /ready: no HTTP response (curl exit code 7)\n');
  });

  it('the rendered Job command runs the same checks', async () => {
    const { gate, render } = fixture({ checks: [{ path: "/it's", contains: 'status: ok' }] }, { livenessPath: '/ready' });
    expect(gate.checks.map((c) => c.path)).toEqual(['/ready', '/ready', "/it's"]);
    const script = container(gateJob(render())).command[2] as string;
    const result = await run(script);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[2]).toBe("ok   GET /it's -> 200");
  });
});

describe('CutoverGate guards every routing object', () => {
  it('makes the canary Ingress and the HTTPRoute wait for the gate too', () => {
    for (const routing of [{ router: 'ingress' as const }, { gateway: { name: 'public' } }]) {
      const chart = new Chart(new App(), 'routing', { namespace: 'shop' });
      const app = new BlueGreenApp(chart, 'app', { ...BASE_PROPS, trafficWeight: 25, routing });
      const gate = new CutoverGate(chart, 'gate', { app });
      const guarded = app.routingObjects;
      expect(guarded.length).toBeGreaterThanOrEqual(3);
      expect(guarded).toContain('router' in routing ? app.canaryIngress : app.route);
      for (const object of guarded) {
        const dependencies = ApiObject.of(object).node.dependencies;
        expect(dependencies, object.node.path).toContain(gate.job);
      }
    }
  });
});
