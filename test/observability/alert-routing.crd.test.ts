import { App, Chart } from 'cdk8s';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALERTMANAGER_CONFIG_API_VERSION, AlertReceiver, AlertRouting, Manifest, renderChart } from '../../lib';
import { AlertmanagerRoute } from '../alertmanager-manifest';
import { readStackFile } from '../../stacks/stack-file';
import { CrdSchemaValidator, OpenApiSchema, VENDORED_CRD_DIRECTORY, loadCrdVersions } from '../crd-schema';
import { synthesize } from '../../stacks/synthesize';

const ROOT = resolve(__dirname, '..', '..');
const CRD_FILE = 'prometheus-operator/monitoring.coreos.com_alertmanagerconfigs.yaml';

type AlertmanagerConfigManifest = Manifest & { spec: { route: AlertmanagerRoute } & Record<string, unknown> };

function alertmanagerConfigs(manifests: readonly Manifest[]): AlertmanagerConfigManifest[] {
  return manifests.filter((m): m is AlertmanagerConfigManifest => m.kind === 'AlertmanagerConfig');
}

function renderStack(stack: string): AlertmanagerConfigManifest[] {
  return alertmanagerConfigs(synthesize(readStackFile(ROOT, stack), stack).objects.map(({ manifest }) => manifest));
}

/** An AlertRouting with every option set. */
function renderEveryOption(): AlertmanagerConfigManifest[] {
  const chart = new Chart(new App(), 'test', { namespace: 'shop' });
  new AlertRouting(chart, 'alert-routing', {
    name: 'shop-alert-routing',
    pager: AlertReceiver.pagerDuty({ routingKey: { name: 'pagerduty', key: 'integration-key' }, repeatInterval: '30m' }),
    chat: AlertReceiver.slack({ apiUrl: { name: 'slack', key: 'url' }, channel: '#shop-alerts', repeatInterval: '12h' }),
    monitoringLabels: { release: 'kube-prometheus-stack' },
    groupBy: ['alertname', 'namespace', 'service', 'color'],
    groupWait: '10s',
    groupInterval: '2m',
    partOf: 'shop',
  });
  return alertmanagerConfigs(renderChart(chart).map(({ manifest }) => manifest));
}

/** Every route below the top one, depth first. */
function childRoutes(route: AlertmanagerRoute): AlertmanagerRoute[] {
  return (route.routes ?? []).flatMap((child) => [child, ...childRoutes(child)]);
}

let validator: CrdSchemaValidator;
/** The CRD leaves child routes open (a recursive schema); the operator decodes them as routes, so they are checked as one. */
let routeValidator: CrdSchemaValidator;

/** Problems of one route, checked as the `spec` of a stand-in resource whose schema is the CRD's route. */
function routeProblems(route: unknown): string[] {
  const manifest = { apiVersion: 'routes.test/v1', kind: 'Route', metadata: { name: 'route' }, spec: route };
  return routeValidator.validate(manifest);
}

beforeAll(() => {
  validator = CrdSchemaValidator.all();
  const [version] = loadCrdVersions(VENDORED_CRD_DIRECTORY, [CRD_FILE]);
  const spec = (version.schema.properties as Record<string, OpenApiSchema>).spec;
  const route = (spec.properties as Record<string, OpenApiSchema>).route;
  routeValidator = new CrdSchemaValidator([
    { file: CRD_FILE, apiVersion: 'routes.test/v1', kind: 'Route', schema: { type: 'object', properties: { spec: route } } },
  ]);
});

const variants: Array<[string, () => AlertmanagerConfigManifest[]]> = [
  ['prod: pager and chat', () => renderStack('prod')],
  ['staging: chat only', () => renderStack('staging')],
  ['every option', renderEveryOption],
];

describe('AlertmanagerConfigs of monitoring.alerting against the vendored Prometheus Operator CRD', () => {
  it('knows the AlertmanagerConfig version the construct renders', () => {
    expect(ALERTMANAGER_CONFIG_API_VERSION).toBe('monitoring.coreos.com/v1alpha1');
    expect(validator.resourceTypes).toContain(`${ALERTMANAGER_CONFIG_API_VERSION}/AlertmanagerConfig`);
  });

  it('renders one per shipped stack', () => {
    expect(['prod', 'staging'].map((stack) => renderStack(stack).map((m) => `${m.metadata.namespace}/${m.metadata.name}`))).toEqual([
      ['web-prod/web-alert-routing'],
      ['web-staging/web-alert-routing'],
    ]);
  });

  it.each(variants)('%s: the AlertmanagerConfig is valid', (_, render) => {
    const [manifest] = render();
    expect(validator.validate(manifest)).toEqual([]);
  });

  it.each(variants)('%s: every child route is a valid route', (_, render) => {
    const [manifest] = render();
    const routes = childRoutes(manifest.spec.route);
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.map(routeProblems)).toEqual(routes.map(() => []));
  });
});

describe('the vendored AlertmanagerConfig schema rejects what the API server would', () => {
  const manifest = (): Record<string, any> => JSON.parse(JSON.stringify(renderStack('prod')[0])) as Record<string, any>;

  it('rejects a PagerDuty routing key that names no Secret key', () => {
    const broken = manifest();
    delete broken.spec.receivers[0].pagerdutyConfigs[0].routingKey.key;
    expect(validator.validate(broken)).toEqual(["/spec/receivers/0/pagerdutyConfigs/0/routingKey must have required property 'key'"]);
  });

  it('rejects a Slack webhook URL given as a value instead of a Secret reference', () => {
    const broken = manifest();
    broken.spec.receivers[1].slackConfigs[0].apiURL = 'https://chat.example.com/hooks/1';
    expect(validator.validate(broken)).toEqual(['/spec/receivers/1/slackConfigs/0/apiURL must be object']);
  });

  it('rejects a group interval that is no duration', () => {
    const broken = manifest();
    broken.spec.route.groupInterval = '5 minutes';
    expect(validator.validate(broken)[0]).toMatch(/^\/spec\/route\/groupInterval must match pattern /);
  });

  it('rejects a child route matcher of an unknown match type (the route schema, as the operator decodes it)', () => {
    const [child] = childRoutes(manifest().spec.route as AlertmanagerRoute) as Array<Record<string, any>>;
    child.matchers[0].matchType = '==';
    expect(routeProblems(child)).toEqual(['/spec/matchers/0/matchType must be equal to one of the allowed values']);
  });
});
