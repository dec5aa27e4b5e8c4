// Gateway API end to end with real traffic: the local cluster's Gateway (Traefik on the host, built from its Go
// module: scripts/cluster.d/gateway.sh) routes a stack of the example app on the real node, through the HTTPRoutes the
// gateway router renders. A load client sends real HTTPS requests through the Gateway's listener, with the route's
// host as Host and server name, and counts every response by the color that answered. The steps share one stack and
// run in order.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, LocalStack, realStackConfig } from '../../scripts/local';
import { LoadClient, LoadClientProps, summarize, switchTimes } from '../../scripts/traffic';
import { deleteNamespace, describeFailures, expectMovedTo, expectSucceeded, namespaceDiagnostics, readyCluster, underLoad, waitFor } from './helpers';

const APP = 'web';
const NAMESPACE = 'web-gateway-e2e';
const HOST = `${APP}.${NAMESPACE}.example.com`;
/** The local Gateway's listeners (scripts/cluster.d/gateway.sh). */
const HTTPS_PORT = 18443;
const HTTP_PORT = 18080;

let stack: LocalStack;
let kube: KubeClient;
let env: Record<string, string>;
let kubeconfig: string;
/** Where the load goes: the Gateway's HTTPS listener on this machine, for the route's host. */
let gateway: Pick<LoadClientProps, 'url' | 'connectTo' | 'ca'>;
const diagnose = (): string => namespaceDiagnostics(env, kubeconfig, NAMESPACE);
const traffic: Record<string, unknown> = {};

type Condition = { type: string; status: string; reason?: string };
type Route = {
  spec: { rules: Array<{ backendRefs?: Array<{ name: string; weight?: number }> }> };
  status?: { parents?: Array<{ controllerName: string; conditions?: Condition[] }> };
};

async function route(name: string): Promise<Route | undefined> {
  return kube.get<Route>(`/apis/gateway.networking.k8s.io/v1/namespaces/${NAMESPACE}/httproutes/${name}`);
}

/** One GET through the Gateway: status and headers. */
function get(scheme: 'http' | 'https'): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port: scheme === 'https' ? HTTPS_PORT : HTTP_PORT, path: '/', headers: { host: HOST }, timeout: 5000 };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    };
    const req =
      scheme === 'https'
        ? httpsRequest({ ...options, servername: HOST, ca: gateway.ca, checkServerIdentity: () => undefined }, onResponse)
        : httpRequest(options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`GET ${scheme}://${HOST}/ through the Gateway: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** `count` requests through the Gateway at 100 per second: how many each color answered, and how many failed. */
async function sample(count: number): Promise<{ blue: number; green: number; failed: number }> {
  const client = new LoadClient({ ...gateway, ratePerSecond: 100, keepAliveShare: 0.5, maxRequests: count, maxDurationMs: 60_000 });
  client.start();
  const summary = summarize(await client.finished());
  return { blue: summary.byColor.blue, green: summary.byColor.green, failed: summary.failed };
}

beforeAll(async () => {
  const cluster = readyCluster();
  env = cluster.env;
  kubeconfig = cluster.kubeconfig;
  kube = new KubeClient(kubeconfig);
  // The Gateway's certificate, made by scripts/cluster up beside the kubeconfig: the client checks the chain against it.
  gateway = {
    url: `https://${HOST}:${HTTPS_PORT}/`,
    connectTo: '127.0.0.1',
    ca: readFileSync(join(dirname(kubeconfig), 'node', 'gateway', 'tls.crt'), 'utf8'),
  };
  deleteNamespace(env, kubeconfig, NAMESPACE);
  stack = new LocalStack('gateway-e2e', env, kubeconfig);
  // Deployed first with an Ingress, as a stack from before Gateway API was the default: step 1 migrates it.
  await stack.init(
    realStackConfig(NAMESPACE, {
      'cutover:deployTimeoutSeconds': 60,
      'cutover:drainSeconds': 2,
      'cutover:shutdownSeconds': 5,
      'cutover:routing': { router: 'ingress' },
    }),
  );
});

afterAll(async () => {
  await kube?.close();
  console.log(`gateway e2e traffic: ${JSON.stringify(traffic)}`);
});

describe('Gateway API with a real Gateway and real requests', () => {
  it(
    '1. a stack deployed with an Ingress migrates in reviewed updates: the routes come beside the Ingress, then the Ingress goes, and no ' +
      'request through the Gateway fails',
    async () => {
      expectSucceeded(await stack.up(), diagnose);
      expect(await kube.get(`/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/${APP}`)).toBeDefined();
      const changes = async () =>
        (await stack.previewSteps())
          .filter((s) => s.op !== 'same')
          .map((s) => `${s.op} ${s.type} ${s.name}`)
          .sort();
      // Step 1: the routes beside the Ingress; the app's NetworkPolicy admits the Gateway's proxies too.
      await stack.set('routing.router', 'gateway');
      await stack.set('routing.gateway.name', 'public');
      await stack.set('routing.gateway.namespace', 'gateway-system');
      await stack.set('routing.keepIngress', 'true');
      expect(await changes()).toEqual([
        `create kubernetes:gateway.networking.k8s.io/v1:HTTPRoute ${NAMESPACE}/${APP}`,
        `create kubernetes:gateway.networking.k8s.io/v1:HTTPRoute ${NAMESPACE}/${APP}-https-redirect`,
        `update kubernetes:networking.k8s.io/v1:NetworkPolicy ${NAMESPACE}/${APP}`,
      ]);
      expectSucceeded(await stack.up(), diagnose);
      await waitFor('the Gateway to answer for the route', async () => (await get('https').catch(() => ({ status: 0 }))).status === 200);
      // Step 2 is DNS (docs/routing.md). Step 3: the Ingress goes, and nothing else changes but the policy.
      const removed = await stack.pulumi(['config', 'rm', '--path', 'routing.keepIngress']);
      expect(removed.code, removed.stderr).toBe(0);
      expect(await changes()).toEqual([
        `delete kubernetes:core/v1:ConfigMap ${NAMESPACE}/${APP}-security-headers`,
        `delete kubernetes:networking.k8s.io/v1:Ingress ${NAMESPACE}/${APP}`,
        `update kubernetes:networking.k8s.io/v1:NetworkPolicy ${NAMESPACE}/${APP}`,
      ]);
      const run = await underLoad(gateway, () => stack.up());
      expectSucceeded(run.result, diagnose);
      const summary = summarize(run.samples);
      traffic.migration = { sent: summary.sent, failed: summary.failed, byColor: summary.byColor };
      expect(summary.failed, describeFailures(run.samples)).toBe(0);
      expect(summary.byColor.blue).toBe(summary.sent);
      expect(await kube.get(`/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/${APP}`)).toBeUndefined();
    },
  );

  it('1b. the Gateway accepts both routes; HTTPS through it reaches blue with the security headers and HSTS; HTTP is redirected', async () => {
    for (const name of [APP, `${APP}-https-redirect`]) {
      await waitFor(`HTTPRoute ${name} to be accepted by Traefik with its references resolved`, async () => {
        const parent = (await route(name))?.status?.parents?.find((p) => p.controllerName === 'traefik.io/gateway-controller');
        const status = (type: string) => parent?.conditions?.find((c) => c.type === type)?.status;
        return status('Accepted') === 'True' && status('ResolvedRefs') === 'True';
      });
    }
    const answer = await get('https');
    expect(answer.status).toBe(200);
    expect(answer.headers['x-cutover-color']).toBe('blue');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const redirect = await get('http');
    expect(redirect.status).toBe(301);
    expect(String(redirect.headers.location)).toMatch(new RegExp(`^https://${HOST.replace(/\./g, '\\.')}(:443)?/$`));
    const counted = await sample(200);
    traffic.initial = counted;
    expect(counted).toEqual({ blue: 200, green: 0, failed: 0 });
  });

  it('2. a weighted shift through the Gateway: only the HTTPRoute changes, and a quarter of the requests reach green, counted', async () => {
    await stack.set('trafficWeight', '25');
    const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
    expect(steps.map((s) => `${s.op} ${s.type} ${s.name}`)).toEqual([`update kubernetes:gateway.networking.k8s.io/v1:HTTPRoute ${NAMESPACE}/${APP}`]);
    expectSucceeded(await stack.up(), diagnose);
    expect((await route(APP))?.spec.rules[0].backendRefs?.map((ref) => `${ref.name}=${ref.weight}`)).toEqual([`${APP}-blue=75`, `${APP}-green=25`]);
    await waitFor('green to answer through the Gateway', async () => (await sample(20)).green > 0);
    const shifted = await sample(400);
    traffic.shift25 = shifted;
    expect(shifted.failed).toBe(0);
    // Traefik's weighted round robin keeps to the weights request by request; a few either way for what was in flight.
    expect(shifted.green).toBeGreaterThanOrEqual(80);
    expect(shifted.green).toBeLessThanOrEqual(120);
    expect(shifted.blue + shifted.green).toBe(400);

    // Aborting the shift puts the live Service back as the route's one backend.
    await stack.set('trafficWeight', '0');
    expectSucceeded(await stack.up(), diagnose);
    expect((await route(APP))?.spec.rules[0].backendRefs?.map((ref) => ref.name)).toEqual([APP]);
    await waitFor('blue alone to answer through the Gateway', async () => (await sample(50)).blue === 50);
  });

  /** Switches activeColor to `to` under load through the Gateway: no request fails, and traffic settles on `to`. */
  async function switchUnderLoad(name: 'cutover' | 'rollback', from: 'blue' | 'green', to: 'blue' | 'green'): Promise<void> {
    await stack.set('activeColor', to);
    const run = await underLoad(gateway, () => stack.up(), { settleOn: to });
    expectSucceeded(run.result, diagnose);
    const summary = summarize(run.samples);
    traffic[name] = {
      sent: summary.sent,
      failed: summary.failed,
      byColor: summary.byColor,
      ...switchTimes(run.samples, { commandStartedAt: run.commandStartedAt, from, to }),
    };
    expect(summary.failed, describeFailures(run.samples)).toBe(0);
    expectMovedTo(run, to);
  }

  it('3. cutover under load through the Gateway: the routes do not change, no request fails, traffic moves to green', async () => {
    await stack.set('activeColor', 'green');
    const steps = (await stack.previewSteps()).filter((s) => s.op !== 'same');
    expect(steps.map((s) => `${s.op} ${s.type} ${s.name}`).sort()).toEqual([
      `create kubernetes:batch/v1:Job ${NAMESPACE}/${APP}-gate-green`,
      `delete kubernetes:batch/v1:Job ${NAMESPACE}/${APP}-gate-blue`,
      `update kubernetes:core/v1:Service ${NAMESPACE}/${APP}`,
      `update kubernetes:core/v1:Service ${NAMESPACE}/${APP}-preview`,
    ]);
    await switchUnderLoad('cutover', 'blue', 'green');
  });

  it('4. rollback under load through the Gateway: back to blue, no request fails', async () => {
    await switchUnderLoad('rollback', 'green', 'blue');
  });

  it("5. pulumi destroy removes the routes; the Gateway, the platform's, stays", async () => {
    expectSucceeded(await stack.pulumi(['destroy', '--yes', '--skip-preview']), diagnose);
    await waitFor('the namespace to be gone', async () => (await kube.get(`/api/v1/namespaces/${NAMESPACE}`)) === undefined, 120);
    expect(await kube.get('/apis/gateway.networking.k8s.io/v1/namespaces/gateway-system/gateways/public')).toBeDefined();
  });
});
