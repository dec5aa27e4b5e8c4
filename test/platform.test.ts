import { describe, expect, it } from 'vitest';
import { renderChart } from '../lib';
import { parseStackConfig } from '../stacks/config';
import { buildPlatform } from '../stacks/platform';
import { readStackFile } from '../stacks/stack-file';
import { CrdSchemaValidator } from './crd-schema';

const ROOT = `${__dirname}/..`;

function render(stack: string, overrides: Record<string, string> = {}) {
  return renderChart(buildPlatform(parseStackConfig({ ...readStackFile(ROOT, stack), ...overrides }, stack)).chart).map((r) => r.manifest as Record<string, any>);
}

describe('environment composition', () => {
  for (const stack of ['prod', 'staging']) {
    it(`${stack}: every custom resource validates against the operator's pinned CRD`, () => {
      const validator = CrdSchemaValidator.fromDirectory();
      const custom = render(stack).filter((m) => validator.covers(m));
      expect(custom.length).toBeGreaterThanOrEqual(8);
      for (const manifest of custom) {
        expect(validator.validate(manifest), `${manifest.kind}/${manifest.metadata.name}`).toEqual([]);
      }
    });
  }

  it('prod wires DATABASE_URL and REDIS_URL into both colors from the operators\' Secrets', () => {
    const manifests = render('prod');
    for (const color of ['blue', 'green']) {
      const env = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === `web-${color}`)?.spec.template.spec.containers[0].env as Array<Record<string, any>>;
      const byName = Object.fromEntries(env.map((e) => [e.name, e]));
      expect(byName.DATABASE_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: 'web-db-app', key: 'password' } });
      expect(byName.DATABASE_URL.value).toBe('postgresql://$(DATABASE_USER):$(DATABASE_PASSWORD)@web-db-pooler-rw.web-prod:5432/$(DATABASE_NAME)');
      expect(byName.REDIS_PASSWORD.valueFrom).toEqual({ secretKeyRef: { name: 'web-cache-auth', key: 'password' } });
      expect(byName.REDIS_URL.value).toBe('redis://:$(REDIS_PASSWORD)@web-cache-master.web-prod:6379/0');
    }
  });

  it('the data tier is never colored: a cutover leaves every data object unchanged', () => {
    const blue = render('prod');
    const green = render('prod', { 'cutover:activeColor': 'green' });
    const key = (m: Record<string, any>) => `${m.kind}/${m.metadata.name}`;
    expect(green.map(key).sort()).toEqual(blue.map(key).sort());
    const changed = blue.filter((m) => JSON.stringify(m) !== JSON.stringify(green.find((g) => key(g) === key(m)))).map(key);
    expect(changed.sort()).toEqual(['Service/web', 'Service/web-preview']);
  });

  it('names the config key when the data tier refuses a value', () => {
    expect(() => render('prod', { 'cutover:postgres': JSON.stringify({ instances: 1, backup: { destinationPath: 's3://b/p' } }) })).toThrow(/^cutover:postgres\.instances: /);
  });

  it('has no data tier when the stack configures none', () => {
    const kinds = render('prod', { 'cutover:postgres': undefined as never, 'cutover:redis': undefined as never }).map((m) => m.kind);
    expect(kinds).not.toContain('Cluster');
  });
});
