import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_API_VERSION, Manifest } from '../../../lib';
import { readStackFile } from '../../../stacks/stack-file';
import { CrdSchemaValidator } from '../../crd-schema';
import { synthesize } from '../../../stacks/synthesize';

const ROOT = resolve(__dirname, '..', '..', '..');
const GATEWAY = { name: 'public', namespace: 'gateway-system' };

/** Every object the prod stack renders with `routing.gateway` set and `overrides` on top (raw config values). */
function renderProd(overrides: Readonly<Record<string, string>> = {}): Manifest[] {
  const raw = { ...readStackFile(ROOT, 'prod'), 'cutover:routing': JSON.stringify({ gateway: GATEWAY }), ...overrides };
  return synthesize(raw, 'prod').objects.map(({ manifest }) => manifest);
}

const httpRoutes = (manifests: readonly Manifest[]): Array<Manifest & Record<string, any>> => manifests.filter((m) => m.kind === 'HTTPRoute');

const variants: Array<[string, Record<string, string>]> = [
  ['prod, all traffic on the active color', {}],
  ['prod, trafficWeight 25', { 'cutover:trafficWeight': '25' }],
  [
    'prod, a listener, a second app and trafficWeight 50',
    {
      'cutover:routing': JSON.stringify({ gateway: { ...GATEWAY, sectionName: 'https' } }),
      'cutover:trafficWeight': '50',
      'cutover:services': JSON.stringify({
        api: {
          host: 'api.example.com',
          blue: { image: 'registry.example.com/acme/api:2.0.0' },
          green: { image: 'registry.example.com/acme/api:2.1.0' },
        },
      }),
    },
  ],
];

let validator: CrdSchemaValidator;

beforeAll(() => {
  validator = CrdSchemaValidator.all();
});

describe('HTTPRoutes rendered with routing.gateway against the vendored Gateway API CRD', () => {
  it('knows the HTTPRoute version the construct renders', () => {
    expect(GATEWAY_API_VERSION).toBe('gateway.networking.k8s.io/v1');
    expect(validator.resourceTypes).toContain(`${GATEWAY_API_VERSION}/HTTPRoute`);
  });

  it('splits a weighted shift across both color Services, each backendRef with its weight', () => {
    const [route] = httpRoutes(renderProd({ 'cutover:trafficWeight': '25' }));
    expect(route.spec.rules[0].backendRefs.map((ref: { name: string; weight: number }) => [ref.name, ref.weight])).toEqual([
      ['web-blue', 75],
      ['web-green', 25],
    ]);
  });

  it('renders an HTTPRoute and an HTTP-to-HTTPS redirect route per app', () => {
    expect(variants.map(([, overrides]) => httpRoutes(renderProd(overrides)).map((route) => route.metadata.name))).toEqual([
      ['web', 'web-https-redirect'],
      ['web', 'web-https-redirect'],
      ['web', 'web-https-redirect', 'api', 'api-https-redirect'],
    ]);
  });

  it.each(variants)('%s: every HTTPRoute is valid', (_, overrides) => {
    const routes = httpRoutes(renderProd(overrides));
    expect(routes.map((route) => [route.metadata.name, validator.validate(route)])).toEqual(routes.map((route) => [route.metadata.name, []]));
  });

  it('renders a valid Gateway for a stack that owns its edge, and valid routes on its listeners', () => {
    const manifests = renderProd({
      'cutover:routing': JSON.stringify({ gateway: { create: { className: 'eg' } } }),
      'cutover:network': JSON.stringify({ gatewayNamespace: 'envoy-gateway-system' }),
      'cutover:services': JSON.stringify({
        api: {
          host: 'api.example.com',
          blue: { image: 'registry.example.com/acme/api:2.0.0' },
          green: { image: 'registry.example.com/acme/api:2.1.0' },
        },
      }),
    });
    const owned = manifests.filter((m) => m.kind === 'Gateway' || m.kind === 'HTTPRoute');
    expect(owned.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'Gateway/web',
      'HTTPRoute/web',
      'HTTPRoute/web-https-redirect',
      'HTTPRoute/api',
      'HTTPRoute/api-https-redirect',
    ]);
    expect(validator.resourceTypes).toContain(`${GATEWAY_API_VERSION}/Gateway`);
    expect(owned.map((m) => [m.metadata.name, validator.validate(m)])).toEqual(owned.map((m) => [m.metadata.name, []]));
    // The control: the schema refuses a listener without a port.
    const broken = JSON.parse(JSON.stringify(owned[0])) as Record<string, any>;
    delete broken.spec.listeners[1].port;
    expect(validator.validate(broken)).toEqual(["/spec/listeners/1 must have required property 'port'"]);
  });
});

describe('the vendored HTTPRoute schema rejects what the API server would', () => {
  const route = (): Record<string, any> =>
    JSON.parse(JSON.stringify(httpRoutes(renderProd({ 'cutover:trafficWeight': '25' }))[0])) as Record<string, any>;

  it('rejects a negative backendRef weight', () => {
    const manifest = route();
    manifest.spec.rules[0].backendRefs[1].weight = -1;
    expect(validator.validate(manifest)).toEqual(['/spec/rules/0/backendRefs/1/weight must be >= 0']);
  });

  it('rejects a parentRef without the Gateway name', () => {
    const manifest = route();
    delete manifest.spec.parentRefs[0].name;
    expect(validator.validate(manifest)).toEqual(["/spec/parentRefs/0 must have required property 'name'"]);
  });

  it('rejects a backendRef field the schema does not declare, which the API server would silently prune', () => {
    const manifest = route();
    manifest.spec.rules[0].backendRefs[0].percent = 75;
    expect(validator.validate(manifest)).toEqual(['/spec/rules/0/backendRefs/0 must NOT have additional properties (percent)']);
  });

  it('rejects a hostname that is not a DNS name', () => {
    const manifest = route();
    manifest.spec.hostnames = ['Web.Example.com:443'];
    expect(validator.validate(manifest)).toEqual([
      '/spec/hostnames/0 must match pattern "^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"',
    ]);
  });
});
